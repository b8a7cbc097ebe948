// A model graph with its loss attached: a "target" input and a "loss" node applying the
// training section's loss op to the model's first output. What evaluation and training run.
#pragma once

#include <string>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct LossGraph {
    Graph graph;             // shapes inferred; outputs: the model's outputs, then "loss"
    std::string prediction;  // the model output the loss reads
    std::string target = "target";
    std::string loss = "loss";
    bool sparse_target = false;  // class indices (batch) rather than one-hot rows
};

// The target is one-hot (the prediction's shape) unless the loss op's shape function only
// accepts class indices. When the prediction is a softmax and the loss takes `from_logits`,
// the loss reads the softmax's input with from_logits = true: log-softmax and cross-entropy
// in one numerically stable op whose gradient never divides by a probability (the softmax
// still runs for the prediction and the accuracy). Throws GraphError naming the loss.
LossGraph with_loss(const Graph& model, const std::string& loss_op, const OpRegistry& ops);

}  // namespace opgraph
