// oneDNN helpers shared by the weighted layers conv2d and dense: the fused activation (an
// eltwise post-op forward, a companion eltwise-backward op and the step of a gradient rule
// that goes through it), outputs a primitive writes in its own layout and a reorder copies
// into the plain layout the graph holds (parameter gradients), snapshots of the weights a
// training forward step used (backward data reads them), reaching the forward kernel from a
// backward kernel, and asking a gradient rule whether a parameter is trained.
#pragma once

#include <dnnl.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnnl_kernel.hpp"
#include "op_helpers.hpp"
#include "opgraph/attribute.hpp"
#include "opgraph/gradient.hpp"
#include "opgraph/kernel.hpp"
#include "opgraph/op_def.hpp"

namespace opgraph::ops {

inline constexpr float kEluAlpha = 1.f;     // Keras's elu activation
inline constexpr float kPostOpScale = 1.f;  // the post-op applies f(x), unscaled

// The fused activation of a node (its "activation" and "alpha" attributes) as an eltwise
// algorithm pair; nullopt for "none" and "linear". Throws std::invalid_argument on a name the
// schema should have refused.
inline std::optional<Eltwise> fused_activation(const AttrMap& attrs) {
    using dnnl::algorithm;
    const std::string& name = attrs.get_string("activation");
    if (name == "none" || name == "linear") return std::nullopt;
    if (name == "relu")
        return Eltwise{algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd};
    if (name == "leaky_relu") {
        const auto alpha = static_cast<float>(attrs.get_real("alpha"));
        return Eltwise{algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd, alpha};
    }
    if (name == "sigmoid")
        return Eltwise{algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd};
    if (name == "tanh")
        return Eltwise{algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd};
    if (name == "elu") {
        return Eltwise{algorithm::eltwise_elu, algorithm::eltwise_elu_use_dst_for_bwd, kEluAlpha};
    }
    throw std::invalid_argument("unknown fused activation '" + name + "'");
}

// Primitive attributes carrying the node's fused activation as an eltwise post-op (none for
// "none" / "linear").
inline dnnl::primitive_attr fused_activation_attr(const AttrMap& attrs) {
    dnnl::primitive_attr attr;
    if (const std::optional<Eltwise> f = fused_activation(attrs)) {
        dnnl::post_ops post_ops;
        post_ops.append_eltwise(kPostOpScale, f->forward, f->alpha, f->beta);
        attr.set_post_ops(post_ops);
    }
    return attr;
}

// The companion "<forward>_activation_backward" (inputs diff_dst, dst -> the gradient before
// the fused activation, in dst's layout), computed from dst with the *_use_dst_for_bwd
// algorithms. Only emitted for nodes whose activation is not none / linear.
inline OpDef fused_activation_backward_op(const OpDef& forward) {
    OpDef def = backward_op(forward, forward.name + "_activation_backward", {"diff_dst", "dst"}, 1);
    def.doc = "gradient of " + forward.name + "'s fused activation (emitted by its gradient rule)";
    def.kernel = [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        const std::optional<Eltwise> f = fused_activation(ctx.node.attrs);
        if (!f) throw std::invalid_argument("the node has no fused activation to differentiate");
        return std::make_unique<EltwiseBackwardKernel>(ctx, *f);
    };
    return def;
}

// In a gradient rule: the gradient flowing into the node's pre-activation output. Emits
// "<node>/activation_backward" (op `backward_op`) when the node fuses an activation,
// otherwise returns diff_dst itself.
inline std::string pre_activation_diff(GradientBuilder& b, const std::string& backward_op) {
    if (!fused_activation(b.node().attrs)) return b.diff_dst();
    return b.emit("activation_backward", backward_op, {b.diff_dst(), b.output()});
}

// The forward kernel of a backward kernel (KernelContext::forward) as its class. Throws
// std::invalid_argument naming `op` when there is none or it is of another op.
template <class ForwardKernel>
const ForwardKernel& forward_kernel(const KernelContext& ctx, const std::string& op) {
    const auto* kernel = dynamic_cast<const ForwardKernel*>(ctx.forward);
    if (kernel == nullptr) {
        throw std::invalid_argument(op + " needs the kernel of its forward node (attribute '" +
                                    kForwardAttr + "'), got " +
                                    (ctx.forward == nullptr ? "none" : "another op's kernel"));
    }
    return *kernel;
}

// An output a primitive writes: the graph's memory itself when the layouts agree, otherwise
// a private buffer in the primitive's layout copied into the graph's memory by a reorder at
// the end of each step.
class OutputAdapter {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& produced,
              const dnnl::engine& engine) {
        given_ = given;
        if (given.get_desc() == produced) {
            memory_ = given;
            return;
        }
        memory_ = dnnl::memory(produced, engine);
        reorder_ = dnnl::reorder(memory_, given_);
    }
    void finish(dnnl::stream& stream) {
        if (reorder_) reorder_.execute(stream, memory_, given_);
    }
    const dnnl::memory& memory() const { return memory_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
};

// A parameter as a training forward primitive reads it: always a private copy (in the
// primitive's layout), refreshed by a reorder at the start of each step. Backward kernels
// read that copy, so they see the values the forward step used even when an optimizer has
// already updated the parameter (updates may overlap the rest of backward), and the backward
// nodes need not name the parameter as an input.
class ParamSnapshot {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& wanted,
              const dnnl::engine& engine) {
        given_ = given;
        memory_ = dnnl::memory(wanted, engine);
        reorder_ = dnnl::reorder(given_, memory_);
    }
    void prepare(dnnl::stream& stream) {
        if (reorder_) reorder_.execute(stream, given_, memory_);
    }
    const dnnl::memory& memory() const { return memory_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
};

// A PrimitiveKernel whose parameters go through snapshots refreshed before the primitive
// (training) or constants refreshed only when parameters change (inference) (bind_param), and
// whose outputs may need a reorder after it (bind_output).
class AdaptedPrimitiveKernel : public PrimitiveKernel {
public:
    void execute(dnnl::stream& stream) override {
        for (ParamSnapshot& s : snapshots_) s.prepare(stream);
        PrimitiveKernel::execute(stream);
        for (OutputAdapter& a : output_adapters_) a.finish(stream);
    }
    void prepare_constants(dnnl::stream& stream) override {
        for (InputAdapter& a : constants_) a.prepare(stream);
    }

protected:
    // Binds parameter argument `arg` to `given` in the layout `wanted`: through a
    // ParamSnapshot refreshed at every step when `training` (backward kernels read it),
    // otherwise through a constant refreshed by prepare_constants() (reordered only when the
    // layouts differ).
    void bind_param(int arg, const dnnl::memory& given, const dnnl::memory::desc& wanted,
                    const dnnl::engine& engine, bool training) {
        if (!training) {
            constants_.emplace_back();
            constants_.back().bind(given, wanted, engine);
            args_[arg] = constants_.back().memory();
            return;
        }
        snapshots_.emplace_back();
        snapshots_.back().bind(given, wanted, engine);
        args_[arg] = snapshots_.back().memory();
    }

    // Binds argument `arg` to `given`, through a buffer in `produced` when they differ.
    void bind_output(int arg, const dnnl::memory& given, const dnnl::memory::desc& produced,
                     const dnnl::engine& engine) {
        output_adapters_.emplace_back();
        output_adapters_.back().bind(given, produced, engine);
        args_[arg] = output_adapters_.back().memory();
    }

private:
    std::vector<ParamSnapshot> snapshots_;
    std::vector<InputAdapter> constants_;
    std::vector<OutputAdapter> output_adapters_;
};

// Per-channel affine nodes (batch norm in inference) folded into a weighted layer's kernel
// (KernelContext::absorbed) through its weights, recomputed by fold() whenever parameters
// change. Keras kernels are row-major (..., in, out). Input side (only without padding, so
// that every tap reads a real input): b'[o] = b[o] + the sum over taps and i of
// W[..., i, o] * shift[i], then W'[..., i, o] = W * scale[i]. Output side, after that:
// W'[..., i, o] = W * scale[o], b'[o] = b[o] * scale[o] + shift[o].
class FoldedAffine {
public:
    // `kernel`: the layer's row-major kernel with `in` x `out` as its last two axes; `bias`:
    // its (out) bias or an empty memory; `params`: the absorbed nodes' parameters, in order.
    FoldedAffine(std::vector<AbsorbedAffine> absorbed, const dnnl::memory& kernel,
                 const dnnl::memory& bias, std::vector<dnnl::memory> params, std::int64_t in,
                 std::int64_t out, const dnnl::engine& engine)
        : absorbed_(std::move(absorbed)),
          kernel_(kernel),
          bias_(bias),
          params_(std::move(params)),
          in_(in),
          out_(out),
          weights_(kernel.get_desc(), engine),
          folded_bias_({{out}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a},
                       engine) {}

    void fold() {
        const std::size_t count = kernel_.get_desc().get_size() / sizeof(float);
        const auto* w = static_cast<const float*>(kernel_.get_data_handle());
        auto* folded = static_cast<float*>(weights_.get_data_handle());
        auto* b = static_cast<float*>(folded_bias_.get_data_handle());
        std::copy_n(w, count, folded);
        const auto* given_bias =
            static_cast<const float*>(bias_ ? bias_.get_data_handle() : nullptr);
        for (std::int64_t o = 0; o < out_; ++o) b[o] = given_bias != nullptr ? given_bias[o] : 0.f;
        const auto taps = static_cast<std::int64_t>(count) / (in_ * out_);
        std::size_t next_param = 0;
        for (const AbsorbedAffine& a : absorbed_) {
            const bool input_side = a.side == AffineSide::input;
            const std::int64_t channels = input_side ? in_ : out_;
            std::vector<float> scale(static_cast<std::size_t>(channels));
            std::vector<float> shift(scale.size());
            std::vector<const float*> values;
            for (std::size_t p = 0; p < a.params; ++p)
                values.push_back(
                    static_cast<const float*>(params_.at(next_param++).get_data_handle()));
            a.compute(a.attrs, values, channels, scale.data(), shift.data());
            if (!input_side)
                for (std::int64_t o = 0; o < out_; ++o) b[o] = b[o] * scale[o] + shift[o];
            for (std::int64_t t = 0; t < taps; ++t)
                for (std::int64_t i = 0; i < in_; ++i)
                    for (std::int64_t o = 0; o < out_; ++o) {
                        float& weight = folded[(t * in_ + i) * out_ + o];
                        if (input_side) {
                            b[o] += weight * shift[i];
                            weight *= scale[i];
                        } else {
                            weight *= scale[o];
                        }
                    }
        }
    }
    // The folded kernel (row-major, as the layer's) and the folded (out) bias.
    const dnnl::memory& weights() const { return weights_; }
    const dnnl::memory& bias() const { return folded_bias_; }

private:
    std::vector<AbsorbedAffine> absorbed_;
    dnnl::memory kernel_, bias_;
    std::vector<dnnl::memory> params_;
    std::int64_t in_ = 0, out_ = 0;
    dnnl::memory weights_, folded_bias_;
};

// `memory`'s data seen through another descriptor of the same size (a parameter as oneDNN
// weights, an (N, ..., F) value as (rows, F)).
inline dnnl::memory view_as(const dnnl::memory& memory, const dnnl::memory::desc& desc,
                            const dnnl::engine& engine) {
    if (memory.get_desc().get_size() != desc.get_size())
        throw std::invalid_argument("cannot view a memory of " +
                                    std::to_string(memory.get_desc().get_size()) +
                                    " bytes as one of " + std::to_string(desc.get_size()));
    return dnnl::memory(desc, engine, memory.get_data_handle());
}

// A descriptor with format_tag::any: the primitive picks the layout.
inline dnnl::memory::desc any_desc(const dnnl::memory::dims& dims) {
    return {dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any};
}

// The gradient rule of a layer with weights, an optional bias and a fused activation
// (conv2d, dense): through the activation first (from dst), then diff_src (from the forward
// step's kernel) and the parameter gradients (from src), each only when wanted.
inline void weighted_layer_gradient(GradientBuilder& b, const char* activation_backward,
                                    const char* backward_data, const char* backward_weights) {
    const std::string diff = pre_activation_diff(b, activation_backward);
    if (b.needs_diff_input(0))
        b.set_diff_input(0, b.emit("backward_data", backward_data, {diff, b.input(0)}));
    const bool trains_kernel = b.has_param("kernel");
    const bool trains_bias = b.node().attrs.get_bool("use_bias") && b.has_param("bias");
    if (!trains_kernel && !trains_bias) return;
    const std::string weights = b.emit("backward_weights", backward_weights, {diff, b.input(0)});
    if (trains_kernel) b.set_diff_param("kernel", weights);
    if (trains_bias) b.set_diff_param("bias", weights + ":1");
}

// An op's kernel function for kernel class K constructed from the context.
template <class K>
std::unique_ptr<Kernel> make_kernel(const KernelContext& ctx) {
    return std::make_unique<K>(ctx);
}

// The output shapes of a <op>_backward_weights node (inputs diff_dst, src): its parameters'
// shapes, after checking diff_dst against the forward output the op's shape function gives.
inline std::vector<Shape> weights_gradient_shapes(
    const OpContext& ctx, std::vector<Shape> (*forward_shapes)(const OpContext&),
    std::vector<ParamSpec> (*forward_params)(const OpContext&)) {
    const std::vector<Shape> src{ctx.input(1)};
    const OpContext forward(ctx.node(), ctx.attrs(), src);
    expect_same_shape(ctx, ctx.input(0), forward_shapes(forward).at(0),
                      "diff_dst and the forward output");
    std::vector<Shape> shapes;
    for (const ParamSpec& p : forward_params(forward)) shapes.push_back(p.shape);
    return shapes;
}

}  // namespace opgraph::ops
