// Keras's callbacks run by the Trainer, each through its observable effect: files written
// (or not rewritten), the epoch training stops at, CSV content, the learning rate used.
#include "opgraph/train/callbacks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/core/format.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/io/checkpoint.hpp"
#include "opgraph/io/tensor_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training.hpp"
#include "test_sessions.hpp"

namespace {

namespace fs = std::filesystem;

const opgraph::Session& session() { return opgraph::testing::core_session(); }

const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

// A linear softmax classifier on MNIST: fast enough for a few epochs on a few samples.
std::string model_yaml(std::int64_t epochs, const std::string& callbacks,
                       const std::string& validation = "none",
                       const std::string& optimizer = "{type: sgd, learning_rate: 0.1}",
                       std::int64_t batch_size = 32) {
    return "model:\n"
           "  inputs: {image: [28, 28, 1]}\n"
           "  layers:\n"
           "    - {op: flatten}\n"
           "    - {name: scores, op: dense, units: 10}\n"
           "    - {op: softmax}\n"
           "training:\n"
           "  dataset: mnist\n"
           "  batch_size: " +
           std::to_string(batch_size) +
           "\n"
           "  epochs: " +
           std::to_string(epochs) +
           "\n"
           "  optimizer: " +
           optimizer +
           "\n"
           "  loss: categorical_crossentropy\n"
           "  validation: " +
           validation +
           "\n"
           "  callbacks:\n" +
           callbacks;
}

struct FitResult {
    std::vector<opgraph::EpochLog> history;
    std::string log;
};

FitResult fit(const std::string& yaml, std::int64_t train_limit = 512) {
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "callbacks.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainOptions options;
    options.train_limit = train_limit;
    options.data_root = kData;
    std::ostringstream log;
    options.out = &log;
    opgraph::Trainer trainer(model, session().ops(), options);
    FitResult run;
    run.history = trainer.fit();
    run.log = log.str();
    return run;
}

// A fresh, empty folder for one test.
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("opgraph_callbacks_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(CallbackModelCheckpoint, SavesAfterEveryEpochWithTheEpochInTheName) {
    const fs::path dir = scratch("checkpoint_every");
    const FitResult run =
        fit(model_yaml(3, "    - {type: model_checkpoint, filepath: '" +
                              (dir / "w{epoch:02d}.safetensors").string() + "'}\n"));
    ASSERT_EQ(run.history.size(), 3u);
    for (const char* name : {"w01.safetensors", "w02.safetensors", "w03.safetensors"}) {
        ASSERT_TRUE(fs::exists(dir / name)) << name;
        const opgraph::TensorFile content = opgraph::read_tensor_file(dir / name);
        EXPECT_NE(content.find("scores/kernel"), nullptr);
    }
    EXPECT_TRUE(contains(
        run.log, "\nEpoch 00002: saving model to " + (dir / "w02.safetensors").string() + "\n"))
        << run.log;
    fs::remove_all(dir);
}

TEST(CallbackModelCheckpoint, SaveBestOnlyDoesNotRewriteWhenNotBetter) {
    const fs::path dir = scratch("checkpoint_best");
    // The training loss falls every epoch: with mode max only epoch 1 is a best, with mode
    // min every epoch is.
    const std::string worse = (dir / "max.safetensors").string();
    const std::string better = (dir / "min.safetensors").string();
    const FitResult run =
        fit(model_yaml(3, "    - {type: model_checkpoint, filepath: '" + worse +
                              "', monitor: loss, mode: max, save_best_only: true}\n"
                              "    - {type: model_checkpoint, filepath: '" +
                              better + "', monitor: loss, mode: min, save_best_only: true}\n"));
    ASSERT_EQ(run.history.size(), 3u);
    ASSERT_LT(run.history[2].loss, run.history[0].loss);
    EXPECT_EQ(opgraph::read_tensor_file(worse).metadata.at("epoch"), "1");
    EXPECT_EQ(opgraph::read_tensor_file(better).metadata.at("epoch"), "3");
    char best[32];
    std::snprintf(best, sizeof best, "%0.5f", run.history[0].loss);
    EXPECT_TRUE(contains(run.log, "\nEpoch 00001: loss improved from -inf to " + std::string(best) +
                                      ", saving model to " + worse + "\n"))
        << run.log;
    EXPECT_TRUE(
        contains(run.log, "\nEpoch 00003: loss did not improve from " + std::string(best) + "\n"))
        << run.log;
    fs::remove_all(dir);
}

TEST(CallbackModelCheckpoint, UnknownFormatFieldIsAGraphError) {
    const std::string yaml =
        model_yaml(1, "    - {type: model_checkpoint, filepath: 'w{epoc}.safetensors'}\n");
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "callbacks.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    try {
        (void)opgraph::make_callbacks(model.training->callbacks);
        FAIL() << "no error";
    } catch (const opgraph::GraphError& e) {
        EXPECT_TRUE(contains(e.what(), "unknown format field '{epoc}'")) << e.what();
        EXPECT_TRUE(contains(e.what(), "callbacks[0]")) << e.what();
    }
}

TEST(CallbackEarlyStopping, StopsAfterPatienceAndRestoresTheBestWeights) {
    const fs::path dir = scratch("early_stopping");
    // mode max on a falling loss: epoch 1 is the best, epoch 2 the first without improvement.
    // The checkpoint before early stopping sees each epoch's weights, the one after sees the
    // restored weights.
    const FitResult run = fit(model_yaml(
        5, "    - {type: model_checkpoint, filepath: '" + (dir / "w{epoch}.safetensors").string() +
               "'}\n"
               "    - {type: early_stopping, monitor: loss, mode: max, patience: 1,"
               " restore_best_weights: true}\n"
               "    - {type: model_checkpoint, filepath: '" +
               (dir / "after{epoch}.safetensors").string() + "'}\n"));
    ASSERT_EQ(run.history.size(), 2u) << run.log;
    EXPECT_TRUE(contains(run.log, "\nEpoch 00002: early stopping\n")) << run.log;
    EXPECT_TRUE(contains(run.log, "Restoring model weights from the end of the best epoch: 1."))
        << run.log;
    const auto kernel = [&](const std::string& name) {
        return opgraph::read_tensor_file(dir / name).find("scores/kernel")->data;
    };
    EXPECT_EQ(kernel("after2.safetensors"), kernel("w1.safetensors"));
    EXPECT_NE(kernel("after2.safetensors"), kernel("w2.safetensors"));
    EXPECT_FALSE(fs::exists(dir / "w3.safetensors"));
    fs::remove_all(dir);
}

TEST(CallbackEarlyStopping, PatienceCountsEpochsWithoutImprovement) {
    const FitResult run = fit(
        model_yaml(6, "    - {type: early_stopping, monitor: acc, mode: min, patience: 3}\n"), 256);
    ASSERT_EQ(run.history.size(), 4u) << run.log;
    EXPECT_TRUE(contains(run.log, "Epoch 00004: early stopping")) << run.log;
}

TEST(CallbackCsvLogger, WritesKerasColumnsAndRows) {
    const fs::path dir = scratch("csv");
    const fs::path file = dir / "log.csv";
    const FitResult run =
        fit(model_yaml(2, "    - {type: csv_logger, filename: '" + file.string() + "'}\n", "test",
                       "{type: sgd, learning_rate: 0.1}", 1000),  // big batches: a quick validation
            1000);
    ASSERT_EQ(run.history.size(), 2u);
    std::istringstream lines(read_text(file));
    std::string header, row0, row1, extra;
    std::getline(lines, header);
    std::getline(lines, row0);
    std::getline(lines, row1);
    EXPECT_FALSE(std::getline(lines, extra));
    EXPECT_EQ(header, "epoch,acc,loss,lr,val_acc,val_loss");
    const auto& h = run.history[1];
    EXPECT_EQ(row1, "1," + opgraph::python_float_repr(h.accuracy) + "," +
                        opgraph::python_float_repr(h.loss) + ",0.1," +
                        opgraph::python_float_repr(h.val_accuracy) + "," +
                        opgraph::python_float_repr(h.val_loss));
    EXPECT_EQ(row0.substr(0, 2), "0,");
    fs::remove_all(dir);
}

TEST(CallbackCsvLogger, AppendsWithoutASecondHeaderAndUsesTheSeparator) {
    const fs::path dir = scratch("csv_append");
    const fs::path file = dir / "log.csv";
    const std::string callbacks = "    - {type: csv_logger, filename: '" + file.string() +
                                  "', separator: ';', append: true}\n";
    fit(model_yaml(1, callbacks), 64);
    fit(model_yaml(2, callbacks), 64);
    std::istringstream lines(read_text(file));
    std::vector<std::string> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(line);
    ASSERT_EQ(rows.size(), 4u) << read_text(file);
    EXPECT_EQ(rows[0], "epoch;acc;loss;lr");
    EXPECT_EQ(rows[1].substr(0, 2), "0;");
    EXPECT_EQ(rows[2].substr(0, 2), "0;");
    EXPECT_EQ(rows[3].substr(0, 2), "1;");
    // Without append the file starts over.
    fit(model_yaml(1, "    - {type: csv_logger, filename: '" + file.string() + "'}\n"), 64);
    const std::string restarted = read_text(file);
    EXPECT_EQ(std::count(restarted.begin(), restarted.end(), '\n'), 2) << restarted;
    fs::remove_all(dir);
}

// Training that diverges at once: SGD at a learning rate of 1e38.
std::string diverging(const std::string& callbacks) {
    return model_yaml(3, callbacks, "none", "{type: sgd, learning_rate: 1.0e+38}");
}

// What fit() throws for `yaml`; fails the test when it returns.
opgraph::NumericalError fit_error(const std::string& yaml, std::string& log,
                                  const fs::path& checkpoints = {}) {
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "callbacks.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainOptions options;
    options.train_limit = 512;
    options.data_root = kData;
    options.checkpoint_dir = checkpoints;
    std::ostringstream out;
    options.out = &out;
    opgraph::Trainer trainer(model, session().ops(), options);
    try {
        trainer.fit();
    } catch (const opgraph::NumericalError& e) {
        log = out.str();
        return e;
    }
    log = out.str();
    ADD_FAILURE() << "a diverging run ended normally\n" << log;
    return opgraph::NumericalError("");
}

TEST(CallbackTerminateOnNan, PrintsKerasLineAndTheRunEndsAsANumericalFailure) {
    std::string log;
    const opgraph::NumericalError e = fit_error(diverging("    - {type: terminate_on_nan}\n"), log);
    EXPECT_TRUE(contains(log, "Batch 1: Invalid loss, terminating training\n")) << log;
    EXPECT_EQ(e.exit_code(), opgraph::ExitCode::numerical);
    // The first step's loss is computed before its update: the second batch is the first bad
    // one (Keras numbers it 1, from 0; opgraph's progress and messages count from 1).
    EXPECT_TRUE(contains(e.what(), "epoch 1, batch 2: the loss is nan")) << e.what();
}

TEST(NonFiniteLoss, StopsTrainingWithoutACallbackAndKeepsTheLastGoodCheckpoint) {
    // Two good epochs at a sane rate, then the same checkpoint directory with a diverging rate.
    const fs::path dir = scratch("nan_checkpoint");
    opgraph::TrainOptions options;
    options.train_limit = 256;
    options.data_root = kData;
    options.checkpoint_dir = dir;
    options.epochs = 2;
    const opgraph::ModelFile good =
        opgraph::parse_model(model_yaml(2, "    []\n"), "callbacks.yaml", session().ops(),
                             opgraph::testing::training_specs());
    opgraph::Trainer(good, session().ops(), options).fit();
    const auto before = fs::last_write_time(dir / opgraph::kCheckpointFile);
    const auto bytes = fs::file_size(dir / opgraph::kCheckpointFile);

    std::string log;
    const opgraph::NumericalError e = fit_error(diverging("    []\n"), log, dir);
    EXPECT_EQ(e.exit_code(), opgraph::ExitCode::numerical);
    EXPECT_TRUE(contains(e.what(), "callbacks.yaml: epoch 1, batch 2: the loss is nan"))
        << "must name the graph file: " << e.what();
    EXPECT_TRUE(contains(e.what(), (dir / opgraph::kCheckpointFile).string())) << e.what();
    EXPECT_EQ(fs::last_write_time(dir / opgraph::kCheckpointFile), before);
    EXPECT_EQ(fs::file_size(dir / opgraph::kCheckpointFile), bytes);
    EXPECT_EQ(opgraph::read_checkpoint(dir / opgraph::kCheckpointFile).epoch, 2);
}

TEST(CallbackReduceLrOnPlateau, ReducesTheRateTheTrainerUses) {
    // mode max on a falling loss: no improvement after epoch 1, so each later epoch reduces.
    const FitResult run =
        fit(model_yaml(4,
                       "    - {type: reduce_lr_on_plateau, monitor: loss, mode: max, factor: 0.5,"
                       " patience: 1, min_lr: 0.04}\n"),
            256);
    ASSERT_EQ(run.history.size(), 4u);
    EXPECT_DOUBLE_EQ(run.history[0].learning_rate, 0.1);
    EXPECT_DOUBLE_EQ(run.history[1].learning_rate, 0.1);
    EXPECT_DOUBLE_EQ(run.history[2].learning_rate, 0.05);
    EXPECT_DOUBLE_EQ(run.history[3].learning_rate, 0.04);  // not below min_lr
    EXPECT_TRUE(
        contains(run.log, "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.05.\n"))
        << run.log;
    EXPECT_TRUE(
        contains(run.log, "\nEpoch 00003: ReduceLROnPlateau reducing learning rate to 0.04.\n"))
        << run.log;
}

// ---------------------------------------------------------- lr_scheduler, an ordinary callback

TEST(CallbackLrScheduler, PerEpochSetsTheRateAndPrintsTheKerasLine) {
    const FitResult run =
        fit(model_yaml(2,
                       "    - {type: lr_scheduler, per: epoch, schedule: {type: step, "
                       "initial_learning_rate: 0.2, step_size: 1, gamma: 0.5}}\n"),
            64);
    ASSERT_EQ(run.history.size(), 2u);
    EXPECT_DOUBLE_EQ(run.history[0].learning_rate, 0.2);
    EXPECT_DOUBLE_EQ(run.history[1].learning_rate, 0.1);
    EXPECT_TRUE(contains(run.log,
                         "Epoch 1/2\n\nEpoch 00001: LearningRateScheduler setting "
                         "learning rate to 0.2.\n"))
        << run.log;
    EXPECT_TRUE(contains(run.log,
                         "Epoch 2/2\n\nEpoch 00002: LearningRateScheduler setting "
                         "learning rate to 0.1.\n"))
        << run.log;
}

TEST(CallbackLrScheduler, PerStepSetsTheRateBeforeEachBatchSilently) {
    // 64 samples in batches of 32: steps 0 and 1 in epoch 1, 2 and 3 in epoch 2. An epoch's
    // log holds the rate of its last batch, set from the steps taken before it.
    const FitResult run =
        fit(model_yaml(2,
                       "    - {type: lr_scheduler, per: step, schedule: {type: expression, "
                       "expression: '0.1 / (1 + step) + epoch / 100'}}\n"),
            64);
    ASSERT_EQ(run.history.size(), 2u);
    EXPECT_DOUBLE_EQ(run.history[0].learning_rate, 0.1 / 2);
    EXPECT_DOUBLE_EQ(run.history[1].learning_rate, 0.1 / 4 + 0.01);
    EXPECT_FALSE(contains(run.log, "LearningRateScheduler")) << run.log;
}

TEST(CallbackLrScheduler, APerStepScheduleResumesFromTheMiddleOfAnEpochExactly) {
    const std::string yaml = model_yaml(
        3,
        "    - {type: lr_scheduler, per: step, schedule: {type: one_cycle, max_learning_rate: "
        "0.5, total_steps: 20}}\n"
        "    - {type: reduce_lr_on_plateau, monitor: loss, patience: 1, factor: 0.5}\n");
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "callbacks.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    auto run = [&](const fs::path& dir, std::int64_t epochs, bool resume, std::int64_t every = 0) {
        opgraph::TrainOptions options;
        options.train_limit = 200;  // 7 batches of 32 per epoch, the last one of 8
        options.data_root = kData;
        options.threads = {1, 1};
        options.epochs = epochs;
        options.checkpoint_dir = dir;
        options.checkpoint_every = every;
        options.resume = resume;
        opgraph::Trainer(model, session().ops(), options).fit();
    };
    const fs::path straight = scratch("lr_straight"), resumed = scratch("lr_resumed");
    run(straight, 3, false);
    // Step 9 is in epoch 2 (batch 2 of 7): continue from its checkpoint as after a kill.
    run(resumed, 2, false, 9);
    fs::rename(resumed / opgraph::kPreviousCheckpointFile, resumed / opgraph::kCheckpointFile);
    ASSERT_EQ(opgraph::read_checkpoint(resumed / opgraph::kCheckpointFile).iteration, 9);
    run(resumed, 3, true);
    const opgraph::TrainingState a = opgraph::read_checkpoint(straight / opgraph::kCheckpointFile);
    const opgraph::TrainingState b = opgraph::read_checkpoint(resumed / opgraph::kCheckpointFile);
    EXPECT_EQ(a.iteration, 21);
    EXPECT_EQ(b.iteration, a.iteration);
    EXPECT_EQ(b.learning_rate, a.learning_rate);
    EXPECT_EQ(b.callbacks, a.callbacks);
    // The scheduler (index 0) keeps no state; the plateau callback's is saved under index 1.
    EXPECT_TRUE(a.callbacks.count("1.best")) << a.callbacks.size();
    ASSERT_EQ(a.params.size(), b.params.size());
    for (std::size_t i = 0; i < a.params.size(); ++i)
        EXPECT_EQ(a.params[i].data, b.params[i].data) << a.params[i].name;
    fs::remove_all(straight);
    fs::remove_all(resumed);
}

// ----------------------------------------------------------------------- the registry

TEST(CallbackRegistry, DeclaresEveryCallbackAndOnlyTheSchedulerTakesASchedule) {
    const opgraph::CallbackRegistry registry = opgraph::builtin_callbacks();
    EXPECT_EQ(registry.kind(), "callback");
    EXPECT_EQ(
        registry.names(),
        (std::vector<std::string>{"csv_logger", "early_stopping", "lr_scheduler",
                                  "model_checkpoint", "reduce_lr_on_plateau", "terminate_on_nan"}));
    for (const opgraph::CallbackDef* def : registry.all()) {
        EXPECT_FALSE(def->doc.empty()) << def->name;
        EXPECT_EQ(def->takes_schedule, def->name == "lr_scheduler") << def->name;
    }
    EXPECT_TRUE(registry.find("terminate_on_nan")->schema.empty());
    const opgraph::AttrSpec* monitor =
        opgraph::find_attr(registry.find("early_stopping")->schema, "monitor");
    ASSERT_NE(monitor, nullptr);
    EXPECT_EQ(*monitor->default_value, opgraph::AttrValue{std::string("val_loss")});
}

TEST(CallbackRegistry, MakeCallbacksBuildsTheSchedulerLikeAnyOther) {
    const opgraph::ModelFile model = opgraph::parse_model(
        model_yaml(1,
                   "    - {type: lr_scheduler, per: epoch, schedule: {type: inverse_time, "
                   "initial_learning_rate: 0.1, decay_rate: 1}}\n"
                   "    - terminate_on_nan\n"),
        "callbacks.yaml", session().ops(), opgraph::testing::training_specs());
    EXPECT_EQ(opgraph::make_callbacks(model.training->callbacks).size(), 2u);
    // Without its schedule, or with an unknown one, it cannot be built.
    std::vector<opgraph::CallbackConfig> configs = model.training->callbacks;
    configs[0].schedule->type = "inverse_tim";
    EXPECT_THROW(opgraph::make_callbacks(configs), std::invalid_argument);
    configs[0].schedule.reset();
    EXPECT_THROW(opgraph::make_callbacks(configs), std::invalid_argument);
}

// A callback type of a caller's own, counting how many are built.
class Counting final : public opgraph::Callback {
public:
    explicit Counting(int& built) { ++built; }
};

TEST(CallbackRegistry, ACallerAddsItsOwnCallback) {
    int built = 0;
    opgraph::CallbackRegistry registry = opgraph::builtin_callbacks();
    registry.add({"counting",
                  "counts",
                  {opgraph::AttrSpec::optional("every", std::int64_t{1}).at_least(1)},
                  [&](const opgraph::ConfigItem& item, const opgraph::CallbackSetup& setup) {
                      EXPECT_EQ(item.attrs.get_int("every"), 1);  // the default, filled in
                      EXPECT_EQ(setup.label, "callbacks[1]");
                      return std::make_unique<Counting>(built);
                  }});
    std::vector<opgraph::CallbackConfig> configs(2);
    configs[0].callback.type = "terminate_on_nan";
    configs[1].callback.type = "counting";
    const auto callbacks = opgraph::make_callbacks(configs, registry, opgraph::builtin_schedules());
    EXPECT_EQ(callbacks.size(), 2u);
    EXPECT_EQ(built, 1);
    // The built-in registry does not know it.
    EXPECT_THROW(opgraph::make_callbacks(configs), std::invalid_argument);
}

TEST(CallbackPythonFloatRepr, MatchesPython) {
    EXPECT_EQ(opgraph::python_float_repr(1.0), "1.0");
    EXPECT_EQ(opgraph::python_float_repr(0.1), "0.1");
    EXPECT_EQ(opgraph::python_float_repr(0.0), "0.0");
    EXPECT_EQ(opgraph::python_float_repr(-2.5), "-2.5");
    EXPECT_EQ(opgraph::python_float_repr(123.456), "123.456");
    EXPECT_EQ(opgraph::python_float_repr(0.0001), "0.0001");
    EXPECT_EQ(opgraph::python_float_repr(1e-05), "1e-05");
    EXPECT_EQ(opgraph::python_float_repr(1.5e16), "1.5e+16");
    EXPECT_EQ(opgraph::python_float_repr(1e15), "1000000000000000.0");
    EXPECT_EQ(opgraph::python_float_repr(std::nan("")), "nan");
    EXPECT_EQ(opgraph::python_float_repr(-INFINITY), "-inf");
}

}  // namespace
