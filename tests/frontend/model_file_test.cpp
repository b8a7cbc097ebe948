// The model loader as a whole: files on disk (load_model_file), every independent error of a
// file (in the model, its nodes, its structure, its shapes, its training section) reported in
// one run, and the models that load.
#include "opgraph/frontend/model_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "frontend/model_test_util.hpp"
#include "opgraph/core/diagnostic.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::Diagnostic;
using opgraph::testing::errors_of;
using opgraph::testing::expect_diagnostics;
using opgraph::testing::load;
using opgraph::testing::ops;

const opgraph::Node& node_named(const opgraph::Graph& graph, const std::string& name) {
    const opgraph::Node* node = graph.find_node(name);
    if (node == nullptr) throw std::runtime_error("no node " + name);
    return *node;
}

using Shape = opgraph::Shape;
constexpr std::int64_t None = opgraph::kDynamicDim;

// ---- files on disk

TEST(ModelFileErrors, UnknownOpInAFileOnDisk) {
    const std::string file = std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs/unknown_op.yaml";
    try {
        opgraph::load_model_file(file, ops(), opgraph::testing::training_specs());
        FAIL() << "loaded";
    } catch (const opgraph::GraphError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u) << e.what();
        EXPECT_EQ(e.diagnostics()[0].format(),
                  file +
                      ":5:12: error: node 'rleu': attribute 'op': unknown op 'rleu' (did you "
                      "mean 'relu'?)");
    }
}

// ---- whole files

// Independent errors in the model, its nodes, its structure, its shapes and its training
// section: every one is reported in the one run, top to bottom.
TEST(ModelFileErrors, AllIndependentErrorsOfAFileAreReportedInOneRun) {
    expect_diagnostics(
        errors_of(R"(model:
  name: several_errors
  inputs: {image: [28, 28, 1]}
  nodes:
    - {name: stem, op: conv2d, inputs: image, filters: 16, kernel: 3}
    - {name: left, op: conv2d, inputs: stem, filters: 16, kernel: 3, stride: 0}
    - {name: right, op: conv2d, inputs: stem, filters: 16, kernel: 3}
    - {name: down, op: conv2d, inputs: right, filters: 16, kernel: 3}
    - {name: sum, op: add, inputs: [right, down]}
    - {name: head, op: rleu, inputs: sum}
    - {name: flat, op: flatten, inputs: lefft}
  outputs: [flat, head]
training:
  dataset: mnist
  batch_size: 0
  optimizer: {type: adam, learning_rate: .nan}
  loss: categorical_crossentropy
)"),
        {{6, 78, "left", "stride", "must be >= 1, got 0"},
         {9, 7, "sum", "", "(None, 24, 24, 16) and (None, 22, 22, 16)"},
         {10, 24, "head", "op", "unknown op 'rleu' (did you mean 'relu'?)"},
         {11, 41, "flat", "inputs", "'lefft' names no node or graph input (did you mean 'left'?)"},
         {15, 15, "training", "batch_size", "must be >= 1, got 0"},
         {16, 42, "optimizer", "learning_rate", "must be a finite number"}});
}

// A realistic file on disk, checked through load_model_file: diagnostics name its path.
TEST(ModelFileErrors, RealisticFileOnDiskReportsEveryErrorWithItsPath) {
    const std::string file = std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs/several_errors.yaml";
    try {
        opgraph::load_model_file(file, ops(), opgraph::testing::training_specs());
        FAIL() << "loaded";
    } catch (const opgraph::GraphError& e) {
        const std::vector<Diagnostic>& errors = e.diagnostics();
        ASSERT_EQ(errors.size(), 4u) << e.what();
        EXPECT_EQ(errors[0].format(), file +
                                          ":10:51: error: node 'conv2d_1': attribute 'kernal': "
                                          "unknown attribute (did you mean 'kernel'?)");
        EXPECT_EQ(errors[1].format(), file +
                                          ":12:27: error: node 'dropout_1': attribute 'rate': "
                                          "must be < 1, got 1.5");
        EXPECT_EQ(errors[2].format(), file +
                                          ":13:11: error: node 'sofmax': attribute 'op': unknown "
                                          "op 'sofmax' (did you mean 'softmax'?)");
        EXPECT_EQ(errors[3].format(), file +
                                          ":18:21: error: node 'optimizer': attribute 'type': "
                                          "unknown optimizer type 'adan' (did you mean 'adam'?)");
    }
}

TEST(ModelFileErrors, MissingFileAndDirectoryAreRefused) {
    EXPECT_THROW(
        opgraph::load_model_file("/no/such/model.yaml", ops(), opgraph::testing::training_specs()),
        opgraph::GraphError);
    EXPECT_THROW(opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs", ops(),
                                          opgraph::testing::training_specs()),
                 opgraph::GraphError);
}

// ---- what loads

TEST(ModelFile, GeneralFormWithBranchResidualConcatAndTwoOutputs) {
    const opgraph::ModelFile model = load(R"(model:
  name: branchy
  inputs: {image: [28, 28, 1]}
  nodes:
    - {name: stem, op: conv2d, inputs: image, filters: 8, kernel: 3}
    - {name: left, op: conv2d, inputs: stem, filters: 8, kernel: 3, padding: same}
    - {name: right, op: conv2d, inputs: stem, filters: 4, kernel: 1}
    - {name: residual, op: add, inputs: [stem, left]}
    - {name: joined, op: concat, inputs: [residual, right]}
    - {name: pooled, op: global_avg_pool, inputs: joined}
    - {name: logits, op: dense, inputs: pooled, units: 10}
    - {name: probs, op: softmax, inputs: logits}
    - {name: aux, op: flatten, inputs: right}
  outputs: [probs, aux]
)");
    const opgraph::Graph& graph = model.graph;
    EXPECT_EQ(graph.name, "branchy");
    EXPECT_FALSE(model.training.has_value());
    ASSERT_EQ(graph.nodes.size(), 9u);
    EXPECT_EQ(graph.outputs, (std::vector<std::string>{"probs", "aux"}));
    EXPECT_EQ(node_named(graph, "stem").output_shapes, (std::vector<Shape>{{None, 26, 26, 8}}));
    EXPECT_EQ(node_named(graph, "left").output_shapes, (std::vector<Shape>{{None, 26, 26, 8}}));
    EXPECT_EQ(node_named(graph, "right").output_shapes, (std::vector<Shape>{{None, 26, 26, 4}}));
    EXPECT_EQ(node_named(graph, "residual").output_shapes, (std::vector<Shape>{{None, 26, 26, 8}}));
    EXPECT_EQ(node_named(graph, "joined").output_shapes, (std::vector<Shape>{{None, 26, 26, 12}}));
    EXPECT_EQ(node_named(graph, "pooled").output_shapes, (std::vector<Shape>{{None, 12}}));
    EXPECT_EQ(node_named(graph, "probs").output_shapes, (std::vector<Shape>{{None, 10}}));
    EXPECT_EQ(node_named(graph, "aux").output_shapes, (std::vector<Shape>{{None, 26 * 26 * 4}}));
    // Topological order: every node after the nodes it reads.
    std::vector<std::string> seen = {"image"};
    for (const opgraph::Node& node : graph.nodes) {
        for (const std::string& input : node.inputs)
            EXPECT_NE(std::find(seen.begin(), seen.end(), input), seen.end()) << node.name;
        seen.push_back(node.name);
    }
    EXPECT_EQ(node_named(graph, "residual").inputs, (std::vector<std::string>{"stem", "left"}));
    EXPECT_EQ(node_named(graph, "left").where.line, 6);
    EXPECT_EQ(node_named(graph, "left").location_of("padding").column, 78);
}

TEST(ModelFile, MnistExampleLoadsWithWindowsLineEndings) {
    std::ifstream in(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml");
    std::string text, line;
    while (std::getline(in, line)) text += line + "\r\n";
    const opgraph::ModelFile model = load(text);
    EXPECT_EQ(model.graph.nodes.size(), 26u);
    ASSERT_TRUE(model.training.has_value());
    EXPECT_EQ(model.training->epochs, 18);
}

}  // namespace
