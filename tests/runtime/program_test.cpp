// Programs on the oneTBB flow graph: concurrency of independent branches, failures named
// and recovered from, thread defaults.
#include "opgraph/runtime/program.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::Session& session() { return opgraph::testing::core_and_test_session(); }

opgraph::Graph graph_of(const std::string& yaml) {
    return opgraph::parse_model(yaml, "program_test.yaml", session().ops(),
                                opgraph::testing::training_specs())
        .graph;
}

opgraph::ProgramOptions threads(int inter_op, int intra_op = 1) {
    opgraph::ProgramOptions options;
    options.threads.inter_op = inter_op;
    options.threads.intra_op = intra_op;
    return options;
}

const char* kTwoBranches = R"(model:
  inputs: {x: [4]}
  nodes:
    - {name: left, op: test_rendezvous, inputs: x}
    - {name: right, op: test_rendezvous, inputs: x}
  outputs: [left, right]
)";

TEST(Program, IndependentBranchesRunAtTheSameTime) {
    opgraph::Program program(graph_of(kTwoBranches), session().ops(), threads(2));
    program.write("x", {0, 1, 2, 3});
    program.run();
    // Each rendezvous kernel adds how many of them it saw running at once.
    EXPECT_EQ(program.read("left"), (std::vector<float>{2, 3, 4, 5}));
    EXPECT_EQ(program.read("right"), (std::vector<float>{2, 3, 4, 5}));
}

TEST(Program, OneInterOpThreadRunsBranchesOneAfterAnother) {
    opgraph::Program program(graph_of(kTwoBranches), session().ops(), threads(1));
    program.write("x", {0, 1, 2, 3});
    program.run();
    EXPECT_EQ(program.read("left"), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(program.read("right"), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Program, ProfileTimesEveryKernelOverRunsUntilReset) {
    opgraph::Program program(graph_of(kTwoBranches), session().ops(), threads(1));
    program.write("x", {0, 1, 2, 3});
    for (int i = 0; i < 3; ++i) program.run();
    EXPECT_EQ(program.profiled_runs(), 3);
    const std::vector<opgraph::KernelProfile> profile = program.profile();
    ASSERT_EQ(profile.size(), 2u);
    EXPECT_EQ(profile[0].node, "left");
    EXPECT_EQ(profile[1].node, "right");
    for (const opgraph::KernelProfile& k : profile) {
        EXPECT_EQ(k.op, "test_rendezvous");
        EXPECT_GT(k.seconds, 0.0);
    }
    program.reset_profile();
    EXPECT_EQ(program.profiled_runs(), 0);
    for (const opgraph::KernelProfile& k : program.profile()) EXPECT_EQ(k.seconds, 0.0);
}

TEST(Program, ConcurrentAndSequentialRunsGiveTheSameValues) {
    // graphs/residual.yaml: a stem, two parallel conv paths, a residual add, a concat and two
    // outputs, run with one and with two inter-op threads from the same weights.
    const opgraph::Graph graph =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/residual.yaml",
                                 session().ops(), opgraph::testing::training_specs())
            .graph;
    std::vector<float> x(4 * 28 * 28);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 101.f;
    std::vector<std::vector<float>> results;
    for (int inter : {1, 2}) {
        opgraph::ProgramOptions options = threads(inter);
        options.batch_size = 4;
        options.seed = 11;
        opgraph::Program program(graph, session().ops(), options);
        program.write("image", x);
        program.run();
        results.push_back(program.read("probs"));
        results.push_back(program.read("log_probs"));
    }
    EXPECT_EQ(results[0], results[2]);
    EXPECT_EQ(results[1], results[3]);
    EXPECT_NEAR(results[0][0], std::exp(results[1][0]), 1e-5);
}

TEST(Program, FailingNodeIsNamedAndTheNextRunSucceeds) {
    opgraph::Program program(graph_of(R"(model:
  inputs: {x: [2]}
  layers:
    - {op: relu}
    - {name: wobbly, op: test_flaky}
    - {name: after, op: test_identity}
)"),
                             session().ops(), threads(2));
    program.write("x", {-1, 5});
    try {
        program.run();
        FAIL() << "the first run should fail";
    } catch (const opgraph::ExecutionError& e) {
        EXPECT_EQ(e.node(), "wobbly");
        EXPECT_EQ(e.op(), "test_flaky");
        EXPECT_NE(std::string(e.what()).find("deliberate failure"), std::string::npos) << e.what();
        // Where the node is written, and which plugin's kernel failed.
        EXPECT_EQ(std::string(e.what()).rfind("program_test.yaml:5:7: node 'wobbly' (op "
                                              "'test_flaky' of plugin 'test_good') failed: ",
                                              0),
                  0u)
            << e.what();
    }
    program.run();  // the flow graph was reset: the whole graph runs again
    EXPECT_EQ(program.read("after"), (std::vector<float>{0, 5}));
}

TEST(Program, ValuesAreWrittenAndReadInThePlainLayout) {
    opgraph::Program program(graph_of(R"(model:
  inputs: {x: [2, 2, 3]}
  layers: [{op: relu}]
)"),
                             session().ops(), threads(1));
    EXPECT_EQ(program.shape("x"), (opgraph::Shape{1, 2, 2, 3}));
    EXPECT_THROW(program.write("x", {1, 2}), std::invalid_argument);
    EXPECT_THROW(program.read("nope"), std::invalid_argument);
}

TEST(ThreadConfig, DefaultNeverRunsMoreBusyThreadsThanCores) {
    const opgraph::ThreadConfig config = opgraph::ThreadConfig{}.resolved();
    EXPECT_EQ(config.inter_op, 1);
    EXPECT_EQ(config.intra_op, opgraph::available_cores());
    const opgraph::ThreadConfig two = opgraph::ThreadConfig{0, 2}.resolved();
    EXPECT_LE(two.intra_op * two.inter_op, std::max(2, opgraph::available_cores()));
    EXPECT_THROW((opgraph::ThreadConfig{-1, 0}.resolved()), std::invalid_argument);
    // Batch 1 (latency): one intra-op thread unless asked for more.
    EXPECT_EQ(opgraph::ThreadConfig{}.resolved(1).intra_op, 1);
    EXPECT_EQ((opgraph::ThreadConfig{2, 0}.resolved(1).intra_op), 2);
    EXPECT_EQ(opgraph::ThreadConfig{}.resolved(128).intra_op, config.intra_op);
}

}  // namespace

#include "opgraph/tools/gradient_check.hpp"

namespace {

TEST(GradientCheck, PassesARightRule) {
    const auto results = opgraph::check_gradients(session().ops(), "test_identity");
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) EXPECT_TRUE(r.passed) << r.label << ": " << r.detail;
}

TEST(GradientCheck, CatchesAWrongRule) {
    const auto results = opgraph::check_gradients(session().ops(), "test_wrong_gradient");
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0].passed) << results[0].detail;
    EXPECT_GT(results[0].worst, 0.3) << results[0].detail;
}

TEST(GradientCheck, RefusesOpsWithoutRule) {
    EXPECT_THROW(opgraph::check_gradients(session().ops(), "test_flaky"), std::invalid_argument);
    EXPECT_THROW(opgraph::check_gradients(session().ops(), "rleu"), std::invalid_argument);
}

}  // namespace

namespace {

TEST(Program, SquareConvKernelIsReadAndWrittenRowMajor) {
    // (3, 3, 3, 3): every dim equal, so only the declared layout tells a parameter from data.
    opgraph::Program program(graph_of(R"(model:
  inputs: {x: [5, 5, 3]}
  layers: [{name: c, op: conv2d, filters: 3, kernel: 3, use_bias: false}]
)"),
                             session().ops(), threads(1));
    std::vector<float> w(81);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
    program.write("c/kernel", w);
    EXPECT_EQ(program.read("c/kernel"), w);
    const auto* raw = static_cast<const float*>(program.memory("c/kernel").get_data_handle());
    EXPECT_EQ(std::vector<float>(raw, raw + 81), w);
}

}  // namespace

namespace {

// Inference kernels reorder their weights once (Kernel::prepare_constants), not at every
// step; a parameter written between runs must still be the one the next run uses.
TEST(Program, InferenceUsesWeightsWrittenBetweenRuns) {
    const opgraph::Graph g = graph_of(R"(model:
  inputs: {x: [4, 4, 16]}
  layers: [{name: c, op: conv2d, filters: 16, kernel: 3, use_bias: false}]
)");
    opgraph::Program program(g, session().ops(), threads(1));
    // The same three steps with no weight written between them: the reorders a step needs
    // anyway (the input to the layout the primitive wants, on some ISAs).
    opgraph::Program untouched(g, session().ops(), threads(1));
    for (int i = 0; i < 3; ++i) untouched.run();
    program.write("x", std::vector<float>(4 * 4 * 16, 1.f));
    const std::size_t weights = 3 * 3 * 16 * 16;
    program.write("c/kernel", std::vector<float>(weights, 1.f));
    program.run();
    EXPECT_EQ(program.read("c").front(), 144.f);  // 3 * 3 taps * 16 channels
    program.write("c/kernel", std::vector<float>(weights, 0.5f));
    program.run();
    EXPECT_EQ(program.read("c").front(), 72.f);
    program.run();  // nothing written: the cached weights stay
    EXPECT_EQ(program.read("c").front(), 72.f);
    // Weights written between runs add no reorder inside a step.
    EXPECT_EQ(program.profile().front().reorders, untouched.profile().front().reorders);
}

}  // namespace
