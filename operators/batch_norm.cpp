// batch_norm: batch normalisation over the channel (last) axis, as Keras's
// BatchNormalization: dst = gamma * (src - mean) / sqrt(variance + epsilon) + beta, with batch
// statistics in training and the moving averages (updated with `momentum`) in inference.
//
// Kernel: oneDNN batch_normalization_forward on the input's own layout (blocked layouts flow
// through; dst takes src's layout), use_scale / use_shift for scale / center. In training it
// computes the batch mean and variance into buffers it keeps for backward and then updates
// moving_mean / moving_variance in place; in inference it runs use_global_stats on the moving
// statistics. batch_norm_backward (diff_dst, src -> diff_src[, diff_gamma][, diff_beta]) runs
// batch_normalization_backward with the forward's primitive descriptor and saved statistics.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::OpContext;
using opgraph::ParamSpec;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr double kDefaultMomentum = 0.99;  // Keras's defaults
constexpr double kDefaultEpsilon = 1e-3;
constexpr std::size_t kMinRank = 2;  // (batch, ..., channels)
constexpr const char* kLayout = "(batch, ..., channels)";
// Ranks Keras (TensorFlow 2) normalises with the fused kernel, FusedBatchNormV3.
constexpr std::size_t kFusedRanks[] = {4, 5};

// The channel count; fails unless `axis` names the last axis and the channels are known.
std::int64_t batch_norm_channels(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_min_rank(ctx, src, kMinRank, kLayout);
    const std::int64_t axis = ctx.attrs().get_int("axis");
    const auto last = static_cast<std::int64_t>(src.size()) - 1;
    if (axis != ops::kLastAxis && axis != last) {
        ctx.fail("axis", "only the channel axis (-1 or " + std::to_string(last) +
                             ") of the channels-last input " + opgraph::shape_str(src) +
                             " is supported, got " + std::to_string(axis));
    }
    return ops::known_dim(ctx, src, src.size() - 1, "channels");
}

std::vector<Shape> batch_norm_shapes(const OpContext& ctx) {
    batch_norm_channels(ctx);
    return {ctx.input(0)};
}

// gamma, beta (trainable, when scale / center), moving_mean and moving_variance
// (non-trainable), each (channels): Keras counts 4 * channels.
std::vector<ParamSpec> batch_norm_params(const OpContext& ctx) {
    const Shape channels = {batch_norm_channels(ctx)};
    std::vector<ParamSpec> params;
    if (ctx.attrs().get_bool("scale")) params.push_back({"gamma", channels, true, "ones"});
    if (ctx.attrs().get_bool("center")) params.push_back({"beta", channels, true, "zeros"});
    params.push_back({"moving_mean", channels, false, "zeros"});
    params.push_back({"moving_variance", channels, false, "ones"});
    return params;
}

// In inference, dst = src * scale + shift per channel: scale = gamma / sqrt(moving_variance +
// epsilon), shift = beta - moving_mean * scale (gamma 1 without scale, beta 0 without
// center). Programs fold it into a neighbouring convolution this way.
void batch_norm_affine(const opgraph::AttrMap& attrs, const std::vector<const float*>& params,
                       std::int64_t channels, float* scale, float* shift) {
    std::size_t next = 0;  // ParamSpec order
    const float* gamma = attrs.get_bool("scale") ? params.at(next++) : nullptr;
    const float* beta = attrs.get_bool("center") ? params.at(next++) : nullptr;
    const float* mean = params.at(next++);
    const float* variance = params.at(next++);
    const auto epsilon = static_cast<float>(attrs.get_real("epsilon"));
    for (std::int64_t c = 0; c < channels; ++c) {
        scale[c] = (gamma != nullptr ? gamma[c] : 1.f) / std::sqrt(variance[c] + epsilon);
        shift[c] = (beta != nullptr ? beta[c] : 0.f) - mean[c] * scale[c];
    }
}

// batch_norm_backward: diff_src (src's shape), then diff_gamma with scale and diff_beta with
// center, each (channels).
std::vector<Shape> batch_norm_backward_shapes(const OpContext& ctx) {
    const Shape& src = ctx.input(1);
    const Shape channels = {src.back()};
    std::vector<Shape> shapes = {src};
    if (ctx.attrs().get_bool("scale")) shapes.push_back(channels);
    if (ctx.attrs().get_bool("center")) shapes.push_back(channels);
    return shapes;
}

// What a training batch_norm saves: mean, variance, gamma, beta, each (channels).
std::vector<Shape> batch_norm_saved_shapes(const OpContext& ctx) {
    return std::vector<Shape>(4, Shape{ctx.input(0).back()});
}

// oneDNN's view of a channels-last value: logical dims (N, C, spatial...). The IR's logical
// dims already are (N, C, H, W) for rank 4 and (N, C) for rank 2; ranks 3 and 5, kept in IR
// order, get their channel axis moved second (same bytes, permuted strides).
dnnl::memory::desc channels_first(const dnnl::memory::desc& given, std::size_t rank) {
    constexpr std::size_t kImageRank = 4;
    if (rank == kMinRank || rank == kImageRank) return given;
    std::vector<int> permutation(rank);
    permutation[0] = 0;
    permutation[rank - 1] = 1;
    for (std::size_t i = 1; i + 1 < rank; ++i) permutation[i] = static_cast<int>(i) + 1;
    return given.permute_axes(permutation);
}

// inputs: src, then gamma (scale), beta (center), moving_mean, moving_variance -> dst. A node
// that saves (Node::saves) also writes the batch's mean and variance and the gamma and beta
// it used (OpDef::saved; ones and zeros when it has none), for batch_norm_backward.
class BatchNormForwardKernel : public ops::PrimitiveKernelWithParams {
public:
    explicit BatchNormForwardKernel(const opgraph::KernelContext& ctx)
        : engine_(ctx.engine),
          scale_(ctx.node.attrs.get_bool("scale")),
          center_(ctx.node.attrs.get_bool("center")),
          training_(ctx.training),
          saves_(ctx.node.saves),
          momentum_(static_cast<float>(ctx.node.attrs.get_real("momentum"))),
          epsilon_(static_cast<float>(ctx.node.attrs.get_real("epsilon"))) {
        const Shape& shape = ctx.input_shapes.at(0);
        src_ = channels_first(ctx.input_descs.at(0), shape.size());
        flags_ = dnnl::normalization_flags::none;
        if (scale_) flags_ |= dnnl::normalization_flags::use_scale;
        if (center_) flags_ |= dnnl::normalization_flags::use_shift;
        if (!training_) flags_ |= dnnl::normalization_flags::use_global_stats;
        const auto prop =
            training_ ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        pd_ = dnnl::batch_normalization_forward::primitive_desc({prop, src_, epsilon_, flags_},
                                                                ctx.engine);
        outputs_ = {ctx.input_descs.at(0)};  // dst keeps src's layout
        if (saves_) {
            outputs_.push_back(pd_.mean_desc());
            outputs_.push_back(pd_.variance_desc());
            outputs_.push_back(pd_.weights_desc());
            outputs_.push_back(pd_.weights_desc());
        }
        // The moving variance averages the unbiased batch variance: TensorFlow's fused batch
        // norm, which Keras uses for rank 4 and 5 inputs, returns the batch variance times
        // n / (n - 1), n = N * H * W, for the moving average (and normalises with the biased
        // one). Keras's other ranks average tf.nn.moments' biased variance; so do we.
        const std::int64_t channels = shape.back();
        const std::int64_t n = opgraph::element_count(shape) / channels;
        const bool fused = std::find(std::begin(kFusedRanks), std::end(kFusedRanks),
                                     shape.size()) != std::end(kFusedRanks);
        bessel_ = fused && n > 1 ? static_cast<float>(n) / static_cast<float>(n - 1) : 1.f;
        channels_ = static_cast<std::size_t>(channels);
        primitive_ = dnnl::batch_normalization_forward(pd_);
        impl_ = pd_.impl_info_str();
    }

    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        std::size_t next = 1;  // parameters follow src in ParamSpec order
        for (const auto& [has, arg, saved] :
             {std::tuple{scale_, DNNL_ARG_SCALE, 3}, std::tuple{center_, DNNL_ARG_SHIFT, 4}}) {
            if (!has) {
                if (saves_) unused_.push_back({outputs.at(saved), arg == DNNL_ARG_SCALE});
                continue;
            }
            if (saves_)
                bind_param(arg, inputs.at(next++), pd_.weights_desc(), engine_, true,
                           outputs.at(saved));
            else
                bind_input(arg, inputs.at(next++), pd_.weights_desc(), engine_);
        }
        moving_mean_ = inputs.at(next++);
        moving_variance_ = inputs.at(next++);
        if (saves_) {
            mean_ = outputs.at(1);
            variance_ = outputs.at(2);
        } else if (training_) {
            mean_ = dnnl::memory(pd_.mean_desc(), engine_);
            variance_ = dnnl::memory(pd_.variance_desc(), engine_);
        } else {
            mean_ = ops::view_as(moving_mean_, pd_.mean_desc(), engine_);
            variance_ = ops::view_as(moving_variance_, pd_.variance_desc(), engine_);
        }
        args_[DNNL_ARG_SRC] = ops::view_as(inputs.at(0), src_, engine_);
        args_[DNNL_ARG_DST] = ops::view_as(outputs.at(0), pd_.dst_desc(), engine_);
        args_[DNNL_ARG_MEAN] = mean_;
        args_[DNNL_ARG_VARIANCE] = variance_;
    }

    void execute(dnnl::stream& stream) override {
        PrimitiveKernelWithParams::execute(stream);
        if (!training_) return;
        stream.wait();
        for (const auto& [memory, ones] : unused_) {
            auto* values = static_cast<float*>(memory.get_data_handle());
            std::fill(values, values + channels_, ones ? 1.f : 0.f);
        }
        // Keras: moving = moving * momentum + batch * (1 - momentum).
        const auto* mean = static_cast<const float*>(mean_.get_data_handle());
        const auto* variance = static_cast<const float*>(variance_.get_data_handle());
        auto* moving_mean = static_cast<float*>(moving_mean_.get_data_handle());
        auto* moving_variance = static_cast<float*>(moving_variance_.get_data_handle());
        const float keep = momentum_;
        const float take = 1.f - momentum_;
        for (std::size_t c = 0; c < channels_; ++c) {
            moving_mean[c] = moving_mean[c] * keep + mean[c] * take;
            moving_variance[c] = moving_variance[c] * keep + variance[c] * bessel_ * take;
        }
    }

    const dnnl::batch_normalization_forward::primitive_desc& pd() const { return pd_; }
    const dnnl::memory::desc& src_view() const { return src_; }
    const dnnl::memory::desc& output_desc() const { return outputs_.front(); }
    dnnl::normalization_flags flags() const { return flags_; }
    float epsilon() const { return epsilon_; }
    bool scale() const { return scale_; }
    bool center() const { return center_; }

private:
    dnnl::engine engine_;
    bool scale_;
    bool center_;
    bool training_;
    bool saves_;
    float momentum_;
    float epsilon_;
    float bessel_ = 1.f;
    std::size_t channels_ = 0;
    dnnl::memory::desc src_;
    dnnl::normalization_flags flags_ = dnnl::normalization_flags::none;
    dnnl::batch_normalization_forward::primitive_desc pd_;
    // Saved gamma / beta of a node without them: filled with ones (true) / zeros each step.
    std::vector<std::pair<dnnl::memory, bool>> unused_;
    dnnl::memory mean_;  // the statistics dst is normalised with
    dnnl::memory variance_;
    dnnl::memory moving_mean_;
    dnnl::memory moving_variance_;
};

// inputs: diff_dst, src, then what the forward saved: mean, variance, gamma, beta ->
// diff_src (src's layout)[, diff_gamma][, diff_beta] (plain 1-D).
class BatchNormBackwardKernel : public ops::PrimitiveKernel {
public:
    explicit BatchNormBackwardKernel(const opgraph::KernelContext& ctx) : engine_(ctx.engine) {
        const BatchNormForwardKernel forward(ops::forward_context(ctx, {1}));
        scale_ = forward.scale();
        center_ = forward.center();
        const auto prop =
            scale_ || center_ ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
        const dnnl::memory::desc& src = forward.src_view();
        pd_ = dnnl::batch_normalization_backward::primitive_desc(
            {prop, src, src, forward.epsilon(), forward.flags()}, ctx.engine, forward.pd());
        outputs_ = {forward.output_desc()};
        const Shape channels = {ctx.input_shapes.at(1).back()};
        if (scale_) outputs_.push_back(opgraph::row_major_desc(channels));
        if (center_) outputs_.push_back(opgraph::row_major_desc(channels));
        primitive_ = dnnl::batch_normalization_backward(pd_);
        impl_ = pd_.impl_info_str();
    }

    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        // diff_dst in the forward output's layout, seen as oneDNN's (N, C, ...) view.
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), inputs.at(1).get_desc(), engine_);
        args_[DNNL_ARG_DIFF_DST] =
            ops::view_as(args_[DNNL_ARG_DIFF_DST], pd_.diff_dst_desc(), engine_);
        args_[DNNL_ARG_SRC] = ops::view_as(inputs.at(1), pd_.src_desc(), engine_);
        args_[DNNL_ARG_MEAN] = inputs.at(2);
        args_[DNNL_ARG_VARIANCE] = inputs.at(3);
        args_[DNNL_ARG_DIFF_SRC] = ops::view_as(outputs.at(0), pd_.diff_src_desc(), engine_);
        std::size_t next = 1;
        if (scale_) {
            args_[DNNL_ARG_SCALE] = inputs.at(4);
            args_[DNNL_ARG_DIFF_SCALE] = outputs.at(next++);
        }
        if (center_) {
            // oneDNN 2.6 asks for the shift too, although diff_src does not depend on it.
            args_[DNNL_ARG_SHIFT] = inputs.at(5);
            args_[DNNL_ARG_DIFF_SHIFT] = outputs.at(next++);
        }
    }

private:
    dnnl::engine engine_;
    bool scale_ = false;
    bool center_ = false;
    dnnl::batch_normalization_backward::primitive_desc pd_;
};

void batch_norm_gradient(opgraph::GradientBuilder& b) {
    const bool gamma = b.node().attrs.get_bool("scale") && b.has_param("gamma");
    const bool beta = b.node().attrs.get_bool("center") && b.has_param("beta");
    if (!b.needs_diff_input(0) && !gamma && !beta) return;
    const std::string backward =
        b.emit("backward", "batch_norm_backward",
               {b.diff_dst(), b.input(0), b.saved(0), b.saved(1), b.saved(2), b.saved(3)});
    if (b.needs_diff_input(0)) b.set_diff_input(0, backward);
    // Outputs 1 and 2 hold diff_gamma and diff_beta when the node has them.
    std::size_t next = 1;
    if (b.node().attrs.get_bool("scale")) {
        if (gamma) b.set_diff_param("gamma", opgraph::value_name(backward, next));
        ++next;
    }
    if (beta) b.set_diff_param("beta", opgraph::value_name(backward, next));
}

}  // namespace

opgraph::OpDef batch_norm_op() {
    opgraph::OpDef def;
    def.name = "batch_norm";
    def.doc = "batch normalisation over the channel axis (Keras BatchNormalization)";
    def.category = "layer";
    def.attrs = {
        AttrSpec::optional("momentum", kDefaultMomentum, "moving-average momentum")
            .at_least(0)
            .at_most(1),
        AttrSpec::optional("epsilon", kDefaultEpsilon, "added to the variance").greater_than(0),
        AttrSpec::optional("center", true, "learn an offset beta"),
        AttrSpec::optional("scale", true, "learn a scale gamma"),
        AttrSpec::optional("axis", ops::kLastAxis, "the channel axis: -1 (the last)"),
    };
    def.infer_shapes = batch_norm_shapes;
    def.dtypes = ops::kF32AndBf16;
    def.params = batch_norm_params;
    // Inference folds into one multiply-add per element.
    def.macs = ops::one_mac_per_output_element;
    def.inference_affine = batch_norm_affine;
    def.kernel = ops::make_kernel<BatchNormForwardKernel>;
    def.gradient = batch_norm_gradient;
    def.saved = {"mean", "variance", "gamma", "beta"};
    def.saved_shapes = batch_norm_saved_shapes;
    // Statistics and parameters stay f32 whatever the data's type (oneDNN requires it).
    def.saved_dtypes = [](const OpContext&) {
        return std::vector<opgraph::DType>(4, opgraph::DType::f32);
    };

    opgraph::OpDef backward = ops::backward_op(
        def, "batch_norm_backward", {"diff_dst", "src", "mean", "variance", "gamma", "beta"}, 1);
    backward.infer_shapes = batch_norm_backward_shapes;
    backward.infer_dtypes = [](const OpContext& ctx) {  // diff_src, then f32 diff_gamma / beta
        std::vector<opgraph::DType> types(batch_norm_backward_shapes(ctx).size(),
                                          opgraph::DType::f32);
        types.front() = ctx.dtype();
        return types;
    };
    backward.kernel = ops::make_kernel<BatchNormBackwardKernel>;
    backward.in_place = true;  // oneDNN's batch norm may write diff_src over diff_dst
    def.companions.push_back(std::move(backward));

    // Gradients through the batch statistics (training mode); gamma and beta are jittered off
    // ones and zeros by the checker.
    const auto flags = [](bool center, bool scale) {
        return opgraph::AttrMap{{"center", center}, {"scale", scale}};
    };
    def.gradcheck = {
        {"4d center and scale", {{3, 3, 3, 4}}, {}, {}},
        {"4d scale only", {{2, 3, 3, 3}}, flags(false, true), {}},
        {"4d center only", {{2, 3, 3, 3}}, flags(true, false), {}},
        {"4d neither", {{2, 3, 3, 3}}, flags(false, false), {}},
        {"2d center and scale", {{8, 5}}, {}, {}},
        {"2d neither", {{8, 5}}, flags(false, false), {}},
        {"3d center and scale", {{2, 4, 3}}, {}, {}},
        {"5d center and scale", {{2, 2, 2, 2, 3}}, {}, {}},
    };
    return def;
}
