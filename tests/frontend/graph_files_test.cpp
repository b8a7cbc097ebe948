// Every graph shipped in graphs/ and every model example in graphs/README.md is valid.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace {

const std::filesystem::path kGraphs = std::filesystem::path(OPGRAPH_SOURCE_DIR) / "graphs";

opgraph::Session core_session() {
    return opgraph::Session(opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false});
}

TEST(GraphFiles, EveryShippedGraphIsValid) {
    const opgraph::Session session = core_session();
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kGraphs)) {
        if (entry.path().extension() != ".yaml") continue;
        SCOPED_TRACE(entry.path().string());
        try {
            const opgraph::ModelFile model = opgraph::load_model_file(
                entry.path(), session.ops(), opgraph::testing::training_specs());
            EXPECT_TRUE(model.training.has_value());
        } catch (const opgraph::GraphError& e) {
            ADD_FAILURE() << e.what();
        }
        ++checked;
    }
    EXPECT_GE(checked, 3);
}

TEST(GraphReadme, ExamplesAreValid) {
    const opgraph::Session session = core_session();
    std::ifstream in(kGraphs / "README.md");
    std::stringstream text;
    text << in.rdbuf();
    const std::string readme = text.str();
    const std::string open = "```yaml\n", close = "```\n";
    int checked = 0;
    for (std::size_t at = readme.find(open); at != std::string::npos; at = readme.find(open, at)) {
        const std::size_t begin = at + open.size();
        const std::size_t end = readme.find(close, begin);
        ASSERT_NE(end, std::string::npos);
        const std::string example = readme.substr(begin, end - begin);
        at = end + close.size();
        if (example.rfind("model:", 0) != 0) continue;
        SCOPED_TRACE(example);
        try {
            opgraph::parse_model(example, "README example", session.ops(),
                                 opgraph::testing::training_specs());
        } catch (const opgraph::GraphError& e) {
            ADD_FAILURE() << e.what();
        }
        ++checked;
    }
    EXPECT_GE(checked, 5);
}

}  // namespace
