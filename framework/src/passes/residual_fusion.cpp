#include "opgraph/passes/residual_fusion.hpp"

#include <map>
#include <set>

#include "opgraph/op/op_def.hpp"

namespace opgraph {

Graph fuse_residual_adds(const Graph& graph, const OpRegistry& ops) {
    std::map<std::string, int> readers;  // value -> how many node inputs read it
    for (const Node& node : graph.nodes)
        for (const std::string& input : node.inputs) ++readers[canonical_value(input)];
    const std::set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());
    std::map<std::string, std::size_t> position;  // node -> its index in graph order
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) position[graph.nodes[i].name] = i;
    const auto defined_at = [&](const std::string& value) {  // -1 for graph inputs
        ValueRef ref;
        const auto it = parse_value_ref(value, ref) ? position.find(ref.name) : position.end();
        return it == position.end() ? -1L : static_cast<long>(it->second);
    };
    // The layer that can take `value` as the sum's one side, or null.
    const auto fusable = [&](const std::string& value) -> const Node* {
        const Node* layer = graph.find_node(canonical_value(value));  // output 0 only
        if (layer == nullptr || readers[layer->name] != 1 || outputs.count(layer->name))
            return nullptr;
        const OpDef* def = ops.find(layer->op);
        if (def == nullptr || !def->fuses_residual || layer->inputs.size() >= def->inputs.size())
            return nullptr;
        const std::string& activation = layer->attrs.get_string("activation");
        return activation == "none" || activation == "linear" ? layer : nullptr;
    };

    std::map<std::string, std::string> fused_into;   // sum node -> the layer
    std::map<std::string, const Node*> residual_of;  // layer -> the sum it takes in
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr || !def->sums_inputs || node.inputs.size() != 2) continue;
        const Node* best = nullptr;
        for (std::size_t k = 0; k < 2; ++k) {
            const Node* layer = fusable(node.inputs[k]);
            if (layer != nullptr && defined_at(node.inputs[1 - k]) < defined_at(layer->name) &&
                (best == nullptr || defined_at(layer->name) > defined_at(best->name)))
                best = layer;
        }
        if (best == nullptr || residual_of.count(best->name)) continue;
        fused_into[node.name] = best->name;
        residual_of[best->name] = &node;
    }
    if (fused_into.empty()) return graph;
    const auto resolve = [&fused_into](const std::string& value) {
        const auto it = fused_into.find(value);
        return it == fused_into.end() ? value : it->second;
    };
    Graph out = graph;
    out.nodes.clear();
    for (const Node& node : graph.nodes) {
        if (fused_into.count(node.name)) continue;
        Node kept = node;
        for (std::string& input : kept.inputs) input = resolve(canonical_value(input));
        if (const auto it = residual_of.find(node.name); it != residual_of.end()) {
            const Node& sum = *it->second;
            const std::size_t other = canonical_value(sum.inputs[0]) == node.name ? 1 : 0;
            kept.inputs.push_back(resolve(canonical_value(sum.inputs[other])));
            kept.input_where.push_back(sum.input_where.at(other));
        }
        out.nodes.push_back(std::move(kept));
    }
    for (std::string& output : out.outputs) output = resolve(canonical_value(output));
    return out;
}

}  // namespace opgraph
