#include "opgraph/passes/quantization.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "opgraph/op/op_def.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/passes/precision.hpp"

namespace opgraph {

namespace {

constexpr float kU8Levels = 255.f;
constexpr float kS8Levels = 127.f;

// The int8 role a node may take: its op's, unless the node is pinned, already of another
// type than f32, or a cast.
Int8Role role_of(const Node& node, const OpRegistry& ops) {
    const OpDef* def = ops.find(node.op);
    if (def == nullptr || node.op == kCastOp || node.precision || node.dtype != DType::f32)
        return Int8Role::none;
    return def->int8;
}

}  // namespace

Quantization quantization_of(const ActivationRange& range) {
    if (range.min >= 0) return {DType::u8, range.max > 0 ? range.max / kU8Levels : 1.f};
    const float bound = std::max(std::fabs(range.min), std::fabs(range.max));
    return {DType::s8, bound > 0 ? bound / kS8Levels : 1.f};
}

Graph quantize_int8(const Graph& graph, const ActivationRanges& ranges, const OpRegistry& ops) {
    const auto range_of = [&](const std::string& value) -> const ActivationRange* {
        const auto it = ranges.find(canonical_value(value));
        return it == ranges.end() ? nullptr : &it->second;
    };
    // A rescaling node needs its input's range (to quantize it, or to know it was quantized).
    std::vector<Int8Role> roles;
    for (const Node& node : graph.nodes) {
        Int8Role role = role_of(node, ops);
        if (role == Int8Role::rescales && range_of(node.inputs.at(0)) == nullptr)
            role = Int8Role::none;
        roles.push_back(role);
    }
    // Which values some reader would take as integers: a rescaling node's inputs (input 0,
    // and a residual, which its kernel adds at its own scale), or a scale-keeping node's
    // input whose own output is wanted so. Graph outputs are read as floats.
    const std::set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());
    std::set<std::string> wanted;
    for (std::size_t n = graph.nodes.size(); n-- > 0;) {
        const Node& node = graph.nodes[n];
        const bool rescales = roles[n] == Int8Role::rescales;
        const bool takes =
            rescales || (roles[n] == Int8Role::keeps_scale && wanted.count(node.name) != 0);
        const std::size_t read =
            rescales ? node.inputs.size() : std::min<std::size_t>(1, node.inputs.size());
        for (std::size_t i = 0; takes && i < read; ++i) {
            const std::string input = canonical_value(node.inputs[i]);
            if (outputs.count(input) == 0) wanted.insert(input);
        }
    }

    Graph out = graph;
    out.nodes.clear();
    std::map<std::string, std::pair<DType, float>> integers;     // value -> its type and scale
    std::map<std::pair<std::string, DType>, std::string> casts;  // (value, type) -> cast
    const auto add_cast = [&](const std::string& value, DType type, float scale,
                              const Node& reader) {
        const std::string key = canonical_value(value);
        auto [it, added] = casts.try_emplace({key, type});
        if (!added) return it->second;
        Node cast = cast_node(value, type, reader);
        if (is_quantized(type)) {
            cast.output_scales = {scale};
            integers[cast.name] = {type, scale};
        }
        out.nodes.push_back(std::move(cast));
        return it->second = out.nodes.back().name;
    };
    for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
        Node placed = graph.nodes[n];
        const auto integer_input = [&](std::size_t i) {
            return integers.find(canonical_value(placed.inputs[i]));
        };
        const bool keeps = roles[n] == Int8Role::keeps_scale && !placed.inputs.empty() &&
                           integer_input(0) != integers.end() && wanted.count(placed.name) != 0;
        if (roles[n] == Int8Role::rescales) {
            // Input 0 (always calibrated here) and a residual are quantized where they are not
            // integers yet. An integer output holds the pre-activation sum in the residual's
            // type, so it needs an integer residual: without a range, the output stays f32.
            bool integer_residuals = true;
            for (std::size_t i = 0; i < placed.inputs.size(); ++i) {
                std::string& input = placed.inputs[i];
                const ActivationRange* range = range_of(input);
                if (integer_input(i) != integers.end()) continue;
                if (range == nullptr) {
                    integer_residuals = false;
                    continue;
                }
                const Quantization q = quantization_of(*range);
                input = add_cast(input, q.type, q.scale, graph.nodes[n]);
            }
            const ActivationRange* own = range_of(placed.name);
            if (wanted.count(placed.name) != 0 && own != nullptr && integer_residuals) {
                const Quantization q = quantization_of(*own);
                placed.dtype = q.type;
                placed.output_scales = {q.scale};
                integers[placed.name] = {q.type, q.scale};
            }
        } else if (keeps) {
            const auto [type, scale] = integer_input(0)->second;
            placed.dtype = type;
            placed.output_scales = {scale};
            integers[placed.name] = {type, scale};
        }
        // Whatever reads an integer value without taking it as one reads it as f32; a
        // rescaling node takes its residual as it comes.
        const std::size_t taken = roles[n] == Int8Role::rescales ? placed.inputs.size()
                                  : keeps                        ? 1
                                                                 : 0;
        for (std::size_t i = taken; i < placed.inputs.size(); ++i)
            if (integer_input(i) != integers.end())
                placed.inputs[i] = add_cast(placed.inputs[i], DType::f32, 0, graph.nodes[n]);
        out.nodes.push_back(std::move(placed));
    }
    return checked_graph(out, ops);
}

}  // namespace opgraph
