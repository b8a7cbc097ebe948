// The fold_affine pass: per-channel affine nodes (OpDef::inference_affine) folded into a
// neighbouring node whose op absorbs them (OpDef::absorbs_affine) in inference graphs: batch
// norm into the convolution before it (no activation in between) or the one after it (no
// padding), so that it costs nothing.
#pragma once

#include <map>
#include <string>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Moves every affine node of the plan below into its target's Node::folded (the input side
// first) and removes it from the graph; what read the affine node's output reads the target's
// output (output side) or the affine node's input (input side). For graphs compiled with
// training = false, after drop_inference_identities.
Graph fold_affine(const Graph& graph, const OpRegistry& ops);

namespace detail {

struct AffineFold {
    std::string target;  // the node whose kernel applies the map
    AffineSide side;     // to the target's input 0 or its output
};

// affine node -> its fold. A node folds when exactly one other node reads the values it
// touches (looking through inference identities such as dropout), that node's op absorbs
// the map on that side, no graph output is one of those values, and each target absorbs at
// most one node per side. The producer side is tried first.
std::map<std::string, AffineFold> plan_affine_folds(const Graph& graph, const OpRegistry& ops);

}  // namespace detail
}  // namespace opgraph
