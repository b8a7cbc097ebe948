// The fold_affine pass: per-channel affine nodes (OpDef::inference_affine) folded into a
// neighbouring node whose op absorbs them (OpDef::absorbs_affine) in inference graphs: batch
// norm into the convolution before it (through its weights when no activation comes between,
// else as post-ops after the activation) or the one after it (through its weights, when it
// pads nothing), so that it costs nothing or one pass fused into the primitive.
//
// int8 graphs take no folds into the next layer's weights: a batch norm's scales differ
// between input channels (mnist.yaml's batch_norm_2: 30 for 2 channels, 0.3-0.8 for 14), and
// the per-output-channel weight scales of int8 then leave the small channels a few integer
// levels (-0.24 accuracy points on MNIST). After the activation, the map also brings each
// channel to a comparable range before the output is quantized.
#pragma once

#include <map>
#include <string>

#include "opgraph/core/dtype.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Moves every affine node of the plan below into its target's Node::folded (the input side
// first) and removes it from the graph; what read the affine node's output reads the target's
// output (output sides) or the affine node's input (input side). For graphs compiled with
// training = false, after drop_inference_identities; `precision` is the one they are compiled
// for (s8: int8, or the f32 graph its calibration runs).
Graph fold_affine(const Graph& graph, const OpRegistry& ops, DType precision = DType::f32);

namespace detail {

struct AffineFold {
    std::string target;  // the node whose kernel applies the map
    AffineSide side;     // to the target's input 0 or its output
};

// affine node -> its fold. A node folds when exactly one other node reads the values it
// touches (looking through inference identities such as dropout), that node's op absorbs
// the map on that side, no graph output is one of those values, and each target absorbs at
// most one node per side. The sides are tried in the order output, input (not for s8),
// after_activation; the output side only for a target with one input.
std::map<std::string, AffineFold> plan_affine_folds(const Graph& graph, const OpRegistry& ops,
                                                    DType precision = DType::f32);

}  // namespace detail
}  // namespace opgraph
