// Passes over the graph IR: pure functions Graph -> Graph that add every problem found to a
// Diagnostics list instead of stopping at the first.
#pragma once

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Checks references, duplicate names, arity, cycles (reported as a path a -> b -> a) and
// outputs; returns the graph with nodes in topological order.
Graph validate_structure(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics);

// Fills Node::output_shapes with each op's shape function. Nodes downstream of a failed one
// are skipped, so that one error is reported once.
Graph infer_shapes(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics);

}  // namespace opgraph
