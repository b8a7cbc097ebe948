// The fuse_residual_add pass and conv2d's residual input: ResNet's blocks (with and without
// a downsampling shortcut) lose their adds and relus to the convolutions before them and
// compute what the separate nodes did, in f32, bf16 and int8; adds a convolution cannot take stay;
// a residual conv2d written by hand applies the batch norm after the sum (its gradient is in
// conv2d's gradient-check cases, its input checks in validate_structure_test).
#include "opgraph/passes/residual_fusion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "graph_queries.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/affine_folding.hpp"
#include "opgraph/passes/inference_identities.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/program.hpp"
#include "random_parameters.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::DType;
using opgraph::testing::count_op;
using opgraph::testing::node;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

// Two basic blocks: one with the identity shortcut, one downsampling with a 1x1 convolution
// placed after the block's second convolution (as graphs/resnet18.yaml has it).
const char* kBlocks = R"(model:
  inputs: {x: [8, 8, 4]}
  nodes:
    - {name: a1, op: conv2d, inputs: x, filters: 4, kernel: 3, padding: same, use_bias: false}
    - {name: a1_bn, op: batch_norm, inputs: a1}
    - {name: a1_relu, op: relu, inputs: a1_bn}
    - {name: a2, op: conv2d, inputs: a1_relu, filters: 4, kernel: 3, padding: same, use_bias: false}
    - {name: a2_bn, op: batch_norm, inputs: a2}
    - {name: a_add, op: add, inputs: [a2_bn, x]}
    - {name: a_out, op: relu, inputs: a_add}
    - {name: b1, op: conv2d, inputs: a_out, filters: 6, kernel: 3, stride: 2, padding: same}
    - {name: b1_relu, op: relu, inputs: b1}
    - {name: b2, op: conv2d, inputs: b1_relu, filters: 6, kernel: 3, padding: same}
    - {name: down, op: conv2d, inputs: a_out, filters: 6, kernel: 1, stride: 2}
    - {name: down_bn, op: batch_norm, inputs: down}
    - {name: b_add, op: add, inputs: [b2, down_bn]}
    - {name: b_out, op: relu, inputs: b_add}
    - {name: pool, op: global_avg_pool, inputs: b_out}
  outputs: [pool]
)";

opgraph::Graph loaded(const std::string& yaml = kBlocks) {
    return opgraph::parse_model(yaml, "residual_fusion_test.yaml", ops(),
                                opgraph::testing::training_specs())
        .graph;
}

opgraph::Graph fused(DType precision = DType::f32) {
    return opgraph::inference_pipeline().run(loaded(), {ops(), {}, {}, precision});
}

TEST(ResidualFusion, EachBlockBecomesItsConvolutionsAlone) {
    const opgraph::Graph g = fused();
    EXPECT_EQ(count_op(g, "add"), 0u);
    EXPECT_EQ(count_op(g, "relu"), 0u);
    EXPECT_EQ(count_op(g, "batch_norm"), 0u);
    // The identity shortcut: x is a2's residual, then the relu after the add its activation.
    EXPECT_EQ(node(g, "a2").inputs, (std::vector<std::string>{"a1", "x"}));
    EXPECT_EQ(node(g, "a2").attrs.get_string("activation"), "relu");
    // The downsampling block: b2 comes before down, so the sum goes into down (the later).
    EXPECT_EQ(node(g, "down").inputs, (std::vector<std::string>{"a2", "b2"}));
    EXPECT_EQ(node(g, "down").attrs.get_string("activation"), "relu");
    EXPECT_EQ(node(g, "b2").inputs.size(), 1u);
    EXPECT_EQ(node(g, "pool").inputs.front(), "down");
}

// The second block's residual is the first block's sum, which is now its convolution.
TEST(ResidualFusion, AResidualThatWasASumReadsItsConvolution) {
    const opgraph::Graph g = opgraph::fuse_residual_adds(loaded(R"(model:
  inputs: {x: [4, 4, 2]}
  nodes:
    - {name: c1, op: conv2d, inputs: x, filters: 2, kernel: 1}
    - {name: s1, op: add, inputs: [c1, x]}
    - {name: c2, op: conv2d, inputs: s1, filters: 2, kernel: 1}
    - {name: s2, op: add, inputs: [c2, s1]}
  outputs: [s2]
)"),
                                                         ops());
    EXPECT_EQ(node(g, "c1").inputs, (std::vector<std::string>{"x", "x"}));
    EXPECT_EQ(node(g, "c2").inputs, (std::vector<std::string>{"c1", "c1"}));
    EXPECT_EQ(g.outputs, std::vector<std::string>{"c2"});
    opgraph::checked_graph(g, ops());  // every reference resolves
}

// The same random parameters and input in the graph with and without the fusions; with
// shared buffers the fused convolutions write over their residuals (OpDef::in_place).
void expect_same_result(const opgraph::Graph& unfused, const opgraph::Graph& fused_graph,
                        double tolerance, bool share_buffers) {
    opgraph::ParameterStore store;
    opgraph::ProgramOptions options;
    options.batch_size = 3;
    options.parameters = &store;
    opgraph::Program a(unfused, ops(), options);
    options.share_buffers = share_buffers;
    opgraph::Program b(fused_graph, ops(), options);
    std::mt19937 rng(7);
    opgraph::testing::randomize_parameters(a, rng);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x(3 * 8 * 8 * 4);
    for (float& v : x) v = u(rng);
    a.write("x", x);
    b.write("x", x);
    a.run();
    b.run();
    const std::vector<float> expected = a.read("pool"), got = b.read("pool");
    ASSERT_EQ(expected.size(), got.size());
    double spread = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_NEAR(got[i], expected[i], tolerance * (1 + std::fabs(expected[i]))) << i;
        spread += std::fabs(expected[i]);
    }
    EXPECT_GT(spread, 0.1) << "a degenerate comparison: the outputs are all near 0";
}

TEST(ResidualFusion, TheFusedBlocksComputeWhatTheNodesDid) {
    const opgraph::Graph unfused =
        opgraph::fold_affine(opgraph::drop_inference_identities(loaded(), ops()), ops());
    ASSERT_EQ(count_op(unfused, "add"), 2u);
    for (const bool share : {false, true}) expect_same_result(unfused, fused(), 1e-5, share);
}

TEST(ResidualFusion, InBf16TooWhereTheCpuHasIt) {
    if (dnnl::get_effective_cpu_isa() < dnnl::cpu_isa::avx512_core)
        GTEST_SKIP() << "oneDNN has no bf16 kernels on this ISA";
    const opgraph::Graph unfused =
        opgraph::fold_affine(opgraph::drop_inference_identities(loaded(), ops()), ops());
    const opgraph::Graph g = fused(DType::bf16);
    EXPECT_EQ(count_op(g, "add"), 0u);
    EXPECT_EQ(node(g, "a2").dtype, DType::bf16);
    for (const bool share : {false, true}) expect_same_result(unfused, g, 0.05, share);
}

// int8: a2 adds the graph input x, quantized to s8 by the cast that also feeds a1, and down
// adds b2's s8 output: both into u8 outputs, the sum post-op reading s8 at the residual's
// scale.
TEST(ResidualFusion, InInt8TheResidualsAddAtTheirOwnScales) {
    opgraph::ParameterStore store;
    opgraph::ProgramOptions options;
    options.batch_size = 4;
    options.parameters = &store;
    const opgraph::Graph f32 = fused();
    opgraph::Program reference(f32, ops(), options);
    std::mt19937 rng(11);
    opgraph::testing::randomize_parameters(reference, rng, 0.5f);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x(3 * 4 * 8 * 8 * 4);
    for (float& v : x) v = u(rng);
    const opgraph::ActivationRanges ranges =
        opgraph::calibrate(f32, ops(), options, x.data(), 12, opgraph::CalibrationMethod::minmax);
    opgraph::PassContext context{ops(), {}, {}, DType::s8};
    context.activation_ranges = &ranges;
    const opgraph::Graph int8 = opgraph::inference_pipeline().run(loaded(), context);
    EXPECT_EQ(node(int8, "a2").dtype, DType::u8);
    EXPECT_EQ(node(int8, "a2").inputs.back(), "x/to_s8");
    EXPECT_EQ(node(int8, "b2").dtype, DType::s8);
    EXPECT_EQ(node(int8, "down").inputs, (std::vector<std::string>{"a2", "b2"}));
    EXPECT_EQ(count_op(int8, "add"), 0u);
    const std::vector<float> last(x.end() - 4 * 8 * 8 * 4, x.end());
    reference.write("x", last);
    reference.run();
    opgraph::Program program(int8, ops(), options);
    program.write("x", last);
    program.run();
    const std::vector<float> expected = reference.read("pool"), got = program.read("pool");
    ASSERT_EQ(got.size(), expected.size());
    double largest = 0, worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        largest = std::max(largest, double(std::fabs(expected[i])));
        worst = std::max(worst, double(std::fabs(got[i] - expected[i])));
    }
    EXPECT_GT(largest, 0.1);
    EXPECT_LT(worst, 0.05 * largest) << "int8 far from f32";
    EXPECT_GT(worst, 0.0) << "the int8 program computed in f32";
}

TEST(ResidualFusion, LeavesSumsNoConvolutionCanTake) {
    const opgraph::Graph g = opgraph::fuse_residual_adds(loaded(R"(model:
  inputs: {x: [4, 4, 2]}
  nodes:
    - {name: c, op: conv2d, inputs: x, filters: 2, kernel: 1}
    - {name: d, op: conv2d, inputs: c, filters: 2, kernel: 1, activation: relu}
    - {name: read_twice, op: add, inputs: [c, d]}
    - {name: e, op: conv2d, inputs: x, filters: 2, kernel: 1}
    - {name: three, op: add, inputs: [e, x, x]}
    - {name: f, op: conv2d, inputs: x, filters: 2, kernel: 1}
    - {name: g, op: add, inputs: [f, read_twice]}
    - {name: out, op: add, inputs: [g, three]}
  outputs: [out, f]
)"),
                                                         ops());
    // c is read by d too, d has its own activation, e's add has three inputs, f is an output,
    // and g and three are adds, not convolutions.
    EXPECT_EQ(count_op(g, "add"), 4u);
    for (const char* conv : {"c", "d", "e", "f"}) EXPECT_EQ(node(g, conv).inputs.size(), 1u);
}

const char* kHandWritten = R"(model:
  inputs: {x: [5, 5, 2], shortcut: [5, 5, 3]}
  nodes:
    - {name: c, op: conv2d, inputs: [x, shortcut], filters: 3, kernel: 3, padding: same}
    - {name: bn, op: batch_norm, inputs: c}
  outputs: [bn]
)";

TEST(ResidualFusion, AResidualConvolutionAppliesTheBatchNormAfterTheSum) {
    // bn(conv(x) + shortcut) is not a convolution of x plus the shortcut: the weights keep
    // it out, and it is applied after the sum (post-ops), with the values of running it.
    const opgraph::Graph unfolded = loaded(kHandWritten);
    const opgraph::Graph g = opgraph::fold_affine(unfolded, ops());
    EXPECT_EQ(g.find_node("bn"), nullptr);
    ASSERT_EQ(node(g, "c").folded.size(), 1u);
    EXPECT_EQ(node(g, "c").folded[0].side, opgraph::AffineSide::after_activation);
    opgraph::ParameterStore store;
    opgraph::ProgramOptions options;
    options.batch_size = 2;
    options.parameters = &store;
    opgraph::Program a(unfolded, ops(), options), b(g, ops(), options);
    std::mt19937 rng(5);
    opgraph::testing::randomize_parameters(a, rng);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const char* input : {"x", "shortcut"}) {
        std::vector<float> v(a.read(input).size());
        for (float& e : v) e = u(rng);
        a.write(input, v);
        b.write(input, v);
    }
    a.run();
    b.run();
    const std::vector<float> expected = a.read("bn"), got = b.read("c");
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], expected[i], 1e-4 * (1 + std::fabs(expected[i]))) << i;
}

}  // namespace
