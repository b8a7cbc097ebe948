// The fuse_activations pass: conv -> batch norm -> relu (ResNet's pattern) becomes one conv
// with the batch norm folded and relu as its post-op, computing what the three nodes compute;
// an activation whose input is read elsewhere, or follows a layer with its own, stays.
#include "opgraph/passes/activation_fusion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/affine_folding.hpp"
#include "opgraph/passes/inference_identities.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "random_parameters.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

const char* kBlock = R"(model:
  inputs: {x: [6, 6, 3]}
  nodes:
    - {name: c1, op: conv2d, inputs: x, filters: 4, kernel: 3, padding: same}
    - {name: bn1, op: batch_norm, inputs: c1}
    - {name: r1, op: relu, inputs: bn1}
    - {name: c2, op: conv2d, inputs: r1, filters: 4, kernel: 3, padding: same}
    - {name: sum, op: add, inputs: [c2, r1]}
    - {name: r2, op: leaky_relu, inputs: sum, alpha: 0.2}
    - {name: c3, op: dense, inputs: r2, units: 2}
    - {name: s, op: sigmoid, inputs: c3}
  outputs: [s]
)";

opgraph::Graph loaded() {
    return opgraph::parse_model(kBlock, "activation_fusion_test.yaml", ops(),
                                opgraph::testing::training_specs())
        .graph;
}

TEST(ActivationFusion, MovesSoleReadersIntoTheirLayers) {
    const opgraph::Graph g = opgraph::inference_pipeline().run(loaded(), {ops(), {}, {}});
    EXPECT_EQ(g.find_node("r1"), nullptr);
    EXPECT_EQ(g.find_node("s"), nullptr);
    EXPECT_EQ(g.find_node("c1")->attrs.get_string("activation"), "relu");
    EXPECT_EQ(g.find_node("c1")->folded.size(), 1u);  // bn1, applied before the relu
    EXPECT_EQ(g.find_node("c3")->attrs.get_string("activation"), "sigmoid");
    EXPECT_EQ(g.outputs, std::vector<std::string>{"c3"});
    // The add went into c2 first (fuse_residual_add), then the leaky relu after it.
    EXPECT_EQ(g.find_node("c2")->inputs, (std::vector<std::string>{"c1", "c1"}));
    EXPECT_EQ(g.find_node("sum"), nullptr);
    EXPECT_EQ(g.find_node("r2"), nullptr);
    EXPECT_EQ(g.find_node("c2")->attrs.get_string("activation"), "leaky_relu");
}

TEST(ActivationFusion, LeavesAnActivationWhoseInputIsReadElsewhere) {
    const opgraph::Graph g = opgraph::fuse_activations(
        opgraph::parse_model(R"(model:
  inputs: {x: [4, 4, 2]}
  nodes:
    - {name: c, op: conv2d, inputs: x, filters: 2, kernel: 1}
    - {name: r, op: relu, inputs: c}
    - {name: both, op: add, inputs: [r, c]}
  outputs: [both]
)",
                             "t.yaml", ops(), opgraph::testing::training_specs())
            .graph,
        ops());
    EXPECT_NE(g.find_node("r"), nullptr);
    EXPECT_EQ(g.find_node("c")->attrs.get_string("activation"), "none");
}

TEST(ActivationFusion, TheFusedProgramComputesWhatTheNodesDid) {
    const opgraph::Graph folded =
        opgraph::fold_affine(opgraph::drop_inference_identities(loaded(), ops()), ops());
    const opgraph::Graph fused = opgraph::inference_pipeline().run(loaded(), {ops(), {}, {}});
    opgraph::ParameterStore store;
    opgraph::ProgramOptions options;
    options.batch_size = 3;
    options.parameters = &store;
    opgraph::Program a(folded, ops(), options);
    opgraph::Program b(fused, ops(), options);
    std::mt19937 rng(4);
    opgraph::testing::randomize_parameters(a, rng);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x(3 * 6 * 6 * 3);
    for (float& v : x) v = u(rng);
    a.write("x", x);
    b.write("x", x);
    a.run();
    b.run();
    const std::vector<float> expected = a.read("s"), got = b.read("c3");
    ASSERT_EQ(expected.size(), got.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5f) << i;
    EXPECT_LT(b.implementations().size(), a.implementations().size());
}

}  // namespace
