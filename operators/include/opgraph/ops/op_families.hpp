// OpDef skeletons of the op families several ops belong to: name, doc, category, schema and
// shape function filled in, kernels and gradient rule left to the op (element-wise ops,
// softmax-like normalisations, 2-D pooling, losses of two same-shape inputs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/shape_helpers.hpp"
#include "opgraph/ops/window2d.hpp"

namespace opgraph::ops {

// OpDef::dtypes of the ops with bf16 kernels (oneDNN has bf16 forward and backward for
// convolution, inner product, batch norm, eltwise, pooling, sum, concat and reorders).
inline const std::vector<DType> kF32AndBf16 = {DType::f32, DType::bf16};
// ... and of those with int8 inference kernels too (OpDef::int8 other than none: oneDNN's
// int8 convolution, inner product, pooling and reorders).
inline const std::vector<DType> kF32Bf16AndInt8 = {DType::f32, DType::bf16, DType::u8, DType::s8};

// An op whose output has its input's shape, of any rank (activations, dropout).
inline OpDef elementwise_op(std::string name, std::string doc, std::string category,
                            Schema attrs = {}) {
    OpDef def;
    def.name = std::move(name);
    def.doc = std::move(doc);
    def.category = std::move(category);
    def.attrs = std::move(attrs);
    def.infer_shapes = [](const OpContext& ctx) { return std::vector<Shape>{ctx.input(0)}; };
    def.dtypes = kF32AndBf16;
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
    def.dtypes = {DType::f32};  // normalised in f32, as under Keras's and PyTorch's policies
    return def;
}

// max_pool2d and avg_pool2d: a pool window slid over the height and width of a
// (batch, height, width, channels) input. `extra` attributes follow pool, stride, padding.
inline OpDef pool2d_op(std::string name, std::string doc, const Schema& extra = {}) {
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
    def.attrs.insert(def.attrs.end(), extra.begin(), extra.end());
    def.dtypes = kF32Bf16AndInt8;
    def.int8 = Int8Role::keeps_scale;
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
