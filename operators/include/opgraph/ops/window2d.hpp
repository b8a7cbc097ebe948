// A 2-D window slid over the height and width of a (batch, height, width, channels) input, as
// convolution and pooling slide one: the int-pair attributes (kernel, stride, dilation, pool)
// and the padding attribute ("valid", "same" as TensorFlow has it, or explicit pads), their
// schemas and reading them, and the output-size arithmetic with the pads it implies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace opgraph::ops {

inline constexpr std::size_t kPairLength = 2;  // (height, width) attributes: kernel, stride

inline constexpr const char* kPaddingValid = "valid";
inline constexpr const char* kPaddingSame = "same";
inline constexpr std::size_t kSymmetricPaddingLength = 2;  // [pad_h, pad_w]
inline constexpr std::size_t kFullPaddingLength = 4;       // [top, bottom, left, right]
inline constexpr const char* kPaddingForms =
    "\"valid\", \"same\", [pad_h, pad_w] or [top, bottom, left, right]";

using IntPair = std::array<std::int64_t, 2>;  // (height, width)

// "3x3"
inline std::string size_str(std::int64_t height, std::int64_t width) {
    const auto dim = [](std::int64_t d) { return d == kDynamicDim ? "None" : std::to_string(d); };
    return dim(height) + "x" + dim(width);
}

// ---- schemas ----

// padding: "valid" | "same" | [pad_h, pad_w] | [top, bottom, left, right]. The list form is
// checked by read_padding(), as the schema cannot express "2 or 4 elements, each >= 0" next
// to the string form.
inline AttrSpec padding_attr() {
    return AttrSpec::optional("padding", std::string(kPaddingValid),
                              "valid, same (TensorFlow's), [pad_h, pad_w] or "
                              "[top, bottom, left, right]")
        .one_of({kPaddingValid, kPaddingSame})
        .or_type(AttrType::int_list);
}

// An int pair defaulting to [value, value], each >= 1, a single int broadcast: stride, ...
inline AttrSpec int_pair_attr(const std::string& name, std::int64_t value, const std::string& doc) {
    return AttrSpec::optional(name, std::vector<std::int64_t>{value, value}, doc)
        .length(kPairLength)
        .broadcast()
        .at_least(1);
}

// ---- reading ----

// An int-pair attribute (kernel, stride, dilation, pool): an int, or a list of 1 or 2 ints,
// each >= 1. The schema normally broadcasts a single int already; this also accepts what it
// did not. An empty list gives `if_empty` (pool stride: "same as pool"); without one, fails.
inline IntPair read_pair(const OpContext& ctx, const std::string& attr,
                         const std::optional<IntPair>& if_empty = std::nullopt) {
    const AttrValue& value = ctx.attrs().get(attr);
    std::optional<IntPair> pair;
    if (const auto* single = std::get_if<std::int64_t>(&value)) pair = IntPair{*single, *single};
    if (const auto* list = std::get_if<std::vector<std::int64_t>>(&value)) {
        if (list->size() == 1) pair = IntPair{(*list)[0], (*list)[0]};
        if (list->size() == 2) pair = IntPair{(*list)[0], (*list)[1]};
        if (list->empty() && if_empty) return *if_empty;
    }
    if (!pair) {
        ctx.fail(attr, "expects an int or a list of 2 ints (height, width), got " +
                           attr_value_str(value));
    }
    if ((*pair)[0] < 1 || (*pair)[1] < 1) {
        ctx.fail(attr, "must be >= 1, got " + attr_value_str(value));
    }
    return *pair;
}

// ---- the window ----

// One spatial axis of a sliding window: the input size, the window's extent (dilation
// included), the stride, the padding added before and after, and the output size.
// `output` is kDynamicDim when `input` is.
struct WindowAxis {
    std::int64_t input = 0;
    std::int64_t extent = 0;
    std::int64_t stride = 1;
    std::int64_t pad_begin = 0;
    std::int64_t pad_end = 0;
    std::int64_t output = 0;
};

struct Window2d {
    WindowAxis height;
    WindowAxis width;
    bool same = false;  // padding "same": pads follow the input size (TensorFlow's rule)
};

// The `padding` attribute: "valid", "same", [pad_h, pad_w] or [top, bottom, left, right].
// Fails on a list of another length or with a negative element. Fills the pads of explicit
// padding; "same" pads are computed per axis by same_padding().
inline Window2d read_padding(const OpContext& ctx) {
    const std::string attr = "padding";
    const AttrValue& value = ctx.attrs().get(attr);
    Window2d window;
    if (const auto* mode = std::get_if<std::string>(&value)) {
        if (*mode == kPaddingSame) {
            window.same = true;
        } else if (*mode != kPaddingValid) {
            ctx.fail(attr, std::string("expects ") + kPaddingForms + ", got " + *mode);
        }
        return window;
    }
    const auto* pads = std::get_if<std::vector<std::int64_t>>(&value);
    if (pads == nullptr ||
        (pads->size() != kSymmetricPaddingLength && pads->size() != kFullPaddingLength)) {
        ctx.fail(attr, std::string("expects ") + kPaddingForms + ", got " + attr_value_str(value));
    }
    for (std::int64_t pad : *pads) {
        if (pad < 0) ctx.fail(attr, "padding must be >= 0, got " + attr_value_str(value));
    }
    const std::vector<std::int64_t>& p = *pads;
    if (p.size() == kSymmetricPaddingLength) {
        window.height.pad_begin = window.height.pad_end = p[0];
        window.width.pad_begin = window.width.pad_end = p[1];
    } else {
        window.height.pad_begin = p[0];
        window.height.pad_end = p[1];
        window.width.pad_begin = p[2];
        window.width.pad_end = p[3];
    }
    return window;
}

// TensorFlow's "same": output = ceil(input / stride), the total padding split evenly with the
// odd pixel at the end (bottom / right).
inline void same_padding(WindowAxis& axis) {
    if (axis.input == kDynamicDim) {
        axis.output = kDynamicDim;
        return;
    }
    axis.output = (axis.input + axis.stride - 1) / axis.stride;
    const std::int64_t needed = (axis.output - 1) * axis.stride + axis.extent - axis.input;
    const std::int64_t total = needed > 0 ? needed : 0;
    axis.pad_begin = total / 2;
    axis.pad_end = total - axis.pad_begin;
}

// Output size of an axis with its pads fixed; false when the window does not fit.
inline bool fixed_padding_output(WindowAxis& axis) {
    if (axis.input == kDynamicDim) {
        axis.output = kDynamicDim;
        return true;
    }
    const std::int64_t padded = axis.input + axis.pad_begin + axis.pad_end;
    if (padded < axis.extent) return false;
    axis.output = (padded - axis.extent) / axis.stride + 1;
    return true;
}

// Plans a 2-D window over the (batch, height, width, channels) input: reads `padding`, fills
// pads and output sizes. `extent` is the window's size with dilation applied. When it does
// not fit the padded input, fails on `window_attr` with "<window_desc> does not fit the
// padded input 4x4 (input (None, 4, 4, 16), padding valid)".
inline Window2d plan_window_2d(const OpContext& ctx, const Shape& input, const IntPair& extent,
                               const IntPair& stride, const std::string& window_attr,
                               const std::string& window_desc) {
    Window2d window = read_padding(ctx);
    window.height.input = input.at(kHeightAxis);
    window.width.input = input.at(kWidthAxis);
    window.height.extent = extent[0];
    window.width.extent = extent[1];
    window.height.stride = stride[0];
    window.width.stride = stride[1];
    if (window.same) {
        same_padding(window.height);
        same_padding(window.width);
        return window;
    }
    const bool fits_height = fixed_padding_output(window.height);
    const bool fits_width = fixed_padding_output(window.width);
    if (!fits_height || !fits_width) {
        const auto padded = [](const WindowAxis& a) {
            return a.input == kDynamicDim ? kDynamicDim : a.input + a.pad_begin + a.pad_end;
        };
        ctx.fail(window_attr, window_desc + " does not fit the padded input " +
                                  size_str(padded(window.height), padded(window.width)) +
                                  " (input " + shape_str(input) + ", padding " +
                                  attr_value_str(ctx.attrs().get("padding")) + ")");
    }
    return window;
}

}  // namespace opgraph::ops
