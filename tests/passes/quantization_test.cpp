// The quantize pass: which nodes compute on integers, their outputs' types and scales, and
// where the casts go.
#include "opgraph/passes/quantization.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "graph_queries.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/passes/precision.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::ActivationRange;
using opgraph::ActivationRanges;
using opgraph::DType;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

// The model (`body`: its layers or nodes) after the inference passes before quantize.
opgraph::Graph inference_graph(const std::string& body) {
    const opgraph::Graph loaded =
        opgraph::parse_model("model:\n  inputs: {image: [8, 8, 1]}\n" + body,
                             "quantization_test.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    return opgraph::inference_pipeline().run(
        loaded, opgraph::PassContext{ops(), {}, {}, DType::f32}, "fuse_activations");
}

// Every value of `g` in [min, max].
ActivationRanges ranges_for(const opgraph::Graph& g, float min, float max) {
    ActivationRanges ranges{{"image", {0, 1}}};
    for (const opgraph::Node& n : g.nodes) ranges[n.name] = {min, max};
    return ranges;
}

using opgraph::testing::node;

std::size_t casts(const opgraph::Graph& g) {
    return opgraph::testing::count_op(g, opgraph::kCastOp);
}

const std::string kChain = R"(  layers:
    - {op: conv2d, filters: 4, kernel: 3, activation: relu}
    - {op: max_pool2d, pool: 2}
    - {op: conv2d, filters: 3, kernel: 3}
    - {op: flatten}
    - {op: softmax}
)";

TEST(Quantization, ScalesAreSymmetricU8ForNonNegativeRangesElseS8) {
    const auto u8 = opgraph::quantization_of({0, 5.1f});
    EXPECT_EQ(u8.type, DType::u8);
    EXPECT_FLOAT_EQ(u8.scale, 5.1f / 255);
    const auto s8 = opgraph::quantization_of({-2.54f, 1});
    EXPECT_EQ(s8.type, DType::s8);
    EXPECT_FLOAT_EQ(s8.scale, 2.54f / 127);
    EXPECT_FLOAT_EQ(opgraph::quantization_of({0, 0}).scale, 1.f);
}

TEST(Quantization, TheChainRunsOnIntegersBetweenOneCastInAndTheLastLayer) {
    const opgraph::Graph g = inference_graph(kChain);
    ActivationRanges ranges = ranges_for(g, 0, 6);
    ranges["conv2d_1"] = {-3, 3};
    const opgraph::Graph out = opgraph::quantize_int8(g, ranges, ops());
    // The image is quantized once; conv2d's relu output is u8 at its scale, kept by the pool.
    EXPECT_EQ(node(out, "conv2d").inputs.front(), "image/to_u8");
    EXPECT_FLOAT_EQ(node(out, "image/to_u8").output_scales.at(0), 1.f / 255);
    EXPECT_EQ(node(out, "conv2d").dtype, DType::u8);
    EXPECT_FLOAT_EQ(node(out, "conv2d").output_scales.at(0), 6.f / 255);
    EXPECT_EQ(node(out, "max_pool2d").output_dtypes.at(0), DType::u8);
    EXPECT_FLOAT_EQ(node(out, "max_pool2d").output_scales.at(0), 6.f / 255);
    EXPECT_EQ(node(out, "conv2d_1").inputs.front(), "max_pool2d");
    // Flatten would pass integers on, but only softmax reads it: the last conv writes f32.
    EXPECT_EQ(node(out, "conv2d_1").dtype, DType::f32);
    EXPECT_TRUE(node(out, "conv2d_1").output_scales.empty());
    EXPECT_EQ(node(out, "flatten").dtype, DType::f32);
    EXPECT_EQ(casts(out), 1u);
}

TEST(Quantization, AnOpWithoutIntegerKernelsReadsADequantizedValue) {
    const opgraph::Graph g = inference_graph(R"(  nodes:
    - {name: conv2d, op: conv2d, inputs: image, filters: 4, kernel: 3}
    - {name: a, op: conv2d, inputs: conv2d, filters: 4, kernel: 1, activation: relu}
    - {name: sum, op: add, inputs: [conv2d, a]}
    - {name: conv2d_1, op: conv2d, inputs: sum, filters: 2, kernel: 1}
  outputs: [conv2d_1]
)");
    const opgraph::Graph out = opgraph::quantize_int8(g, ranges_for(g, -1, 1), ops());
    // conv2d feeds both a (integers) and the f32 add (through one cast).
    EXPECT_EQ(node(out, "conv2d").dtype, DType::s8);
    EXPECT_EQ(node(out, "a").inputs.front(), "conv2d");
    EXPECT_EQ(node(out, "a").dtype, DType::f32);  // only the add reads it
    EXPECT_EQ(node(out, "sum").inputs, (std::vector<std::string>{"conv2d/to_f32", "a"}));
    EXPECT_EQ(node(out, "conv2d_1").inputs.front(), "sum/to_s8");
    // The graph's output is read as floats.
    EXPECT_EQ(node(out, "conv2d_1").output_dtypes.at(0), DType::f32);
}

TEST(Quantization, AFusedResidualIsTakenAsIntegers) {
    const opgraph::Graph g = inference_graph(R"(  nodes:
    - {name: c0, op: conv2d, inputs: image, filters: 4, kernel: 3, padding: same}
    - {name: c1, op: conv2d, inputs: c0, filters: 4, kernel: 3, padding: same}
    - {name: sum, op: add, inputs: [c1, c0]}
    - {name: r, op: relu, inputs: sum}
    - {name: c2, op: conv2d, inputs: r, filters: 2, kernel: 1}
  outputs: [c2]
)");
    ASSERT_EQ(node(g, "c1").inputs, (std::vector<std::string>{"c0", "c0"}));  // the add's in it
    ActivationRanges ranges = ranges_for(g, -1, 1);
    ranges["c1"] = {0, 2};  // after the fused relu
    const opgraph::Graph out = opgraph::quantize_int8(g, ranges, ops());
    EXPECT_EQ(node(out, "c0").dtype, DType::s8);
    EXPECT_EQ(node(out, "c1").inputs, (std::vector<std::string>{"c0", "c0"}));
    EXPECT_EQ(node(out, "c1").dtype, DType::u8);
    EXPECT_EQ(node(out, "c2").inputs.front(), "c1");
    EXPECT_EQ(casts(out), 1u);  // the image
}

TEST(Quantization, PinnedNodesAndValuesWithoutRangesStayF32) {
    const opgraph::Graph g = inference_graph(R"(  layers:
    - {op: conv2d, filters: 4, kernel: 3, precision: f32}
    - {op: conv2d, filters: 4, kernel: 3}
    - {op: conv2d, filters: 2, kernel: 1}
)");
    ActivationRanges ranges = ranges_for(g, -1, 1);
    ranges.erase("conv2d_1");  // conv2d_2's input: no range, no int8
    const opgraph::Graph out = opgraph::quantize_int8(g, ranges, ops());
    EXPECT_EQ(node(out, "conv2d").inputs.front(), "image");
    EXPECT_EQ(node(out, "conv2d_1").inputs.front(), "conv2d/to_s8");
    EXPECT_EQ(node(out, "conv2d_1").dtype, DType::f32);
    EXPECT_EQ(node(out, "conv2d_2").inputs.front(), "conv2d_1");
    EXPECT_EQ(casts(out), 1u);
}

TEST(Quantization, TheInferencePipelineQuantizesOnlyWithRanges) {
    const opgraph::Graph g = inference_graph(kChain);
    const ActivationRanges ranges = ranges_for(g, 0, 1);
    opgraph::PassContext context{ops(), {}, {}, DType::f32};
    EXPECT_EQ(casts(opgraph::inference_pipeline().run(g, context)), 0u);
    context.precision = DType::s8;
    EXPECT_EQ(casts(opgraph::inference_pipeline().run(g, context)), 0u);
    context.activation_ranges = &ranges;
    EXPECT_EQ(casts(opgraph::inference_pipeline().run(g, context)), 1u);
}

}  // namespace
