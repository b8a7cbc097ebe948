#include "opgraph/passes/precision.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "opgraph/op/op_def.hpp"
#include "opgraph/passes/pipeline.hpp"

namespace opgraph {

namespace {

bool offers(const OpDef* def, DType type) {
    return def != nullptr &&
           std::find(def->dtypes.begin(), def->dtypes.end(), type) != def->dtypes.end();
}

}  // namespace

Node cast_node(const std::string& value, DType type, const Node& reader) {
    Node cast;
    cast.name = canonical_value(value) + "/to_" + dtype_name(type);
    cast.op = kCastOp;
    cast.inputs = {value};
    cast.input_where = {reader.where};
    cast.where = reader.where;
    cast.attrs.set("to", std::string(dtype_name(type)));
    cast.dtype = type;
    return cast;
}

Graph assign_precision(const Graph& graph, DType precision, const OpRegistry& ops) {
    if (precision != DType::f32 && precision != DType::bf16)
        throw std::invalid_argument(std::string("precision must be f32 or bf16, not ") +
                                    dtype_name(precision));
    const bool pinned = std::any_of(graph.nodes.begin(), graph.nodes.end(),
                                    [](const Node& n) { return n.precision.has_value(); });
    if (precision == DType::f32 && !pinned) return graph;

    Graph out = graph;
    out.nodes.clear();
    std::map<std::string, DType> types;  // value -> its element type, as nodes are placed
    for (const GraphInput& input : graph.inputs) types[input.name] = input.dtype;
    std::map<std::pair<std::string, DType>, std::string> casts;  // (value, type) -> cast node
    // The value `value` as type `type`: itself, or a cast node's output (placed once).
    const auto as_type = [&](const std::string& value, DType type, const Node& reader) {
        const std::string key = canonical_value(value);
        const auto known = types.find(key);
        if (known == types.end() || known->second == type) return value;
        auto [it, added] = casts.try_emplace({key, type});
        if (!added) return it->second;
        Node cast = cast_node(value, type, reader);
        types[cast.name] = type;
        out.nodes.push_back(std::move(cast));
        return it->second = out.nodes.back().name;
    };
    for (const Node& node : graph.nodes) {
        Node placed = node;
        const OpDef* def = ops.find(node.op);
        if (node.op == kCastOp)
            placed.dtype = *parse_dtype(node.attrs.get_string("to"));
        else if (node.precision)
            placed.dtype = *node.precision;
        else
            placed.dtype = offers(def, precision) ? precision : DType::f32;
        if (node.op != kCastOp)
            for (std::string& input : placed.inputs) input = as_type(input, placed.dtype, node);
        // The outputs' types, as shape inference will infer them (the graph's shapes are
        // inferred and do not depend on types).
        std::vector<DType> output_types(node.output_shapes.size(), placed.dtype);
        if (def != nullptr && def->infer_dtypes) {
            std::vector<Shape> input_shapes;
            for (const std::string& input : node.inputs)
                input_shapes.push_back(*graph.shape_of(input));
            output_types =
                def->infer_dtypes(OpContext(node.name, node.attrs, input_shapes, placed.dtype));
        }
        for (std::size_t i = 0; i < output_types.size(); ++i)
            types[value_name(node.name, i)] = output_types[i];
        out.nodes.push_back(std::move(placed));
    }
    return checked_graph(out, ops);
}

}  // namespace opgraph
