#include <algorithm>
#include <map>
#include <set>

#include "opgraph/core/suggest.hpp"
#include "opgraph/passes/passes.hpp"

namespace opgraph {

namespace {

// Every value name: graph inputs and node names, first definition wins.
std::map<std::string, SourceLocation> check_names(const Graph& graph, Diagnostics& diagnostics) {
    std::map<std::string, SourceLocation> defined;
    auto define = [&](const std::string& name, const SourceLocation& where) {
        auto [it, fresh] = defined.emplace(name, where);
        if (!fresh)
            diagnostics.add(where, name, "name",
                            "duplicate name (first defined at line " +
                                std::to_string(it->second.line) + ", column " +
                                std::to_string(it->second.column) + ")");
    };
    // An empty name was refused where it was read; several of them are not duplicates.
    for (const GraphInput& input : graph.inputs)
        if (!input.name.empty()) define(input.name, input.where);
    for (const Node& node : graph.nodes)
        if (!node.name.empty()) define(node.name, node.where);
    return defined;
}

void check_references(const Graph& graph, const OpRegistry& ops,
                      const std::map<std::string, SourceLocation>& defined,
                      Diagnostics& diagnostics) {
    std::vector<std::string> names;
    for (const auto& [name, where] : defined) names.push_back(name);
    auto check = [&](const std::string& text, const SourceLocation& where, const std::string& owner,
                     const std::string& key) {
        ValueRef ref;
        if (!parse_value_ref(text, ref)) {
            diagnostics.add(where, owner, key,
                            "'" + text + "' is not a value name (name or name:index)");
        } else if (!defined.count(ref.name)) {
            diagnostics.add(
                where, owner, key,
                "'" + ref.name + "' names no node or graph input" + did_you_mean(ref.name, names));
        }
    };
    for (const Node& node : graph.nodes) {
        for (std::size_t i = 0; i < node.inputs.size(); ++i)
            check(node.inputs[i], node.input_where.at(i), node.name, "inputs");
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) continue;
        const std::size_t n = node.inputs.size();
        if (def->variadic_min > 0 && n < def->variadic_min) {
            diagnostics.add(node.where, node.name, "inputs",
                            "op '" + node.op + "' takes at least " +
                                std::to_string(def->variadic_min) + " inputs, got " +
                                std::to_string(n));
        } else if (def->variadic_min == 0 && !def->takes_inputs(n)) {
            const std::size_t required = def->inputs.size() - def->optional_inputs;
            std::string expected;
            for (std::size_t i = 0; i < def->inputs.size(); ++i)
                expected +=
                    (i == 0 ? "" : ", ") + def->inputs[i] + (i >= required ? " (optional)" : "");
            const std::string count =
                required == def->inputs.size()
                    ? std::to_string(required)
                    : std::to_string(required) + " to " + std::to_string(def->inputs.size());
            const std::string takes =
                "op '" + node.op + "' takes " + count + " input(s) (" + expected + ")";
            diagnostics.add(node.where, node.name, "inputs",
                            n == 0 ? "missing required attribute: " + takes
                                   : takes + ", got " + std::to_string(n));
        }
    }
    // A graph without nodes has been reported by whoever built it (the loader says why it read
    // none); only a graph with nodes but no outputs is a problem of its own.
    if (graph.outputs.empty() && (!graph.nodes.empty() || diagnostics.empty())) {
        diagnostics.add({graph.file, 1, 1}, "model", "outputs", "the graph has no outputs");
    }
    for (std::size_t i = 0; i < graph.outputs.size(); ++i)
        check(graph.outputs[i], graph.output_where.at(i), "model", "outputs");
}

// Kahn's algorithm; nodes left over lie on or behind a cycle, each cycle reported as a path.
std::vector<Node> topological_order(const Graph& graph, Diagnostics& diagnostics) {
    // A name resolves to its first definition, as in check_names: a graph input before any
    // node, else the first node of that name. A duplicate is reported there, not again as a
    // cycle through the wrong definition.
    std::map<std::string, std::size_t> index;
    std::set<std::string> inputs;
    for (const GraphInput& input : graph.inputs) inputs.insert(input.name);
    for (std::size_t i = 0; i < graph.nodes.size(); ++i)
        if (!inputs.count(graph.nodes[i].name)) index.emplace(graph.nodes[i].name, i);
    const std::size_t n = graph.nodes.size();
    std::vector<std::vector<std::size_t>> consumers(n), producers(n);
    std::vector<std::size_t> pending(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        for (const std::string& text : graph.nodes[i].inputs) {
            ValueRef ref;
            if (!parse_value_ref(text, ref)) continue;
            auto it = index.find(ref.name);
            if (it == index.end()) continue;
            consumers[it->second].push_back(i);
            producers[i].push_back(it->second);
            ++pending[i];
        }
    }
    std::vector<std::size_t> ready, order;
    for (std::size_t i = 0; i < n; ++i)
        if (pending[i] == 0) ready.push_back(i);
    std::reverse(ready.begin(), ready.end());  // keep file order among independent nodes
    while (!ready.empty()) {
        const std::size_t i = ready.back();
        ready.pop_back();
        order.push_back(i);
        std::vector<std::size_t> next;
        for (std::size_t c : consumers[i])
            if (--pending[c] == 0) next.push_back(c);
        std::sort(next.rbegin(), next.rend());
        ready.insert(ready.end(), next.begin(), next.end());
        std::sort(ready.rbegin(), ready.rend());
    }
    std::vector<bool> placed(n, false);
    for (std::size_t i : order) placed[i] = true;
    std::vector<bool> reported(n, false);
    for (std::size_t start = 0; start < n; ++start) {
        if (placed[start] || reported[start]) continue;
        // Walk backwards through unplaced producers until a node repeats: that is a cycle.
        std::vector<std::size_t> walk{start};
        std::map<std::size_t, std::size_t> seen{{start, 0}};
        std::size_t at = start;
        for (;;) {
            std::size_t prev = n;
            for (std::size_t p : producers[at])
                if (!placed[p]) {
                    prev = p;
                    break;
                }
            if (prev == n) break;  // cannot happen: an unplaced node has an unplaced producer
            if (auto it = seen.find(prev); it != seen.end()) {
                std::vector<std::size_t> cycle(walk.begin() + static_cast<long>(it->second),
                                               walk.end());
                std::reverse(cycle.begin(), cycle.end());  // data-flow order
                auto first = std::min_element(cycle.begin(), cycle.end());
                std::rotate(cycle.begin(), first, cycle.end());
                bool fresh = true;
                for (std::size_t c : cycle) fresh = fresh && !reported[c];
                if (fresh) {
                    std::string path;
                    for (std::size_t c : cycle) {
                        path += graph.nodes[c].name + " -> ";
                        reported[c] = true;
                    }
                    path += graph.nodes[cycle.front()].name;
                    diagnostics.add(graph.nodes[cycle.front()].where,
                                    graph.nodes[cycle.front()].name, "inputs", "cycle: " + path);
                }
                break;
            }
            seen.emplace(prev, walk.size());
            walk.push_back(prev);
            at = prev;
        }
    }
    std::vector<Node> nodes;
    for (std::size_t i : order) nodes.push_back(graph.nodes[i]);
    for (std::size_t i = 0; i < n; ++i)
        if (!placed[i]) nodes.push_back(graph.nodes[i]);
    return nodes;
}

}  // namespace

Graph validate_structure(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics) {
    const auto defined = check_names(graph, diagnostics);
    check_references(graph, ops, defined, diagnostics);
    Graph result = graph;
    result.nodes = topological_order(graph, diagnostics);
    return result;
}

}  // namespace opgraph
