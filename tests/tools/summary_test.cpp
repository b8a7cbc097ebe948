// `opgraph summary` of graphs/mnist.yaml against the seed's Keras table.
#include "opgraph/tools/summary.hpp"

#include <gtest/gtest.h>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace {

struct SeedRow {
    const char* op;
    opgraph::Shape shape;
    std::int64_t params;
};

// ../shared/seeds/000_4465e6777218c1f4.txt, "Model Architecture", row by row.
const std::vector<SeedRow> kSeedTable = {
    {"conv2d", {-1, 26, 26, 32}, 288},
    {"batch_norm", {-1, 26, 26, 32}, 128},
    {"dropout", {-1, 26, 26, 32}, 0},
    {"conv2d", {-1, 26, 26, 10}, 320},
    {"conv2d", {-1, 24, 24, 32}, 2880},
    {"batch_norm", {-1, 24, 24, 32}, 128},
    {"dropout", {-1, 24, 24, 32}, 0},
    {"conv2d", {-1, 24, 24, 10}, 320},
    {"max_pool2d", {-1, 12, 12, 10}, 0},
    {"conv2d", {-1, 10, 10, 16}, 1440},
    {"batch_norm", {-1, 10, 10, 16}, 64},
    {"dropout", {-1, 10, 10, 16}, 0},
    {"conv2d", {-1, 10, 10, 10}, 160},
    {"conv2d", {-1, 8, 8, 16}, 1440},
    {"batch_norm", {-1, 8, 8, 16}, 64},
    {"dropout", {-1, 8, 8, 16}, 0},
    {"conv2d", {-1, 6, 6, 16}, 2304},
    {"batch_norm", {-1, 6, 6, 16}, 64},
    {"dropout", {-1, 6, 6, 16}, 0},
    {"conv2d", {-1, 4, 4, 16}, 2304},
    {"batch_norm", {-1, 4, 4, 16}, 64},
    {"dropout", {-1, 4, 4, 16}, 0},
    {"conv2d", {-1, 1, 1, 10}, 2560},
    {"batch_norm", {-1, 1, 1, 10}, 40},
    {"flatten", {-1, 10}, 0},
    {"softmax", {-1, 10}, 0},
};

class MnistSummary : public ::testing::Test {
protected:
    opgraph::Session session{opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml",
                                 session.ops(), opgraph::testing::training_specs());
    opgraph::ModelSummary summary = opgraph::summarize(model.graph, session.ops());
};

TEST_F(MnistSummary, RowsFollowTheSeedTable) {
    ASSERT_EQ(summary.rows.size(), kSeedTable.size());
    for (std::size_t i = 0; i < kSeedTable.size(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i) + " " + summary.rows[i].layer);
        EXPECT_EQ(summary.rows[i].op, kSeedTable[i].op);
        EXPECT_EQ(summary.rows[i].output_shape, kSeedTable[i].shape);
        EXPECT_EQ(summary.rows[i].params, kSeedTable[i].params);
    }
}

TEST_F(MnistSummary, TotalsMatchTheSeed) {
    EXPECT_EQ(summary.total_params, 14568);
    EXPECT_EQ(summary.trainable_params, 14292);
    const std::string text = opgraph::format_summary(summary);
    EXPECT_NE(text.find("Total params: 14,568\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Trainable params: 14,292\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Non-trainable params: 276\n"), std::string::npos) << text;
    EXPECT_NE(text.find("conv2d (conv2d)              (None, 26, 26, 32)        f32   288"),
              std::string::npos)
        << text;
}

TEST_F(MnistSummary, MacsAndActivationMemory) {
    // Convolutions: 2,628,736 multiply-adds per image (the 2.63 M of the performance issue);
    // batch-norm adds one per element of its output.
    std::int64_t conv_macs = 0;
    for (const auto& row : summary.rows)
        if (row.op == "conv2d") conv_macs += row.macs;
    EXPECT_EQ(conv_macs, 2628736);
    EXPECT_EQ(summary.rows[0].macs, 26 * 26 * 32 * 9);
    EXPECT_EQ(summary.rows[0].activation_bytes, 26 * 26 * 32 * 4);
    EXPECT_GT(summary.activation_bytes, summary.rows[0].activation_bytes);
}

TEST_F(MnistSummary, TrainingSectionIsParsed) {
    ASSERT_TRUE(model.training.has_value());
    const opgraph::TrainingConfig& t = *model.training;
    EXPECT_EQ(t.batch_size, 128);
    EXPECT_EQ(t.epochs, 18);
    EXPECT_EQ(t.optimizer.type, "adam");
    EXPECT_DOUBLE_EQ(t.optimizer.attrs.get_real("learning_rate"), 0.003);
    EXPECT_DOUBLE_EQ(t.optimizer.attrs.get_real("epsilon"), 1e-7);  // Keras default
    EXPECT_EQ(t.loss, "categorical_crossentropy");
    ASSERT_EQ(t.callbacks.size(), 1u);
    EXPECT_EQ(t.callbacks[0].callback.type, "lr_scheduler");
    EXPECT_EQ(t.callbacks[0].callback.attrs.get_string("per"), "epoch");
    ASSERT_TRUE(t.callbacks[0].schedule.has_value());
    EXPECT_EQ(t.callbacks[0].schedule->type, "inverse_time");
    EXPECT_DOUBLE_EQ(t.callbacks[0].schedule->attrs.get_real("decay_rate"), 0.319);
}

TEST(GroupThousands, Formats) {
    EXPECT_EQ(opgraph::group_thousands(0), "0");
    EXPECT_EQ(opgraph::group_thousands(999), "999");
    EXPECT_EQ(opgraph::group_thousands(14568), "14,568");
    EXPECT_EQ(opgraph::group_thousands(2628736), "2,628,736");
    EXPECT_EQ(opgraph::group_thousands(-1234), "-1,234");
}

}  // namespace

namespace {

TEST(Summary, GeneralGraphShowsWhatEachNodeIsConnectedTo) {
    const opgraph::Session session{opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    const opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/residual.yaml",
                                 session.ops(), opgraph::testing::training_specs());
    const opgraph::ModelSummary summary = opgraph::summarize(model.graph, session.ops());
    EXPECT_FALSE(summary.sequential);
    const std::string text = opgraph::format_summary(summary);
    EXPECT_NE(text.find("Connected to"), std::string::npos) << text;
    EXPECT_NE(text.find("(None, 28, 28, 24)"), std::string::npos) << text;
    EXPECT_NE(text.find("residual_relu, right"), std::string::npos) << text;
}

TEST(Summary, SequentialGraphHasNoConnectionColumn) {
    const opgraph::Session session{opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    const opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml",
                                 session.ops(), opgraph::testing::training_specs());
    const opgraph::ModelSummary summary = opgraph::summarize(model.graph, session.ops());
    EXPECT_TRUE(summary.sequential);
    EXPECT_EQ(opgraph::format_summary(summary).find("Connected to"), std::string::npos);
}

}  // namespace
