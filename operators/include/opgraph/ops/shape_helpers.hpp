// What an op's shape function needs: the channels-last axes of the IR, checks of the input
// shapes with messages that show what was expected and what came ("expects a rank-4 (batch,
// height, width, channels) input, got (None, 10)"), reading an axis attribute, and products
// of dimensions that stay unknown when one of them is.
//
// Every check throws OpError through ctx.fail(): with the attribute's name when the attribute
// is at fault, with an empty name when the inputs are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph::ops {

// Channels-last image tensors, as in Keras: (batch, height, width, channels).
inline constexpr std::size_t kImageRank = 4;
inline constexpr std::size_t kBatchAxis = 0;
inline constexpr std::size_t kHeightAxis = 1;
inline constexpr std::size_t kWidthAxis = 2;
inline constexpr std::size_t kChannelAxis = 3;
inline constexpr const char* kImageLayout = "(batch, height, width, channels)";

inline constexpr std::int64_t kLastAxis = -1;  // Keras's default axis

// ---- messages and checks ----

// "a rank-4" / "an input": the article a word takes.
inline std::string with_article(const std::string& word) {
    const bool vowel = !word.empty() && std::string("aeiou").find(word[0]) != std::string::npos;
    return (vowel ? "an " : "a ") + word;
}

// Fails unless shape has exactly `rank` dimensions: "expects a rank-4 (batch, height, width,
// channels) input, got (None, 10)". `layout` may be empty; `what` names the input.
inline void expect_rank(const OpContext& ctx, const Shape& shape, std::size_t rank,
                        const std::string& layout, const std::string& what = "input") {
    if (shape.size() == rank) return;
    std::string expected = "a rank-" + std::to_string(rank) + " ";
    if (!layout.empty()) expected += layout + " ";
    ctx.fail("", "expects " + expected + what + ", got " + shape_str(shape));
}

// A (batch, height, width, channels) input.
inline void expect_image(const OpContext& ctx, const Shape& shape) {
    expect_rank(ctx, shape, kImageRank, kImageLayout);
}

// Fails unless shape has at least `min_rank` dimensions: "expects an input of rank >= 2
// (batch, ..., features), got (None,)".
inline void expect_min_rank(const OpContext& ctx, const Shape& shape, std::size_t min_rank,
                            const std::string& layout, const std::string& what = "input") {
    if (shape.size() >= min_rank) return;
    std::string expected = with_article(what) + " of rank >= " + std::to_string(min_rank);
    if (!layout.empty()) expected += " " + layout;
    ctx.fail("", "expects " + expected + ", got " + shape_str(shape));
}

// Fails when shape[axis] is unknown: "needs a known channels dimension, got (None, 28, 28,
// None)". Parameter shapes cannot be built from an unknown dimension.
inline std::int64_t known_dim(const OpContext& ctx, const Shape& shape, std::size_t axis,
                              const std::string& what) {
    if (shape.at(axis) != kDynamicDim) return shape[axis];
    ctx.fail("", "needs a known " + what + " dimension, got " + shape_str(shape));
}

// Fails unless a and b are equal: "<pair> have different shapes (None, 26, 26, 32) and
// (None, 24, 24, 32)", pair being e.g. "inputs 0 and 1".
inline void expect_same_shape(const OpContext& ctx, const Shape& a, const Shape& b,
                              const std::string& pair) {
    if (a == b) return;
    ctx.fail("", pair + " have different shapes " + shape_str(a) + " and " + shape_str(b));
}

// The axis attribute `attr` (negative counts from the end) as an index into `shape`. Fails
// when it is out of range or is the batch axis.
inline std::size_t sample_axis(const OpContext& ctx, const std::string& attr, const Shape& shape) {
    const std::int64_t axis = ctx.attrs().get_int(attr);
    const auto rank = static_cast<std::int64_t>(shape.size());
    const std::int64_t index = axis < 0 ? axis + rank : axis;
    if (index < 0 || index >= rank) {
        ctx.fail(attr, "axis " + std::to_string(axis) + " is out of range for the rank-" +
                           std::to_string(rank) + " input " + shape_str(shape));
    }
    if (index == static_cast<std::int64_t>(kBatchAxis)) {
        ctx.fail(attr, "axis " + std::to_string(axis) + " is the batch axis of " +
                           shape_str(shape) + "; the op works within each sample");
    }
    return static_cast<std::size_t>(index);
}

// ---- arithmetic ----

// Product of shape[begin, end); kDynamicDim when any of them is unknown.
inline std::int64_t dims_product(const Shape& shape, std::size_t begin, std::size_t end) {
    std::int64_t product = 1;
    for (std::size_t i = begin; i < end && i < shape.size(); ++i) {
        if (shape[i] == kDynamicDim) return kDynamicDim;
        product *= shape[i];
    }
    return product;
}

}  // namespace opgraph::ops
