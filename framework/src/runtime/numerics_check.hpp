// Internal: what --check-numerics does after each kernel (ProgramOptions::check_numerics).
#pragma once

#include <dnnl.hpp>
#include <string>

#include "opgraph/ir/graph.hpp"

namespace opgraph::detail {

// Throws NumericalError when `memory` (output `value` of `node`, of IR shape `shape`) holds
// a NaN or an infinity: "<file:line:col>: node 'N' (op 'O'): output 'V' [shape] holds nan at
// [i, j, ...]", the index being the first such element in IR order (row-major, channels
// last). Reads the memory once when every element is finite.
void check_finite(const Node& node, const std::string& value, const Shape& shape,
                  const dnnl::memory& memory);

}  // namespace opgraph::detail
