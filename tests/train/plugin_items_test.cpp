// Optimizer types from a plugin (opgraph/train/plugin_items.hpp): listed, accepted by the
// model file reader only against the session's items, trained with; a plugin registering a
// taken name is refused, named.
#include "opgraph/train/plugin_items.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/plugin_loader.hpp"
#include "opgraph/tools/op_listing.hpp"
#include "opgraph/train/training.hpp"
#include "opgraph/train/training_step.hpp"
#include "test_sessions.hpp"

namespace {

const std::string kFixtures = OPGRAPH_TEST_PLUGIN_DIR;

opgraph::Session session_with(const std::string& fixture) {
    return opgraph::Session{
        opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR, kFixtures + "/" + fixture}, false}};
}

const char* kModel = R"(model:
  inputs: {x: [4]}
  layers:
    - {name: out, op: dense, units: 3}
    - {op: softmax}
training:
  dataset: mnist
  optimizer: {type: sign_sgd, learning_rate: 0.5}
  loss: categorical_crossentropy
)";

TEST(PluginTrainingItems, APluginOptimizerIsListedReadAndTrainedWith) {
    const opgraph::Session session = session_with("test_training_items.so");
    const opgraph::TrainingItems items = opgraph::training_items(session);
    ASSERT_NE(items.optimizers.find("sign_sgd"), nullptr);
    EXPECT_NE(opgraph::format_item_listing(items, "optimizer", "").find("sign_sgd"),
              std::string::npos);
    // The built-in types alone do not know it.
    EXPECT_THROW(opgraph::parse_model(kModel, "sign.yaml", session.ops(),
                                      opgraph::testing::training_specs()),
                 opgraph::GraphError);
    const opgraph::ModelFile model =
        opgraph::parse_model(kModel, "sign.yaml", session.ops(), items.specs());
    opgraph::TrainingStep step(model.graph, *model.training, session.ops(), 2, {1, 1}, 3, false,
                               &items.optimizers);
    const std::vector<float> before = step.program().read("out/kernel");
    const std::vector<float> images = {0.5f, -1.f, 2.f, 0.25f, 1.f, 1.f, -0.5f, 3.f};
    const std::vector<std::int32_t> labels = {0, 2};
    step.run(images.data(), labels.data(), 2, 0.5);
    const std::vector<float> after = step.program().read("out/kernel");
    ASSERT_EQ(before.size(), after.size());
    int moved = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
        const float change = std::abs(after[i] - before[i]);
        EXPECT_TRUE(change == 0.f || std::abs(change - 0.5f) < 1e-6f) << i << ": " << change;
        moved += change > 0 ? 1 : 0;
    }
    EXPECT_GT(moved, 0);
}

TEST(PluginTrainingItems, APluginDatasetIsListedReadAndTrainedOn) {
    const opgraph::Session session = session_with("test_training_items.so");
    const opgraph::TrainingItems items = opgraph::training_items(session);
    EXPECT_NE(opgraph::format_item_listing(items, "dataset", "").find("half_plane"),
              std::string::npos);
    const std::string yaml = R"(model:
  inputs: {x: [2]}
  layers:
    - {op: dense, units: 2}
    - {op: softmax}
training:
  dataset: {type: half_plane, count: 512}
  epochs: 3
  optimizer: {type: adam, learning_rate: 0.05}
  loss: categorical_crossentropy
)";
    const opgraph::ModelFile model =
        opgraph::parse_model(yaml, "half_plane.yaml", session.ops(), items.specs());
    opgraph::TrainOptions options;
    options.items = &items;
    opgraph::Trainer trainer(model, session.ops(), options);
    const auto history = trainer.fit();
    ASSERT_EQ(history.size(), 3u);
    EXPECT_GE(history.back().val_accuracy, 0.9);
}

TEST(PluginTrainingItems, ATakenNameIsRefusedNamingThePlugin) {
    const opgraph::Session session = session_with("test_duplicate_item.so");
    try {
        opgraph::training_items(session);
        FAIL() << "a plugin registered 'adam' twice";
    } catch (const opgraph::PluginError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("test_duplicate_item.so: plugin 'test_items' failed to register "
                               "its training items: optimizer type 'adam' is already registered"),
                  std::string::npos)
            << message;
    }
}

}  // namespace
