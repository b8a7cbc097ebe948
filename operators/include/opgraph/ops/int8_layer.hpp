// int8 inference for the weighted layers (conv2d, dense): their primitive on u8 / s8 data
// (KernelContext::input_scales, output_scales; opgraph/passes/quantization.hpp) with s8
// weights, one scale per output channel.
//
// Real values are scale * q. With src scale sx, weight scales sw[o] and dst scale sy (1 for an
// f32 dst), oneDNN 2.6 computes dst = post_ops(oscale[o] * (sum q_src q_w + bias')), so the
// primitive is built with oscale[o] = sx sw[o] / sy and a bias in accumulator units,
// bias'[o] = bias[o] / (sx sw[o]); the fused activation stays a post-op (ReLU commutes with a
// positive scale). oneDNN 2.6 takes those scales only when a primitive is built, and they
// depend on the weights (folded with their batch norm), so the kernel builds its primitive
// again whenever it prepares its constants, with the layouts it chose at construction.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <dnnl.hpp>
#include <utility>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/fused_activation.hpp"
#include "opgraph/ops/kernel_functions.hpp"

namespace opgraph::ops {

// Whether values of `type` are quantized (u8 or s8).
inline bool is_int8(dnnl::memory::data_type type) {
    return type == dnnl::memory::data_type::u8 || type == dnnl::memory::data_type::s8;
}

// Whether the kernel being built reads quantized data (its input 0 is u8 or s8).
inline bool reads_int8(const KernelContext& ctx) {
    return is_int8(ctx.input_descs.at(0).data_type());
}

// The post-ops `before` and the node's fused activation (fused_activation_attr), and
// per-output-channel output scales (dst axis 1).
inline dnnl::primitive_attr int8_attr(const AttrMap& attrs, const std::vector<float>& scales,
                                      dnnl::post_ops before = {}) {
    dnnl::primitive_attr attr = fused_activation_attr(attrs, std::move(before));
    attr.set_output_scales(1 << 1, scales);
    return attr;
}

// A layer's weights and bias as its int8 primitive takes them, computed from the f32 ones.
class Int8Constants {
public:
    // `out` output channels, the last axis of the row-major f32 weights; `weight_mask`: the
    // output-channel axes of the weights' logical dims, as a oneDNN scale mask.
    Int8Constants(const KernelContext& ctx, std::int64_t out, int weight_mask)
        : src_scale_(scale_or_one(ctx.input_scales, 0)),
          dst_scale_(scale_or_one(ctx.output_scales, 0)),
          out_(out),
          weight_mask_(weight_mask),
          engine_(ctx.engine),
          bias_({{out}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, ctx.engine) {}

    // `weights`: the f32 weights seen with the primitive's logical dims; `bias`: the (out)
    // f32 bias, or an empty memory.
    void bind(const dnnl::memory& weights, const dnnl::memory& bias) {
        f32_weights_ = weights;
        f32_bias_ = bias;
    }

    // The output scales to build the primitive with, from the current f32 weights: each
    // channel's weight scale is max |w| / 127 (1 for a channel of zeros).
    std::vector<float> output_scales() {
        constexpr float kLevels = 127.f;
        const auto* w = static_cast<const float*>(f32_weights_.get_data_handle());
        const std::size_t count = f32_weights_.get_desc().get_size() / sizeof(float);
        std::vector<float> bound(static_cast<std::size_t>(out_), 0.f);
        for (std::size_t i = 0; i < count; ++i) {
            float& b = bound[i % bound.size()];
            b = std::max(b, std::fabs(w[i]));
        }
        weight_scales_.resize(bound.size());
        std::vector<float> scales(bound.size());
        for (std::size_t o = 0; o < bound.size(); ++o) {
            weight_scales_[o] = bound[o] > 0 ? bound[o] / kLevels : 1.f;
            scales[o] = src_scale_ * weight_scales_[o] / dst_scale_;
        }
        return scales;
    }

    // Writes the s8 weights in the primitive's layout `desc` and the bias in accumulator
    // units, with the scales output_scales() computed.
    void write(const dnnl::memory::desc& desc, dnnl::stream& stream) {
        if (!weights_ || weights_.get_desc() != desc) weights_ = dnnl::memory(desc, engine_);
        std::vector<float> inverse(weight_scales_.size());
        for (std::size_t o = 0; o < inverse.size(); ++o) inverse[o] = 1.f / weight_scales_[o];
        dnnl::primitive_attr attr;
        attr.set_output_scales(weight_mask_, inverse);
        dnnl::reorder(
            dnnl::reorder::primitive_desc(engine_, f32_weights_.get_desc(), engine_, desc, attr))
            .execute(stream, f32_weights_, weights_);
        stream.wait();
        auto* b = static_cast<float*>(bias_.get_data_handle());
        const auto* given =
            static_cast<const float*>(f32_bias_ ? f32_bias_.get_data_handle() : nullptr);
        for (std::size_t o = 0; o < weight_scales_.size(); ++o)
            b[o] = given == nullptr ? 0.f : given[o] / (src_scale_ * weight_scales_[o]);
    }

    const dnnl::memory& weights() const { return weights_; }
    const dnnl::memory& bias() const { return bias_; }

private:
    float src_scale_, dst_scale_;
    std::int64_t out_;
    int weight_mask_;
    dnnl::engine engine_;
    dnnl::memory f32_weights_, f32_bias_, weights_, bias_;
    std::vector<float> weight_scales_;
};

}  // namespace opgraph::ops
