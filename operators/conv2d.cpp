// conv2d: 2-D convolution of a (batch, height, width, channels) input, as Keras's Conv2D,
// with stride, dilation, groups, valid / same / explicit padding and a fused activation.
// dst = activation(conv(src, kernel) + bias [+ residual]); kernel (kh, kw, in_channels /
// groups, filters). The optional residual, of dst's shape, is added before the activation as
// oneDNN's sum post-op (ResNet's shortcut; the fuse_residual_add pass moves an add into the
// convolution before it in inference graphs).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/affine_post_ops.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/folded_affine.hpp"
#include "opgraph/ops/fused_activation.hpp"
#include "opgraph/ops/int8_layer.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/residual_sum.hpp"
#include "opgraph/ops/shape_helpers.hpp"
#include "opgraph/ops/weighted_layer.hpp"
#include "opgraph/ops/window2d.hpp"

namespace {

using opgraph::AffineSide;
using opgraph::AttrSpec;
using opgraph::AttrType;
using opgraph::OpContext;
using opgraph::ParamSpec;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr std::int64_t kDefaultStride = 1;
constexpr std::int64_t kDefaultDilation = 1;
constexpr std::int64_t kDefaultGroups = 1;

// What the shape, parameter and cost functions all need.
struct Conv2dGeometry {
    ops::IntPair kernel{};
    std::int64_t in_channels = 0;
    std::int64_t filters = 0;
    std::int64_t groups = 1;
};

// Reads the input's channels and the attributes; fails on a bad rank, an unknown channel
// count, or channels / filters not divisible by groups.
Conv2dGeometry conv2d_geometry(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_image(ctx, src);
    Conv2dGeometry g;
    g.kernel = ops::read_pair(ctx, "kernel");
    g.in_channels = ops::known_dim(ctx, src, ops::kChannelAxis, "channels");
    g.filters = ctx.attrs().get_int("filters");
    g.groups = ctx.attrs().get_int("groups");
    if (g.in_channels % g.groups != 0) {
        ctx.fail("groups", "input channels (" + std::to_string(g.in_channels) + " in " +
                               opgraph::shape_str(src) + ") must be divisible by groups (" +
                               std::to_string(g.groups) + ")");
    }
    if (g.filters % g.groups != 0) {
        ctx.fail("groups", "filters (" + std::to_string(g.filters) +
                               ") must be divisible by groups (" + std::to_string(g.groups) + ")");
    }
    return g;
}

// The window of the kernel (dilation applied) over the input's height and width. Fails when it
// does not fit the padded input.
ops::Window2d conv2d_window(const OpContext& ctx, const Conv2dGeometry& g) {
    const ops::IntPair stride = ops::read_pair(ctx, "stride");
    const ops::IntPair dilation = ops::read_pair(ctx, "dilation");
    const ops::IntPair extent = {(g.kernel[0] - 1) * dilation[0] + 1,
                                 (g.kernel[1] - 1) * dilation[1] + 1};
    std::string desc = "kernel " + ops::size_str(g.kernel[0], g.kernel[1]);
    if (extent != g.kernel) {
        desc += " with dilation " + ops::size_str(dilation[0], dilation[1]) + " spans " +
                ops::size_str(extent[0], extent[1]) + ", which";
    }
    return ops::plan_window_2d(ctx, ctx.input(0), extent, stride, "kernel", desc);
}

std::vector<Shape> conv2d_shapes(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    const Conv2dGeometry g = conv2d_geometry(ctx);
    const ops::Window2d window = conv2d_window(ctx, g);
    const Shape dst{src[ops::kBatchAxis], window.height.output, window.width.output, g.filters};
    if (ctx.inputs().size() > 1)
        ops::expect_same_shape(ctx, ctx.input(1), dst, "residual and output");
    return {dst};
}

std::vector<ParamSpec> conv2d_params(const OpContext& ctx) {
    const Conv2dGeometry g = conv2d_geometry(ctx);
    return ops::weights_params(ctx, {g.kernel[0], g.kernel[1], g.in_channels / g.groups, g.filters},
                               g.filters);
}

// One multiply-add per output element per kernel tap of its group's input channels.
std::int64_t conv2d_macs(const OpContext& ctx, const std::vector<Shape>& outputs) {
    const Conv2dGeometry g = conv2d_geometry(ctx);
    const Shape& dst = outputs.at(0);
    return ops::cost_product({dst[ops::kHeightAxis], dst[ops::kWidthAxis], g.filters, g.kernel[0],
                              g.kernel[1], g.in_channels / g.groups});
}

// ---- kernels ----

using dnnl::memory;

// One conv2d node as oneDNN sees it at a concrete batch: logical dims, strides, dilation
// (oneDNN counts the gaps: Keras rate - 1), pads, and the plain Keras kernel (kh, kw,
// in / groups, filters) as oneDNN weights: hwio, or hwigo over {G, O/G, I/G, KH, KW}.
// Data and the primitive's weights are of the node's dtype (`type`); parameters, the bias and
// the parameters' gradients f32.
struct ConvDims {
    memory::dims src, weights, bias, dst, strides, dilates, pad_l, pad_r;
    memory::data_type type = memory::data_type::f32;
    memory::desc keras_weights;
    bool use_bias = true;   // the node's attribute
    bool with_bias = true;  // the primitive's: use_bias or an affine map folded into the weights
};

ConvDims conv_dims(const opgraph::KernelContext& ctx) {
    const OpContext op_ctx(ctx.node.name, ctx.node.attrs, ctx.input_shapes);
    const Conv2dGeometry g = conv2d_geometry(op_ctx);
    const ops::Window2d window = conv2d_window(op_ctx, g);
    const ops::IntPair dilation = ops::read_pair(op_ctx, "dilation");
    ConvDims d;
    d.src = opgraph::logical_dims(ctx.input_shapes.at(0));
    d.dst = opgraph::logical_dims(ctx.output_shapes.at(0));
    const memory::dim in = g.in_channels / g.groups;
    const memory::dim out = g.filters / g.groups;
    if (g.groups == 1) {
        d.weights = {g.filters, g.in_channels, g.kernel[0], g.kernel[1]};
        d.keras_weights = {d.weights, memory::data_type::f32, memory::format_tag::hwio};
    } else {
        d.weights = {g.groups, out, in, g.kernel[0], g.kernel[1]};
        d.keras_weights = {d.weights, memory::data_type::f32, memory::format_tag::hwigo};
    }
    d.bias = {g.filters};
    d.strides = {window.height.stride, window.width.stride};
    d.dilates = {dilation[0] - 1, dilation[1] - 1};
    d.pad_l = {window.height.pad_begin, window.width.pad_begin};
    d.pad_r = {window.height.pad_end, window.width.pad_end};
    d.use_bias = ctx.node.attrs.get_bool("use_bias");
    d.type = opgraph::dnnl_data_type(ctx.dtype);
    d.with_bias = d.use_bias || std::any_of(ctx.absorbed.begin(), ctx.absorbed.end(),
                                            [](const opgraph::AbsorbedAffine& a) {
                                                return a.side != AffineSide::after_activation;
                                            });
    return d;
}

// inputs: src[, residual], kernel[, bias][, folded affine nodes' parameters] -> dst =
// activation(conv(src, kernel) + bias [+ residual]) (opgraph/ops/residual_sum.hpp). Every layout is
// the primitive's choice (format_tag::any); src and the plain kernel are reordered to it. When
// training, the kernel always goes through a private copy that backward data reads; in inference it
// is reordered once per change of the parameters, after folding the absorbed batch norms into it
// (those after the activation are post-ops: opgraph/ops/affine_post_ops.hpp). A node that saves
// (Node::saves) writes that copy as its output 1 (OpDef::saved "kernel"). On a quantized src
// (int8 inference) the primitive is an int8 one (opgraph/ops/int8_layer.hpp).
class Conv2dForwardKernel : public ops::PrimitiveKernelWithParams {
public:
    explicit Conv2dForwardKernel(const opgraph::KernelContext& ctx)
        : engine_(ctx.engine),
          training_(ctx.training),
          saves_(ctx.node.saves),
          dims_(conv_dims(ctx)),
          absorbed_(ctx.absorbed),
          attrs_(ctx.node.attrs),
          data_inputs_(ctx.input_descs.size()) {
        if (data_inputs_ > 1) residual_.emplace(ctx, 1, dims_.type);
        const bool int8 = !ctx.training && ops::reads_int8(ctx);
        std::vector<opgraph::AbsorbedAffine> after;
        for (const opgraph::AbsorbedAffine& a : absorbed_)
            (a.side == AffineSide::after_activation ? after : into_weights_).push_back(a);
        if (!after.empty())
            after_.emplace(std::move(after), dims_.bias[0], dims_.dst.size(),
                           int8 ? ops::scale_or_one(ctx.output_scales, 0) : 1.f, engine_);
        memory::desc src = ops::any_desc(dims_.src, dims_.type);
        memory::desc weights = ops::any_desc(dims_.weights, dims_.type);
        dnnl::primitive_attr attr = primitive_attr(nullptr);
        if (int8) {
            src = ops::any_desc(dims_.src, ctx.input_descs.at(0).data_type());
            weights = ops::any_desc(dims_.weights, memory::data_type::s8);
            const int mask = dims_.weights.size() == 4 ? 1 << 0 : (1 << 0) | (1 << 1);
            int8_.emplace(ctx, dims_.bias[0], mask);
            const std::vector<float> ones(static_cast<std::size_t>(dims_.bias[0]), 1.f);
            attr = primitive_attr(&ones);
        }
        pd_ = make_pd(ctx.training, src, weights,
                      dims_.with_bias ? ops::any_desc(dims_.bias) : memory::desc(),
                      ops::any_desc(dims_.dst, dims_.type), attr);
        outputs_ = {pd_.dst_desc()};
        if (saves_) outputs_.push_back(pd_.weights_desc());
        // An int8 primitive needs the weights' scales: prepare_constants() builds it.
        if (!int8_) primitive_ = dnnl::convolution_forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(0), pd_.src_desc(), engine_);
        if (residual_) residual_->bind(inputs.at(1), outputs.at(0));
        memory kernel = inputs.at(data_inputs_);
        memory bias = dims_.use_bias ? inputs.at(data_inputs_ + 1) : memory();
        // The absorbed nodes' parameters come last, in their order.
        std::size_t next = inputs.size();
        for (const opgraph::AbsorbedAffine& a : absorbed_) next -= a.params;
        std::vector<memory> weight_params, after_params;
        for (const opgraph::AbsorbedAffine& a : absorbed_) {
            const bool after = a.side == AffineSide::after_activation;
            for (std::size_t p = 0; p < a.params; ++p)
                (after ? after_params : weight_params).push_back(inputs.at(next++));
        }
        if (!into_weights_.empty()) {
            fold_.emplace(into_weights_, kernel, bias, std::move(weight_params), dims_.weights[1],
                          dims_.weights[0], engine_);
            kernel = fold_->weights();
            bias = fold_->bias();
        }
        if (after_) {
            after_->bind(std::move(after_params));
            after_->add_args(args_);
        }
        args_[DNNL_ARG_DST] = outputs.at(0);
        if (int8_) {
            int8_->bind(ops::view_as(kernel, dims_.keras_weights, engine_), bias);
            return;
        }
        bind_param(DNNL_ARG_WEIGHTS, ops::view_as(kernel, dims_.keras_weights, engine_),
                   pd_.weights_desc(), engine_, training_, saves_ ? outputs.at(1) : memory());
        if (dims_.with_bias) bind_input(DNNL_ARG_BIAS, bias, pd_.bias_desc(), engine_);
    }
    void prepare_constants(dnnl::stream& stream) override {
        if (fold_) fold_->fold();
        if (after_) after_->update();
        if (!int8_) {
            PrimitiveKernelWithParams::prepare_constants(stream);
            return;
        }
        // The int8 primitive again, with the scales of the weights as they are now.
        const std::vector<float> scales = int8_->output_scales();
        pd_ = make_pd(false, pd_.src_desc(), pd_.weights_desc(),
                      dims_.with_bias ? pd_.bias_desc() : memory::desc(), pd_.dst_desc(),
                      primitive_attr(&scales));
        int8_->write(pd_.weights_desc(), stream);
        args_[DNNL_ARG_WEIGHTS] = int8_->weights();
        if (dims_.with_bias) args_[DNNL_ARG_BIAS] = int8_->bias();
        primitive_ = dnnl::convolution_forward(pd_);
    }
    void execute(dnnl::stream& stream) override {
        if (residual_) residual_->prepare(stream);
        PrimitiveKernelWithParams::execute(stream);
    }
    const dnnl::convolution_forward::primitive_desc& pd() const { return pd_; }
    const ConvDims& dims() const { return dims_; }

private:
    // The post-ops: the residual's sum, the fused activation, the affine maps folded after it;
    // with int8 `scales`, the output scales too.
    dnnl::primitive_attr primitive_attr(const std::vector<float>* scales) {
        dnnl::post_ops sum;
        if (residual_) residual_->append_to(sum);
        dnnl::primitive_attr attr = scales != nullptr ? ops::int8_attr(attrs_, *scales, sum)
                                                      : ops::fused_activation_attr(attrs_, sum);
        if (after_) {
            dnnl::post_ops post_ops = attr.get_post_ops();
            after_->append_to(post_ops);
            attr.set_post_ops(post_ops);
        }
        return attr;
    }
    dnnl::convolution_forward::primitive_desc make_pd(bool training, const memory::desc& src,
                                                      const memory::desc& weights,
                                                      const memory::desc& bias,
                                                      const memory::desc& dst,
                                                      const dnnl::primitive_attr& attr) const {
        const auto prop =
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        const dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, src,
                                                   weights, bias, dst, dims_.strides, dims_.dilates,
                                                   dims_.pad_l, dims_.pad_r);
        return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
    }

    dnnl::engine engine_;
    bool training_ = false;
    bool saves_ = false;
    ConvDims dims_;
    std::vector<opgraph::AbsorbedAffine> absorbed_;
    std::vector<opgraph::AbsorbedAffine>
        into_weights_;  // the absorbed maps folded into the weights
    opgraph::AttrMap attrs_;
    std::size_t data_inputs_ = 1;  // src[, residual]: the parameters follow them
    std::optional<ops::ResidualSum> residual_;
    std::optional<ops::FoldedAffine> fold_;
    std::optional<ops::AffinePostOps> after_;
    std::optional<ops::Int8Constants> int8_;
    dnnl::convolution_forward::primitive_desc pd_;
};

// inputs: diff_dst (before the activation), src (for its shape only), the kernel the forward
// step used (saved, in its primitive's layout) -> diff_src, in the layout the primitive picks.
class Conv2dBackwardDataKernel : public ops::PrimitiveKernel {
public:
    explicit Conv2dBackwardDataKernel(const opgraph::KernelContext& ctx) : engine_(ctx.engine) {
        const Conv2dForwardKernel forward(ops::forward_context(ctx, {1}));
        dims_ = forward.dims();
        const dnnl::convolution_backward_data::desc desc(
            dnnl::algorithm::convolution_direct, ops::any_desc(dims_.src, dims_.type),
            ops::any_desc(dims_.weights, dims_.type), ops::any_desc(dims_.dst, dims_.type),
            dims_.strides, dims_.dilates, dims_.pad_l, dims_.pad_r);
        pd_ = dnnl::convolution_backward_data::primitive_desc(desc, ctx.engine, forward.pd());
        outputs_ = {pd_.diff_src_desc()};
        primitive_ = dnnl::convolution_backward_data(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), pd_.diff_dst_desc(), engine_);
        bind_input(DNNL_ARG_WEIGHTS, inputs.at(2), pd_.weights_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = outputs.at(0);
    }

private:
    dnnl::engine engine_;
    ConvDims dims_;
    dnnl::convolution_backward_data::primitive_desc pd_;
};

// inputs: diff_dst (before the activation), src -> diff kernel[, diff bias], written in the
// plain Keras layout (through a reorder when the primitive prefers a blocked one).
class Conv2dBackwardWeightsKernel : public ops::PrimitiveKernelWithParams {
public:
    explicit Conv2dBackwardWeightsKernel(const opgraph::KernelContext& ctx) : engine_(ctx.engine) {
        const Conv2dForwardKernel forward(ops::forward_context(ctx, {1}));
        dims_ = forward.dims();
        const auto pd_for = [&](const memory::desc& src, const memory::desc& diff_dst) {
            const dnnl::convolution_backward_weights::desc desc(
                dnnl::algorithm::convolution_direct, src, ops::any_desc(dims_.weights),
                dims_.use_bias ? ops::any_desc(dims_.bias) : memory::desc(), diff_dst,
                dims_.strides, dims_.dilates, dims_.pad_l, dims_.pad_r);
            return dnnl::convolution_backward_weights::primitive_desc(desc, ctx.engine,
                                                                      forward.pd());
        };
        pd_ = pd_for(ops::any_desc(dims_.src, dims_.type), ops::any_desc(dims_.dst, dims_.type));
        // Small channel counts (mnist's 10) send the blocked-layout kernel to AVX2 on an
        // AVX-512 CPU; over nhwc oneDNN has an AVX-512 one (mnist's 10->32 3x3 layer at batch
        // 128 on an Intel Xeon: 10.9 -> 6.5 ms with the reorders, the step 14 % faster).
        const auto avx2 = [](const dnnl::primitive_desc_base& pd) {
            return std::string(pd.impl_info_str()).find("avx2") != std::string::npos;
        };
        if (avx2(pd_) && dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core) {
            const auto nhwc = [this](const memory::dims& d) {
                return memory::desc(d, dims_.type, memory::format_tag::nhwc);
            };
            auto plain = pd_for(nhwc(dims_.src), nhwc(dims_.dst));
            if (!avx2(plain)) pd_ = std::move(plain);
        }
        for (const Shape& shape : ctx.output_shapes)
            outputs_.push_back(opgraph::row_major_desc(shape));
        primitive_ = dnnl::convolution_backward_weights(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<memory>& inputs, const std::vector<memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(1), pd_.src_desc(), engine_);
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), pd_.diff_dst_desc(), engine_);
        bind_output(DNNL_ARG_DIFF_WEIGHTS,
                    ops::view_as(outputs.at(0), dims_.keras_weights, engine_),
                    pd_.diff_weights_desc(), engine_);
        if (dims_.use_bias)
            bind_output(DNNL_ARG_DIFF_BIAS, outputs.at(1), pd_.diff_bias_desc(), engine_);
    }

private:
    dnnl::engine engine_;
    ConvDims dims_;
    dnnl::convolution_backward_weights::primitive_desc pd_;
};

// A batch norm folds into the kernel (FoldedAffine): on the output side when no activation
// comes between, on the input side when no padding does (every tap reads a real input).
bool conv2d_absorbs_affine(const opgraph::AttrMap& attrs, AffineSide side) {
    if (side == AffineSide::after_activation) return true;  // post-ops
    if (attrs.get_int("groups") != 1) return false;
    if (side == opgraph::AffineSide::output) return !ops::fused_activation(attrs);
    const opgraph::AttrValue& padding = attrs.get("padding");
    if (const auto* mode = std::get_if<std::string>(&padding)) {
        const ops::IntPair kernel = ops::read_pair(OpContext("", attrs, {}), "kernel");
        return *mode == ops::kPaddingValid || kernel == ops::IntPair{1, 1};  // "same": no pad
    }
    const auto& pads = std::get<std::vector<std::int64_t>>(padding);
    return std::all_of(pads.begin(), pads.end(), [](std::int64_t p) { return p == 0; });
}

// ---- gradient-check cases ----

std::vector<opgraph::GradCheckCase> conv2d_gradcheck() {
    using opgraph::AttrMap;
    using opgraph::GradCheckInput;
    using Ints = std::vector<std::int64_t>;
    // Relu-like post-ops have a kink at a pre-activation of 0 that inputs away from 0 cannot
    // keep away once several taps are summed. Their cases take one tap per output (1x1,
    // one channel per group, no bias) and a kernel of ones: the checker moves parameters by
    // U(-0.5, 0.5), so |pre-activation| = |w x| >= 0.5 * 0.2, over six times the largest
    // perturbation (epsilon 0.01 times |w| <= 1.5). Both signs occur: both branches checked.
    return {
        {"3x3 valid bias",
         {{2, 5, 5, 2}},
         AttrMap{{"filters", std::int64_t{3}}, {"kernel", Ints{3, 3}}},
         {}},
        {"3x3 stride 2 same no bias sigmoid",
         {{1, 6, 6, 2}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{3, 3}},
                 {"stride", Ints{2, 2}},
                 {"padding", std::string("same")},
                 {"use_bias", false},
                 {"activation", std::string("sigmoid")}},
         {}},
        {"4x4 explicit padding tanh",
         {{1, 5, 5, 2}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{4, 4}},
                 {"padding", Ints{1, 2, 0, 1}},
                 {"activation", std::string("tanh")}},
         {}},
        {"4x4 stride 2 valid no bias",
         {{1, 8, 8, 1}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{4, 4}},
                 {"stride", Ints{2, 2}},
                 {"use_bias", false}},
         {}},
        {"3x3 dilation 2 same elu",
         {{1, 6, 6, 2}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{3, 3}},
                 {"dilation", Ints{2, 2}},
                 {"padding", std::string("same")},
                 {"activation", std::string("elu")}},
         {}},
        {"3x3 groups 2 same bias",
         {{2, 3, 3, 4}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{3, 3}},
                 {"groups", std::int64_t{2}},
                 {"padding", std::string("same")}},
         {}},
        {"1x1 depthwise relu",
         {{2, 3, 3, 3}},
         AttrMap{{"filters", std::int64_t{3}},
                 {"kernel", Ints{1, 1}},
                 {"groups", std::int64_t{3}},
                 {"use_bias", false},
                 {"kernel_initializer", std::string("ones")},
                 {"activation", std::string("relu")}},
         {GradCheckInput::away_from_zero}},
        {"1x1 groups 2 stride 2 leaky_relu",
         {{2, 4, 4, 2}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{1, 1}},
                 {"groups", std::int64_t{2}},
                 {"stride", Ints{2, 2}},
                 {"use_bias", false},
                 {"kernel_initializer", std::string("ones")},
                 {"activation", std::string("leaky_relu")},
                 {"alpha", 0.2}},
         {GradCheckInput::away_from_zero}},
        {"3x3 same residual tanh",
         {{2, 4, 4, 2}, {2, 4, 4, 3}},
         AttrMap{{"filters", std::int64_t{3}},
                 {"kernel", Ints{3, 3}},
                 {"padding", std::string("same")},
                 {"activation", std::string("tanh")}},
         {}},
        {"1x1 stride 2 residual",
         {{1, 4, 4, 2}, {1, 2, 2, 2}},
         AttrMap{{"filters", std::int64_t{2}}, {"kernel", Ints{1, 1}}, {"stride", Ints{2, 2}}},
         {}},
        {"1x1 stride 2 linear",
         {{2, 3, 3, 3}},
         AttrMap{{"filters", std::int64_t{2}},
                 {"kernel", Ints{1, 1}},
                 {"stride", Ints{2, 2}},
                 {"activation", std::string("linear")}},
         {}},
    };
}

}  // namespace

opgraph::OpDef conv2d_op() {
    opgraph::OpDef def;
    def.name = "conv2d";
    def.doc = "2-D convolution of (batch, height, width, channels) images (Keras Conv2D)";
    def.category = "layer";
    def.attrs = ops::weighted_layer_attrs({
        AttrSpec::required("filters", AttrType::integer, "number of output channels").at_least(1),
        AttrSpec::required("kernel", AttrType::int_list, "kernel size (height, width)")
            .length(ops::kPairLength)
            .broadcast()
            .at_least(1),
        ops::int_pair_attr("stride", kDefaultStride, "step (height, width)"),
        ops::padding_attr(),
        ops::int_pair_attr("dilation", kDefaultDilation, "dilation rate (height, width)"),
        AttrSpec::optional("groups", kDefaultGroups, "channel groups convolved separately")
            .at_least(1),
    });
    def.inputs = {"src", "residual"};
    def.optional_inputs = 1;
    def.infer_shapes = conv2d_shapes;
    def.dtypes = ops::kF32Bf16AndInt8;
    def.int8 = opgraph::Int8Role::rescales;
    def.params = conv2d_params;
    def.macs = conv2d_macs;
    def.kernel = ops::make_kernel<Conv2dForwardKernel>;
    def.absorbs_affine = conv2d_absorbs_affine;
    def.fuses_activation = true;
    def.fuses_residual = true;
    def.in_place = true;  // dst over the residual, which the sum post-op adds where it is
    def.in_place_input = 1;
    def.gradcheck = conv2d_gradcheck();
    ops::add_weighted_layer_backward<Conv2dBackwardDataKernel, Conv2dBackwardWeightsKernel>(def);
    return def;
}
