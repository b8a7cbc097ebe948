// dense: a fully connected layer on the last axis, as Keras's Dense:
// dst = activation(src . kernel + bias), kernel (in_features, units). Leading axes pass through,
// so (N, T, in) -> (N, T, units).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/fused_activation.hpp"
#include "opgraph/ops/int8_layer.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"
#include "opgraph/ops/weighted_layer.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::AttrType;
using opgraph::OpContext;
using opgraph::ParamSpec;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr std::size_t kMinRank = 2;
constexpr const char* kLayout = "(batch, ..., features)";

// The input's last dimension; fails on rank < 2 or an unknown feature count.
std::int64_t dense_in_features(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_min_rank(ctx, src, kMinRank, kLayout);
    return ops::known_dim(ctx, src, src.size() - 1, "features");
}

std::vector<Shape> dense_shapes(const OpContext& ctx) {
    dense_in_features(ctx);
    Shape dst = ctx.input(0);
    dst.back() = ctx.attrs().get_int("units");
    return {dst};
}

std::vector<ParamSpec> dense_params(const OpContext& ctx) {
    const std::int64_t units = ctx.attrs().get_int("units");
    return ops::weights_params(ctx, {dense_in_features(ctx), units}, units);
}

// in_features * units per position of the middle axes.
std::int64_t dense_macs(const OpContext& ctx, const std::vector<Shape>& /*outputs*/) {
    const Shape& src = ctx.input(0);
    return ops::cost_product({dense_in_features(ctx), ctx.attrs().get_int("units"),
                              ops::dims_product(src, 1, src.size() - 1)});
}

// ---- kernels ----

using dnnl::memory;

// One dense node as oneDNN's inner product sees it: the leading axes of the (N, ..., F) input
// folded into rows, so src is (rows, in) and dst (rows, units), both plain `nc` views of the
// plain row-major values; the plain Keras kernel (in, units) is `io` over weights {units, in}.
// Data and the primitive's weights are of the node's dtype; parameters and their gradients f32.
struct DenseDims {
    Shape src_shape, dst_shape;  // IR shapes, concrete
    opgraph::DType dtype = opgraph::DType::f32;
    opgraph::DType src_dtype = opgraph::DType::f32;   // dtype, or u8 / s8 in int8 inference
    memory::data_type type = memory::data_type::f32;  // dtype as oneDNN's
    memory::desc src_rows, dst_rows;
    memory::dims weights, bias;
    memory::desc keras_weights;
    bool use_bias = true;
};

DenseDims dense_dims(const Shape& src, const Shape& dst, bool use_bias, opgraph::DType dtype,
                     opgraph::DType src_dtype) {
    DenseDims d;
    d.src_shape = src;
    d.dst_shape = dst;
    d.dtype = dtype;
    d.src_dtype = src_dtype;
    d.type = opgraph::dnnl_data_type(dtype);
    const memory::dim rows = ops::dims_product(src, 0, src.size() - 1);
    const memory::dim in = src.back();
    const memory::dim units = dst.back();
    d.src_rows = {{rows, in}, opgraph::dnnl_data_type(src_dtype), memory::format_tag::nc};
    d.dst_rows = {{rows, units}, d.type, memory::format_tag::nc};
    d.weights = {units, in};
    d.keras_weights = {d.weights, memory::data_type::f32, memory::format_tag::io};
    d.bias = {units};
    d.use_bias = use_bias;
    return d;
}

// A dense kernel: inputs and outputs of shape (N, ..., F) bound as (rows, F) views.
class DenseKernel : public ops::PrimitiveKernelWithParams {
protected:
    explicit DenseKernel(const opgraph::KernelContext& ctx) : engine_(ctx.engine) {}

    // Binds `arg` to `given`, an (N, ..., F) value `shape` in any layout (reordered to the
    // plain one if it is not), seen as `rows`.
    void bind_rows(int arg, const memory& given, const Shape& shape, const memory::desc& rows) {
        const opgraph::DType type = arg == DNNL_ARG_SRC ? dims_.src_dtype : dims_.dtype;
        bind_input(arg, given, opgraph::plain_data_desc(shape, type), engine_);
        args_[arg] = ops::view_as(args_[arg], rows, engine_);
    }

    dnnl::engine engine_;
    DenseDims dims_;
};

// The type a dense node reads: its own, or u8 / s8 on a quantized input (int8 inference).
opgraph::DType src_dtype_of(const opgraph::KernelContext& ctx) {
    if (ctx.training || !ops::reads_int8(ctx)) return ctx.dtype;
    return ctx.input_descs.at(0).data_type() == memory::data_type::u8 ? opgraph::DType::u8
                                                                      : opgraph::DType::s8;
}

// inputs: src, kernel[, bias] -> dst = activation(src . kernel + bias), plain layout. When
// training, the kernel always goes through a copy, which a node that saves (Node::saves)
// writes as its output 1 (OpDef::saved "kernel") for backward data. On a quantized src (int8
// inference) the primitive is an int8 one (opgraph/ops/int8_layer.hpp).
class DenseForwardKernel : public DenseKernel {
public:
    explicit DenseForwardKernel(const opgraph::KernelContext& ctx)
        : DenseKernel(ctx),
          training_(ctx.training),
          saves_(ctx.node.saves),
          attrs_(ctx.node.attrs) {
        dims_ = dense_dims(ctx.input_shapes.at(0), ctx.output_shapes.at(0),
                           attrs_.get_bool("use_bias"), ctx.dtype, src_dtype_of(ctx));
        memory::data_type weights = dims_.type;
        dnnl::primitive_attr attr = ops::fused_activation_attr(attrs_);
        if (opgraph::is_quantized(dims_.src_dtype)) {
            weights = memory::data_type::s8;
            int8_.emplace(ctx, dims_.bias[0], 1 << 0);
            attr = ops::int8_attr(attrs_, std::vector<float>(dims_.bias[0], 1.f));
        }
        pd_ = make_pd(ctx.training, ops::any_desc(dims_.weights, weights),
                      dims_.use_bias ? ops::any_desc(dims_.bias) : memory::desc(), attr);
        outputs_ = {opgraph::plain_data_desc(dims_.dst_shape, dims_.dtype)};
        if (saves_) outputs_.push_back(pd_.weights_desc());
        // An int8 primitive needs the weights' scales: prepare_constants() builds it.
        if (!int8_) primitive_ = dnnl::inner_product_forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_rows(DNNL_ARG_SRC, inputs.at(0), dims_.src_shape, dims_.src_rows);
        args_[DNNL_ARG_DST] = ops::view_as(outputs.at(0), dims_.dst_rows, engine_);
        const memory weights = ops::view_as(inputs.at(1), dims_.keras_weights, engine_);
        if (int8_) {
            int8_->bind(weights, dims_.use_bias ? inputs.at(2) : memory());
            return;
        }
        bind_param(DNNL_ARG_WEIGHTS, weights, pd_.weights_desc(), engine_, training_,
                   saves_ ? outputs.at(1) : memory());
        if (dims_.use_bias) bind_input(DNNL_ARG_BIAS, inputs.at(2), pd_.bias_desc(), engine_);
    }
    void prepare_constants(dnnl::stream& stream) override {
        if (!int8_) {
            PrimitiveKernelWithParams::prepare_constants(stream);
            return;
        }
        // The int8 primitive again, with the scales of the weights as they are now.
        pd_ = make_pd(false, pd_.weights_desc(), dims_.use_bias ? pd_.bias_desc() : memory::desc(),
                      ops::int8_attr(attrs_, int8_->output_scales()));
        int8_->write(pd_.weights_desc(), stream);
        args_[DNNL_ARG_WEIGHTS] = int8_->weights();
        if (dims_.use_bias) args_[DNNL_ARG_BIAS] = int8_->bias();
        primitive_ = dnnl::inner_product_forward(pd_);
    }
    const dnnl::inner_product_forward::primitive_desc& pd() const { return pd_; }
    const DenseDims& dims() const { return dims_; }

private:
    dnnl::inner_product_forward::primitive_desc make_pd(bool training, const memory::desc& weights,
                                                        const memory::desc& bias,
                                                        const dnnl::primitive_attr& attr) const {
        const auto prop =
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        const dnnl::inner_product_forward::desc desc(prop, dims_.src_rows, weights, bias,
                                                     dims_.dst_rows);
        return dnnl::inner_product_forward::primitive_desc(desc, attr, engine_);
    }

    bool training_ = false;
    bool saves_ = false;
    opgraph::AttrMap attrs_;
    std::optional<ops::Int8Constants> int8_;
    dnnl::inner_product_forward::primitive_desc pd_;
};

// inputs: diff_dst (before the activation), src (for its shape only), the kernel the forward
// step used (saved, in its primitive's layout) -> diff_src, plain layout.
class DenseBackwardDataKernel : public DenseKernel {
public:
    explicit DenseBackwardDataKernel(const opgraph::KernelContext& ctx) : DenseKernel(ctx) {
        const DenseForwardKernel forward(ops::forward_context(ctx, {1}));
        dims_ = forward.dims();
        const dnnl::inner_product_backward_data::desc desc(
            dims_.src_rows, ops::any_desc(dims_.weights, dims_.type), dims_.dst_rows);
        pd_ = dnnl::inner_product_backward_data::primitive_desc(desc, ctx.engine, forward.pd());
        outputs_ = {opgraph::plain_data_desc(dims_.src_shape, dims_.dtype)};
        primitive_ = dnnl::inner_product_backward_data(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_rows(DNNL_ARG_DIFF_DST, inputs.at(0), dims_.dst_shape, dims_.dst_rows);
        bind_input(DNNL_ARG_WEIGHTS, inputs.at(2), pd_.weights_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = ops::view_as(outputs.at(0), dims_.src_rows, engine_);
    }

private:
    dnnl::inner_product_backward_data::primitive_desc pd_;
};

// inputs: diff_dst (before the activation), src -> diff kernel (in, units)[, diff bias], in
// the plain Keras layout (through a reorder when the primitive prefers another).
class DenseBackwardWeightsKernel : public DenseKernel {
public:
    explicit DenseBackwardWeightsKernel(const opgraph::KernelContext& ctx) : DenseKernel(ctx) {
        const DenseForwardKernel forward(ops::forward_context(ctx, {1}));
        dims_ = forward.dims();
        const dnnl::inner_product_backward_weights::desc desc(
            dims_.src_rows, ops::any_desc(dims_.weights),
            dims_.use_bias ? ops::any_desc(dims_.bias) : memory::desc(), dims_.dst_rows);
        pd_ = dnnl::inner_product_backward_weights::primitive_desc(desc, ctx.engine, forward.pd());
        for (const Shape& shape : ctx.output_shapes)
            outputs_.push_back(opgraph::row_major_desc(shape));
        primitive_ = dnnl::inner_product_backward_weights(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_rows(DNNL_ARG_SRC, inputs.at(1), dims_.src_shape, dims_.src_rows);
        bind_rows(DNNL_ARG_DIFF_DST, inputs.at(0), dims_.dst_shape, dims_.dst_rows);
        bind_output(DNNL_ARG_DIFF_WEIGHTS,
                    ops::view_as(outputs.at(0), dims_.keras_weights, engine_),
                    pd_.diff_weights_desc(), engine_);
        if (dims_.use_bias)
            bind_output(DNNL_ARG_DIFF_BIAS, outputs.at(1), pd_.diff_bias_desc(), engine_);
    }

private:
    dnnl::inner_product_backward_weights::primitive_desc pd_;
};

// ---- gradient-check cases ----

std::vector<opgraph::GradCheckCase> dense_gradcheck() {
    using opgraph::GradCheckInput;
    const auto attrs = [](std::int64_t units, const std::string& activation, bool use_bias) {
        return opgraph::AttrMap{
            {"units", units}, {"activation", activation}, {"use_bias", use_bias}};
    };
    // Relu-like post-ops have a kink at a pre-activation of 0 that inputs away from 0 cannot
    // keep away once several products are summed. Their cases take one input feature, no
    // bias and a kernel of ones: the checker moves parameters by U(-0.5, 0.5), so
    // |pre-activation| = |w x| >= 0.5 * 0.2, over six times the largest perturbation (epsilon
    // 0.01 times |w| <= 1.5). Both signs occur, so both branches are checked.
    opgraph::AttrMap relu = attrs(3, "relu", false);
    relu.set("kernel_initializer", std::string("ones"));
    opgraph::AttrMap leaky = attrs(4, "leaky_relu", false);
    leaky.set("kernel_initializer", std::string("ones"));
    leaky.set("alpha", 0.2);
    return {
        {"bias", {{3, 4}}, attrs(5, "none", true), {}},
        {"one feature relu", {{4, 1}}, relu, {GradCheckInput::away_from_zero}},
        {"one feature leaky_relu", {{3, 1}}, leaky, {GradCheckInput::away_from_zero}},
        {"sigmoid", {{3, 6}}, attrs(4, "sigmoid", true), {}},
        {"tanh no bias", {{2, 4}}, attrs(3, "tanh", false), {}},
        {"elu", {{3, 4}}, attrs(3, "elu", true), {}},
        {"rank 3 linear", {{2, 3, 4}}, attrs(3, "linear", true), {}},
    };
}

}  // namespace

opgraph::OpDef dense_op() {
    opgraph::OpDef def;
    def.name = "dense";
    def.doc = "fully connected layer on the last axis (Keras Dense)";
    def.category = "layer";
    def.attrs = ops::weighted_layer_attrs({
        AttrSpec::required("units", AttrType::integer, "number of output features").at_least(1),
    });
    def.infer_shapes = dense_shapes;
    def.fuses_activation = true;
    def.dtypes = ops::kF32Bf16AndInt8;
    def.int8 = opgraph::Int8Role::rescales;
    def.params = dense_params;
    def.macs = dense_macs;
    def.kernel = ops::make_kernel<DenseForwardKernel>;
    def.gradcheck = dense_gradcheck();
    ops::add_weighted_layer_backward<DenseBackwardDataKernel, DenseBackwardWeightsKernel>(def);
    return def;
}
