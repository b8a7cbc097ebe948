// Declaring an op's backward ops beside it: the OpDef of a backward op (the forward op's
// schema plus "forward", its inputs, the shape of one of them), and, for a single-input op,
// its backward op "<name>_backward" together with the gradient rule that emits it.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/kernel_functions.hpp"

namespace opgraph::ops {

// A backward op declared beside its forward op: the forward op's attributes plus
// "forward", its float dtypes (int8 is for inference), the given inputs, output shape = the shape
// of input `like`. The caller sets its kernel (and its shape function when it has other outputs)
// and adds it to forward.companions.
inline OpDef backward_op(const OpDef& forward, const std::string& name,
                         std::vector<std::string> inputs, std::size_t like) {
    OpDef def;
    def.name = name;
    def.doc = "gradient of " + forward.name + " (emitted by its gradient rule)";
    def.category = "backward";
    def.inputs = std::move(inputs);
    def.attrs = forward.attrs;
    def.attrs.push_back(
        AttrSpec::required(kForwardAttr, AttrType::string, "the forward node differentiated"));
    def.infer_shapes = [like](const OpContext& ctx) { return std::vector<Shape>{ctx.input(like)}; };
    def.dtypes.clear();
    for (const DType type : forward.dtypes)
        if (!is_quantized(type)) def.dtypes.push_back(type);
    return def;
}

// What a single-input op's backward kernel reads besides diff_dst: the forward input (src)
// or the forward output (dst, e.g. eltwise *_use_dst_for_bwd).
enum class ForwardValue { src, dst };

// Gives a single-input op its backward op "<name>_backward" (inputs diff_dst and that forward
// value -> diff_src, src's shape) with `kernel`, and the gradient rule that emits it.
inline void add_unary_backward(OpDef& def, ForwardValue reads, KernelFn kernel) {
    const std::string backward_name = def.name + "_backward";
    def.gradient = [backward_name, reads](GradientBuilder& b) {
        if (!b.needs_diff_input(0)) return;
        const std::string value = reads == ForwardValue::src ? b.input(0) : b.output();
        b.set_diff_input(0, b.emit("backward", backward_name, {b.diff_dst(), value}));
    };
    OpDef backward = backward_op(def, backward_name,
                                 {"diff_dst", reads == ForwardValue::src ? "src" : "dst"}, 1);
    backward.kernel = std::move(kernel);
    def.companions.push_back(std::move(backward));
}

}  // namespace opgraph::ops
