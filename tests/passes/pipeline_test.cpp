// The pass pipelines: each named, defined once, and what each pass leaves in the graph.
#include "opgraph/passes/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/inference_identities.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

const std::string kMnist = std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml";

std::vector<std::string> pass_names(const opgraph::Pipeline& pipeline) {
    std::vector<std::string> names;
    for (const opgraph::Pass& pass : pipeline.passes()) names.push_back(pass.name);
    return names;
}

int count_op(const opgraph::Graph& g, const std::string& op) {
    return static_cast<int>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                          [&op](const opgraph::Node& n) { return n.op == op; }));
}

TEST(Pipeline, ThePipelinesAndTheirPasses) {
    EXPECT_EQ(pass_names(opgraph::train_pipeline()),
              (std::vector<std::string>{"loss", "precision", "backward"}));
    EXPECT_EQ(pass_names(opgraph::inference_pipeline()),
              (std::vector<std::string>{"drop_identities", "fold_affine", "fuse_residual_add",
                                        "fuse_activations", "precision", "quantize"}));
    EXPECT_EQ(
        pass_names(opgraph::eval_pipeline()),
        (std::vector<std::string>{"loss", "drop_identities", "fold_affine", "fuse_residual_add",
                                  "fuse_activations", "precision", "quantize"}));
    ASSERT_EQ(opgraph::pipelines().size(), 3u);
}

TEST(Pipeline, InferenceOfMnistDropsDropoutAndFoldsEveryBatchNorm) {
    const opgraph::ModelFile model =
        opgraph::load_model_file(kMnist, ops(), opgraph::testing::training_specs());
    ASSERT_GT(count_op(model.graph, "dropout"), 0);
    ASSERT_EQ(count_op(model.graph, "batch_norm"), 7);
    const opgraph::Graph g =
        opgraph::inference_pipeline().run(model.graph, opgraph::PassContext{ops(), {}, {}});
    EXPECT_EQ(count_op(g, "dropout"), 0);
    EXPECT_EQ(count_op(g, "batch_norm"), 0);
    std::size_t folded = 0;
    for (const opgraph::Node& n : g.nodes) folded += n.folded.size();
    EXPECT_EQ(folded, 7u);
    // Still a valid graph: every input refers to a node or graph input that exists.
    opgraph::Diagnostics diagnostics;
    opgraph::check_graph(g, ops(), diagnostics);
    EXPECT_TRUE(diagnostics.empty()) << diagnostics.format();
}

TEST(Pipeline, RunStopsAfterTheNamedPass) {
    const opgraph::ModelFile model =
        opgraph::load_model_file(kMnist, ops(), opgraph::testing::training_specs());
    const opgraph::PassContext context{ops(), model.training->loss, {}};
    const opgraph::Graph loss = opgraph::train_pipeline().run(model.graph, context, "loss");
    EXPECT_EQ(loss.nodes.size(), model.graph.nodes.size() + 1);
    EXPECT_EQ(loss.outputs.back(), "loss");
    const opgraph::Graph backward = opgraph::train_pipeline().run(model.graph, context);
    EXPECT_GT(backward.nodes.size(), 2 * model.graph.nodes.size());
    EXPECT_THROW(opgraph::train_pipeline().run(model.graph, context, "fold_affine"),
                 std::invalid_argument);
}

TEST(Pipeline, TheLossPassNeedsALossOp) {
    const opgraph::ModelFile model =
        opgraph::load_model_file(kMnist, ops(), opgraph::testing::training_specs());
    EXPECT_THROW(opgraph::train_pipeline().run(model.graph, opgraph::PassContext{ops(), {}, {}}),
                 std::invalid_argument);
}

TEST(DropInferenceIdentities, ReadersAndOutputsReadTheDroppedNodesInput) {
    const opgraph::Graph g =
        opgraph::parse_model(R"(model:
  inputs: {x: [4]}
  nodes:
    - {name: d1, op: dropout, inputs: x, rate: 0.5}
    - {name: d2, op: dropout, inputs: d1, rate: 0.5}
    - {name: r, op: relu, inputs: d2}
    - {name: d3, op: dropout, inputs: r, rate: 0.5}
  outputs: [d3, r]
)",
                             "identities.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    const opgraph::Graph out = opgraph::drop_inference_identities(g, ops());
    ASSERT_EQ(out.nodes.size(), 1u);
    EXPECT_EQ(out.nodes[0].inputs, std::vector<std::string>{"x"});
    EXPECT_EQ(out.outputs, (std::vector<std::string>{"r", "r"}));
}

}  // namespace
