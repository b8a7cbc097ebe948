// cast: the same values in another element type (`to`), in the input's layout, as ONNX's Cast
// and PyTorch's Tensor.to(dtype). The precision pass puts one wherever a value's type changes
// (f32 -> bf16 before the first bf16 layer, back before softmax and the loss). Rounding to
// bf16 is to nearest even (oneDNN's reorder). To or from a quantized type (u8, s8; the
// quantize pass) it quantizes or dequantizes with the values' scales
// (KernelContext::input_scales / output_scales: real = scale * q), rounding to nearest and
// saturating. Backward: the gradient cast back to the input's type.
#include <memory>
#include <string>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"

namespace {

using opgraph::DType;
namespace ops = opgraph::ops;

DType target_of(const opgraph::AttrMap& attrs) {
    return *opgraph::parse_dtype(attrs.get_string("to"));
}

// The reorder's attributes: dst = src * (input scale / output scale), a scale of 0 meaning
// the value is not quantized (1).
dnnl::primitive_attr rescale_attr(const opgraph::KernelContext& ctx) {
    const float factor =
        ops::scale_or_one(ctx.input_scales, 0) / ops::scale_or_one(ctx.output_scales, 0);
    dnnl::primitive_attr attr;
    if (factor != 1.f) attr.set_output_scales(0, {factor});
    return attr;
}

// inputs: src -> dst, src's layout with elements of type `to`: one reorder.
class CastKernel : public opgraph::Kernel {
public:
    explicit CastKernel(const opgraph::KernelContext& ctx)
        : dst_(ops::with_data_type(ctx.input_descs.at(0),
                                   opgraph::dnnl_data_type(target_of(ctx.node.attrs)))),
          pd_(ctx.engine, ctx.input_descs.at(0), ctx.engine, dst_, rescale_attr(ctx)),
          reorder_(pd_) {}
    std::vector<dnnl::memory::desc> output_descs() const override { return {dst_}; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        args_ = {{DNNL_ARG_FROM, inputs.at(0)}, {DNNL_ARG_TO, outputs.at(0)}};
    }
    void execute(dnnl::stream& stream) override { reorder_.execute(stream, args_); }
    std::string implementation() const override { return pd_.impl_info_str(); }

private:
    dnnl::memory::desc dst_;
    dnnl::reorder::primitive_desc pd_;
    dnnl::reorder reorder_;
    std::unordered_map<int, dnnl::memory> args_;
};

}  // namespace

opgraph::OpDef cast_op() {
    opgraph::OpDef def = ops::elementwise_op(
        "cast", "the values in another element type (ONNX Cast); put by the precision pass",
        "structure",
        {opgraph::AttrSpec::required("to", opgraph::AttrType::string, "the element type")
             .one_of(opgraph::dtype_names())});
    def.dtypes = {DType::f32, DType::bf16, DType::s8, DType::u8, DType::s32};
    def.infer_dtypes = [](const opgraph::OpContext& ctx) {
        return std::vector<DType>{target_of(ctx.attrs())};
    };
    def.kernel = ops::make_kernel<CastKernel>;
    def.gradient = [](opgraph::GradientBuilder& b) {
        if (!b.needs_diff_input(0)) return;
        const opgraph::AttrMap back{{"to", std::string(opgraph::dtype_name(b.input_dtype(0)))}};
        b.set_diff_input(0, b.emit("backward", "cast", {b.diff_dst()}, back));
    };
    def.gradcheck = {
        {"to f32", {{2, 3, 3, 2}}, opgraph::AttrMap{{"to", std::string("f32")}}, {}},
    };
    return def;
}
