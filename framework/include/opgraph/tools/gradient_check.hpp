// The shared finite-difference check of gradient rules.
//
// For one op and one GradCheckCase: build the graph inputs -> op -> (its gradient rule's
// backward nodes), draw inputs as the case says, a random projection r of each output, and
// compare the analytic gradient of L = sum(r * y) with respect to every differentiated input
// and parameter against central differences (L(x + e) - L(x - e)) / 2e, computed in double
// from float32 kernels. Elements are sampled when a tensor is large.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct GradCheckOptions {
    double epsilon = 1e-2;  // perturbation
    // |a - n| <= tol * max(|a|, |n|, a tenth of the tensor's largest gradient, 1e-4), unless
    // the case sets its own.
    double tolerance = 2e-2;
    std::size_t max_elements = 48;  // checked elements per tensor (sampled beyond that)
    std::uint64_t seed = 1;
};

struct GradCheckResult {
    std::string op;
    std::string label;  // the case's label
    bool passed = false;
    double worst = 0;         // largest relative error (see GradCheckOptions::tolerance)
    std::size_t checked = 0;  // elements compared
    std::string detail;       // the worst element, or why the case could not run
};

// Runs every case the op declares. Throws std::invalid_argument for an unknown op or one
// with no gradient rule or no cases.
std::vector<GradCheckResult> check_gradients(const OpRegistry& ops, const std::string& op,
                                             const GradCheckOptions& options = {});

// The ops that have a gradient rule, sorted: what the conformance suite covers.
std::vector<std::string> differentiable_ops(const OpRegistry& ops);

}  // namespace opgraph
