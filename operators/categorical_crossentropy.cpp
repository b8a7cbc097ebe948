// categorical_crossentropy: -sum(target * log(prediction)) over the class (last) axis, averaged
// over the batch to a scalar, as Keras's CategoricalCrossentropy. `target` holds one-hot (or
// soft) labels of the prediction's shape; from_logits applies softmax to the prediction first;
// label_smoothing mixes the target with the uniform distribution.
//
// Plain C++ loops over plain-layout inputs. Without from_logits each row of the prediction is
// rescaled to sum to 1 and clipped to [1e-7, 1 - 1e-7] (Keras); with it, a stable log-softmax.
// The mean runs over every row (batch and any other leading axes), Keras's
// "sum_over_batch_size". Backward (categorical_crossentropy_backward): the gradient of the
// prediction only, scaled by the scalar diff_dst.
#include <cstdint>
#include <memory>
#include <vector>

#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/crossentropy.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/plain_loop_kernel.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::GradCheckInput;
using opgraph::KernelContext;
namespace ops = opgraph::ops;

constexpr double kDefaultLabelSmoothing = 0.0;
constexpr std::size_t kMinRank = 2;
constexpr double kCheckLabelSmoothing = 0.1;

// The options of one node and the geometry of its prediction (input 0 of the forward op,
// input 1 of the backward op).
struct Crossentropy {
    Crossentropy(const KernelContext& ctx, const opgraph::Shape& prediction)
        : from_logits(ctx.node.attrs.get_bool("from_logits")),
          smoothing(ctx.node.attrs.get_real("label_smoothing")),
          classes(prediction.back()),
          rows(ops::rows_of(prediction, prediction.back())) {}

    // The smoothed target of one row.
    auto target(const float* row) const {
        return [row, this](std::int64_t i) {
            return row[i] * (1 - smoothing) + smoothing / static_cast<double>(classes);
        };
    }

    bool from_logits;
    double smoothing;
    std::int64_t classes;
    std::int64_t rows;
};

// inputs: prediction, target -> the scalar loss.
class CrossentropyKernel : public ops::PlainLoopKernel {
public:
    explicit CrossentropyKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {opgraph::Shape{}}), ce_(ctx, ctx.input_shapes.at(0)) {}

protected:
    void compute() override {
        double total = 0;
        for (std::int64_t r = 0; r < ce_.rows; ++r) {
            const float* prediction = input(0) + r * ce_.classes;
            const float* target = input(1) + r * ce_.classes;
            total +=
                ops::crossentropy_row(prediction, ce_.target(target), ce_.classes, ce_.from_logits);
        }
        output()[0] = static_cast<float>(total / static_cast<double>(ce_.rows));
    }

private:
    Crossentropy ce_;
};

// inputs: diff_dst (scalar), prediction, target -> diff_prediction.
class CrossentropyBackwardKernel : public ops::PlainLoopKernel {
public:
    explicit CrossentropyBackwardKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {ctx.input_shapes.at(1)}), ce_(ctx, ctx.input_shapes.at(1)) {}

protected:
    void compute() override {
        const double scale = input(0)[0] / static_cast<double>(ce_.rows);
        for (std::int64_t r = 0; r < ce_.rows; ++r) {
            const std::int64_t offset = r * ce_.classes;
            ops::crossentropy_row_gradient(input(1) + offset, ce_.target(input(2) + offset),
                                           ce_.classes, ce_.from_logits, scale, output() + offset);
        }
    }

private:
    Crossentropy ce_;
};

void crossentropy_gradient(opgraph::GradientBuilder& b) {
    if (!b.needs_diff_input(0)) return;
    b.set_diff_input(0, b.emit("backward", "categorical_crossentropy_backward",
                               {b.diff_dst(), b.input(0), b.input(1)}));
}

}  // namespace

opgraph::OpDef categorical_crossentropy_op() {
    opgraph::OpDef def = ops::same_shape_loss_op(
        "categorical_crossentropy", "cross-entropy of one-hot targets, batch mean (Keras)",
        kMinRank, "(batch, ..., classes)",
        {
            AttrSpec::optional("from_logits", false, "prediction holds logits, not softmax"),
            AttrSpec::optional("label_smoothing", kDefaultLabelSmoothing,
                               "weight of the uniform distribution mixed into the target")
                .at_least(0)
                .at_most(1),
        });
    // The dot product of target and log(prediction): one multiply-add per prediction element.
    def.macs = ops::one_mac_per_input_element;
    def.kernel = ops::make_kernel<CrossentropyKernel>;
    def.gradient = crossentropy_gradient;
    opgraph::OpDef backward = ops::backward_op(def, "categorical_crossentropy_backward",
                                               {"diff_dst", "prediction", "target"}, 1);
    backward.kernel = ops::make_kernel<CrossentropyBackwardKernel>;
    def.companions.push_back(std::move(backward));

    const std::vector<GradCheckInput> probabilities = {GradCheckInput::probabilities,
                                                       GradCheckInput::one_hot};
    const std::vector<GradCheckInput> logits = {GradCheckInput::uniform, GradCheckInput::one_hot};
    const auto logits_attrs = opgraph::AttrMap{{"from_logits", true}};
    def.gradcheck = {
        {"2d probabilities", {{4, 3}, {4, 3}}, {}, probabilities},
        {"4d probabilities", {{2, 2, 2, 4}, {2, 2, 2, 4}}, {}, probabilities},
        {"2d probabilities smoothed",
         {{3, 4}, {3, 4}},
         opgraph::AttrMap{{"label_smoothing", kCheckLabelSmoothing}},
         probabilities},
        {"2d logits", {{4, 5}, {4, 5}}, logits_attrs, logits},
        {"4d logits smoothed",
         {{2, 2, 2, 3}, {2, 2, 2, 3}},
         opgraph::AttrMap{{"from_logits", true}, {"label_smoothing", kCheckLabelSmoothing}},
         logits},
    };
    return def;
}
