// The activation fused into a layer's primitive (Keras's `activation=` argument of conv2d and
// dense): its attributes, its eltwise algorithm pair, the post-op that applies it forward, the
// companion op "<op>_activation_backward" that differentiates it from dst, and the step of a
// gradient rule that goes through it.
#pragma once

#include <dnnl.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/eltwise.hpp"

namespace opgraph::ops {

inline constexpr float kEluAlpha = 1.f;     // Keras's elu activation
inline constexpr float kPostOpScale = 1.f;  // the post-op applies f(x), unscaled

// The activations a layer can fuse ("none" and "linear" both mean the identity). A function,
// not a global: an OpDef may be built during another translation unit's static
// initialisation.
inline std::vector<std::string> fused_activations() {
    return {"none", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "elu"};
}

// activation and alpha (leaky_relu's slope).
inline Schema fused_activation_attrs() {
    return {
        AttrSpec::optional("activation", std::string("none"), "activation fused after the op")
            .one_of(fused_activations()),
        AttrSpec::optional("alpha", kDefaultLeakyReluAlpha, "negative slope of leaky_relu")
            .at_least(0),
    };
}

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

// Primitive attributes carrying `before` (a residual's sum), then the node's fused activation
// as an eltwise post-op (none for "none" / "linear").
inline dnnl::primitive_attr fused_activation_attr(const AttrMap& attrs,
                                                  dnnl::post_ops before = {}) {
    dnnl::primitive_attr attr;
    if (const std::optional<Eltwise> f = fused_activation(attrs))
        before.append_eltwise(kPostOpScale, f->forward, f->alpha, f->beta);
    if (before.len() > 0) attr.set_post_ops(before);
    return attr;
}

// The companion "<forward>_activation_backward" (inputs diff_dst, dst -> the gradient before
// the fused activation, in dst's layout), computed from dst with the *_use_dst_for_bwd
// algorithms. Only emitted for nodes whose activation is not none / linear.
inline OpDef fused_activation_backward_op(const OpDef& forward) {
    OpDef def = backward_op(forward, forward.name + "_activation_backward", {"diff_dst", "dst"}, 1);
    def.doc = "gradient of " + forward.name + "'s fused activation (emitted by its gradient rule)";
    def.in_place = true;  // oneDNN's eltwise may write diff_src over diff_dst
    def.kernel = [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        const std::optional<Eltwise> f = fused_activation(ctx.node.attrs);
        if (!f) throw std::invalid_argument("the node has no fused activation to differentiate");
        return std::make_unique<EltwiseBackwardKernel>(ctx, *f);
    };
    return def;
}

// In a gradient rule: the gradient flowing into the node's pre-activation output. Emits
// "<node>/activation_backward" (of op `op`) when the node fuses an activation,
// otherwise returns diff_dst itself.
inline std::string pre_activation_diff(GradientBuilder& b, const std::string& op) {
    if (!fused_activation(b.node().attrs)) return b.diff_dst();
    return b.emit("activation_backward", op, {b.diff_dst(), b.output()});
}

}  // namespace opgraph::ops
