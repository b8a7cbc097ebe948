// What an operator declares about itself: its inputs, its attribute schema, its shape
// function, the parameters it owns, its cost, its kernel and its gradient rule. One OpDef
// per op, written in the op's own file in a plugin (with its backward ops as companions)
// and handed to an OpRegistry.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/dtype.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/kernel.hpp"

namespace opgraph {

// Thrown by an op's shape function when the node cannot be built (bad input shapes, an
// attribute that does not fit them). `attribute` is empty when the problem is the inputs.
// The shape-inference pass turns it into a Diagnostic at the node's (or attribute's) line.
class OpError : public std::runtime_error {
public:
    OpError(std::string attribute, const std::string& message)
        : std::runtime_error(message), attribute_(std::move(attribute)) {}
    const std::string& attribute() const { return attribute_; }

private:
    std::string attribute_;
};

// What a shape / parameter / cost function sees of one node.
class OpContext {
public:
    OpContext(const std::string& node, const AttrMap& attrs, const std::vector<Shape>& inputs,
              DType dtype = DType::f32)
        : node_(node), attrs_(attrs), inputs_(inputs), dtype_(dtype) {}
    const std::string& node() const { return node_; }
    // The element type the node computes in (Node::dtype).
    DType dtype() const { return dtype_; }
    const AttrMap& attrs() const { return attrs_; }
    const std::vector<Shape>& inputs() const { return inputs_; }
    const Shape& input(std::size_t i) const { return inputs_.at(i); }
    // Throws OpError.
    [[noreturn]] void fail(const std::string& attribute, const std::string& message) const {
        throw OpError(attribute, message);
    }

private:
    const std::string& node_;
    const AttrMap& attrs_;
    const std::vector<Shape>& inputs_;
    DType dtype_;
};

// A tensor an op owns (weights, biases, batch-norm statistics). Shapes have no batch dim.
struct ParamSpec {
    std::string name;  // kernel, bias, gamma, beta, moving_mean, moving_variance
    Shape shape;
    bool trainable = true;
    std::string initializer;  // glorot_uniform, he_normal, zeros, ones, ...
};

// How a gradient check draws one input's values.
enum class GradCheckInput {
    uniform,         // U(-1, 1)
    away_from_zero,  // |x| in [0.2, 1], random sign: kinks at 0 (relu) stay out of reach
    distinct,        // a shuffled grid with gaps: no near-ties for max-pool
    positive,        // U(0.2, 1)
    probabilities,   // positive rows summing to 1 over the last axis
    one_hot,         // one 1 per row (last axis)
    class_indices,   // integer classes < the last dim of input 0, as floats; not checked
};

// One configuration an op's gradient is checked in (shapes and attributes). Every op with a
// gradient rule lists a few in its own file; the conformance suite and `opgraph gradcheck`
// run them all.
struct GradCheckCase {
    std::string label;
    std::vector<Shape> inputs;          // concrete shapes, batch first
    AttrMap attrs;                      // on top of the schema's defaults
    std::vector<GradCheckInput> kinds;  // per input; missing entries are uniform
    double tolerance = 0;               // 0: the checker's default
};

// What an op's kernels do with quantized (u8 / s8) inputs in int8 inference (the quantize
// pass, opgraph/passes/quantization.hpp).
enum class Int8Role {
    none,         // no integer kernel: the pass puts a cast to f32 before it
    rescales,     // integer input 0, output u8 / s8 / f32 at any scale (conv2d, dense), any
                  // further input (a residual) as it comes: the kernel reads
                  // KernelContext::input_scales / output_scales
    keeps_scale,  // integer input, output of the same type and scale (pooling, reshapes)
};

struct OpDef {
    std::string name;
    std::string doc;       // one line for `opgraph ops`
    std::string category;  // layer, activation, structure, loss
    // Input names in order. With variadic_min > 0 the op takes variadic_min or more inputs,
    // all of kind inputs[0] (add, concat); otherwise the last optional_inputs of them may be
    // left out (conv2d's residual). takes_inputs() says whether a count fits.
    std::vector<std::string> inputs{"src"};
    std::size_t variadic_min = 0;
    std::size_t optional_inputs = 0;
    Schema attrs;

    // Output shapes, one per output (batch dimension included, kDynamicDim passes through).
    // Called with every attribute present (defaults filled) and one shape per input.
    // Throws OpError when the inputs do not fit.
    std::function<std::vector<Shape>(const OpContext&)> infer_shapes;
    // The element types its kernels compute in (Node::dtype), f32 first. The precision pass
    // runs a node in bf16 only when its op lists bf16; shape inference refuses a node whose
    // dtype is not listed.
    std::vector<DType> dtypes{DType::f32};
    // Its kernels' part in int8 inference; an op other than none lists u8 and s8 in dtypes.
    Int8Role int8 = Int8Role::none;
    // The element type of each output (saved values excluded), given the node's dtype
    // (OpContext::dtype); empty function: every output is of the node's dtype. A backward op
    // whose outputs are parameter gradients gives f32 for them (master weights are f32).
    std::function<std::vector<DType>(const OpContext&)> infer_dtypes;
    // Parameters the node owns; empty function: none.
    std::function<std::vector<ParamSpec>(const OpContext&)> params;
    // What a training forward kernel keeps for the backward kernels (weight snapshots, batch
    // statistics, workspaces, masks), one name each, for `opgraph ops` and error messages. When
    // a gradient rule reads one (GradientBuilder::saved), autodiff marks the forward node
    // (Node::saves) and its outputs are followed by these values, in this order, with the shapes
    // saved_shapes gives (those with a batch dimension have it first); the backward nodes take
    // them as inputs like any other value. A saved value's bytes are those of the descriptor
    // the kernel gives it (a workspace or mask may be of another data type than f32).
    std::vector<std::string> saved;
    std::function<std::vector<Shape>(const OpContext&)> saved_shapes;
    // The element type of each saved value; empty function: the node's dtype for all.
    std::function<std::vector<DType>(const OpContext&)> saved_dtypes;
    // True when the kernel may write output 0 over data input in_place_input (relu, add: 0;
    // conv2d: its residual, 1): when the node has that input, reads it only there, and it has
    // the output's shape and layout and nothing reads it after this node, the memory plan gives
    // both one buffer (PlannedValue::overwrites), as PyTorch's inplace=True.
    bool in_place = false;
    std::size_t in_place_input = 0;
    // Forward multiply-adds per sample, given the output shapes; empty function: 0.
    std::function<std::int64_t(const OpContext&, const std::vector<Shape>&)> macs;

    // True when the op is the identity in inference (dropout): the drop_identities pass
    // removes its nodes from inference graphs (opgraph/passes/inference_identities.hpp).
    bool inference_identity = false;
    // Set when the op is a per-channel affine map in inference (batch norm). The fold_affine
    // pass moves such a node into the node producing its input or the one reading its output
    // when that node's op absorbs it (absorbs_affine) and nothing else reads the values in
    // between (opgraph/passes/affine_folding.hpp); it then runs no kernel of its own.
    ChannelAffineFn inference_affine;
    // Whether a node of this op, with these attributes, can apply a per-channel affine map to
    // its data input 0, its output, or its output after its fused activation inside its own
    // kernel (KernelContext::absorbed), with the same result up to rounding. Empty function:
    // never.
    std::function<bool(const AttrMap&, AffineSide)> absorbs_affine;
    // For an element-wise activation a layer can apply as a post-op: given the node's
    // attributes, the "activation" (and "alpha") attributes that make a layer apply it. The
    // fuse_activations pass (opgraph/passes/activation_fusion.hpp) then moves the node into
    // the layer producing its input in inference graphs. Empty function: never fused.
    std::function<AttrMap(const AttrMap&)> as_fused_activation;
    // True for a layer whose kernel applies its "activation" attribute as a post-op (conv2d,
    // dense): the fuse_activations pass may set it.
    bool fuses_activation = false;
    // True for the element-wise sum of its inputs (add), and for a layer whose optional last
    // input is added to its output before its activation (conv2d's residual): the
    // fuse_residual_add pass moves a two-input sum into the layer producing one of its inputs
    // (opgraph/passes/residual_fusion.hpp).
    bool sums_inputs = false;
    bool fuses_residual = false;
    // Compiles the node for a concrete batch; empty function: the op cannot run (yet).
    std::function<std::unique_ptr<Kernel>(const KernelContext&)> kernel;
    // Emits the backward nodes; empty function: the op has no gradient, and asking for one
    // is an error naming the node.
    std::function<void(GradientBuilder&)> gradient;
    // Configurations the shared finite-difference check runs (ops with a gradient).
    std::vector<GradCheckCase> gradcheck;
    // Ops declared in the same file and registered with this one (its backward ops).
    std::vector<OpDef> companions;

    std::string plugin;  // set by the registry: the plugin that registered the op

    // The input of a node reading `inputs` (canonical value names) that output 0 may be
    // written over (in_place), or -1.
    int overwritable_input(const std::vector<std::string>& inputs) const {
        if (!in_place || in_place_input >= inputs.size()) return -1;
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (i != in_place_input && inputs[i] == inputs[in_place_input]) return -1;
        return static_cast<int>(in_place_input);
    }

    // Whether a node of this op may have `count` inputs (inputs, variadic_min, optional_inputs).
    bool takes_inputs(std::size_t count) const {
        if (variadic_min > 0) return count >= variadic_min;
        return count <= inputs.size() && count + optional_inputs >= inputs.size();
    }
};

}  // namespace opgraph
