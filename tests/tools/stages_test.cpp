// The graph after any stage, as `opgraph dot --stage` and `summary --stage` show it.
#include "opgraph/tools/stages.hpp"

#include <gtest/gtest.h>

#include <string>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

opgraph::ModelFile mnist() {
    return opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml", ops(),
                                    opgraph::testing::training_specs());
}

bool has_op(const opgraph::Graph& g, const std::string& op) {
    for (const opgraph::Node& n : g.nodes)
        if (n.op == op) return true;
    return false;
}

TEST(Stages, EveryPassAndPipelineIsAStage) {
    std::vector<std::string> names;
    for (const opgraph::Stage& s : opgraph::stages()) names.push_back(s.name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"loaded", "loss", "precision", "backward", "train",
                                        "drop_identities", "fold_affine", "fuse_residual_add",
                                        "fuse_activations", "quantize", "inference", "eval"}));
    EXPECT_NE(opgraph::format_stages().find("fold_affine      [inference] "), std::string::npos)
        << opgraph::format_stages();
}

TEST(Stages, TheGraphAfterEachStage) {
    const opgraph::ModelFile model = mnist();
    const opgraph::Graph loaded = opgraph::graph_at_stage(model, "loaded", ops());
    EXPECT_EQ(loaded.nodes.size(), model.graph.nodes.size());
    const opgraph::Graph backward = opgraph::graph_at_stage(model, "backward", ops());
    EXPECT_TRUE(has_op(backward, "conv2d_backward_data")) << backward.nodes.back().op;
    const opgraph::Graph dropped = opgraph::graph_at_stage(model, "drop_identities", ops());
    EXPECT_FALSE(has_op(dropped, "dropout"));
    EXPECT_TRUE(has_op(dropped, "batch_norm"));
    const opgraph::Graph inference = opgraph::graph_at_stage(model, "inference", ops());
    EXPECT_FALSE(has_op(inference, "dropout"));
    EXPECT_FALSE(has_op(inference, "batch_norm"));
    const opgraph::Graph eval = opgraph::graph_at_stage(model, "eval", ops());
    EXPECT_TRUE(has_op(eval, "categorical_crossentropy"));
    EXPECT_FALSE(has_op(eval, "batch_norm"));
}

TEST(Stages, AnUnknownStageNamesTheNearest) {
    try {
        opgraph::graph_at_stage(mnist(), "inferense", ops());
        FAIL() << "accepted an unknown stage";
    } catch (const opgraph::UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("did you mean 'inference'?"), std::string::npos)
            << e.what();
    }
}

TEST(Stages, LossStagesNeedATrainingSection) {
    opgraph::ModelFile model = mnist();
    model.training.reset();
    EXPECT_THROW(opgraph::graph_at_stage(model, "backward", ops()), opgraph::UsageError);
    EXPECT_NO_THROW(opgraph::graph_at_stage(model, "inference", ops()));
}

}  // namespace
