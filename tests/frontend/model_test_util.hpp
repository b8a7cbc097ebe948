// The model loader's diagnostics, checked the way its tests (tests/frontend) and the tests
// of the passes it runs (tests/passes) check them: text is loaded with parse_model against
// the core ops, and each diagnostic is expected at its exact line and column, with its node,
// its attribute and a part of its message.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace opgraph::testing {

inline const opgraph::OpRegistry& ops() {
    static const opgraph::Session session{
        opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    return session.ops();
}

inline opgraph::ModelFile load(const std::string& text) {
    return opgraph::parse_model(text, "g.yaml", ops(), opgraph::testing::training_specs());
}

inline std::string dump(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const Diagnostic& d : diagnostics) out += "\n  " + d.format();
    return out;
}

// The diagnostics parse_model throws for `text`; a test failure when it throws none.
inline std::vector<Diagnostic> errors_of(const std::string& text,
                                         const opgraph::YamlLimits& limits = {}) {
    try {
        opgraph::parse_model(text, "g.yaml", ops(), opgraph::testing::training_specs(), limits);
    } catch (const opgraph::GraphError& e) {
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::invalid_graph);
        return e.diagnostics();
    }
    ADD_FAILURE() << "the model loaded without an error";
    return {};
}

struct Expected {
    int line;
    int column;
    std::string node;
    std::string attribute;
    std::string message;  // a substring of the message
};

inline void expect_diagnostic(const Diagnostic& d, const Expected& e) {
    SCOPED_TRACE(d.format());
    EXPECT_EQ(d.where.file, "g.yaml");
    EXPECT_EQ(d.where.line, e.line);
    EXPECT_EQ(d.where.column, e.column);
    EXPECT_EQ(d.node, e.node);
    EXPECT_EQ(d.attribute, e.attribute);
    EXPECT_NE(d.message.find(e.message), std::string::npos)
        << "expected in the message: " << e.message;
}

// Exactly these diagnostics, in this order (the loader sorts them by position).
inline void expect_diagnostics(const std::vector<Diagnostic>& got,
                               const std::vector<Expected>& expected) {
    ASSERT_EQ(got.size(), expected.size()) << dump(got);
    for (std::size_t i = 0; i < got.size(); ++i) expect_diagnostic(got[i], expected[i]);
}

}  // namespace opgraph::testing
