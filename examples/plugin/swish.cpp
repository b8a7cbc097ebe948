// swish: dst = src * sigmoid(beta * src) (Ramachandran et al. 2017; beta = 1 is SiLU).
//
// A complete out-of-tree operator on the op author's kit (<opgraph/ops/...>, docs/plugins.md):
// the schema and shape function of an element-wise op, forward and backward kernels written as
// plain loops (PlainLoopKernel reorders an input that arrives in a blocked layout), the
// backward op swish_backward with the gradient rule that emits it, and the configurations the
// shared gradient check runs.
#include <cmath>
#include <cstdint>
#include <opgraph/ops/backward_op.hpp>
#include <opgraph/ops/kernel_functions.hpp>
#include <opgraph/ops/op_families.hpp>
#include <opgraph/ops/plain_loop_kernel.hpp>

namespace {

namespace ops = opgraph::ops;

constexpr double kDefaultBeta = 1.0;

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

// Plain loops over the plain layout. Forward, inputs: src -> dst. Backward, inputs: diff_dst,
// src -> diff_src = diff_dst * d/dx [x * s(beta x)] = diff_dst * (s + beta x s (1 - s)).
template <bool Backward>
class SwishKernel : public ops::PlainLoopKernel {
public:
    explicit SwishKernel(const opgraph::KernelContext& ctx)
        : PlainLoopKernel(ctx, ctx.output_shapes),
          beta_(static_cast<float>(ctx.node.attrs.get_real("beta"))),
          count_(opgraph::element_count(ctx.output_shapes.at(0))) {}

private:
    void compute() override {
        const float* x = input(Backward ? 1 : 0);
        for (std::int64_t i = 0; i < count_; ++i) {
            const float s = sigmoid(beta_ * x[i]);
            output()[i] = Backward ? input(0)[i] * (s + beta_ * x[i] * s * (1.f - s)) : x[i] * s;
        }
    }

    const float beta_;
    const std::int64_t count_;
};

}  // namespace

opgraph::OpDef swish_op() {
    opgraph::OpDef def = ops::elementwise_op(
        "swish", "x * sigmoid(beta * x), element-wise (SiLU when beta = 1)", "activation",
        {opgraph::AttrSpec::optional("beta", kDefaultBeta, "slope inside the sigmoid")
             .greater_than(0)});
    def.kernel = ops::make_kernel<SwishKernel<false>>;
    // The gradient of src is swish_backward(diff_dst, src): that op and the rule emitting it.
    ops::add_unary_backward(def, ops::ForwardValue::src, ops::make_kernel<SwishKernel<true>>);
    def.gradcheck = {
        {"vector", {{4, 5}}, {}, {}},
        {"image", {{2, 3, 3, 2}}, {}, {}},
        {"beta 2", {{3, 4}}, {{"beta", 2.0}}, {}},
    };
    return def;
}
