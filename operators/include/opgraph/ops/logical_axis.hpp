// An axis of the IR (channels-last, negative counting from the end) as the logical dimension
// oneDNN numbers it with: an image (N, H, W, C) is {N, C, H, W} to oneDNN, so its channels
// axis -1 is dimension 1; other ranks keep their order (opgraph/op/memory_layout.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "opgraph/op/kernel.hpp"

namespace opgraph::ops {

// The IR axis `axis` (negative counts from the end) of a rank-`rank` value as a oneDNN logical
// dimension. The shape function has already checked the range.
inline int logical_axis(std::int64_t axis, std::size_t rank) {
    constexpr std::size_t kImageDims = 4;
    constexpr int kImageLogical[kImageDims] = {0, 2, 3, 1};  // IR N, H, W, C -> N, C, H, W
    const auto signed_rank = static_cast<std::int64_t>(rank);
    const std::int64_t index = axis < 0 ? axis + signed_rank : axis;
    if (rank == kImageDims) return kImageLogical[index];
    return static_cast<int>(index);
}

// The "axis" attribute of a kernel's node as a logical dimension of its first input.
inline int logical_axis_attr(const KernelContext& ctx) {
    return logical_axis(ctx.node.attrs.get_int("axis"), ctx.input_shapes.at(0).size());
}

}  // namespace opgraph::ops
