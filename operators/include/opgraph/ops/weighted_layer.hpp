// What the weighted layers (conv2d, dense: dst = activation(op(src, kernel) + bias)) share
// around their kernels: the schema and parameters of their weights, and their backward side,
// declared in one call: the gradient rule (through the fused activation first, then backward
// data and backward weights) and the three backward ops it emits.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/op_def.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/fused_activation.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace opgraph::ops {

// Weight initializers the core operators accept, by their Keras names.
inline std::vector<std::string> initializers() {
    return {"zeros",      "ones",      "glorot_uniform", "glorot_normal",
            "he_uniform", "he_normal", "lecun_uniform",  "lecun_normal"};
}

// use_bias, kernel_initializer and bias_initializer.
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

// A weighted layer's schema: its own attributes, then activation and alpha
// (fused_activation_attrs), then those of its weights (weights_attrs).
inline Schema weighted_layer_attrs(Schema own) {
    for (const Schema& more : {fused_activation_attrs(), weights_attrs()})
        own.insert(own.end(), more.begin(), more.end());
    return own;
}

// The kernel (trainable, kernel_initializer) and, with use_bias, the bias [outputs]
// (trainable, bias_initializer).
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

// The gradient rule of a weighted layer: through the activation first (from dst), which is
// also the gradient of a residual input (conv2d's input 1), then diff_src (from the kernel the
// forward step saved) and the parameter gradients (from src: output 0 the kernel's, output 1 the
// bias's), each only when wanted.
inline void weighted_layer_gradient(GradientBuilder& b, const std::string& activation_backward,
                                    const std::string& backward_data,
                                    const std::string& backward_weights) {
    const std::string diff = pre_activation_diff(b, activation_backward);
    if (b.node().inputs.size() > 1 && b.needs_diff_input(1)) b.set_diff_input(1, diff);  // residual
    if (b.needs_diff_input(0))
        b.set_diff_input(0, b.emit("backward_data", backward_data, {diff, b.input(0), b.saved(0)}));
    const bool trains_kernel = b.has_param("kernel");
    const bool trains_bias = b.node().attrs.get_bool("use_bias") && b.has_param("bias");
    if (!trains_kernel && !trains_bias) return;
    const std::string weights = b.emit("backward_weights", backward_weights, {diff, b.input(0)});
    if (trains_kernel) b.set_diff_param("kernel", weights);
    if (trains_bias) b.set_diff_param("bias", value_name(weights, 1));
}

// The output shapes of a <op>_backward_weights node (inputs diff_dst, src): its parameters'
// shapes, after checking diff_dst against the forward output the op's shape function gives.
inline std::vector<Shape> weights_gradient_shapes(
    const OpContext& ctx, const std::function<std::vector<Shape>(const OpContext&)>& forward_shapes,
    const std::function<std::vector<ParamSpec>(const OpContext&)>& forward_params) {
    const std::vector<Shape> src{ctx.input(1)};
    const OpContext forward(ctx.node(), ctx.attrs(), src);
    expect_same_shape(ctx, ctx.input(0), forward_shapes(forward).at(0),
                      "diff_dst and the forward output");
    std::vector<Shape> shapes;
    for (const ParamSpec& p : forward_params(forward)) shapes.push_back(p.shape);
    return shapes;
}

// Gives a weighted layer its gradient rule (weighted_layer_gradient) and the three backward
// ops it emits, as companions: "<name>_activation_backward" (fused_activation_backward_op),
// "<name>_backward_data" (diff_dst, src, the saved kernel -> diff_src, kernel class
// BackwardData) and
// "<name>_backward_weights" (diff_dst, src -> diff kernel[, diff bias], kernel class
// BackwardWeights, shapes from the op's params). The forward saves its kernel parameter as
// the primitive read it (OpDef::saved "kernel"; its kernel class writes it when Node::saves).
// Call it once def's name, attrs, dtypes, infer_shapes and params are final: the backward
// ops copy them. Parameter gradients are f32 whatever the layer computes in.
template <class BackwardData, class BackwardWeights>
void add_weighted_layer_backward(OpDef& def) {
    const std::string activation_backward = def.name + "_activation_backward";
    const std::string backward_data = def.name + "_backward_data";
    const std::string backward_weights = def.name + "_backward_weights";
    def.gradient = [activation_backward, backward_data, backward_weights](GradientBuilder& b) {
        weighted_layer_gradient(b, activation_backward, backward_data, backward_weights);
    };
    def.saved = {"kernel"};
    def.saved_shapes = [params = def.params](const OpContext& ctx) {
        return std::vector<Shape>{params(ctx).at(0).shape};
    };
    def.companions.push_back(fused_activation_backward_op(def));
    OpDef data = backward_op(def, backward_data, {"diff_dst", "src", "kernel"}, 1);
    data.kernel = make_kernel<BackwardData>;
    def.companions.push_back(std::move(data));
    OpDef weights = backward_op(def, backward_weights, {"diff_dst", "src"}, 1);
    weights.infer_shapes = [shapes = def.infer_shapes, params = def.params](const OpContext& ctx) {
        return weights_gradient_shapes(ctx, shapes, params);
    };
    weights.kernel = make_kernel<BackwardWeights>;
    weights.infer_dtypes = [](const OpContext& ctx) {  // f32 gradients of f32 master weights
        return std::vector<DType>(ctx.attrs().get_bool("use_bias") ? 2 : 1, DType::f32);
    };
    def.companions.push_back(std::move(weights));
}

}  // namespace opgraph::ops
