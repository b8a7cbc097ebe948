// add: the element-wise sum of two or more inputs of identical shape (Keras Add). oneDNN's
// sum primitive over the inputs as they come (any layouts), the output in the first input's
// layout. The gradient of every input is the output's gradient itself: no backward node.
#include <memory>
#include <string>
#include <vector>

#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::OpContext;
using opgraph::Shape;

constexpr std::size_t kMinInputs = 2;

std::vector<Shape> add_shapes(const OpContext& ctx) {
    const std::vector<Shape>& inputs = ctx.inputs();
    for (std::size_t i = 1; i < inputs.size(); ++i) {
        opgraph::ops::expect_same_shape(ctx, inputs[0], inputs[i],
                                        "inputs 0 and " + std::to_string(i));
    }
    return {inputs.at(0)};
}

// dst = src0 + src1 + ... with one sum primitive.
class AddKernel : public opgraph::ops::PrimitiveKernel {
public:
    explicit AddKernel(const opgraph::KernelContext& ctx) {
        const std::vector<float> scales(ctx.input_descs.size(), 1.f);
        pd_ = dnnl::sum::primitive_desc(ctx.input_descs.at(0), scales, ctx.input_descs, ctx.engine);
        outputs_ = {pd_.dst_desc()};
        primitive_ = dnnl::sum(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_multiple_sources(inputs, outputs);
    }

private:
    dnnl::sum::primitive_desc pd_;
};

void add_gradient(opgraph::GradientBuilder& b) {
    for (std::size_t i = 0; i < b.node().inputs.size(); ++i)
        if (b.needs_diff_input(i)) b.set_diff_input(i, b.diff_dst());
}

}  // namespace

opgraph::OpDef add_op() {
    opgraph::OpDef def;
    def.name = "add";
    def.doc = "element-wise sum of two or more inputs of the same shape (Keras Add)";
    def.in_place = true;  // oneDNN's sum may write dst over src0
    def.sums_inputs = true;
    def.category = "structure";
    def.inputs = {"src"};
    def.variadic_min = kMinInputs;
    def.infer_shapes = add_shapes;
    def.dtypes = opgraph::ops::kF32AndBf16;
    def.kernel = opgraph::ops::make_kernel<AddKernel>;
    def.gradient = add_gradient;
    def.gradcheck = {
        {"2d two inputs", {{3, 5}, {3, 5}}, {}, {}},
        {"4d three inputs", {{2, 3, 3, 4}, {2, 3, 3, 4}, {2, 3, 3, 4}}, {}, {}},
    };
    return def;
}
