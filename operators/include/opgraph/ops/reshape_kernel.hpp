// "Same bytes, new shape" (flatten, reshape): a kernel that makes its input plain and sees
// those bytes with the output shape, and giving an op that kernel, its backward op
// "<name>_backward" (the reverse) and its gradient rule.
#pragma once

#include <dnnl.hpp>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"

namespace opgraph::ops {

// dst holds the bytes of src made plain (nhwc / row-major, i.e. row-major in IR order), seen
// with the output shape: one reorder from src, in whatever layout it came, into a view of
// dst's buffer with src's plain descriptor.
class ReshapeKernel : public Kernel {
public:
    // `dst_shape`: the output's concrete IR shape; the source is input 0.
    ReshapeKernel(const KernelContext& ctx, const Shape& dst_shape)
        : engine_(ctx.engine),
          src_plain_(plain_data_desc(ctx.input_shapes.at(0), ctx.dtype)),
          dst_(plain_data_desc(dst_shape, ctx.dtype)) {
        pd_ = dnnl::reorder::primitive_desc(ctx.engine, ctx.input_descs.at(0), ctx.engine,
                                            src_plain_);
    }
    std::vector<dnnl::memory::desc> output_descs() const override { return {dst_}; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        src_ = inputs.at(0);
        view_ = dnnl::memory(src_plain_, engine_, outputs.at(0).get_data_handle());
        reorder_ = dnnl::reorder(pd_);
    }
    void execute(dnnl::stream& stream) override { reorder_.execute(stream, src_, view_); }
    std::string implementation() const override { return pd_.impl_info_str(); }

private:
    dnnl::engine engine_;
    dnnl::memory::desc src_plain_;
    dnnl::memory::desc dst_;
    dnnl::reorder::primitive_desc pd_;
    dnnl::memory src_;
    dnnl::memory view_;
    dnnl::reorder reorder_;
};

// Gives flatten or reshape its kernel, its backward op "<name>_backward" (diff_dst, src ->
// diff_src in src's plain layout) and its gradient rule.
inline void add_reshape_kernels(OpDef& def) {
    def.kernel = [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        return std::make_unique<ReshapeKernel>(ctx, ctx.output_shapes.at(0));
    };
    add_unary_backward(def, ForwardValue::src,
                       [](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
                           return std::make_unique<ReshapeKernel>(ctx, ctx.input_shapes.at(1));
                       });
}

}  // namespace opgraph::ops
