#include "opgraph/passes/activation_fusion.hpp"

#include <map>
#include <set>

#include "opgraph/op/op_def.hpp"

namespace opgraph {

Graph fuse_activations(const Graph& graph, const OpRegistry& ops) {
    std::map<std::string, int> readers;  // value -> how many node inputs read it
    for (const Node& node : graph.nodes)
        for (const std::string& input : node.inputs) ++readers[canonical_value(input)];
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
        const std::string& own = layer->attrs.get_string("activation");
        if ((own != "none" && own != "linear") || activation_of.count(layer->name)) continue;
        fused_into[node.name] = layer->name;
        activation_of[layer->name] = def->as_fused_activation(node.attrs);
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
        for (std::string& input : kept.inputs) input = resolve(input);
        if (const auto it = activation_of.find(node.name); it != activation_of.end())
            for (const auto& [name, value] : it->second.all()) kept.attrs.set(name, value);
        out.nodes.push_back(std::move(kept));
    }
    for (std::string& output : out.outputs) output = resolve(output);
    return out;
}

}  // namespace opgraph
