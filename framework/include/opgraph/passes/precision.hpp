// The precision pass: the element type each node computes in, and the casts between them.
//
// As Keras's mixed_bfloat16 policy and PyTorch's CPU autocast: with precision bf16, every
// node whose op has a bf16 kernel (OpDef::dtypes: convolutions, dense layers, pooling,
// element-wise ops, batch norm's data, reshapes) computes in bf16; softmax, losses and every
// op without one stay f32, as do all parameters, their gradients and optimizer state (master
// weights). A node the file pins with `precision: f32` (or bf16) keeps that type whatever the
// precision. Then a cast node goes wherever a value's type differs from its reader's, one per
// (value, type), so that chains of bf16 layers pass bf16 values to each other with no
// conversion in between.
#pragma once

#include "opgraph/core/dtype.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// The op of the conversions the pass inserts (operators/cast.cpp; attribute "to").
inline constexpr const char* kCastOp = "cast";

// The cast of `value` to `type` a pass inserts for `reader`: named "<value>/to_<type>", at the
// reader's place in the file.
Node cast_node(const std::string& value, DType type, const Node& reader);

// Gives every node its dtype for `precision` (f32 or bf16) and inserts the casts, named
// "<value>/to_<type>" (a graph input "image" read by a bf16 conv: "image/to_bf16"). With
// precision f32 and no pinned node it returns the graph unchanged. Returns the graph with
// shapes and types inferred; throws GraphError when that fails.
Graph assign_precision(const Graph& graph, DType precision, const OpRegistry& ops);

}  // namespace opgraph
