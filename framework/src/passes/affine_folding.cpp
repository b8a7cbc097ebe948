#include "opgraph/passes/affine_folding.hpp"

#include <set>
#include <utility>
#include <vector>

#include "opgraph/op/op_def.hpp"

namespace opgraph::detail {

namespace {

bool is_identity(const OpDef* def, const Node& node) {
    return def != nullptr && def->inference_identity && node.inputs.size() == 1;
}

}  // namespace

std::map<std::string, AffineFold> plan_affine_folds(const Graph& graph, const OpRegistry& ops,
                                                    DType precision) {
    // Values as an inference Program holds them: an identity node's output is its input.
    std::map<std::string, std::string> alias;
    const auto resolve = [&alias](const std::string& value) {
        const auto it = alias.find(value);
        return it == alias.end() ? value : it->second;
    };
    // value -> (reading node, input index), identities looked through
    std::map<std::string, std::vector<std::pair<const Node*, std::size_t>>> readers;
    for (const Node& node : graph.nodes) {
        if (is_identity(ops.find(node.op), node)) {
            alias[node.name] = resolve(node.inputs.front());
            continue;
        }
        for (std::size_t i = 0; i < node.inputs.size(); ++i)
            readers[resolve(node.inputs[i])].emplace_back(&node, i);
    }
    std::set<std::string> outputs;
    for (const std::string& out : graph.outputs) outputs.insert(resolve(out));

    // The one node reading `value` (as input `index`), or null.
    const auto sole_reader = [&](const std::string& value, std::size_t index) -> const Node* {
        if (outputs.count(value)) return nullptr;
        const auto it = readers.find(value);
        if (it == readers.end() || it->second.size() != 1 || it->second.front().second != index)
            return nullptr;
        return it->second.front().first;
    };
    std::map<std::string, AffineFold> folds;
    std::set<std::pair<std::string, AffineSide>> absorbing;  // (target, side) taken
    const auto absorbs = [&](const Node* target, AffineSide side) {
        if (target == nullptr || absorbing.count({target->name, side})) return false;
        // A map on the output of a node that reads more data (conv2d's residual) would apply
        // to that too.
        if (side == AffineSide::output && target->inputs.size() != 1) return false;
        const OpDef* def = ops.find(target->op);
        return def != nullptr && def->absorbs_affine && def->absorbs_affine(target->attrs, side);
    };
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr || !def->inference_affine || node.inputs.size() != 1 ||
            node.output_shapes.size() != 1)
            continue;
        const std::string input = resolve(node.inputs.front());
        const Node* producer = graph.find_node(input);  // null for graph inputs and "n:1"
        const Node* reader = sole_reader(node.name, 0);
        const bool after_producer = producer != nullptr && sole_reader(input, 0) == &node &&
                                    producer->output_shapes.size() == 1;
        AffineFold fold;
        if (after_producer && absorbs(producer, AffineSide::output)) {
            fold = {producer->name, AffineSide::output};
        } else if (precision != DType::s8 && absorbs(reader, AffineSide::input)) {
            fold = {reader->name, AffineSide::input};
        } else if (after_producer && absorbs(producer, AffineSide::after_activation)) {
            fold = {producer->name, AffineSide::after_activation};
        } else {
            continue;
        }
        absorbing.insert({fold.target, fold.side});
        folds.emplace(node.name, std::move(fold));
    }
    return folds;
}

}  // namespace opgraph::detail

namespace opgraph {

Graph fold_affine(const Graph& graph, const OpRegistry& ops, DType precision) {
    const std::map<std::string, detail::AffineFold> folds =
        detail::plan_affine_folds(graph, ops, precision);
    if (folds.empty()) return graph;
    std::map<std::string, std::string> now_in;  // folded node -> the value now holding its output
    std::map<std::string, std::vector<FoldedNode>> absorbed;  // target -> its folded nodes
    for (const auto& [name, fold] : folds) {
        const Node& affine = *graph.find_node(name);
        now_in[name] = fold.side == AffineSide::input ? affine.inputs.front() : fold.target;
        std::vector<FoldedNode>& list = absorbed[fold.target];
        if (fold.side == AffineSide::input)
            list.insert(list.begin(), {affine, fold.side});
        else
            list.push_back({affine, fold.side});
    }
    const auto rename = [&now_in](std::string& value) {  // through chains of folded nodes
        for (auto it = now_in.find(value); it != now_in.end(); it = now_in.find(value))
            value = it->second;
    };
    Graph out = graph;
    out.nodes.clear();
    for (const Node& node : graph.nodes) {
        if (folds.count(node.name)) continue;
        Node kept = node;
        for (std::string& input : kept.inputs) rename(input);
        if (const auto it = absorbed.find(node.name); it != absorbed.end())
            kept.folded = it->second;
        out.nodes.push_back(std::move(kept));
    }
    for (std::string& output : out.outputs) rename(output);
    return out;
}

}  // namespace opgraph
