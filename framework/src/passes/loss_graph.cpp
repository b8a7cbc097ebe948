#include "opgraph/passes/loss_graph.hpp"

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/passes/pipeline.hpp"

namespace opgraph {

namespace {

constexpr const char* kFromLogits = "from_logits";

// The logits feeding `prediction` when it is a softmax over the last axis, else empty.
std::string softmax_logits(const Node& prediction) {
    if (prediction.op != "softmax" || prediction.inputs.size() != 1) return {};
    const std::int64_t axis = prediction.attrs.get_int("axis");
    const std::size_t rank = prediction.output_shapes.front().size();
    return axis == -1 || axis == static_cast<std::int64_t>(rank) - 1 ? prediction.inputs[0]
                                                                     : std::string{};
}

}  // namespace

LossGraph with_loss(const Graph& model, const std::string& loss_op, const OpRegistry& ops) {
    const Node* output = model.find_node(model.outputs.at(0));
    Diagnostics diagnostics;
    if (output == nullptr || output->output_shapes.empty()) {
        diagnostics.add({model.file, 0, 0}, "model", "outputs",
                        "the first output must be a node's value to attach the loss to");
        diagnostics.throw_if_any();
    }
    const Shape& prediction = output->output_shapes.front();
    // One-hot first; class indices when the loss op refuses one-hot rows.
    for (const Shape& target : {prediction, Shape{prediction.front()}}) {
        LossGraph out;
        out.graph = model;
        out.prediction = model.outputs.front();
        out.sparse_target = target.size() == 1;
        out.graph.inputs.push_back({out.target, target, {}});
        Node node;
        node.name = out.loss;
        node.op = loss_op;
        node.inputs = {out.prediction, out.target};
        node.input_where = {{}, {}};
        const OpDef* def = ops.find(loss_op);
        if (def != nullptr)
            for (const AttrSpec& spec : def->attrs)
                if (spec.default_value) node.attrs.set(spec.name, *spec.default_value);
        const std::string logits = softmax_logits(*output);
        if (def != nullptr && find_attr(def->attrs, kFromLogits) && !logits.empty()) {
            node.inputs[0] = logits;
            node.attrs.set(kFromLogits, true);
        }
        out.graph.nodes.push_back(node);
        out.graph.outputs.push_back(out.loss);
        out.graph.output_where.push_back({});
        Diagnostics attempt;
        out.graph = check_graph(out.graph, ops, attempt);
        if (attempt.empty()) return out;
        diagnostics = attempt;
    }
    throw GraphError(diagnostics.items());
}

}  // namespace opgraph
