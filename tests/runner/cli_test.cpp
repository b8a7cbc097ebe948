// The `opgraph` binary as a user runs it: output and exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_run.hpp"

namespace {

using opgraph::testing::CliRun;

CliRun opgraph(const std::string& args) { return opgraph::testing::run_cli(args); }

const std::string kMnist = std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml";

TEST(Cli, SummaryOfMnist) {
    const CliRun run = opgraph("summary " + kMnist);
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_NE(run.output.find("Total params: 14,568"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("Forward MACs per sample"), std::string::npos) << run.output;
}

TEST(Cli, CheckValidGraph) {
    const CliRun run = opgraph("check " + kMnist);
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_NE(run.output.find("ok"), std::string::npos) << run.output;
}

TEST(Cli, CheckInvalidGraphExitsThree) {
    const CliRun run =
        opgraph("check " + std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs/unknown_op.yaml");
    EXPECT_EQ(run.code, 3) << run.output;
    EXPECT_NE(run.output.find("did you mean 'relu'?"), std::string::npos) << run.output;
}

TEST(Cli, MissingFileExitsThree) {
    const CliRun run = opgraph("check /no/such/graph.yaml");
    EXPECT_EQ(run.code, 3) << run.output;
    EXPECT_NE(run.output.find("/no/such/graph.yaml"), std::string::npos) << run.output;
}

TEST(Cli, DotWritesGraphviz) {
    const CliRun run = opgraph("dot " + kMnist);
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.rfind("digraph \"mnist_cnn\" {", 0), 0u) << run.output;
    EXPECT_NE(run.output.find("\"image\" -> \"conv2d\""), std::string::npos) << run.output;
}

TEST(Cli, OpsListsEveryOperatorWithPluginAndDefaults) {
    const CliRun run = opgraph("ops");
    EXPECT_EQ(run.code, 0) << run.output;
    for (const char* op : {"conv2d",
                           "batch_norm",
                           "dropout",
                           "max_pool2d",
                           "avg_pool2d",
                           "global_avg_pool",
                           "dense",
                           "flatten",
                           "reshape",
                           "relu",
                           "leaky_relu",
                           "sigmoid",
                           "tanh",
                           "softmax",
                           "log_softmax",
                           "add",
                           "concat",
                           "categorical_crossentropy",
                           "sparse_categorical_crossentropy",
                           "mean_squared_error"})
        EXPECT_NE(run.output.find(std::string("\n") + op + "  ["), std::string::npos) << op;
    EXPECT_NE(run.output.find("plugin 'core'"), std::string::npos);
    EXPECT_NE(run.output.find("momentum: float >= 0 <= 1, default 0.99"), std::string::npos)
        << run.output;
}

TEST(Cli, UsageErrorsExitTwo) {
    EXPECT_EQ(opgraph("").code, 2);
    EXPECT_EQ(opgraph("frobnicate").code, 2);
    EXPECT_EQ(opgraph("summary").code, 2);
    EXPECT_EQ(opgraph("summary --no-such-option x.yaml").code, 2);
    EXPECT_EQ(opgraph("ops --op rleu").code, 2);
}

TEST(Cli, HelpOnEveryCommand) {
    const CliRun top = opgraph("--help");
    EXPECT_EQ(top.code, 0);
    EXPECT_NE(top.output.find("exit codes"), std::string::npos);
    for (const char* command : {"summary", "check", "dot", "ops"}) {
        const CliRun run = opgraph(std::string(command) + " --help");
        EXPECT_EQ(run.code, 0) << command;
        EXPECT_NE(run.output.find("usage: opgraph"), std::string::npos) << run.output;
    }
}

TEST(Cli, RefusedPluginExitsSix) {
    const CliRun run =
        opgraph("ops --plugin-path " + std::string(OPGRAPH_TEST_PLUGIN_DIR) + "/test_wrong_abi.so");
    EXPECT_EQ(run.code, 6) << run.output;
    EXPECT_NE(run.output.find("test_wrong_abi.so"), std::string::npos) << run.output;
}

}  // namespace

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "opgraph/runtime/weights.hpp"
#include "test_sessions.hpp"

namespace {

// Weights of graphs/mlp.yaml as initialised with seed 1, written where the CLI can read them.
std::string mlp_weights() {
    const std::string file =
        (std::filesystem::temp_directory_path() / "opgraph_cli_mlp.safetensors").string();
    const opgraph::Session session{opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    const opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mlp.yaml",
                                 session.ops(), opgraph::testing::training_specs());
    opgraph::ProgramOptions options;
    options.seed = 1;
    const opgraph::Program program(
        opgraph::inference_pipeline().run(model.graph, opgraph::PassContext{session.ops(), {}, {}}),
        session.ops(), options);
    opgraph::save_weights(program, file);
    return file;
}

const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

TEST(Cli, EvalReportsLossAndAccuracyOnTheTestSet) {
    const CliRun run =
        opgraph("eval " + std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mlp.yaml --weights " +
                mlp_weights() + " --data-dir " + kData + " --threads 1");
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.rfind("10000/10000 - loss: ", 0), 0u) << run.output;
    EXPECT_NE(run.output.find(" - acc: "), std::string::npos) << run.output;
}

TEST(Cli, EvalWithWeightsOfAnotherGraphExitsFive) {
    const CliRun run =
        opgraph("eval " + kMnist + " --weights " + mlp_weights() + " --data-dir " + kData);
    EXPECT_EQ(run.code, 5) << run.output;
    EXPECT_NE(run.output.find("is not in the graph"), std::string::npos) << run.output;
}

TEST(Cli, EvalWithoutDataExitsFour) {
    const CliRun run =
        opgraph("eval " + std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mlp.yaml --weights " +
                mlp_weights() + " --data-dir /nonexistent");
    EXPECT_EQ(run.code, 4) << run.output;
    EXPECT_NE(run.output.find("/nonexistent/mnist/t10k-images-idx3-ubyte"), std::string::npos)
        << run.output;
}

TEST(Cli, PredictWritesOneRowPerImage) {
    const std::string csv =
        (std::filesystem::temp_directory_path() / "opgraph_cli_predictions.csv").string();
    const CliRun run =
        opgraph("predict " + std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mlp.yaml --weights " +
                mlp_weights() + " --input " + kData + "/mnist/t10k-images-idx3-ubyte -o " + csv);
    ASSERT_EQ(run.code, 0) << run.output;
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "index,class,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9");
    int rows = 0;
    while (std::getline(in, line)) ++rows;
    EXPECT_EQ(rows, 10000);
}

TEST(Cli, GradcheckOfTheCoreOpsPasses) {
    const CliRun run = opgraph("gradcheck --op conv2d");
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_NE(run.output.find(" passed, 0 failed"), std::string::npos) << run.output;
}

TEST(Cli, BenchInferencePrintsThroughputAndAPerLayerProfile) {
    const CliRun run =
        opgraph("bench " + kMnist + " --mode infer --batch-size 16 --steps 2 --warmup 1 --no-peak");
    ASSERT_EQ(run.code, 0) << run.output;
    for (const char* part : {"throughput: ", " images/s", "time per layer", "conv2d_9",
                             "kernels in execution order", "threads: "})
        EXPECT_NE(run.output.find(part), std::string::npos) << part << "\n" << run.output;
}

TEST(Cli, BenchTrainingAsJson) {
    const CliRun run = opgraph("bench " + kMnist +
                               " --mode train --batch-size 32 --steps 3 --warmup 1 --threads 1 "
                               "--json");
    ASSERT_EQ(run.code, 0) << run.output;
    const nlohmann::json report = nlohmann::json::parse(run.output);
    EXPECT_EQ(report.at("mode"), "train");
    EXPECT_EQ(report.at("batch_size"), 32);
    EXPECT_EQ(report.at("steps"), 3);
    EXPECT_GT(report.at("images_per_second").get<double>(), 0);
    EXPECT_EQ(report.at("threads").at("intra_op"), 1);
    // Forward, backward and update kernels, each with its share of the step.
    std::set<std::string> kinds;
    for (const auto& kernel : report.at("kernels")) kinds.insert(kernel.at("kind"));
    EXPECT_EQ(kinds, (std::set<std::string>{"backward", "forward", "update"}));
    EXPECT_TRUE(std::isfinite(report.at("last_loss").get<double>()));
}

TEST(Cli, BenchWithBadOptionsExitsTwo) {
    EXPECT_EQ(opgraph("bench " + kMnist + " --steps 0").code, 2);
    EXPECT_EQ(opgraph("bench " + kMnist + " --mode fast").code, 2);
}

TEST(Cli, ResumeWithoutACheckpointExitsFive) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / "opgraph_cli_no_checkpoint").string();
    std::filesystem::remove_all(dir);
    const CliRun run =
        opgraph("train " + kMnist + " --data-dir " + kData + " --resume --checkpoint-dir " + dir);
    EXPECT_EQ(run.code, 5) << run.output;
    EXPECT_NE(run.output.find(dir), std::string::npos) << run.output;
}

TEST(Cli, DivergingTrainingExitsSevenAndCheckNumericsNamesTheNode) {
    const auto dir = std::filesystem::temp_directory_path() / "opgraph_cli_diverging";
    std::filesystem::remove_all(dir);
    const std::string graph = std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs/diverging.yaml";
    const std::string common = "train " + graph + " --data-dir " + kData +
                               " --train-limit 256 --checkpoint-dir " + (dir / "ckpt").string();
    const CliRun plain = opgraph(common);
    EXPECT_EQ(plain.code, 7) << plain.output;
    EXPECT_NE(plain.output.find("the loss is nan; training stopped"), std::string::npos)
        << plain.output;
    const CliRun checked = opgraph(common + " --check-numerics");
    EXPECT_EQ(checked.code, 7) << checked.output;
    EXPECT_NE(checked.output.find("diverging.yaml:"), std::string::npos) << checked.output;
    EXPECT_NE(checked.output.find("(--check-numerics)"), std::string::npos) << checked.output;
}

TEST(Cli, DotStageInferenceShowsTheFoldedGraph) {
    const CliRun run = opgraph("dot " + kMnist + " --stage inference");
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.find("dropout"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("+ after: batch_norm 'batch_norm_6'"), std::string::npos)
        << run.output;
    const CliRun backward = opgraph("dot " + kMnist + " --stage backward");
    ASSERT_EQ(backward.code, 0) << backward.output;
    EXPECT_NE(backward.output.find("conv2d_backward_weights"), std::string::npos);
    const CliRun stages = opgraph("dot " + kMnist + " --list-stages");
    EXPECT_EQ(stages.code, 0) << stages.output;
    EXPECT_NE(stages.output.find("fold_affine"), std::string::npos) << stages.output;
    EXPECT_EQ(opgraph("dot " + kMnist + " --stage nope").code, 2);
}

TEST(Cli, DotRendersSvgThroughGraphviz) {
    const auto file = std::filesystem::temp_directory_path() / "opgraph_cli_mnist.svg";
    std::filesystem::remove(file);
    const CliRun run = opgraph("dot " + kMnist + " -o " + file.string());
    ASSERT_EQ(run.code, 0) << run.output;
    std::ifstream in(file);
    const std::string svg{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_NE(svg.find(">conv2d_9</text>"), std::string::npos);
}

TEST(Cli, SummaryPrintsTheMemoryPlans) {
    const CliRun run = opgraph("summary " + kMnist + " --batch-size 64");
    ASSERT_EQ(run.code, 0) << run.output;
    for (const char* part : {"Memory plan (batch 64)", "training", "inference", "optimizer state",
                             "activations (shared buffers)", "Largest in training: "})
        EXPECT_NE(run.output.find(part), std::string::npos) << part << "\n" << run.output;
}

// A graph whose parameters alone need more memory than the machine has: `check` accepts it,
// train and bench refuse it within seconds, exit 8, before allocating it.
TEST(Cli, AGraphLargerThanMemoryIsRefusedWithExitEight) {
    const std::string graph = std::string(OPGRAPH_SOURCE_DIR) + "/tests/graphs/huge_dense.yaml";
    EXPECT_EQ(opgraph("check " + graph).code, 0);
    for (const std::string& command :
         {"train " + graph + " --data-dir " + kData + " --checkpoint-dir " +
              (std::filesystem::temp_directory_path() / "opgraph_cli_huge").string(),
          "bench " + graph + " --mode train --steps 1",
          "bench " + graph + " --mode infer --steps 1"}) {
        const auto start = std::chrono::steady_clock::now();
        const CliRun run = opgraph(command);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        EXPECT_EQ(run.code, 8) << command << "\n" << run.output;
        EXPECT_LT(seconds, 5.0) << command;
        EXPECT_NE(run.output.find("huge_dense.yaml: the "), std::string::npos) << run.output;
        EXPECT_NE(run.output.find(" GiB is available; largest: 'dense_1/kernel' ("),
                  std::string::npos)
            << run.output;
        EXPECT_NE(run.output.find("'dense_1/kernel' (parameter) 37.25 GiB"), std::string::npos)
            << run.output;
    }
}

}  // namespace

// `opgraph ops --kind`: the training section's item types, listed as ops are.
namespace {

TEST(Cli, OpsKindOptimizerListsTheOptimizersWithTheirAttributes) {
    const CliRun run = opgraph("ops --kind optimizer");
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.rfind("4 optimizers\n\n", 0), 0u) << run.output;
    for (const char* name : {"adam", "adamw", "rmsprop", "sgd"})
        EXPECT_NE(run.output.find(std::string("\n") + name + "  [optimizer]\n"), std::string::npos)
            << name << "\n"
            << run.output;
    EXPECT_NE(run.output.find("\n    learning_rate: float > 0, default 0.001\n"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("\n    weight_decay: float >= 0, default 0.004\n"), std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("plugin '"), std::string::npos) << run.output;
}

TEST(Cli, OpsKindScheduleAndCallbackListTheirTypes) {
    const CliRun schedules = opgraph("ops --kind schedule");
    ASSERT_EQ(schedules.code, 0) << schedules.output;
    EXPECT_EQ(schedules.output.rfind("6 schedules\n\n", 0), 0u) << schedules.output;
    for (const char* name :
         {"cosine", "exponential", "expression", "inverse_time", "one_cycle", "step"})
        EXPECT_NE(schedules.output.find(std::string("\n") + name + "  [schedule]\n"),
                  std::string::npos)
            << name;
    EXPECT_NE(schedules.output.find("\n    decay_rate: float >= 0, required\n"), std::string::npos)
        << schedules.output;

    const CliRun callbacks = opgraph("ops --kind callback");
    ASSERT_EQ(callbacks.code, 0) << callbacks.output;
    EXPECT_EQ(callbacks.output.rfind("6 callbacks\n\n", 0), 0u) << callbacks.output;
    for (const char* name : {"csv_logger", "early_stopping", "lr_scheduler", "model_checkpoint",
                             "reduce_lr_on_plateau", "terminate_on_nan"})
        EXPECT_NE(callbacks.output.find(std::string("\n") + name + "  [callback]\n"),
                  std::string::npos)
            << name;
    EXPECT_NE(callbacks.output.find("\n    per: string {epoch, step}, required  -- apply the "
                                    "schedule every epoch or step\n"),
              std::string::npos)
        << callbacks.output;
    EXPECT_NE(callbacks.output.find("\n    schedule: schedule item, required"), std::string::npos)
        << callbacks.output;

    const CliRun datasets = opgraph("ops --kind dataset");
    ASSERT_EQ(datasets.code, 0) << datasets.output;
    for (const char* name : {"fashion_mnist", "idx", "mnist"})
        EXPECT_NE(datasets.output.find(std::string("\n") + name + "  [dataset]\n"),
                  std::string::npos)
            << name << "\n"
            << datasets.output;
    EXPECT_NE(datasets.output.find("\n    train.x: string, required"), std::string::npos)
        << datasets.output;
    EXPECT_NE(callbacks.output.find("\n    patience: int >= 0, default 10\n"), std::string::npos)
        << callbacks.output;
    const std::size_t nan = callbacks.output.find("\nterminate_on_nan  [callback]\n");
    ASSERT_NE(nan, std::string::npos);
    EXPECT_NE(callbacks.output.find("    attributes: none\n", nan), std::string::npos);
}

TEST(Cli, OpsKindWithOpShowsOneType) {
    const CliRun run = opgraph("ops --kind schedule --op cosine");
    ASSERT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.rfind("cosine  [schedule]\n    cosine decay", 0), 0u) << run.output;
    EXPECT_EQ(run.output.find("inverse_time"), std::string::npos) << run.output;
}

TEST(Cli, OpsKindOpIsTheDefaultListing) {
    const CliRun ops = opgraph("ops --kind op");
    ASSERT_EQ(ops.code, 0) << ops.output;
    EXPECT_EQ(ops.output, opgraph("ops").output);
    EXPECT_NE(ops.output.find("\nconv2d  [layer, plugin 'core']\n"), std::string::npos);
}

TEST(Cli, OpsWithAnUnknownKindOrTypeExitsTwo) {
    const CliRun kind = opgraph("ops --kind optimiser");
    EXPECT_EQ(kind.code, 2) << kind.output;
    EXPECT_NE(kind.output.find("unknown kind 'optimiser' (did you mean 'optimizer'?)"),
              std::string::npos)
        << kind.output;
    const CliRun far = opgraph("ops --kind layers");
    EXPECT_EQ(far.code, 2) << far.output;
    EXPECT_NE(far.output.find("(kinds: [op, optimizer, schedule, callback, dataset])"),
              std::string::npos)
        << far.output;
    const CliRun type = opgraph("ops --kind optimizer --op adamm");
    EXPECT_EQ(type.code, 2) << type.output;
    EXPECT_NE(type.output.find("unknown optimizer 'adamm' (did you mean 'adam'?)"),
              std::string::npos)
        << type.output;
    const CliRun help = opgraph("ops --help");
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.output.find("--kind"), std::string::npos) << help.output;
}

// As a new user would right after `opgraph train`: the training checkpoint it names is the
// weights file eval and predict take.
TEST(Cli, TrainNamesTheFinalWeightsAndEvalTakesTheCheckpoint) {
    const auto dir = std::filesystem::temp_directory_path() / "opgraph_cli_final_weights";
    std::filesystem::remove_all(dir);
    const CliRun train = opgraph("train " + kMnist + " --data-dir " + kData +
                                 " --epochs 1 --train-limit 256 --checkpoint-dir " + dir.string());
    ASSERT_EQ(train.code, 0) << train.output;
    const std::string checkpoint = (dir / "checkpoint.safetensors").string();
    EXPECT_NE(train.output.find("Final weights: " + checkpoint), std::string::npos) << train.output;
    const CliRun eval =
        opgraph("eval " + kMnist + " --weights " + checkpoint + " --data-dir " + kData);
    EXPECT_EQ(eval.code, 0) << eval.output;
    EXPECT_NE(eval.output.find(" - acc: "), std::string::npos) << eval.output;
}

}  // namespace

namespace {

// --precision on a CPU without bf16 kernels (AVX2 simulated with oneDNN's ISA cap): auto runs
// f32 and says why, an explicit bf16 is refused with exit 9 naming the ISA, for bench and
// train alike, before anything runs.
TEST(Cli, PrecisionUnderAnAvx2CapFallsBackOrRefuses) {
    const std::string bench = "ONEDNN_MAX_CPU_ISA=AVX2 " + std::string(OPGRAPH_BINARY) + " bench " +
                              kMnist +
                              " --mode train --batch-size 8 --steps 1 --warmup 0 --no-peak";
    CliRun run = opgraph::testing::run_shell(bench + " --precision auto");
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_NE(
        run.output.find("precision:  f32 (auto: oneDNN ISA AVX2 has neither AVX512-BF16 nor AMX"),
        std::string::npos)
        << run.output;
    run = opgraph::testing::run_shell(bench + " --precision bf16");
    EXPECT_EQ(run.code, 9) << run.output;
    EXPECT_NE(run.output.find("oneDNN's ISA here is AVX2, which has no bf16 kernels"),
              std::string::npos)
        << run.output;
}

// bf16 where oneDNN has it: bench says which and runs the layers in bf16.
TEST(Cli, BenchRunsBf16WhereTheCpuHasIt) {
    const CliRun run = opgraph("bench " + kMnist +
                               " --mode train --precision bf16 --batch-size 16 --steps 2 "
                               "--warmup 1 --no-peak --json");
    if (run.code == 9) GTEST_SKIP() << run.output;
    ASSERT_EQ(run.code, 0) << run.output;
    const auto report = nlohmann::json::parse(run.output.substr(run.output.find("{\"")));
    EXPECT_EQ(report["precision"], "bf16");
    bool cast = false;
    for (const auto& k : report["kernels"]) cast = cast || k["op"] == "cast";
    EXPECT_TRUE(cast) << run.output;
}

// `opgraph ops` says which element types each op's kernels take.
TEST(Cli, OpsListTheTypesEachOpComputesIn) {
    const CliRun run = opgraph("ops --op conv2d");
    EXPECT_NE(run.output.find("computes in: f32, bf16"), std::string::npos) << run.output;
    EXPECT_NE(opgraph("ops --op softmax").output.find("computes in: f32\n"), std::string::npos);
}

// A list of precisions runs each and ends with one table comparing them.
TEST(Cli, BenchComparesPrecisionsInOneTable) {
    const CliRun run = opgraph("bench " + kMnist +
                               " --mode infer --precision f32,auto --batch-size 16 --steps 2 "
                               "--warmup 1 --no-peak");
    ASSERT_EQ(run.code, 0) << run.output;
    const std::size_t table = run.output.find("precision      images/s");
    ASSERT_NE(table, std::string::npos) << run.output;
    EXPECT_NE(run.output.find("\nf32 ", table), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("1.00x", table) != std::string::npos, true) << run.output;
    EXPECT_EQ(
        std::count(run.output.begin() + static_cast<std::ptrdiff_t>(table), run.output.end(), 'x'),
        2)
        << run.output;
}

}  // namespace
