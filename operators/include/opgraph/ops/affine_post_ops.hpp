// Per-channel affine maps (batch norm in inference) a layer applies after its fused activation
// (AffineSide::after_activation, set by the fold_affine pass): dst = activation(...) * scale +
// shift, as a binary mul and a binary add post-op over (1, C, 1, ...) f32 tensors, which
// update() recomputes from the folded nodes' parameters whenever they change
// (Kernel::prepare_constants). The weights stay as they are.
//
// With a quantized dst of scale sy the primitive's output scales already divide by sy before
// the post-ops (opgraph/ops/int8_layer.hpp), so the shift is divided by it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "opgraph/op/kernel.hpp"

namespace opgraph::ops {

class AffinePostOps {
public:
    // `maps`: the absorbed nodes applied after the activation, in order; `channels` the layer's
    // output channels (dst axis 1), `rank` dst's; `dst_scale` 1 unless dst is quantized.
    AffinePostOps(std::vector<AbsorbedAffine> maps, std::int64_t channels, std::size_t rank,
                  float dst_scale, const dnnl::engine& engine)
        : maps_(std::move(maps)), channels_(channels), dst_scale_(dst_scale) {
        dnnl::memory::dims dims(rank, 1), strides(rank, 1);
        dims.at(1) = channels;
        strides.at(0) = channels;
        const dnnl::memory::desc desc(dims, dnnl::memory::data_type::f32, strides);
        for (std::size_t m = 0; m < maps_.size(); ++m) {
            scales_.emplace_back(desc, engine);
            shifts_.emplace_back(desc, engine);
        }
    }

    // Appends a mul and an add per map to `post_ops` (after the activation's eltwise).
    void append_to(dnnl::post_ops& post_ops) {
        first_ = post_ops.len();
        for (std::size_t m = 0; m < maps_.size(); ++m) {
            post_ops.append_binary(dnnl::algorithm::binary_mul, scales_[m].get_desc());
            post_ops.append_binary(dnnl::algorithm::binary_add, shifts_[m].get_desc());
        }
    }

    // The maps' parameters, in order (AbsorbedAffine::params of each).
    void bind(std::vector<dnnl::memory> params) { params_ = std::move(params); }

    // The binary post-ops' tensors, as arguments of the primitive.
    void add_args(std::unordered_map<int, dnnl::memory>& args) const {
        for (std::size_t m = 0; m < maps_.size(); ++m) {
            const int index = first_ + 2 * static_cast<int>(m);
            args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1] = scales_[m];
            args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index + 1) | DNNL_ARG_SRC_1] = shifts_[m];
        }
    }

    // Recomputes each map's scale and shift from its parameters' current values.
    void update() {
        std::size_t next = 0;
        for (std::size_t m = 0; m < maps_.size(); ++m) {
            const AbsorbedAffine& map = maps_[m];
            std::vector<const float*> values;
            for (std::size_t p = 0; p < map.params; ++p)
                values.push_back(static_cast<const float*>(params_.at(next++).get_data_handle()));
            auto* scale = static_cast<float*>(scales_[m].get_data_handle());
            auto* shift = static_cast<float*>(shifts_[m].get_data_handle());
            map.compute(map.attrs, values, channels_, scale, shift);
            for (std::int64_t c = 0; c < channels_; ++c) shift[c] /= dst_scale_;
        }
    }

private:
    std::vector<AbsorbedAffine> maps_;
    std::int64_t channels_ = 0;
    float dst_scale_ = 1.f;
    int first_ = 0;  // the index of the first post-op appended
    std::vector<dnnl::memory> scales_, shifts_, params_;
};

}  // namespace opgraph::ops
