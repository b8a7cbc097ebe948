// The `opgraph` binary as a user runs it: output and exit codes.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <filesystem>
#include <fstream>
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
    const CliRun run = opgraph("check " + std::string(OPGRAPH_SOURCE_DIR) +
                            "/tests/graphs/unknown_op.yaml");
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
    for (const char* op : {"conv2d", "batch_norm", "dropout", "max_pool2d", "avg_pool2d",
                           "global_avg_pool", "dense", "flatten", "reshape", "relu",
                           "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "add",
                           "concat", "categorical_crossentropy",
                           "sparse_categorical_crossentropy", "mean_squared_error"})
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
    const CliRun run = opgraph("ops --plugin-path " + std::string(OPGRAPH_TEST_PLUGIN_DIR) +
                            "/test_wrong_abi.so");
    EXPECT_EQ(run.code, 6) << run.output;
    EXPECT_NE(run.output.find("test_wrong_abi.so"), std::string::npos) << run.output;
}

}  // namespace

#include "opgraph/model_file.hpp"
#include "opgraph/program.hpp"
#include "opgraph/session.hpp"
#include "opgraph/weights.hpp"

namespace {

// Weights of graphs/mlp.yaml as initialised with seed 1, written where the CLI can read them.
std::string mlp_weights() {
    const std::string file =
        (std::filesystem::temp_directory_path() / "opgraph_cli_mlp.safetensors").string();
    const opgraph::Session session{opgraph::SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    const opgraph::ModelFile model = opgraph::load_model_file(
        std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mlp.yaml", session.ops());
    opgraph::ProgramOptions options;
    options.seed = 1;
    const opgraph::Program program(model.graph, session.ops(), options);
    opgraph::save_weights(program, file);
    return file;
}

const std::string kData = std::string(OPGRAPH_SOURCE_DIR) + "/data";

TEST(Cli, EvalReportsLossAndAccuracyOnTheTestSet) {
    const CliRun run = opgraph("eval " + std::string(OPGRAPH_SOURCE_DIR) +
                               "/graphs/mlp.yaml --weights " + mlp_weights() + " --data-dir " +
                               kData + " --threads 1");
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_EQ(run.output.rfind("10000/10000 - loss: ", 0), 0u) << run.output;
    EXPECT_NE(run.output.find(" - acc: "), std::string::npos) << run.output;
}

TEST(Cli, EvalWithWeightsOfAnotherGraphExitsFive) {
    const CliRun run = opgraph("eval " + kMnist + " --weights " + mlp_weights() +
                               " --data-dir " + kData);
    EXPECT_EQ(run.code, 5) << run.output;
    EXPECT_NE(run.output.find("is not in the graph"), std::string::npos) << run.output;
}

TEST(Cli, EvalWithoutDataExitsFour) {
    const CliRun run = opgraph("eval " + std::string(OPGRAPH_SOURCE_DIR) +
                               "/graphs/mlp.yaml --weights " + mlp_weights() +
                               " --data-dir /nonexistent");
    EXPECT_EQ(run.code, 4) << run.output;
    EXPECT_NE(run.output.find("/nonexistent/mnist/t10k-images-idx3-ubyte"), std::string::npos)
        << run.output;
}

TEST(Cli, PredictWritesOneRowPerImage) {
    const std::string csv =
        (std::filesystem::temp_directory_path() / "opgraph_cli_predictions.csv").string();
    const CliRun run = opgraph("predict " + std::string(OPGRAPH_SOURCE_DIR) +
                               "/graphs/mlp.yaml --weights " + mlp_weights() + " --input " +
                               kData + "/mnist/t10k-images-idx3-ubyte -o " + csv);
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
    const CliRun run = opgraph("train " + kMnist + " --data-dir " + kData +
                               " --resume --checkpoint-dir " + dir);
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

}  // namespace
