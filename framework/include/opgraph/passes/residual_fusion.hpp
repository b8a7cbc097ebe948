// The fuse_residual_add pass: a two-input add whose one input is a convolution's output that
// only it reads moves into that convolution as its residual input (a oneDNN sum post-op), in
// inference graphs: ResNet's conv -> batch norm (folded) -> add -> relu becomes one primitive
// once fuse_activations has moved the relu in too.
#pragma once

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// Fuses every two-input node whose op has OpDef::sums_inputs into the producer of one of its
// inputs when that is a node of an op with OpDef::fuses_residual, without a residual or an
// activation of its own, whose output 0 only this node reads and is no graph output, and the
// other input is defined before that producer (the later of two candidates is taken). What
// read the sum reads the producer instead. For graphs compiled with training = false, after
// fold_affine and before fuse_activations.
Graph fuse_residual_adds(const Graph& graph, const OpRegistry& ops);

}  // namespace opgraph
