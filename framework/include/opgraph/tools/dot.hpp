// Graphviz export of a graph: one box per node (name, op, output shape, and the nodes folded
// into it), one edge per input, and rendering through Graphviz's `dot` program.
#pragma once

#include <filesystem>
#include <string>

#include "opgraph/ir/graph.hpp"

namespace opgraph {

// The graph in the DOT language; labels break lines with DOT's own "\n" escape.
std::string to_dot(const Graph& graph);

// Writes `dot_text` to `file`: as it is for .dot and .gv, else rendered by Graphviz's `dot`
// (.svg, .png, .pdf). Throws UsageError for another extension, Error(usage) when Graphviz is
// not installed or fails, naming the file.
void write_dot(const std::string& dot_text, const std::filesystem::path& file);

}  // namespace opgraph
