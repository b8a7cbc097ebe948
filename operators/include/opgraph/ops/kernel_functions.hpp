// An OpDef's kernel functions (OpDef::kernel, a backward op's kernel): one that constructs a
// kernel class from the context, and, inside a backward kernel, the context its forward node
// was compiled with (to rebuild the forward primitive descriptor oneDNN takes as a hint).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/op/gradient.hpp"
#include "opgraph/op/kernel.hpp"

namespace opgraph::ops {

// What OpDef::kernel holds.
using KernelFn = std::function<std::unique_ptr<Kernel>(const KernelContext&)>;

// An op's kernel function for kernel class K constructed from the context:
// def.kernel = ops::make_kernel<SwishKernel>.
template <class K>
std::unique_ptr<Kernel> make_kernel(const KernelContext& ctx) {
    return std::make_unique<K>(ctx);
}

// The context the forward node was compiled with, as a backward kernel rebuilds it to
// construct the forward kernel's primitive descriptor (oneDNN's hint) and layout choices: the
// backward node's attributes (the forward's, copied), training, the forward's data inputs
// taken from ctx's inputs `inputs`, and its output shaped as diff_dst (ctx's input 0). The
// rebuilt forward kernel is never bound or run; what the forward node's kernel saved comes as
// inputs (OpDef::saved).
inline KernelContext forward_context(const KernelContext& ctx,
                                     const std::vector<std::size_t>& inputs) {
    KernelContext forward{ctx.node, ctx.engine, true, {},       {}, {}, {ctx.input_shapes.at(0)},
                          ctx.step, ctx.seed,   {},   ctx.dtype};
    for (std::size_t i : inputs) {
        forward.input_shapes.push_back(ctx.input_shapes.at(i));
        forward.input_descs.push_back(ctx.input_descs.at(i));
    }
    return forward;
}

// A scale of KernelContext::input_scales / output_scales, 1 for a value that is not quantized.
inline float scale_or_one(const std::vector<float>& scales, std::size_t i) {
    return i < scales.size() && scales[i] > 0 ? scales[i] : 1.f;
}

}  // namespace opgraph::ops
