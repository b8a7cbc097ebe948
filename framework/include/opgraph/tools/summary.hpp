// A Keras-style model summary: one row per node with its output shape and parameter count,
// the totals, and what Keras does not show: forward multiply-adds and activation memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct SummaryRow {
    std::string layer;
    std::string op;
    Shape output_shape;               // first output
    DType dtype = DType::f32;         // its element type
    std::vector<std::string> inputs;  // the values it reads
    std::int64_t params = 0;
    std::int64_t trainable_params = 0;
    std::int64_t macs = 0;              // forward multiply-adds per sample
    std::int64_t activation_bytes = 0;  // outputs per sample, at their element types
};

struct ModelSummary {
    std::string name;
    std::vector<SummaryRow> rows;
    std::int64_t total_params = 0;
    std::int64_t trainable_params = 0;
    std::int64_t macs = 0;
    std::int64_t activation_bytes = 0;  // inputs and every node output, per sample
    bool sequential = true;  // every node reads the one before it: no "Connected to" column
};

// Requires a graph whose shapes have been inferred.
ModelSummary summarize(const Graph& graph, const OpRegistry& ops);

// The table as Keras prints it, with MACs and activation memory columns and totals; a
// "Connected to" column as in Keras's functional models when the graph is not a chain.
std::string format_summary(const ModelSummary& summary);

// 14568 -> "14,568"
std::string group_thousands(std::int64_t value);

}  // namespace opgraph
