// A per-channel affine map (batch norm in inference) folded into a weighted layer's weights:
// an inference kernel whose node absorbs affine nodes (OpDef::absorbs_affine,
// KernelContext::absorbed) runs on the folded kernel and bias that FoldedAffine recomputes
// whenever the parameters change (Kernel::prepare_constants).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>
#include <utility>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/kernel.hpp"

namespace opgraph::ops {

// The affine nodes absorbed by a weighted layer, applied through its weights by fold().
// Keras kernels are row-major (..., in, out). Input side (only without padding, so that every
// tap reads a real input): b'[o] = b[o] + the sum over taps and i of W[..., i, o] * shift[i],
// then W'[..., i, o] = W * scale[i]. Output side, after that: W'[..., i, o] = W * scale[o],
// b'[o] = b[o] * scale[o] + shift[o].
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
          folded_bias_({{out}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, engine) {
    }

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

}  // namespace opgraph::ops
