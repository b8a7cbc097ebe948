// Evaluation (loss and accuracy over a data set, batch by batch, the last batch smaller),
// prediction, and weights files matched against a graph.
#include "opgraph/train/evaluation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/runtime/weights.hpp"
#include "test_sessions.hpp"

namespace {

namespace fs = std::filesystem;

const opgraph::Session& session() { return opgraph::testing::core_session(); }

// dense(10) + softmax on 4x4 images: with a zero kernel the prediction is softmax(bias) for
// every sample, so loss and accuracy are known in closed form.
const char* kModel = R"(model:
  inputs: {image: [4, 4, 1]}
  layers:
    - {op: flatten}
    - {name: scores, op: dense, units: 10}
    - {op: softmax}
training:
  dataset: mnist
  optimizer: adam
  loss: categorical_crossentropy
)";

opgraph::Dataset synthetic(std::int64_t count) {
    opgraph::Dataset d;
    d.name = "synthetic";
    d.sample_shape = {4, 4, 1};
    d.classes = 10;
    for (std::int64_t i = 0; i < count; ++i) {
        for (int p = 0; p < 16; ++p) d.images.push_back(static_cast<float>((i + p) % 7) / 7.f);
        d.labels.push_back(static_cast<std::int32_t>(i % 4 == 0 ? 3 : i % 10));
    }
    return d;
}

TEST(Evaluator, LossAndAccuracyOverBatchesWithASmallerLastOne) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::Evaluator evaluator(model.graph, model.training->loss, session().ops(), 128, {});
    opgraph::Program& program = evaluator.program();
    program.write("scores/kernel", std::vector<float>(16 * 10, 0.f));
    std::vector<float> bias(10, 0.f);
    bias[3] = 2.f;
    program.write("scores/bias", bias);  // the smaller last batch's program shares them

    const opgraph::Dataset data = synthetic(300);  // batches of 128, 128 and 44
    const opgraph::Metrics m = evaluator.evaluate(data);
    double z = 9 + std::exp(2.0);
    const double p3 = std::exp(2.0) / z, p_other = 1 / z;
    double loss = 0;
    std::int64_t threes = 0;
    for (std::int32_t label : data.labels) {
        loss -= std::log(label == 3 ? p3 : p_other);
        threes += label == 3 ? 1 : 0;
    }
    EXPECT_EQ(m.samples, 300);
    EXPECT_NEAR(m.loss, loss / 300, 1e-4);
    EXPECT_NEAR(m.accuracy, double(threes) / 300, 1e-12);

    const auto rows = evaluator.predict(data);
    ASSERT_EQ(rows.size(), 300u);
    EXPECT_NEAR(rows[299][3], p3, 1e-5);
    EXPECT_NEAR(rows[0][0], p_other, 1e-5);
}

TEST(Weights, SavedAndLoadedByName) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::ProgramOptions options;
    options.seed = 7;
    opgraph::Program a(model.graph, session().ops(), options);
    options.seed = 8;
    opgraph::Program b(model.graph, session().ops(), options);
    ASSERT_NE(a.read("scores/kernel"), b.read("scores/kernel"));
    const fs::path file = fs::temp_directory_path() / "opgraph_weights_test.safetensors";
    opgraph::save_weights(a, file);
    opgraph::load_weights(b, file);
    EXPECT_EQ(a.read("scores/kernel"), b.read("scores/kernel"));
    EXPECT_EQ(a.read("scores/bias"), b.read("scores/bias"));
    fs::remove(file);
}

TEST(Weights, MismatchedGraphNamesTheTensors) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::Program program(model.graph, session().ops(), {});
    opgraph::TensorFile other;
    other.tensors.push_back({"scores/kernel", {16, 5}, std::vector<float>(80)});
    other.tensors.push_back({"extra/bias", {3}, std::vector<float>(3)});
    try {
        opgraph::load_weights(program, other, "other.safetensors");
        FAIL() << "mismatched weights were accepted";
    } catch (const opgraph::CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("other.safetensors"), std::string::npos) << message;
        EXPECT_NE(message.find("'scores/kernel' is (16, 5) in the file but (16, 10) in the graph"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("'scores/bias' (10,) is missing"), std::string::npos) << message;
        EXPECT_NE(message.find("'extra/bias' (3,) is not in the graph"), std::string::npos)
            << message;
    }
}

}  // namespace

#include "opgraph/passes/loss_graph.hpp"

namespace {

TEST(LossGraph, SoftmaxFollowedByCrossEntropyReadsTheLogits) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    const opgraph::LossGraph g =
        opgraph::with_loss(model.graph, "categorical_crossentropy", session().ops());
    const opgraph::Node* loss = g.graph.find_node("loss");
    ASSERT_NE(loss, nullptr);
    EXPECT_EQ(loss->inputs, (std::vector<std::string>{"scores", "target"}));
    EXPECT_TRUE(loss->attrs.get_bool("from_logits"));
    EXPECT_FALSE(g.sparse_target);
    EXPECT_EQ(g.prediction, "softmax");
}

TEST(LossGraph, SparseLossTakesClassIndices) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    const opgraph::LossGraph g =
        opgraph::with_loss(model.graph, "sparse_categorical_crossentropy", session().ops());
    EXPECT_TRUE(g.sparse_target);
    EXPECT_EQ(g.graph.find_input("target")->shape, (opgraph::Shape{opgraph::kDynamicDim}));
}

TEST(LossGraph, MeanSquaredErrorKeepsTheProbabilities) {
    const opgraph::ModelFile model = opgraph::parse_model(kModel, "eval.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    const opgraph::LossGraph g =
        opgraph::with_loss(model.graph, "mean_squared_error", session().ops());
    EXPECT_EQ(g.graph.find_node("loss")->inputs[0], "softmax");
}

}  // namespace
