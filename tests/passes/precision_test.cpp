// The precision pass: which nodes compute in bf16, where the casts go, pinned layers, and the
// element types shape inference infers and checks.
#include "opgraph/passes/precision.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "graph_queries.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::DType;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_and_test_session().ops(); }

opgraph::Graph load(const std::string& layers) {
    return opgraph::parse_model("model:\n  inputs: {image: [8, 8, 1]}\n  layers:\n" + layers,
                                "precision_test.yaml", ops(), opgraph::testing::training_specs())
        .graph;
}

const std::string kChain = R"(    - {op: conv2d, filters: 4, kernel: 3, activation: relu}
    - {op: batch_norm}
    - {op: max_pool2d, pool: 2}
    - {op: conv2d, filters: 3, kernel: 3}
    - {op: flatten}
    - {op: softmax}
)";

using opgraph::testing::node;

std::size_t casts(const opgraph::Graph& g) {
    return opgraph::testing::count_op(g, opgraph::kCastOp);
}

TEST(Precision, F32LeavesTheGraphAsItIs) {
    const opgraph::Graph loaded = load(kChain);
    const opgraph::Graph out = opgraph::assign_precision(loaded, DType::f32, ops());
    EXPECT_EQ(out.nodes.size(), loaded.nodes.size());
    for (const opgraph::Node& n : out.nodes)
        for (const DType t : n.output_dtypes) EXPECT_EQ(t, DType::f32) << n.name;
}

TEST(Precision, Bf16KeepsTheChainInBf16AndSoftmaxInF32) {
    const opgraph::Graph out = opgraph::assign_precision(load(kChain), DType::bf16, ops());
    for (const char* name : {"conv2d", "batch_norm", "max_pool2d", "conv2d_1", "flatten"})
        EXPECT_EQ(node(out, name).output_dtypes.front(), DType::bf16) << name;
    EXPECT_EQ(node(out, "softmax").dtype, DType::f32);
    EXPECT_EQ(node(out, "softmax").output_dtypes.front(), DType::f32);
    // One cast in (the f32 image), one out (before softmax); none between the bf16 layers.
    EXPECT_EQ(casts(out), 2u);
    EXPECT_EQ(node(out, "conv2d").inputs.front(), "image/to_bf16");
    EXPECT_EQ(node(out, "softmax").inputs.front(), "flatten/to_f32");
    EXPECT_EQ(node(out, "flatten/to_f32").attrs.get_string("to"), "f32");
    EXPECT_EQ(node(out, "max_pool2d").inputs.front(), "batch_norm");
}

TEST(Precision, APinnedLayerKeepsItsTypeWithCastsAround) {
    const opgraph::Graph out =
        opgraph::assign_precision(load(R"(    - {op: conv2d, filters: 4, kernel: 3}
    - {op: relu, precision: f32}
    - {op: conv2d, filters: 3, kernel: 3}
)"),
                                  DType::bf16, ops());
    EXPECT_EQ(node(out, "relu").dtype, DType::f32);
    EXPECT_EQ(node(out, "relu").inputs.front(), "conv2d/to_f32");
    EXPECT_EQ(node(out, "conv2d_1").inputs.front(), "relu/to_bf16");
    EXPECT_EQ(node(out, "conv2d_1").dtype, DType::bf16);
}

TEST(Precision, APinnedBf16LayerRunsInBf16InAnF32Graph) {
    const opgraph::Graph out = opgraph::assign_precision(
        load("    - {op: conv2d, filters: 4, kernel: 3, precision: bf16}\n    - {op: relu}\n"),
        DType::f32, ops());
    EXPECT_EQ(node(out, "conv2d").dtype, DType::bf16);
    EXPECT_EQ(node(out, "relu").inputs.front(), "conv2d/to_f32");
    EXPECT_EQ(casts(out), 2u);
}

TEST(Precision, ALayerPinnedToATypeItsOpLacksIsAnErrorAtItsLine) {
    try {
        load("    - {op: conv2d, filters: 4, kernel: 3}\n    - {op: softmax, precision: bf16}\n");
        FAIL() << "softmax has no bf16 kernel";
    } catch (const opgraph::GraphError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("precision_test.yaml:5"), std::string::npos) << message;
        EXPECT_NE(message.find("has no bf16 kernel"), std::string::npos) << message;
    }
}

TEST(Precision, AnUnknownLayerPrecisionIsAnError) {
    try {
        load("    - {op: relu, precision: f16}\n");
        FAIL() << "f16 is not a precision";
    } catch (const opgraph::GraphError& e) {
        EXPECT_NE(std::string(e.what()).find("must be f32 or bf16, got 'f16'"), std::string::npos)
            << e.what();
    }
}

TEST(Precision, BackwardNodesComputeInTheirForwardNodesTypeWithF32ParameterGradients) {
    const opgraph::Graph model = load(
        "    - {op: conv2d, filters: 4, kernel: 3, activation: relu}\n"
        "    - {op: batch_norm}\n    - {op: dropout, rate: 0.5}\n"
        "    - {op: flatten}\n    - {op: softmax}\n");
    const opgraph::TrainingGraph t =
        opgraph::training_graph(model, "categorical_crossentropy", ops(), DType::bf16);
    const opgraph::Graph& g = t.backward.graph;
    EXPECT_EQ(node(g, "conv2d/backward_weights").dtype, DType::bf16);
    for (const auto& [param, gradient] : t.backward.param_grads)
        EXPECT_EQ(g.dtype_of(gradient), DType::f32) << param;
    EXPECT_EQ(g.dtype_of("batch_norm:1"), DType::f32);              // batch mean
    EXPECT_EQ(g.dtype_of("dropout:1"), DType::u8);                  // the mask
    EXPECT_EQ(g.dtype_of("flatten/to_f32/backward"), DType::bf16);  // the cast's gradient
}

}  // namespace
