// The drop_identities pass: removes the nodes that are the identity in inference.
#pragma once

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Removes every single-input node whose op is the identity in inference
// (OpDef::inference_identity, e.g. dropout); whatever read such a node's output (nodes and
// graph outputs) reads its input instead. Only for graphs compiled with training = false.
Graph drop_inference_identities(const Graph& graph, const OpRegistry& ops);

}  // namespace opgraph
