// Training graphs/mnist.yaml: a real accuracy bar after two epochs on the full data, and the
// learning rates the scheduler prints for all 18 epochs, exactly as in the seed log.
#include "opgraph/train/training.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::Session& session() { return opgraph::testing::core_session(); }

const std::string kMnist = std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml";
const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

TEST(Training, TwoEpochsOfMnistReachNinetySevenPercent) {
    const opgraph::ModelFile model =
        opgraph::load_model_file(kMnist, session().ops(), opgraph::testing::training_specs());
    opgraph::TrainOptions options;
    options.epochs = 2;
    options.data_root = kData;
    std::ostringstream log;
    options.out = &log;
    opgraph::Trainer trainer(model, session().ops(), options);
    const auto history = trainer.fit();
    std::cout << log.str();
    ASSERT_EQ(history.size(), 2u);
    EXPECT_GE(history[1].val_accuracy, 0.97) << log.str();
    EXPECT_LT(history[1].loss, history[0].loss) << log.str();
    // Keras's final progress line, as a file or pipe gets it (no redraws).
    EXPECT_NE(log.str().find("60000/60000 [==============================] - "), std::string::npos)
        << log.str();
    EXPECT_EQ(log.str().find('\r'), std::string::npos);
}

TEST(Training, SchedulerPrintsTheSeedsLearningRates) {
    // The seed log's 18 rates for lr = 0.003 / (1 + 0.319 * epoch).
    const std::vector<std::string> seed = {
        "0.003",        "0.0022744503", "0.0018315018", "0.0015329586", "0.0013181019",
        "0.0011560694", "0.0010295127", "0.0009279307", "0.0008445946", "0.0007749935",
        "0.0007159905", "0.000665336",  "0.0006213753", "0.0005828638", "0.0005488474",
        "0.0005185825", "0.000491481",  "0.0004670715"};
    std::ifstream in(kMnist);
    std::stringstream text;
    text << in.rdbuf();
    // The same file without validation, on 256 samples: only the printed rates matter here.
    std::string yaml = text.str();
    yaml.replace(yaml.find("validation: test"), 16, "validation: none");
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "mnist.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainOptions options;
    options.train_limit = 256;
    options.data_root = kData;
    std::ostringstream log;
    options.out = &log;
    opgraph::Trainer trainer(model, session().ops(), options);
    const auto history = trainer.fit();
    ASSERT_EQ(history.size(), 18u);
    for (std::size_t i = 0; i < seed.size(); ++i) {
        char epoch[24];
        std::snprintf(epoch, sizeof epoch, "%05zu", i + 1);
        const std::string line = "Epoch " + std::to_string(i + 1) + "/18\n\nEpoch " + epoch +
                                 ": LearningRateScheduler setting learning rate to " + seed[i] +
                                 ".\n";
        EXPECT_NE(log.str().find(line), std::string::npos) << line;
    }
}

}  // namespace
