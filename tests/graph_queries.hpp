// Lookups the pass tests share: a node that must be there, and how many nodes an op has.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "opgraph/ir/graph.hpp"

namespace opgraph::testing {

// The node named `name`; a test failure when there is none.
inline const Node& node(const Graph& g, const std::string& name) {
    const Node* n = g.find_node(name);
    EXPECT_NE(n, nullptr) << name;
    return *n;
}

inline std::size_t count_op(const Graph& g, const std::string& op) {
    return static_cast<std::size_t>(
        std::count_if(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.op == op; }));
}

}  // namespace opgraph::testing
