// The pooling family on oneDNN (max_pool2d, avg_pool2d, global_avg_pool): a window in
// oneDNN's terms, a forward kernel on pooling_forward that keeps the input's layout (blocked
// layouts flow through) and, for max pooling in training, owns the workspace backward needs; a
// backward kernel on pooling_backward with the forward primitive descriptor as hint; and
// giving an op its backward op "<op>_backward" (diff_dst, src -> diff_src) and gradient rule.
#pragma once

#include <dnnl.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/op/kernel.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/window2d.hpp"

namespace opgraph::ops {

// A pooling window in oneDNN's terms, each dims (height, width).
struct PoolWindow {
    dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
    dnnl::memory::dims kernel;
    dnnl::memory::dims strides;
    dnnl::memory::dims pad_begin;  // top, left
    dnnl::memory::dims pad_end;    // bottom, right
};

// The window of a pool2d_op node (pool, stride, padding attributes) over its concrete input.
// Throws OpError when the attributes do not fit (the shape pass has already checked them).
inline PoolWindow pool2d_window(const KernelContext& ctx, dnnl::algorithm algorithm) {
    const OpContext op_ctx(ctx.node.name, ctx.node.attrs, ctx.input_shapes);
    const IntPair pool = read_pair(op_ctx, "pool");
    const IntPair stride = read_pair(op_ctx, "stride", pool);
    const Window2d window = plan_window_2d(op_ctx, ctx.input_shapes.at(0), pool, stride, "pool",
                                           "pool " + size_str(pool[0], pool[1]));
    return {algorithm,
            {pool[0], pool[1]},
            {stride[0], stride[1]},
            {window.height.pad_begin, window.width.pad_begin},
            {window.height.pad_end, window.width.pad_end}};
}

// inputs: src -> dst[, workspace]. The primitive's dst is `dst` (format_tag::any: oneDNN
// gives it the input's layout), and so is the node's output, unless `output` is given: a plain
// descriptor of other dims over the bytes of dst's dims in nhwc (global_avg_pool's (N, C) for
// a (N, C, 1, 1) dst). Then a dst oneDNN chose blocked is reordered into the output. Max
// pooling in training records where each maximum came from in oneDNN's workspace: output 1
// when the node saves (OpDef::saved "workspace"), otherwise private.
class PoolForwardKernel : public PrimitiveKernel {
public:
    PoolForwardKernel(const KernelContext& ctx, const PoolWindow& window,
                      const dnnl::memory::desc& dst, const dnnl::memory::desc& output = {})
        : engine_(ctx.engine), window_(window), saves_(ctx.node.saves) {
        const auto prop =
            ctx.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        pd_ = dnnl::pooling_forward::primitive_desc(
            {prop, window.algorithm, ctx.input_descs.at(0), dst, window.strides, window.kernel,
             window.pad_begin, window.pad_end},
            ctx.engine);
        outputs_ = {pd_.dst_desc()};
        output_as_dst_ = pd_.dst_desc();
        if (!output.is_zero()) {
            outputs_ = {output};
            output_as_dst_ = dnnl::memory::desc(pd_.dst_desc().dims(), pd_.dst_desc().data_type(),
                                                dnnl::memory::format_tag::nhwc);
            if (output_as_dst_ != pd_.dst_desc())
                to_output_ = dnnl::reorder(dnnl::reorder::primitive_desc(
                    ctx.engine, pd_.dst_desc(), ctx.engine, output_as_dst_));
        }
        if (saves_) outputs_.push_back(pd_.workspace_desc());
        primitive_ = dnnl::pooling_forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(0), pd_.src_desc(), engine_);
        output_ = view_as(outputs.at(0), output_as_dst_, engine_);
        if (to_output_) dst_ = dnnl::memory(pd_.dst_desc(), engine_);
        args_[DNNL_ARG_DST] = dst_ ? dst_ : output_;
        if (saves_)
            args_[DNNL_ARG_WORKSPACE] = outputs.at(1);
        else if (pd_.workspace_desc().get_size() > 0)
            args_[DNNL_ARG_WORKSPACE] = dnnl::memory(pd_.workspace_desc(), engine_);
    }
    void execute(dnnl::stream& stream) override {
        PrimitiveKernel::execute(stream);
        if (to_output_) to_output_.execute(stream, dst_, output_);
    }
    const dnnl::pooling_forward::primitive_desc& pd() const { return pd_; }
    const PoolWindow& window() const { return window_; }
    // The node's output, and its bytes seen with the primitive's dst dims.
    const dnnl::memory::desc& output_desc() const { return outputs_.front(); }
    const dnnl::memory::desc& output_as_dst() const { return output_as_dst_; }

private:
    dnnl::engine engine_;
    PoolWindow window_;
    bool saves_ = false;
    dnnl::pooling_forward::primitive_desc pd_;
    dnnl::memory::desc output_as_dst_;
    dnnl::memory output_;
    dnnl::memory dst_;  // the primitive's own dst when it cannot write the output directly
    dnnl::reorder to_output_;
};

// inputs: diff_dst, src[, workspace] -> diff_src (in the forward input's layout). The forward
// kernel, rebuilt from this node's context with `forward` (the op's kernel function), gives
// the hint and the forward's layouts; src only gives the shape and layout.
class PoolBackwardKernel : public PrimitiveKernel {
public:
    PoolBackwardKernel(const KernelContext& ctx, const KernelFn& forward) : engine_(ctx.engine) {
        std::unique_ptr<Kernel> rebuilt = forward(forward_context(ctx, {1}));
        const auto* pool = dynamic_cast<const PoolForwardKernel*>(rebuilt.get());
        if (pool == nullptr)
            throw std::logic_error("the forward kernel of a pooling backward is not a pooling");
        const auto& hint = pool->pd();
        const PoolWindow& w = pool->window();
        pd_ = dnnl::pooling_backward::primitive_desc({w.algorithm, hint.src_desc(), hint.dst_desc(),
                                                      w.strides, w.kernel, w.pad_begin, w.pad_end},
                                                     ctx.engine, hint);
        output_desc_ = pool->output_desc();
        output_as_dst_ = pool->output_as_dst();
        workspace_ = hint.workspace_desc().get_size() > 0;
        if (workspace_ && ctx.input_shapes.size() < 3)
            throw std::invalid_argument(
                "max pooling backward needs the workspace its forward node saved (input 3)");
        outputs_ = {pd_.diff_src_desc()};
        primitive_ = dnnl::pooling_backward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        // diff_dst laid out as the forward's output, seen with the primitive's dims, then in
        // the primitive's layout (each step a no-op when the layouts already agree).
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), output_desc_, engine_);
        const dnnl::memory as_dst = view_as(args_[DNNL_ARG_DIFF_DST], output_as_dst_, engine_);
        bind_input(DNNL_ARG_DIFF_DST, as_dst, pd_.diff_dst_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = outputs.at(0);
        if (workspace_) args_[DNNL_ARG_WORKSPACE] = inputs.at(2);
    }

private:
    dnnl::engine engine_;
    dnnl::pooling_backward::primitive_desc pd_;
    dnnl::memory::desc output_desc_;
    dnnl::memory::desc output_as_dst_;
    bool workspace_ = false;
};

// Gives a pooling op (its kernel function already set) its backward op "<name>_backward"
// (diff_dst, src[, workspace] -> diff_src) and the gradient rule emitting it. Max pooling
// saves oneDNN's workspace (`saves_workspace`), as many bytes as dst has elements or more.
inline void add_pool_backward(OpDef& def, bool saves_workspace) {
    const std::string backward_name = def.name + "_backward";
    std::vector<std::string> inputs{"diff_dst", "src"};
    if (saves_workspace) {
        def.saved = {"workspace"};
        def.saved_shapes = [shapes = def.infer_shapes](const OpContext& ctx) {
            return std::vector<Shape>{shapes(ctx).at(0)};
        };
        // oneDNN's max-pooling workspace: the index of the maximum in its window, u8 when the
        // window has fewer than 256 elements.
        def.saved_dtypes = [](const OpContext& ctx) {
            constexpr std::int64_t kU8Window = 256;
            const IntPair pool = read_pair(ctx, "pool");
            return std::vector<DType>{pool[0] * pool[1] < kU8Window ? DType::u8 : DType::s32};
        };
        inputs.push_back("workspace");
    }
    def.gradient = [backward_name, saves_workspace](GradientBuilder& b) {
        if (!b.needs_diff_input(0)) return;
        std::vector<std::string> in{b.diff_dst(), b.input(0)};
        if (saves_workspace) in.push_back(b.saved(0));
        b.set_diff_input(0, b.emit("backward", backward_name, std::move(in)));
    };
    OpDef backward = backward_op(def, backward_name, std::move(inputs), 1);
    backward.kernel = [forward = def.kernel](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        return std::make_unique<PoolBackwardKernel>(ctx, forward);
    };
    def.companions.push_back(std::move(backward));
}

}  // namespace opgraph::ops
