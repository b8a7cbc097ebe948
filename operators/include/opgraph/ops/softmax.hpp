// The softmax-like family on oneDNN (softmax_forward / logsoftmax_forward along the node's
// "axis"): its forward and backward kernels, and giving an op (normalizing_op) both kernels,
// its backward op "<name>_backward" (diff_dst, dst -> diff_src) and its gradient rule.
#pragma once

#include <dnnl.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/op/gradient.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/logical_axis.hpp"
#include "opgraph/ops/primitive_kernel.hpp"

namespace opgraph::ops {

// dst = f(src) along the node's axis with oneDNN's softmax_forward or logsoftmax_forward; the
// output takes the input's layout.
template <class Forward>
class SoftmaxForwardKernel : public PrimitiveKernel {
public:
    explicit SoftmaxForwardKernel(const KernelContext& ctx) : engine_(ctx.engine) {
        const auto prop =
            ctx.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        pd_ = typename Forward::primitive_desc(
            {prop, ctx.input_descs.at(0), logical_axis_attr(ctx)}, ctx.engine);
        outputs_ = {pd_.dst_desc()};
        primitive_ = Forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(0), pd_.src_desc(), engine_);
        args_[DNNL_ARG_DST] = outputs.at(0);
    }

private:
    dnnl::engine engine_;
    typename Forward::primitive_desc pd_;
};

// inputs: diff_dst, dst -> diff_src, with softmax_backward / logsoftmax_backward. The hint is
// a training forward primitive descriptor over dst's layout (the forward's output keeps its
// input's).
template <class Forward, class Backward>
class SoftmaxBackwardKernel : public PrimitiveKernel {
public:
    explicit SoftmaxBackwardKernel(const KernelContext& ctx) : engine_(ctx.engine) {
        const int axis = logical_axis_attr(ctx);
        const typename Forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, ctx.input_descs.at(1), axis}, ctx.engine);
        const dnnl::memory::desc dst = hint.dst_desc();
        pd_ = typename Backward::primitive_desc({dst, dst, axis}, ctx.engine, hint);
        outputs_ = {pd_.diff_src_desc()};
        primitive_ = Backward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), pd_.diff_dst_desc(), engine_);
        bind_input(DNNL_ARG_DST, inputs.at(1), pd_.dst_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = outputs.at(0);
    }

private:
    dnnl::engine engine_;
    typename Backward::primitive_desc pd_;
};

// Gives softmax or log_softmax its kernel, its backward op "<name>_backward" (diff_dst, dst)
// and its gradient rule: add_softmax_kernels<dnnl::softmax_forward, dnnl::softmax_backward>.
template <class Forward, class Backward>
void add_softmax_kernels(OpDef& def) {
    def.kernel = [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        return std::make_unique<SoftmaxForwardKernel<Forward>>(ctx);
    };
    add_unary_backward(def, ForwardValue::dst,
                       [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
                           return std::make_unique<SoftmaxBackwardKernel<Forward, Backward>>(ctx);
                       });
}

}  // namespace opgraph::ops
