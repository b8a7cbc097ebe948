// What the fusion passes (fuse_residual_add, fuse_activations) share: counting a value's
// readers, asking whether a layer applies an activation of its own, and rebuilding the graph
// once some nodes have been merged into others.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>

#include "opgraph/ir/graph.hpp"

namespace opgraph::detail {

// value (canonical name) -> how many node inputs read it.
inline std::map<std::string, int> reader_counts(const Graph& graph) {
    std::map<std::string, int> readers;
    for (const Node& node : graph.nodes)
        for (const std::string& input : node.inputs) ++readers[canonical_value(input)];
    return readers;
}

// Whether a layer's "activation" attribute is the identity ("none" or "linear") and no map
// folded after it (AffineSide::after_activation) applies after it either.
inline bool without_activation(const Node& layer) {
    const std::string& own = layer.attrs.get_string("activation");
    const bool after =
        std::any_of(layer.folded.begin(), layer.folded.end(),
                    [](const FoldedNode& f) { return f.side == AffineSide::after_activation; });
    return (own == "none" || own == "linear") && !after;
}

// The graph without the nodes `merged_into` names (merged node -> the node now computing its
// output 0): what read them, nodes and graph outputs, reads that node instead. `edit` changes
// each node that is kept before its inputs are renamed (an input it adds is renamed too).
inline Graph merge_nodes(const Graph& graph, const std::map<std::string, std::string>& merged_into,
                         const std::function<void(Node&)>& edit) {
    const auto resolve = [&merged_into](const std::string& value) {
        const std::string key = canonical_value(value);
        const auto it = merged_into.find(key);
        return it == merged_into.end() ? key : it->second;
    };
    Graph out = graph;
    out.nodes.clear();
    for (const Node& node : graph.nodes) {
        if (merged_into.count(node.name)) continue;
        Node kept = node;
        edit(kept);
        for (std::string& input : kept.inputs) input = resolve(input);
        out.nodes.push_back(std::move(kept));
    }
    for (std::string& output : out.outputs) output = resolve(output);
    return out;
}

}  // namespace opgraph::detail
