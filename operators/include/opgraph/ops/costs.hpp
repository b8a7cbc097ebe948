// An op's cost (OpDef::macs, forward multiply-adds per sample, shown by `opgraph summary`):
// an overflow-safe product of factors and the cost functions of ops doing one multiply-add per
// element.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace opgraph::ops {

// Product of the factors of a cost; 0 (unknown) when any factor is an unknown dimension, the
// largest int64 when it overflows (shapes are bounded, attributes such as units are not).
inline std::int64_t cost_product(std::initializer_list<std::int64_t> factors) {
    std::int64_t product = 1;
    for (std::int64_t factor : factors) {
        if (factor < 0) return 0;
        if (__builtin_mul_overflow(product, factor, &product))
            return std::numeric_limits<std::int64_t>::max();
    }
    return product;
}

// Forward multiply-adds of an op doing one per element of its first output (batch_norm).
inline std::int64_t one_mac_per_output_element(const OpContext& /*ctx*/,
                                               const std::vector<Shape>& outputs) {
    return cost_product({dims_product(outputs.at(0), 1, outputs.at(0).size())});
}

// Forward multiply-adds of an op doing one per element of its first input (reductions:
// global_avg_pool, losses).
inline std::int64_t one_mac_per_input_element(const OpContext& ctx,
                                              const std::vector<Shape>& /*outputs*/) {
    return cost_product({dims_product(ctx.input(0), 1, ctx.input(0).size())});
}

}  // namespace opgraph::ops
