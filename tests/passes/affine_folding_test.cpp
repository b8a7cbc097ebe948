// The fold_affine pass folds batch norm into a neighbouring convolution (OpDef::inference_affine,
// absorbs_affine): the graph shows it, the Program gives the same values as running it with one
// kernel fewer, and the folded weights follow parameters written between runs.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_and_test_session().ops(); }

// The graph of `yaml` after the inference pipeline (drop_identities, fold_affine) for
// `precision` (s8 without ranges: the f32 graph int8 calibration runs on).
opgraph::Graph graph_of(const std::string& yaml, opgraph::DType precision = opgraph::DType::f32) {
    const opgraph::Graph loaded = opgraph::parse_model(yaml, "affine_folding_test.yaml", ops(),
                                                       opgraph::testing::training_specs())
                                      .graph;
    return opgraph::inference_pipeline().run(loaded,
                                             opgraph::PassContext{ops(), {}, {}, precision});
}

// conv (relu) -> batch norm -> dropout -> conv (valid, no activation) -> batch norm: the first
// batch norm folds into the second conv's input, the second into that conv's output.
std::string model(const std::string& padding, const std::string& outputs) {
    return R"(model:
  inputs: {x: [7, 7, 3]}
  nodes:
    - {name: c1, op: conv2d, inputs: x, filters: 4, kernel: 3, activation: relu}
    - {name: bn1, op: batch_norm, inputs: c1}
    - {name: drop, op: dropout, inputs: bn1, rate: 0.5}
    - {name: c2, op: conv2d, inputs: drop, filters: 5, kernel: 3, padding: )" +
           padding + R"(}
    - {name: bn2, op: batch_norm, inputs: c2}
  outputs: )" +
           outputs + "\n";
}

opgraph::ProgramOptions inference() {
    opgraph::ProgramOptions options;
    options.batch_size = 2;
    options.threads.inter_op = 1;
    options.threads.intra_op = 1;
    return options;
}

// Random values for every parameter (positive variances) and the input, the same in both.
void fill(opgraph::Program& a, opgraph::Program& b, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    for (const std::string& name : a.params()) {
        const bool variance = name.find("variance") != std::string::npos;
        std::vector<float> v(a.read(name).size());
        for (float& x : v) x = variance ? 0.5f + uniform(rng) * 0.4f : uniform(rng);
        a.write(name, v);
        b.write(name, v);
    }
    std::vector<float> x(a.read("x").size());
    for (float& v : x) v = uniform(rng);
    a.write("x", x);
    b.write("x", x);
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], want[i], 1e-4f * (1.f + std::abs(want[i]))) << "element " << i;
}

TEST(AffineFolding, ThePassMovesBatchNormsIntoTheConvolutions) {
    const opgraph::Graph g = graph_of(model("valid", "[bn2]"));
    ASSERT_EQ(g.nodes.size(), 2u);  // dropout dropped, both batch norms folded
    EXPECT_EQ(g.nodes[0].name, "c1");
    EXPECT_TRUE(g.nodes[0].folded.empty());
    const opgraph::Node& c2 = g.nodes[1];
    EXPECT_EQ(c2.inputs, std::vector<std::string>{"c1"});  // bn1 and drop passed through
    ASSERT_EQ(c2.folded.size(), 2u);
    EXPECT_EQ(c2.folded[0].node.name, "bn1");
    EXPECT_EQ(c2.folded[0].side, opgraph::AffineSide::input);
    EXPECT_EQ(c2.folded[1].node.name, "bn2");
    EXPECT_EQ(c2.folded[1].side, opgraph::AffineSide::output);
    EXPECT_EQ(g.outputs, std::vector<std::string>{"c2"});  // bn2's value is c2's output now
}

TEST(AffineFolding, FoldedBatchNormsGiveTheValuesOfRunningThem) {
    const opgraph::Graph g = graph_of(model("valid", "[bn2]"));
    opgraph::Program folded(g, ops(), inference());
    // Reading c1, c2 and bn1 keeps every batch norm a kernel of its own.
    opgraph::Program plain(graph_of(model("valid", "[bn2, c1, c2, bn1]")), ops(), inference());
    EXPECT_EQ(folded.implementations().size(), 2u);  // c1 and c2
    EXPECT_EQ(plain.implementations().size(), 4u);
    fill(folded, plain, 1);
    folded.run();
    plain.run();
    expect_near(folded.read(g.outputs[0]), plain.read("bn2"));

    // New statistics between runs reach the folded weights.
    fill(folded, plain, 2);
    folded.run();
    plain.run();
    expect_near(folded.read(g.outputs[0]), plain.read("bn2"));
}

// bn1 folded into c1 after its relu (post-ops), bn2 into c2's weights; the values those of
// running every batch norm.
void expect_bn1_after_c1s_activation(const opgraph::Graph& g, const std::string& padding,
                                     opgraph::DType precision, unsigned seed) {
    ASSERT_EQ(g.nodes.size(), 2u);
    const opgraph::Node& c1 = g.nodes[0];
    ASSERT_EQ(c1.folded.size(), 1u);
    EXPECT_EQ(c1.folded[0].node.name, "bn1");
    EXPECT_EQ(c1.folded[0].side, opgraph::AffineSide::after_activation);
    ASSERT_EQ(g.nodes[1].folded.size(), 1u);
    EXPECT_EQ(g.nodes[1].folded[0].side, opgraph::AffineSide::output);
    EXPECT_EQ(g.nodes[1].inputs, std::vector<std::string>{"c1"});
    opgraph::Program folded(g, ops(), inference());
    opgraph::Program plain(graph_of(model(padding, "[bn2, c1, c2, bn1]"), precision), ops(),
                           inference());
    EXPECT_EQ(plain.implementations().size(), 4u);
    for (const unsigned s : {seed, seed + 1}) {  // new statistics between runs too
        fill(folded, plain, s);
        folded.run();
        plain.run();
        expect_near(folded.read(g.outputs[0]), plain.read("bn2"));
    }
}

TEST(AffineFolding, PaddingFoldsTheBatchNormAfterTheActivationBeforeIt) {
    // With "same" padding c2's border taps read zeros, not the batch norm of a value, so bn1
    // is applied by c1 after its relu instead.
    expect_bn1_after_c1s_activation(graph_of(model("same", "[bn2]")), "same", opgraph::DType::f32,
                                    3);
}

TEST(AffineFolding, Int8GraphsFoldNothingIntoTheNextLayersInputChannels) {
    // Per-input-channel scales in c2's weights would defeat its per-output-channel int8
    // scales: bn1 goes after c1's relu, and c1's quantized output holds normalised values.
    expect_bn1_after_c1s_activation(graph_of(model("valid", "[bn2]"), opgraph::DType::s8), "valid",
                                    opgraph::DType::s8, 5);
}

TEST(AffineFolding, TrainingProgramsRunEveryBatchNorm) {
    opgraph::ProgramOptions options = inference();
    options.training = true;
    const opgraph::Graph loaded =
        opgraph::parse_model(model("valid", "[bn2]"), "affine_folding_test.yaml", ops(),
                             opgraph::testing::training_specs())
            .graph;
    opgraph::Program program(loaded, ops(), options);
    EXPECT_EQ(program.implementations().size(), 5u);  // dropout runs in training too
}

TEST(AffineFolding, ATrainingProgramRefusesFoldedNodes) {
    opgraph::ProgramOptions options = inference();
    options.training = true;
    EXPECT_THROW(opgraph::Program(graph_of(model("valid", "[bn2]")), ops(), options),
                 opgraph::GraphError);
}

}  // namespace
