// Which per-channel affine nodes an inference Program folds into a neighbouring node
// (OpDef::inference_affine, OpDef::absorbs_affine): batch norm into the convolution before
// it (no activation in between) or the one after it (no padding), so that it costs nothing.
#pragma once

#include <map>
#include <string>

#include "opgraph/graph.hpp"
#include "opgraph/kernel.hpp"
#include "opgraph/op_registry.hpp"

namespace opgraph::detail {

struct AffineFold {
    std::string target;  // the node whose kernel applies the map
    AffineSide side;     // to the target's input 0 or its output
};

// affine node -> its fold. A node folds when exactly one other node reads the values it
// touches (looking through inference identities such as dropout), that node's op absorbs
// the map on that side, no graph output is one of those values, and each target absorbs at
// most one node per side. The producer side is tried first.
std::map<std::string, AffineFold> plan_affine_folds(const Graph& graph, const OpRegistry& ops);

}  // namespace opgraph::detail
