#include "opgraph/passes/inference_identities.hpp"

#include <map>

#include "opgraph/op/op_def.hpp"

namespace opgraph {

Graph drop_inference_identities(const Graph& graph, const OpRegistry& ops) {
    std::map<std::string, std::string> passed_on;  // dropped node -> the value it passes on
    const auto resolve = [&passed_on](const std::string& value) {
        const auto it = passed_on.find(value);
        return it == passed_on.end() ? value : it->second;
    };
    Graph out = graph;
    out.nodes.clear();
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def != nullptr && def->inference_identity && node.inputs.size() == 1) {
            passed_on[node.name] = resolve(node.inputs.front());
            continue;
        }
        Node kept = node;
        for (std::string& input : kept.inputs) input = resolve(input);
        out.nodes.push_back(std::move(kept));
    }
    for (std::string& output : out.outputs) output = resolve(output);
    return out;
}

}  // namespace opgraph
