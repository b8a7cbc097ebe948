// Reverse-mode automatic differentiation as a graph pass.
//
// From a scalar loss value, each node's gradient rule is applied in reverse topological
// order; the gradients of a value used more than once are summed by explicit `add` nodes;
// nothing is emitted for values that do not depend on a trainable parameter (graph inputs,
// frozen parameters and what only they feed). The result is an ordinary graph: forward
// nodes, then backward nodes, run by the same executor.
#pragma once

#include <map>
#include <set>
#include <string>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct BackwardGraph {
    Graph graph;            // forward + backward nodes, shapes inferred
    std::string loss_grad;  // graph input holding d loss / d loss (write 1 before running)
    std::map<std::string, std::string> param_grads;  // "conv2d/kernel" -> its gradient value
};

// The op that sums gradients (a plugin op like any other: the core plugin's `add`).
inline constexpr const char* kGradientSumOp = "add";

// Throws GraphError naming the node when an op on the path to a parameter has no gradient
// rule, or when `loss` is not a scalar value of the graph.
BackwardGraph differentiate(const Graph& graph, const std::string& loss, const OpRegistry& ops,
                            const std::set<std::string>& frozen_params = {});

}  // namespace opgraph
