#include "opgraph/passes/residual_fusion.hpp"

#include <map>
#include <set>

#include "node_merging.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph {

Graph fuse_residual_adds(const Graph& graph, const OpRegistry& ops) {
    std::map<std::string, int> readers = detail::reader_counts(graph);
    const std::set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());
    std::map<std::string, long> position;  // node -> its index in graph order
    for (std::size_t i = 0; i < graph.nodes.size(); ++i)
        position[graph.nodes[i].name] = static_cast<long>(i);
    const auto defined_at = [&](const std::string& value) {  // -1 for graph inputs
        ValueRef ref;
        const auto it = parse_value_ref(value, ref) ? position.find(ref.name) : position.end();
        return it == position.end() ? -1L : it->second;
    };
    // The layer that can take `value` as the sum's one side, or null.
    const auto fusable = [&](const std::string& value) -> const Node* {
        const Node* layer = graph.find_node(canonical_value(value));  // output 0 only
        if (layer == nullptr || readers[layer->name] != 1 || outputs.count(layer->name))
            return nullptr;
        const OpDef* def = ops.find(layer->op);
        if (def == nullptr || !def->fuses_residual || layer->inputs.size() >= def->inputs.size())
            return nullptr;
        return detail::without_activation(*layer) ? layer : nullptr;
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
    // The layer takes the sum's other input (renamed with the others: it may be a fused sum).
    return detail::merge_nodes(graph, fused_into, [&residual_of](Node& kept) {
        const auto it = residual_of.find(kept.name);
        if (it == residual_of.end()) return;
        const Node& sum = *it->second;
        const std::size_t other = canonical_value(sum.inputs[0]) == kept.name ? 1 : 0;
        kept.inputs.push_back(sum.inputs[other]);
        kept.input_where.push_back(sum.input_where.at(other));
    });
}

}  // namespace opgraph
