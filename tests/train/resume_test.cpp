// Exact resume: with a fixed seed and thread count, training N epochs straight and training
// with a stop (end of an epoch, SIGTERM, or SIGKILL at a random step) followed by --resume
// end with the same weights, optimizer slots and step count, bit for bit. Also: resuming
// into another graph names the tensors that do not match.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <dnnl.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/io/checkpoint.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training.hpp"
#include "test_sessions.hpp"

namespace {

namespace fs = std::filesystem;

const opgraph::Session& session() { return opgraph::testing::core_session(); }

const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

// A small CNN with everything that carries state across steps: batch-norm moving
// statistics, dropout masks, Adam's slots, an epoch schedule and a plateau callback.
std::string model_yaml(const std::string& conv = "{op: conv2d, filters: 4, kernel: 3}") {
    return "model:\n"
           "  inputs: {image: [28, 28, 1]}\n"
           "  layers:\n"
           "    - " +
           conv +
           "\n"
           "    - {op: batch_norm}\n"
           "    - {op: relu}\n"
           "    - {op: dropout, rate: 0.3}\n"
           "    - {op: max_pool2d, pool: 2}\n"
           "    - {op: flatten}\n"
           "    - {op: dense, units: 10}\n"
           "    - {op: softmax}\n"
           "training:\n"
           "  dataset: mnist\n"
           "  batch_size: 32\n"
           "  epochs: 4\n"
           "  seed: 11\n"
           "  optimizer: {type: adam, learning_rate: 0.003}\n"
           "  loss: categorical_crossentropy\n"
           "  validation: none\n"
           "  callbacks:\n"
           "    - {type: lr_scheduler, per: epoch, schedule: {type: inverse_time, "
           "initial_learning_rate: 0.003, decay_rate: 0.319}}\n"
           "    - {type: reduce_lr_on_plateau, monitor: loss, patience: 1, factor: 0.5}\n";
}

fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("opgraph_resume_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// 300 samples in batches of 32: 9 full batches and a last one of 12 per epoch.
constexpr std::int64_t kTrainLimit = 300;

void fit(const std::string& yaml, const fs::path& checkpoints, std::int64_t epochs, bool resume,
         std::int64_t checkpoint_every = 0) {
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "resume.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainOptions options;
    options.epochs = epochs;
    options.train_limit = kTrainLimit;
    options.data_root = kData;
    options.threads = {1, 1};
    options.checkpoint_dir = checkpoints;
    options.checkpoint_every = checkpoint_every;
    options.resume = resume;
    opgraph::Trainer trainer(model, session().ops(), options);
    trainer.fit();
}

// Every tensor and counter of two final checkpoints are identical.
void expect_same_state(const fs::path& a, const fs::path& b) {
    const opgraph::TrainingState x = opgraph::read_checkpoint(a / opgraph::kCheckpointFile);
    const opgraph::TrainingState y = opgraph::read_checkpoint(b / opgraph::kCheckpointFile);
    EXPECT_EQ(x.epoch, y.epoch);
    EXPECT_EQ(x.iteration, y.iteration);
    EXPECT_EQ(x.learning_rate, y.learning_rate);
    EXPECT_EQ(x.callbacks, y.callbacks);
    auto tensors = [](const opgraph::TrainingState& s) {
        std::map<std::string, std::vector<float>> all;
        for (const auto& t : s.params) all[t.name] = t.data;
        for (const auto& t : s.slots) all[t.name] = t.data;
        return all;
    };
    const auto tx = tensors(x), ty = tensors(y);
    ASSERT_EQ(tx.size(), ty.size());
    ASSERT_FALSE(tx.empty());
    for (const auto& [name, data] : tx) {
        ASSERT_TRUE(ty.count(name)) << name;
        EXPECT_EQ(data, ty.at(name)) << name << " differs";
    }
}

TEST(Resume, HalfThenResumeEqualsStraight) {
    const fs::path straight = scratch("straight"), halves = scratch("halves");
    fit(model_yaml(), straight, 4, false);
    fit(model_yaml(), halves, 2, false);
    EXPECT_EQ(opgraph::read_checkpoint(halves / opgraph::kCheckpointFile).epoch, 2);
    fit(model_yaml(), halves, 4, true);
    expect_same_state(straight, halves);
}

// Mixed precision keeps f32 master weights and optimizer slots in the checkpoint: resuming a
// bf16 run ends with exactly the weights of an uninterrupted one.
TEST(Resume, Bf16HalfThenResumeEqualsStraight) {
    if (dnnl::get_effective_cpu_isa() < dnnl::cpu_isa::avx512_core)
        GTEST_SKIP() << "oneDNN has no bf16 kernels on this ISA";
    std::string yaml = model_yaml();
    yaml.replace(yaml.find("  seed: 11\n"), 0, "  precision: bf16\n");
    const fs::path straight = scratch("bf16_straight"), halves = scratch("bf16_halves");
    fit(yaml, straight, 4, false);
    fit(yaml, halves, 2, false);
    fit(yaml, halves, 4, true);
    expect_same_state(straight, halves);
}

TEST(Resume, FromTheMiddleOfAnEpochEqualsStraight) {
    // Checkpoints every 4 steps; the one of step 16 (epoch 2, batch 6) is kept aside and
    // training continues from it as after a kill.
    const fs::path straight = scratch("mid_straight"), killed = scratch("mid_killed");
    fit(model_yaml(), straight, 4, false);
    fit(model_yaml(), killed, 2, false, 4);
    const opgraph::TrainingState at = opgraph::read_checkpoint(killed / opgraph::kCheckpointFile);
    ASSERT_EQ(at.epoch, 2);  // the end of epoch 2 (step 20)
    const opgraph::TrainingState before =
        opgraph::read_checkpoint(killed / opgraph::kPreviousCheckpointFile);
    ASSERT_EQ(before.iteration, 16);
    ASSERT_EQ(before.epoch, 1);
    ASSERT_EQ(before.batch, 6);
    fs::rename(killed / opgraph::kPreviousCheckpointFile, killed / opgraph::kCheckpointFile);
    fit(model_yaml(), killed, 4, true);
    expect_same_state(straight, killed);
}

TEST(Resume, IntoAnotherGraphNamesTheMismatchedTensors) {
    const fs::path dir = scratch("other_graph");
    fit(model_yaml(), dir, 1, false);
    const std::string other = model_yaml("{name: conv2d, op: conv2d, filters: 6, kernel: 3}");
    try {
        fit(other, dir, 2, true);
        FAIL() << "a checkpoint of another graph was accepted";
    } catch (const opgraph::CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find((dir / opgraph::kCheckpointFile).string()), std::string::npos)
            << message;
        EXPECT_NE(message.find("conv2d/kernel"), std::string::npos) << message;
    }
}

TEST(Resume, WithoutACheckpointIsAnError) {
    const fs::path dir = scratch("nothing");
    EXPECT_THROW(fit(model_yaml(), dir, 1, true), opgraph::CheckpointError);
}

// --- the CLI, killed for real ------------------------------------------------------------

// Starts `opgraph train` on `graph` with `extra` arguments; returns its pid.
pid_t start_training(const fs::path& graph, const fs::path& checkpoints,
                     const std::vector<std::string>& extra) {
    std::vector<std::string> args = {OPGRAPH_BINARY,
                                     "train",
                                     graph.string(),
                                     "--data-dir",
                                     kData,
                                     "--train-limit",
                                     "2000",
                                     "--threads",
                                     "1",
                                     "--checkpoint-dir",
                                     checkpoints.string(),
                                     "--checkpoint-every",
                                     "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

// Waits until the run has written a checkpoint of at least `steps` optimizer steps.
void wait_for_step(const fs::path& checkpoints, std::int64_t steps) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            if (opgraph::read_checkpoint(checkpoints / opgraph::kCheckpointFile).iteration >= steps)
                return;
        } catch (const opgraph::CheckpointError&) {
            // not there yet (or replaced while we read it)
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "no checkpoint of step " << steps << " within two minutes";
}

class KilledTraining : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = scratch(::testing::UnitTest::GetInstance()->current_test_info()->name());
        graph_ = dir_ / "small.yaml";
        std::ofstream(graph_) << model_yaml();
        straight_ = dir_ / "straight";
        ASSERT_EQ(wait_for(start_training(graph_, straight_, {"--epochs", "3"})), 0);
    }
    fs::path dir_, graph_, straight_;
};

TEST_F(KilledTraining, SigtermSavesExits143AndResumesExactly) {
    const fs::path run = dir_ / "run";
    const pid_t pid = start_training(graph_, run, {"--epochs", "3"});
    wait_for_step(run, 20);
    kill(pid, SIGTERM);
    EXPECT_EQ(wait_for(pid), 143);
    const std::int64_t stopped_at =
        opgraph::read_checkpoint(run / opgraph::kCheckpointFile).iteration;
    EXPECT_GE(stopped_at, 20);
    EXPECT_LT(stopped_at, 3 * 63);  // 2000 samples: 63 steps per epoch
    EXPECT_EQ(wait_for(start_training(graph_, run, {"--epochs", "3", "--resume"})), 0);
    expect_same_state(straight_, run);
}

TEST_F(KilledTraining, SigkillAtRandomStepsThenResumeEqualsStraight) {
    const fs::path run = dir_ / "run";
    std::mt19937 random(12345);
    std::int64_t reached = 0;
    for (int kill_number = 0; kill_number < 3; ++kill_number) {
        std::vector<std::string> args = {"--epochs", "3"};
        if (kill_number > 0) args.push_back("--resume");
        const pid_t pid = start_training(graph_, run, args);
        reached += std::uniform_int_distribution<std::int64_t>(5, 30)(random);
        wait_for_step(run, reached);
        // A few milliseconds more, so that some kills land inside a checkpoint write.
        std::this_thread::sleep_for(
            std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(random)));
        kill(pid, SIGKILL);
        EXPECT_EQ(wait_for(pid), 128 + SIGKILL);
        // Whatever the moment, every checkpoint file on disk is complete.
        for (const char* name : {opgraph::kCheckpointFile, opgraph::kPreviousCheckpointFile}) {
            if (fs::exists(run / name)) {
                EXPECT_NO_THROW(opgraph::read_checkpoint(run / name)) << name;
            }
        }
        reached = opgraph::load_latest_checkpoint(run, nullptr).iteration;
    }
    EXPECT_EQ(wait_for(start_training(graph_, run, {"--epochs", "3", "--resume"})), 0);
    expect_same_state(straight_, run);
}

// A checkpoint of version 1 (before lr_scheduler became a callback) numbered the callbacks'
// state without the lr_scheduler: resuming one gives every other callback its own state
// back, so the run ends as the straight one does.
TEST(Resume, AVersionOneCheckpointGivesEachCallbackItsState) {
    // The plateau callback counts every epoch as one without improvement (mode max on a
    // falling loss) and halves the rate each time: its state decides every later rate.
    std::string yaml = model_yaml();
    const std::string plateau = "monitor: loss, patience: 1";
    yaml.replace(yaml.find(plateau), plateau.size(), plateau + ", mode: max");
    const fs::path straight = scratch("v1_straight"), halves = scratch("v1_halves");
    fit(yaml, straight, 4, false);
    fit(yaml, halves, 2, false);
    opgraph::TrainingState state = opgraph::read_checkpoint(halves / opgraph::kCheckpointFile);
    std::map<std::string, double> v1;  // callback 0 is the lr_scheduler, 1 the plateau
    for (const auto& [key, value] : state.callbacks)
        if (key.rfind("1.", 0) == 0) v1["0." + key.substr(2)] = value;
    ASSERT_FALSE(v1.empty());
    state.callbacks = v1;
    state.version = "1";
    opgraph::save_checkpoint(halves, state);
    fit(yaml, halves, 4, true);
    expect_same_state(straight, halves);
}

}  // namespace
