#include "opgraph/passes/activation_fusion.hpp"

#include <map>
#include <set>

#include "node_merging.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph {

Graph fuse_activations(const Graph& graph, const OpRegistry& ops) {
    std::map<std::string, int> readers = detail::reader_counts(graph);
    const std::set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());

    std::map<std::string, std::string> fused_into;  // activation node -> the layer
    std::map<std::string, AttrMap> activation_of;   // layer -> the attributes it takes
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr || !def->as_fused_activation || node.inputs.size() != 1) continue;
        const Node* layer = graph.find_node(node.inputs.front());  // output 0 only
        if (layer == nullptr || readers[layer->name] != 1 || outputs.count(layer->name)) continue;
        const OpDef* layer_def = ops.find(layer->op);
        if (layer_def == nullptr || !layer_def->fuses_activation) continue;
        if (!detail::without_activation(*layer) || activation_of.count(layer->name)) continue;
        fused_into[node.name] = layer->name;
        activation_of[layer->name] = def->as_fused_activation(node.attrs);
    }
    if (fused_into.empty()) return graph;
    return detail::merge_nodes(graph, fused_into, [&activation_of](Node& kept) {
        if (const auto it = activation_of.find(kept.name); it != activation_of.end())
            for (const auto& [name, value] : it->second.all()) kept.attrs.set(name, value);
    });
}

}  // namespace opgraph
