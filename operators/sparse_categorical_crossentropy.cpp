// sparse_categorical_crossentropy: -log(prediction[target]) averaged over the batch to a
// scalar, as Keras's SparseCategoricalCrossentropy. `prediction` is (N, classes), `target`
// (N) or (N, 1) holding class indices (as floats); from_logits applies softmax first.
//
// Plain C++ loops over plain-layout inputs, the same arithmetic as categorical_crossentropy
// with a one-hot target: without from_logits each prediction row is rescaled to sum to 1 and
// clipped to [1e-7, 1 - 1e-7] (Keras), with it a stable log-softmax. A target that is not a
// class index (not an integer in [0, classes)) fails the step. Backward
// (sparse_categorical_crossentropy_backward): the gradient of the prediction only.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/crossentropy.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/plain_loop_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::GradCheckInput;
using opgraph::KernelContext;
using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr std::size_t kPredictionRank = 2;
constexpr std::size_t kColumnTargetRank = 2;  // (N, 1)

std::vector<Shape> sparse_categorical_crossentropy_shapes(const OpContext& ctx) {
    const Shape& prediction = ctx.input(0);
    const Shape& target = ctx.input(1);
    ops::expect_rank(ctx, prediction, kPredictionRank, "(batch, classes)", "prediction");
    const bool column = target.size() == kColumnTargetRank && target[1] == 1;
    if (target.size() != 1 && !column) {
        const std::string expected = "expects a (batch,) or (batch, 1) target of class indices";
        ctx.fail("", expected + " for the prediction " + opgraph::shape_str(prediction) + ", got " +
                         opgraph::shape_str(target));
    }
    if (target[ops::kBatchAxis] != prediction[ops::kBatchAxis]) {
        ctx.fail("", "prediction " + opgraph::shape_str(prediction) + " and target " +
                         opgraph::shape_str(target) + " have different batch sizes");
    }
    return {Shape{}};
}

// The options of one node, the geometry of its (N, classes) prediction, and reading targets.
struct SparseCrossentropy {
    SparseCrossentropy(const KernelContext& ctx, const Shape& prediction)
        : from_logits(ctx.node.attrs.get_bool("from_logits")),
          rows(prediction.at(0)),
          classes(prediction.at(1)) {}

    // The class index a target holds; throws std::out_of_range when it holds none.
    std::int64_t class_of(float target) const {
        const double index = target;
        if (!(index >= 0 && index < static_cast<double>(classes)) || index != std::floor(index)) {
            throw std::out_of_range("target " + std::to_string(target) +
                                    " is not a class index in [0, " + std::to_string(classes) +
                                    ")");
        }
        return static_cast<std::int64_t>(index);
    }

    // The one-hot target of class k.
    static auto one_hot(std::int64_t k) {
        return [k](std::int64_t i) { return i == k ? 1.0 : 0.0; };
    }

    bool from_logits;
    std::int64_t rows;
    std::int64_t classes;
};

// inputs: prediction, target -> the scalar loss.
class SparseCrossentropyKernel : public ops::PlainLoopKernel {
public:
    explicit SparseCrossentropyKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {Shape{}}), ce_(ctx, ctx.input_shapes.at(0)) {}

protected:
    void compute() override {
        double total = 0;
        for (std::int64_t r = 0; r < ce_.rows; ++r) {
            const auto target = SparseCrossentropy::one_hot(ce_.class_of(input(1)[r]));
            total += ops::crossentropy_row(input(0) + r * ce_.classes, target, ce_.classes,
                                           ce_.from_logits);
        }
        output()[0] = static_cast<float>(total / static_cast<double>(ce_.rows));
    }

private:
    SparseCrossentropy ce_;
};

// inputs: diff_dst (scalar), prediction, target -> diff_prediction.
class SparseCrossentropyBackwardKernel : public ops::PlainLoopKernel {
public:
    explicit SparseCrossentropyBackwardKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {ctx.input_shapes.at(1)}), ce_(ctx, ctx.input_shapes.at(1)) {}

protected:
    void compute() override {
        const double scale = input(0)[0] / static_cast<double>(ce_.rows);
        for (std::int64_t r = 0; r < ce_.rows; ++r) {
            const auto target = SparseCrossentropy::one_hot(ce_.class_of(input(2)[r]));
            const std::int64_t offset = r * ce_.classes;
            ops::crossentropy_row_gradient(input(1) + offset, target, ce_.classes, ce_.from_logits,
                                           scale, output() + offset);
        }
    }

private:
    SparseCrossentropy ce_;
};

void sparse_crossentropy_gradient(opgraph::GradientBuilder& b) {
    if (!b.needs_diff_input(0)) return;
    b.set_diff_input(0, b.emit("backward", "sparse_categorical_crossentropy_backward",
                               {b.diff_dst(), b.input(0), b.input(1)}));
}

}  // namespace

opgraph::OpDef sparse_categorical_crossentropy_op() {
    opgraph::OpDef def;
    def.name = "sparse_categorical_crossentropy";
    def.doc = "cross-entropy of integer class targets, batch mean (Keras)";
    def.category = "loss";
    def.inputs = {"prediction", "target"};
    def.attrs = {
        AttrSpec::optional("from_logits", false, "prediction holds logits, not softmax"),
    };
    def.infer_shapes = sparse_categorical_crossentropy_shapes;
    def.kernel = ops::make_kernel<SparseCrossentropyKernel>;
    def.gradient = sparse_crossentropy_gradient;
    opgraph::OpDef backward = ops::backward_op(def, "sparse_categorical_crossentropy_backward",
                                               {"diff_dst", "prediction", "target"}, 1);
    backward.kernel = ops::make_kernel<SparseCrossentropyBackwardKernel>;
    def.companions.push_back(std::move(backward));

    const std::vector<GradCheckInput> probabilities = {GradCheckInput::probabilities,
                                                       GradCheckInput::class_indices};
    const std::vector<GradCheckInput> logits = {GradCheckInput::uniform,
                                                GradCheckInput::class_indices};
    const auto logits_attrs = opgraph::AttrMap{{"from_logits", true}};
    def.gradcheck = {
        {"probabilities (N)", {{4, 3}, {4}}, {}, probabilities},
        {"probabilities (N, 1)", {{5, 4}, {5, 1}}, {}, probabilities},
        {"logits (N)", {{4, 5}, {4}}, logits_attrs, logits},
        {"logits (N, 1)", {{3, 6}, {3, 1}}, logits_attrs, logits},
    };
    return def;
}
