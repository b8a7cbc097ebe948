#include "opgraph/passes/autodiff.hpp"

#include <algorithm>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/passes/pipeline.hpp"

namespace opgraph {

namespace {

[[noreturn]] void fail(const SourceLocation& where, const std::string& node,
                       const std::string& message) {
    Diagnostics diagnostics;
    diagnostics.add(where, node, {}, message);
    throw GraphError(diagnostics.items());
}

}  // namespace

BackwardGraph differentiate(const Graph& graph, const std::string& loss, const OpRegistry& ops,
                            const std::set<std::string>& frozen_params) {
    BackwardGraph out;
    out.graph = graph;
    const std::string loss_value = canonical_value(loss);
    ValueRef loss_ref;
    parse_value_ref(loss_value, loss_ref);
    const Node* loss_node = graph.find_node(loss_ref.name);
    if (loss_node == nullptr ||
        loss_node->output_shapes.size() <= static_cast<std::size_t>(loss_ref.output) ||
        !loss_node->output_shapes[static_cast<std::size_t>(loss_ref.output)].empty())
        fail({graph.file, 0, 0}, loss, "the loss must be a scalar node output");

    // Which values depend on a trainable parameter (only those need gradients).
    std::set<std::string> requires_grad;
    std::map<std::string, std::vector<std::string>> trainable;  // node -> its trained params
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        bool needs = false;
        if (def != nullptr && def->params) {
            std::vector<Shape> inputs;
            for (const std::string& in : node.inputs) inputs.push_back(*graph.shape_of(in));
            for (const ParamSpec& p : def->params(OpContext(node.name, node.attrs, inputs)))
                if (p.trainable && !frozen_params.count(param_value_name(node.name, p.name))) {
                    trainable[node.name].push_back(p.name);
                    needs = true;
                }
        }
        for (const std::string& in : node.inputs)
            needs = needs || requires_grad.count(canonical_value(in));
        if (needs)
            for (std::size_t i = 0; i < node.output_shapes.size(); ++i)
                requires_grad.insert(value_name(node.name, i));
    }

    out.loss_grad = "d_" + loss_node->name;
    out.graph.inputs.push_back({out.loss_grad, {}, loss_node->where});
    std::map<std::string, std::vector<std::string>> contributions{{loss_value, {out.loss_grad}}};
    std::size_t sums = 0;
    // The summed gradient of `value`, emitting an add node when it has several parts.
    auto gradient_of = [&](const std::string& value, const Node& at) -> std::string {
        auto it = contributions.find(value);
        if (it == contributions.end()) return {};
        if (it->second.size() == 1) return it->second.front();
        Node sum;
        sum.name = "grad_sum_" + std::to_string(++sums) + "/" + value;
        sum.op = kGradientSumOp;
        sum.inputs = it->second;
        sum.input_where.assign(sum.inputs.size(), at.where);
        sum.where = at.where;
        sum.dtype = graph.dtype_of(value).value_or(DType::f32);  // a gradient has its value's type
        out.graph.nodes.push_back(sum);
        it->second = {sum.name};
        return sum.name;
    };

    for (auto node_it = graph.nodes.rbegin(); node_it != graph.nodes.rend(); ++node_it) {
        const Node& node = *node_it;
        if (!requires_grad.count(node.name)) continue;
        std::vector<std::string> diff_dst;
        bool any = false;
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i) {
            diff_dst.push_back(gradient_of(value_name(node.name, i), node));
            any = any || !diff_dst.back().empty();
        }
        if (!any) continue;  // nothing downstream reaches the loss
        const OpDef* def = ops.find(node.op);
        if (def == nullptr || !def->gradient)
            fail(node.where, node.name,
                 "op '" + node.op +
                     "' has no gradient rule, so the loss "
                     "cannot be differentiated through this node");
        std::vector<bool> needs;
        for (const std::string& in : node.inputs)
            needs.push_back(requires_grad.count(canonical_value(in)) > 0);
        std::vector<DType> input_dtypes;
        for (const std::string& in : node.inputs)
            input_dtypes.push_back(graph.dtype_of(in).value_or(DType::f32));
        GradientBuilder builder(node, diff_dst, needs, trainable[node.name], input_dtypes);
        def->gradient(builder);
        if (builder.reads_saved())
            std::find_if(out.graph.nodes.begin(), out.graph.nodes.end(), [&](const Node& n) {
                return n.name == node.name;
            })->saves = true;
        for (const Node& emitted : builder.emitted()) out.graph.nodes.push_back(emitted);
        for (std::size_t i = 0; i < node.inputs.size(); ++i)
            if (needs[i] && !builder.diff_inputs()[i].empty())
                contributions[canonical_value(node.inputs[i])].push_back(builder.diff_inputs()[i]);
        for (const std::string& p : trainable[node.name]) {
            auto grad = builder.diff_params().find(param_value_name(node.name, p));
            if (grad == builder.diff_params().end())
                fail(node.where, node.name,
                     "the gradient rule of op '" + node.op + "' gives no gradient for parameter '" +
                         p + "'");
            out.param_grads[grad->first] = grad->second;
        }
    }
    out.graph = checked_graph(out.graph, ops);
    return out;
}

}  // namespace opgraph
