// A residual added inside a layer's primitive (conv2d's optional input "residual", which the
// fuse_residual_add pass gives it in inference graphs): dst = activation(op(src) + bias +
// residual). oneDNN's sum post-op adds what dst holds before the primitive runs, so each step
// first copies the residual into dst, and the sum comes before the activation's post-op.
//
// The copy keeps the residual's element type when it has dst's size (both f32, both bf16, or
// u8 and s8: the sum post-op reads it as its own type), so an int8 residual is rounded once,
// in the sum, at the scale ratio residual / dst. Otherwise the copy converts to dst's type,
// scaling by that ratio, and the sum adds it as it is; an integer dst needs an integer
// residual (a float one could be negative where dst is u8).
#pragma once

#include <dnnl.hpp>
#include <stdexcept>
#include <vector>

#include "opgraph/op/kernel.hpp"
#include "opgraph/ops/int8_layer.hpp"
#include "opgraph/ops/kernel_functions.hpp"

namespace opgraph::ops {

class ResidualSum {
public:
    // The residual is data input `input` of ctx; `dst_type` the element type the primitive
    // writes (ctx.output_scales[0] its scale when quantized).
    ResidualSum(const KernelContext& ctx, std::size_t input, dnnl::memory::data_type dst_type)
        : engine_(ctx.engine) {
        const dnnl::memory::data_type type = ctx.input_descs.at(input).data_type();
        const float ratio =
            scale_or_one(ctx.input_scales, input) / scale_or_one(ctx.output_scales, 0);
        // A u8 dst would clip a negative float residual before the activation.
        if (is_int8(dst_type) && !is_int8(type))
            throw std::invalid_argument(
                "an integer output takes an integer residual (the quantize pass casts it)");
        if (type == dst_type || (is_int8(type) && is_int8(dst_type))) {
            copy_type_ = type;
            sum_scale_ = ratio;
            if (type != dst_type) sum_type_ = type;
        } else {
            copy_type_ = dst_type;
            copy_scale_ = ratio;
        }
    }

    // Appends the sum to `post_ops` (before the activation's eltwise).
    void append_to(dnnl::post_ops& post_ops) const {
        post_ops.append_sum(sum_scale_, 0, sum_type_);
    }

    // `residual` as the program gives it; `dst` the primitive's destination (its layout).
    void bind(const dnnl::memory& residual, const dnnl::memory& dst) {
        residual_ = residual;
        dnnl_memory_desc_t view = dst.get_desc().data;
        view.data_type = static_cast<dnnl_data_type_t>(copy_type_);
        dst_view_ = dnnl::memory(dnnl::memory::desc(view), engine_, dst.get_data_handle());
        dnnl::primitive_attr attr;
        if (copy_scale_ != 1.f) attr.set_output_scales(0, {copy_scale_});
        copy_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine_, residual.get_desc(), engine_,
                                                            dst_view_.get_desc(), attr));
    }

    // Copies the residual into dst; nothing when dst already holds it (the same buffer).
    void prepare(dnnl::stream& stream) {
        if (residual_.get_data_handle() == dst_view_.get_data_handle() &&
            residual_.get_desc() == dst_view_.get_desc() && copy_scale_ == 1.f)
            return;
        copy_.execute(stream, residual_, dst_view_);
    }

private:
    dnnl::engine engine_;
    dnnl::memory::data_type copy_type_ = dnnl::memory::data_type::f32;
    // The type the sum reads dst as: undef for dst's own, else the residual's (u8 for s8).
    dnnl::memory::data_type sum_type_ = dnnl::memory::data_type::undef;
    float sum_scale_ = 1.f;
    float copy_scale_ = 1.f;
    dnnl::memory residual_, dst_view_;
    dnnl::reorder copy_;
};

}  // namespace opgraph::ops
