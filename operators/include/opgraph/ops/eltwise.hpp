// The element-wise family on oneDNN's eltwise primitive (relu, leaky_relu, sigmoid, tanh):
// an algorithm pair (forward, and backward from dst), its forward and backward kernels, and
// giving an op both kernels, its backward op and its gradient rule in one call.
#pragma once

#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/primitive_kernel.hpp"

namespace opgraph::ops {

inline constexpr double kDefaultLeakyReluAlpha = 0.3;  // Keras LeakyReLU

// dst = f(src) element-wise with oneDNN's eltwise primitive; the output keeps the input's
// layout (blocked layouts flow through). Backward uses dst (the *_use_dst_for_bwd forms).
struct Eltwise {
    dnnl::algorithm forward;   // e.g. eltwise_relu
    dnnl::algorithm backward;  // e.g. eltwise_relu_use_dst_for_bwd
    float alpha = 0.f;
    float beta = 0.f;
};

// inputs: src -> dst
class EltwiseForwardKernel : public PrimitiveKernel {
public:
    EltwiseForwardKernel(const KernelContext& ctx, const Eltwise& f) : engine_(ctx.engine) {
        const auto prop =
            ctx.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        pd_ = dnnl::eltwise_forward::primitive_desc(
            {prop, f.forward, ctx.input_descs.at(0), f.alpha, f.beta}, ctx.engine);
        outputs_ = {pd_.dst_desc()};
        primitive_ = dnnl::eltwise_forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(0), pd_.src_desc(), engine_);
        args_[DNNL_ARG_DST] = outputs.at(0);
    }
    const dnnl::eltwise_forward::primitive_desc& pd() const { return pd_; }

private:
    dnnl::engine engine_;
    dnnl::eltwise_forward::primitive_desc pd_;
};

// inputs: diff_dst, dst -> diff_src
class EltwiseBackwardKernel : public PrimitiveKernel {
public:
    EltwiseBackwardKernel(const KernelContext& ctx, const Eltwise& f) : engine_(ctx.engine) {
        const dnnl::memory::desc& dst = ctx.input_descs.at(1);
        const dnnl::eltwise_forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, f.backward, dst, f.alpha, f.beta}, ctx.engine);
        pd_ = dnnl::eltwise_backward::primitive_desc({f.backward, dst, dst, f.alpha, f.beta},
                                                     ctx.engine, hint);
        outputs_ = {pd_.diff_src_desc()};
        primitive_ = dnnl::eltwise_backward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), pd_.diff_dst_desc(), engine_);
        bind_input(DNNL_ARG_DST, inputs.at(1), pd_.diff_dst_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = outputs.at(0);
    }

private:
    dnnl::engine engine_;
    dnnl::eltwise_backward::primitive_desc pd_;
};

// Gives an element-wise op (elementwise_op) its kernel, its backward op "<name>_backward"
// (diff_dst, dst -> diff_src) and its gradient rule; `algorithm` maps a node's attributes to
// its algorithm pair.
inline void add_eltwise_kernels(OpDef& def, std::function<Eltwise(const AttrMap&)> algorithm) {
    def.in_place = true;  // oneDNN's eltwise may write dst over src
    def.kernel = [algorithm](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        return std::make_unique<EltwiseForwardKernel>(ctx, algorithm(ctx.node.attrs));
    };
    add_unary_backward(
        def, ForwardValue::dst, [algorithm](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
            return std::make_unique<EltwiseBackwardKernel>(ctx, algorithm(ctx.node.attrs));
        });
    def.companions.back().in_place = true;  // and diff_src over diff_dst
}

// Lets the fuse_activations pass move a node of this op into the layer before it, as that
// layer's fused activation `name` (OpDef::as_fused_activation); alpha is copied when the op has
// one (leaky_relu).
inline void fusable_as(OpDef& def, const std::string& name) {
    def.as_fused_activation = [name](const AttrMap& attrs) {
        AttrMap fused{{"activation", name}};
        if (attrs.has("alpha")) fused.set("alpha", attrs.get_real("alpha"));
        return fused;
    };
}

}  // namespace opgraph::ops
