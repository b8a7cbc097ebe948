// The graph IR: named nodes, each an op applied to values, with typed attributes and the
// source position of everything the user wrote. A Graph is a value: passes take one and
// return a new one.
//
// A value is referred to by name: a graph input ("image"), a node's first output ("conv1")
// or another of its outputs ("split:1").
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/dtype.hpp"
#include "opgraph/core/shape.hpp"
#include "opgraph/core/source_location.hpp"

namespace opgraph {

struct GraphInput {
    std::string name;
    Shape shape;  // batch dimension first, kDynamicDim
    SourceLocation where;
    DType dtype = DType::f32;
};

// Where a node folded into another one applies its map: to that node's data input 0 (before
// it), to its output (after it, before its fused activation: both through the weights), or to
// its output after its fused activation (a post-op of the primitive, the weights untouched).
enum class AffineSide { input, output, after_activation };

struct FoldedNode;

struct Node {
    std::string name;
    std::string op;
    std::vector<std::string> inputs;  // value references
    AttrMap attrs;                    // every schema attribute, defaults filled
    SourceLocation where;             // the node's mapping in the file
    std::vector<SourceLocation> input_where;
    std::map<std::string, SourceLocation> attr_where;  // attributes the user wrote
    std::vector<Shape> output_shapes;                  // filled by infer_shapes()
    // The element type the node computes in (one of its op's OpDef::dtypes): f32 unless the
    // precision pass chose another. `precision` is what the file asked for with the node's
    // `precision:` key (kept by the pass), and `output_dtypes` each output's element type,
    // filled by infer_shapes() with the op's OpDef::infer_dtypes.
    DType dtype = DType::f32;
    std::optional<DType> precision;
    std::vector<DType> output_dtypes;
    // Quantized graphs only (the quantize pass, opgraph/passes/quantization.hpp): each output's
    // scale, real = scale * stored integer, for outputs of type u8 or s8 (0 for the others);
    // empty when no output is quantized.
    std::vector<float> output_scales;
    // Training graphs only (set by autodiff): the node's outputs are followed by what its
    // op saves for the backward nodes (OpDef::saved), and its kernel writes them.
    bool saves = false;
    // Inference graphs only (the fold_affine pass): per-channel affine nodes (batch norm)
    // whose maps this node's kernel applies, the input side first, at most one per side.
    // They keep their names, attributes and parameters ("bn/gamma").
    std::vector<FoldedNode> folded;

    // Where attribute `name` was written, or the node itself when it was defaulted.
    const SourceLocation& location_of(const std::string& attribute) const;
};

struct FoldedNode {
    Node node;
    AffineSide side = AffineSide::output;
};

struct Graph {
    std::string name;
    std::string file;
    std::vector<GraphInput> inputs;
    std::vector<Node> nodes;  // topological order once validated
    std::vector<std::string> outputs;
    std::vector<SourceLocation> output_where;

    const Node* find_node(const std::string& name) const;
    const GraphInput* find_input(const std::string& name) const;
    // The shape and the element type of a value reference (a graph input or a node output
    // whose shapes and types were inferred); null / nothing for an unknown one.
    const Shape* shape_of(const std::string& value) const;
    std::optional<DType> dtype_of(const std::string& value) const;
    // The scale of a quantized value (Node::output_scales); 0 for any other value.
    float scale_of(const std::string& value) const;
};

// The name of output `output` of node `node`: "conv1" for output 0, "split:1" otherwise.
std::string value_name(const std::string& node, std::size_t output);

// A value reference split into node (or input) name and output index: "a:1" -> {"a", 1}.
struct ValueRef {
    std::string name;
    int output = 0;
};
// Returns false when `text` is not of the form name or name:index.
bool parse_value_ref(const std::string& text, ValueRef& out);
// The one spelling of a value reference: "n" for "n" and "n:0", else the text itself.
std::string canonical_value(const std::string& text);

}  // namespace opgraph
