// mean_squared_error: mean((prediction - target)^2) over each sample's elements, averaged over
// the batch to a scalar, as Keras's MeanSquaredError. Prediction and target have one shape.
// Every sample has as many elements, so this is the mean over all elements. Plain C++ loops
// over plain-layout inputs; backward (mean_squared_error_backward): the gradient of the
// prediction only, diff_dst * 2 (prediction - target) / elements.
#include <cstdint>
#include <memory>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/plain_loop_kernel.hpp"

namespace {

using opgraph::KernelContext;
namespace ops = opgraph::ops;

constexpr std::size_t kMinRank = 1;
constexpr double kSquareDerivative = 2.0;  // d(x^2)/dx = 2x

// inputs: prediction, target -> the scalar loss.
class MseKernel : public ops::PlainLoopKernel {
public:
    explicit MseKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {opgraph::Shape{}}),
          elements_(opgraph::element_count(ctx.input_shapes.at(0))) {}

protected:
    void compute() override {
        double total = 0;
        for (std::int64_t i = 0; i < elements_; ++i) {
            const double difference = static_cast<double>(input(0)[i]) - input(1)[i];
            total += difference * difference;
        }
        output()[0] = static_cast<float>(total / static_cast<double>(elements_));
    }

private:
    std::int64_t elements_;
};

// inputs: diff_dst (scalar), prediction, target -> diff_prediction.
class MseBackwardKernel : public ops::PlainLoopKernel {
public:
    explicit MseBackwardKernel(const KernelContext& ctx)
        : PlainLoopKernel(ctx, {ctx.input_shapes.at(1)}),
          elements_(opgraph::element_count(ctx.input_shapes.at(1))) {}

protected:
    void compute() override {
        const double scale = kSquareDerivative * input(0)[0] / static_cast<double>(elements_);
        for (std::int64_t i = 0; i < elements_; ++i) {
            const double difference = static_cast<double>(input(1)[i]) - input(2)[i];
            output()[i] = static_cast<float>(scale * difference);
        }
    }

private:
    std::int64_t elements_;
};

void mse_gradient(opgraph::GradientBuilder& b) {
    if (!b.needs_diff_input(0)) return;
    b.set_diff_input(0, b.emit("backward", "mean_squared_error_backward",
                               {b.diff_dst(), b.input(0), b.input(1)}));
}

}  // namespace

opgraph::OpDef mean_squared_error_op() {
    opgraph::OpDef def = ops::same_shape_loss_op(
        "mean_squared_error", "mean squared difference of prediction and target, batch mean",
        kMinRank, "(batch, ...)");
    // One multiply-add (the square, accumulated) per prediction element.
    def.macs = ops::one_mac_per_input_element;
    def.kernel = ops::make_kernel<MseKernel>;
    def.gradient = mse_gradient;
    opgraph::OpDef backward = ops::backward_op(def, "mean_squared_error_backward",
                                               {"diff_dst", "prediction", "target"}, 1);
    backward.kernel = ops::make_kernel<MseBackwardKernel>;
    def.companions.push_back(std::move(backward));
    // Uniform predictions and targets; the rule gives no gradient for the target.
    def.gradcheck = {
        {"2d", {{3, 5}, {3, 5}}, {}, {}},
        {"4d", {{2, 3, 3, 2}, {2, 3, 3, 2}}, {}, {}},
        {"1d", {{6}, {6}}, {}, {}},
    };
    return def;
}
