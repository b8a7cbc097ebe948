#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "opgraph/passes/passes.hpp"

namespace opgraph {

namespace {

// A value may hold at most this many elements per sample (2^40: 4 TiB of floats). Beyond it,
// products of dimensions could overflow the 64-bit arithmetic of the ops' shape functions.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;

// Whether the known dimensions of `shape` (kDynamicDim left out) multiply past the limit.
bool too_large(const Shape& shape) {
    std::int64_t product = 1;
    for (const std::int64_t d : shape) {
        if (d == kDynamicDim) continue;
        if (d < 0 || __builtin_mul_overflow(product, d, &product) || product > kMaxElements)
            return true;
    }
    return false;
}

// "f32 or bf16"
std::string dtype_list(const std::vector<DType>& types) {
    std::string out;
    for (std::size_t i = 0; i < types.size(); ++i)
        out += (i == 0                  ? ""
                : i + 1 == types.size() ? " or "
                                        : ", ") +
               std::string(dtype_name(types[i]));
    return out;
}

std::string too_large_message(const std::string& what, const Shape& shape) {
    return what + " " + shape_str(shape) + " holds more than 2^40 elements per sample";
}

}  // namespace

Graph infer_shapes(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics) {
    Graph result = graph;
    std::map<std::string, std::vector<Shape>> values;
    for (const GraphInput& input : graph.inputs) {
        if (too_large(input.shape)) {
            diagnostics.add(input.where, {}, {},
                            too_large_message("input '" + input.name + "'", input.shape));
            continue;  // its readers are skipped
        }
        values[input.name] = {input.shape};
    }
    auto lookup = [&](const std::string& text) -> const Shape* {
        ValueRef ref;
        if (!parse_value_ref(text, ref)) return nullptr;
        auto it = values.find(ref.name);
        if (it == values.end() || ref.output >= static_cast<int>(it->second.size())) return nullptr;
        return &it->second[static_cast<std::size_t>(ref.output)];
    };
    for (Node& node : result.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) continue;  // reported by the loader
        std::vector<Shape> inputs;
        bool complete = true;
        for (std::size_t i = 0; i < node.inputs.size(); ++i) {
            const Shape* shape = lookup(node.inputs[i]);
            if (shape == nullptr) {
                ValueRef ref;
                if (parse_value_ref(node.inputs[i], ref) && values.count(ref.name))
                    diagnostics.add(
                        node.input_where.at(i), node.name, "inputs",
                        "'" + ref.name + "' has " + std::to_string(values[ref.name].size()) +
                            " output(s); there is no output " + std::to_string(ref.output));
                complete = false;
                continue;
            }
            inputs.push_back(*shape);
        }
        // Skip nodes whose inputs failed, whose input count is wrong or whose attributes did
        // not parse: already reported, and a shape function may index inputs it expects.
        bool attrs_complete = true;
        for (const AttrSpec& spec : def->attrs)
            attrs_complete = attrs_complete && node.attrs.has(spec.name);
        if (!complete || !attrs_complete || !def->takes_inputs(node.inputs.size())) continue;
        if (std::find(def->dtypes.begin(), def->dtypes.end(), node.dtype) == def->dtypes.end()) {
            diagnostics.add(node.location_of("precision"), node.name, "precision",
                            "op '" + node.op + "' has no " + dtype_name(node.dtype) +
                                " kernel (it computes in " + dtype_list(def->dtypes) + ")");
            continue;
        }
        const OpContext ctx(node.name, node.attrs, inputs, node.dtype);
        std::string oversized;
        try {
            node.output_shapes = def->infer_shapes(ctx);
            node.output_dtypes = def->infer_dtypes
                                     ? def->infer_dtypes(ctx)
                                     : std::vector<DType>(node.output_shapes.size(), node.dtype);
            if (node.output_dtypes.size() != node.output_shapes.size())
                throw std::logic_error("its dtype function gives " +
                                       std::to_string(node.output_dtypes.size()) + " types for " +
                                       std::to_string(node.output_shapes.size()) + " outputs");
            if (node.saves) {
                if (!def->saved_shapes)
                    throw std::logic_error("the node saves, but op '" + node.op +
                                           "' declares nothing to save");
                for (Shape& shape : def->saved_shapes(ctx))
                    node.output_shapes.push_back(std::move(shape));
                const std::size_t saved = node.output_shapes.size() - node.output_dtypes.size();
                const std::vector<DType> types = def->saved_dtypes
                                                     ? def->saved_dtypes(ctx)
                                                     : std::vector<DType>(saved, node.dtype);
                if (types.size() != saved)
                    throw std::logic_error("its saved-dtype function gives " +
                                           std::to_string(types.size()) + " types for " +
                                           std::to_string(saved) + " saved values");
                node.output_dtypes.insert(node.output_dtypes.end(), types.begin(), types.end());
            }
            for (const Shape& shape : node.output_shapes)
                if (too_large(shape)) oversized = too_large_message("output", shape);
            if (def->params)  // parameter shapes derive from the same checks
                for (const ParamSpec& p : def->params(ctx))
                    if (too_large(p.shape))
                        oversized = too_large_message("parameter '" + p.name + "'", p.shape);
        } catch (const OpError& e) {
            diagnostics.add(node.location_of(e.attribute()), node.name, e.attribute(), e.what());
            continue;
        } catch (const std::exception& e) {
            diagnostics.add(node.where, node.name, {},
                            "op '" + node.op + "' shape function failed: " + e.what());
            continue;
        }
        if (!oversized.empty()) {
            diagnostics.add(node.where, node.name, {}, oversized);
            node.output_shapes.clear();
            node.output_dtypes.clear();
            continue;
        }
        values[node.name] = node.output_shapes;
    }
    return result;
}

}  // namespace opgraph
