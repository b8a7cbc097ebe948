// Graphviz output: labels break lines with DOT's own escape (one backslash), folded nodes are
// named in their target's box, and -o FILE.svg|png|pdf renders through Graphviz.
#include "opgraph/tools/dot.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/tools/stages.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

opgraph::ModelFile mnist() {
    return opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml", ops(),
                                    opgraph::testing::training_specs());
}

std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path temp_file(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "opgraph_dot_test";
    std::filesystem::create_directories(dir);
    return dir / name;
}

TEST(Dot, LabelsBreakLinesWithOneEscape) {
    const std::string text = opgraph::to_dot(mnist().graph);
    EXPECT_NE(text.find("[label=\"conv2d\\nconv2d\\n(None, 26, 26, 32) f32\"]"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("\\\\n"), std::string::npos) << text;  // no escaped backslash
}

TEST(Dot, FoldedNodesAreShownInTheirTargetsBox) {
    const std::string text = opgraph::to_dot(opgraph::graph_at_stage(mnist(), "inference", ops()));
    EXPECT_NE(
        text.find("\"conv2d_9\" [label=\"conv2d_9\\nconv2d\\n+ before: batch_norm "
                  "'batch_norm_5'\\n+ after: batch_norm 'batch_norm_6'\\n(None, 1, 1, 10) f32\"]"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("dropout"), std::string::npos) << text;
}

TEST(Dot, SvgRenderedByGraphvizHasOneTextLinePerLabelLine) {
    const auto file = temp_file("mnist.svg");
    opgraph::write_dot(opgraph::to_dot(mnist().graph), file);
    const std::string svg = slurp(file);
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find(">conv2d_9</text>"), std::string::npos) << svg.substr(0, 2000);
    EXPECT_NE(svg.find(">(None, 1, 1, 10) f32</text>"), std::string::npos) << svg.substr(0, 2000);
    EXPECT_EQ(svg.find("\\n"), std::string::npos) << "a literal \\n was drawn";
}

TEST(Dot, PngAndPdfAreRendered) {
    const auto png = temp_file("mnist.png");
    const auto pdf = temp_file("mnist.pdf");
    const std::string text = opgraph::to_dot(mnist().graph);
    opgraph::write_dot(text, png);
    opgraph::write_dot(text, pdf);
    EXPECT_EQ(slurp(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(slurp(pdf).substr(0, 5), "%PDF-");
}

TEST(Dot, AnUnknownExtensionIsAUsageError) {
    EXPECT_THROW(opgraph::write_dot("digraph g {}", temp_file("graph.jpeg2000")),
                 opgraph::UsageError);
    const auto text = temp_file("graph.dot");
    opgraph::write_dot("digraph g {}\n", text);
    EXPECT_EQ(slurp(text), "digraph g {}\n");
}

}  // namespace

namespace {

// With --precision bf16 the drawing shows each value's type and the casts the pass put in.
TEST(Dot, ShowsElementTypesAndCasts) {
    const std::string text =
        opgraph::to_dot(opgraph::graph_at_stage(mnist(), "inference", ops(), opgraph::DType::bf16));
    EXPECT_NE(
        text.find("\"image/to_bf16\" [label=\"image/to_bf16\\ncast\\n(None, 28, 28, 1) bf16\"]"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("(None, 10) f32"), std::string::npos) << text;  // softmax
}

}  // namespace
