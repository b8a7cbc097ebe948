// Helpers shared by the core operators' declarations: rank and shape checks with messages
// that show what was expected and what came, reading int pairs (kernel, stride, ...), the
// output-size arithmetic of 2-D windows (convolution, pooling) with valid / same / explicit
// padding, and builders for the attribute groups and op families several ops share.
//
// Every check throws OpError through ctx.fail(): with the attribute's name when the attribute
// is at fault, with an empty name when the inputs are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "opgraph/attribute.hpp"
#include "opgraph/op_def.hpp"
#include "opgraph/shape.hpp"

namespace opgraph::ops {

// Channels-last image tensors, as in Keras: (batch, height, width, channels).
inline constexpr std::size_t kImageRank = 4;
inline constexpr std::size_t kBatchAxis = 0;
inline constexpr std::size_t kHeightAxis = 1;
inline constexpr std::size_t kWidthAxis = 2;
inline constexpr std::size_t kChannelAxis = 3;
inline constexpr const char* kImageLayout = "(batch, height, width, channels)";

inline constexpr std::int64_t kLastAxis = -1;  // Keras's default axis
inline constexpr std::size_t kPairLength = 2;  // (height, width) attributes: kernel, stride

// Fused post-ops of conv2d and dense (Keras's `activation=` argument; "none" and "linear"
// both mean the identity). Functions, not globals: an OpDef may be built during another
// translation unit's static initialisation.
inline std::vector<std::string> fused_activations() {
    return {"none", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "elu"};
}
inline constexpr double kDefaultLeakyReluAlpha = 0.3;  // Keras LeakyReLU

// Weight initializers the core operators accept, by their Keras names.
inline std::vector<std::string> initializers() {
    return {"zeros",      "ones",      "glorot_uniform", "glorot_normal",
            "he_uniform", "he_normal", "lecun_uniform",  "lecun_normal"};
}

inline constexpr const char* kPaddingValid = "valid";
inline constexpr const char* kPaddingSame = "same";
inline constexpr std::size_t kSymmetricPaddingLength = 2;  // [pad_h, pad_w]
inline constexpr std::size_t kFullPaddingLength = 4;       // [top, bottom, left, right]
inline constexpr const char* kPaddingForms =
    "\"valid\", \"same\", [pad_h, pad_w] or [top, bottom, left, right]";

// ---- messages and shape checks ----

// "a rank-4" / "an input": the article a word takes.
inline std::string with_article(const std::string& word) {
    const bool vowel = !word.empty() && std::string("aeiou").find(word[0]) != std::string::npos;
    return (vowel ? "an " : "a ") + word;
}

// "3x3"
inline std::string size_str(std::int64_t height, std::int64_t width) {
    const auto dim = [](std::int64_t d) { return d == kDynamicDim ? "None" : std::to_string(d); };
    return dim(height) + "x" + dim(width);
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

// ---- attribute reading ----

using IntPair = std::array<std::int64_t, 2>;  // (height, width)

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

// ---- 2-D windows: convolution and pooling ----

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

// ---- attribute groups ----

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

// activation and alpha: the post-op fused into conv2d and dense.
inline Schema fused_activation_attrs() {
    return {
        AttrSpec::optional("activation", std::string("none"), "activation fused after the op")
            .one_of(fused_activations()),
        AttrSpec::optional("alpha", kDefaultLeakyReluAlpha, "negative slope of leaky_relu")
            .at_least(0),
    };
}

// use_bias, kernel_initializer and bias_initializer of conv2d and dense.
inline Schema weights_attrs() {
    return {
        AttrSpec::optional("use_bias", true, "add a learned bias"),
        AttrSpec::optional("kernel_initializer", std::string("glorot_uniform"),
                           "initializer of the kernel")
            .one_of(initializers()),
        AttrSpec::optional("bias_initializer", std::string("zeros"), "initializer of the bias")
            .one_of(initializers()),
    };
}

// Appends the specs of `more` to `schema`.
inline Schema& append(Schema& schema, const Schema& more) {
    schema.insert(schema.end(), more.begin(), more.end());
    return schema;
}

// The kernel (trainable, kernel_initializer) and, with use_bias, the bias [outputs]
// (trainable, bias_initializer) of conv2d and dense.
inline std::vector<ParamSpec> weights_params(const OpContext& ctx, Shape kernel_shape,
                                             std::int64_t outputs) {
    const AttrMap& attrs = ctx.attrs();
    std::vector<ParamSpec> params;
    params.push_back(
        {"kernel", std::move(kernel_shape), true, attrs.get_string("kernel_initializer")});
    if (attrs.get_bool("use_bias")) {
        params.push_back({"bias", {outputs}, true, attrs.get_string("bias_initializer")});
    }
    return params;
}

// ---- op families ----

// An op whose output has its input's shape, of any rank (activations, dropout).
inline OpDef elementwise_op(std::string name, std::string doc, std::string category,
                            Schema attrs = {}) {
    OpDef def;
    def.name = std::move(name);
    def.doc = std::move(doc);
    def.category = std::move(category);
    def.attrs = std::move(attrs);
    def.infer_shapes = [](const OpContext& ctx) { return std::vector<Shape>{ctx.input(0)}; };
    return def;
}

// softmax and log_softmax: shape unchanged, normalised along `axis`, which must not be the
// batch axis.
inline OpDef normalizing_op(std::string name, std::string doc) {
    OpDef def = elementwise_op(
        std::move(name), std::move(doc), "activation",
        {AttrSpec::optional("axis", kLastAxis, "axis to normalise along (not the batch)")});
    def.infer_shapes = [](const OpContext& ctx) {
        sample_axis(ctx, "axis", ctx.input(0));
        return std::vector<Shape>{ctx.input(0)};
    };
    return def;
}

// max_pool2d and avg_pool2d: a pool window slid over the height and width of a
// (batch, height, width, channels) input. `extra` attributes follow pool, stride, padding.
inline OpDef pool2d_op(std::string name, std::string doc, Schema extra = {}) {
    constexpr std::int64_t kDefaultPool = 2;  // Keras MaxPooling2D / AveragePooling2D
    OpDef def;
    def.name = std::move(name);
    def.doc = std::move(doc);
    def.category = "layer";
    def.attrs = {
        int_pair_attr("pool", kDefaultPool, "window size (height, width)"),
        // A single int broadcasts to the maximum length.
        AttrSpec::optional("stride", std::vector<std::int64_t>{},
                           "step (height, width); empty: the pool size")
            .length_between(0, kPairLength)
            .broadcast()
            .at_least(1),
        padding_attr(),
    };
    append(def.attrs, extra);
    def.infer_shapes = [](const OpContext& ctx) {
        const Shape& src = ctx.input(0);
        expect_image(ctx, src);
        const IntPair pool = read_pair(ctx, "pool");
        const IntPair stride = read_pair(ctx, "stride", pool);
        const Window2d window =
            plan_window_2d(ctx, src, pool, stride, "pool", "pool " + size_str(pool[0], pool[1]));
        // A window lying wholly in the padding would have nothing to pool.
        for (const WindowAxis* axis : {&window.height, &window.width}) {
            if (axis->pad_begin >= axis->extent || axis->pad_end >= axis->extent) {
                ctx.fail("padding", "padding must be smaller than the pool " +
                                        size_str(pool[0], pool[1]) + ", got " +
                                        attr_value_str(ctx.attrs().get("padding")));
            }
        }
        return std::vector<Shape>{
            {src[kBatchAxis], window.height.output, window.width.output, src[kChannelAxis]}};
    };
    return def;
}

// A loss of a prediction and a target of the same shape, of rank >= min_rank (`layout` shows
// its dimensions), reduced to a scalar: the mean over the batch, as Keras reduces.
inline OpDef same_shape_loss_op(std::string name, std::string doc, std::size_t min_rank,
                                std::string layout, Schema attrs = {}) {
    OpDef def;
    def.name = std::move(name);
    def.doc = std::move(doc);
    def.category = "loss";
    def.inputs = {"prediction", "target"};
    def.attrs = std::move(attrs);
    def.infer_shapes = [min_rank, layout = std::move(layout)](const OpContext& ctx) {
        expect_min_rank(ctx, ctx.input(0), min_rank, layout, "prediction");
        expect_same_shape(ctx, ctx.input(0), ctx.input(1), "prediction and target");
        return std::vector<Shape>{Shape{}};
    };
    return def;
}

}  // namespace opgraph::ops
