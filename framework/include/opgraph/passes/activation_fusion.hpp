// The fuse_activations pass: an activation node (relu, leaky_relu, sigmoid, tanh) that is the
// only reader of a layer's output moves into that layer as its fused activation (a oneDNN
// post-op), in inference graphs: conv -> batch norm (folded) -> relu becomes one primitive.
#pragma once

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Fuses every node whose op has OpDef::as_fused_activation into its producer when that is a
// node of an op with OpDef::fuses_activation, without an activation of its own, whose first
// output only this node reads and is no graph output. What read the activation node reads the
// layer instead. For graphs compiled with training = false, after fold_affine.
Graph fuse_activations(const Graph& graph, const OpRegistry& ops);

}  // namespace opgraph
