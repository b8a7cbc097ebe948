// The gradient conformance suite: every registered op with a gradient rule passes the shared
// finite-difference check in every configuration it declares. A new op is covered by
// declaring its cases in its own file; no test is written for it here.
#include "opgraph/tools/gradient_check.hpp"

#include <gtest/gtest.h>

#include <iostream>

#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::testing::core_session;

class GradientConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(GradientConformance, MatchesCentralDifferences) {
    const auto results = opgraph::check_gradients(core_session().ops(), GetParam());
    ASSERT_FALSE(results.empty());
    for (const auto& r : results) {
        std::cout << "[gradcheck] " << r.op << " / " << r.label << ": "
                  << (r.passed ? "ok" : "FAILED") << ", worst " << r.worst << " over " << r.checked
                  << " elements; " << r.detail << "\n";
        EXPECT_TRUE(r.passed) << r.op << " / " << r.label << ": " << r.detail;
        EXPECT_GT(r.checked, 0u) << r.op << " / " << r.label;
    }
}

INSTANTIATE_TEST_SUITE_P(EveryDifferentiableOp, GradientConformance,
                         ::testing::ValuesIn(opgraph::differentiable_ops(core_session().ops())),
                         [](const auto& info) { return info.param; });

TEST(GradientConformanceCoverage, PrintsTheOpsItRuns) {
    const auto ops = opgraph::differentiable_ops(core_session().ops());
    std::cout << "[gradcheck] ops covered (" << ops.size() << "):";
    for (const auto& op : ops) std::cout << " " << op;
    std::cout << "\n";
    for (const auto& op : ops) EXPECT_FALSE(core_session().ops().find(op)->gradcheck.empty()) << op;
    // Every op `opgraph ops` lists is covered, except the backward ops themselves (their
    // correctness is what the check of their forward op measures).
    for (const opgraph::OpDef* def : core_session().ops().all()) {
        if (def->category == "backward") continue;
        EXPECT_TRUE(def->gradient) << def->name << " has no gradient rule";
    }
}

}  // namespace
