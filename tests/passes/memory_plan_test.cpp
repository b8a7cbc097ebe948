// The memory plan: buffers shared only between values the task graph orders apart, and the
// bytes of parameters, optimizer state and activations known before anything is allocated.
#include "opgraph/passes/memory_plan.hpp"

#include <gtest/gtest.h>

#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::PlannedValue;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

TEST(ShareBuffers, AChainReusesTheBuffersOfValuesItHasFinishedReading) {
    // t0 -> v0 -> t1 -> v1 -> t2 -> v2 -> t3 -> v3: v2 may take v0's buffer (t1, its last
    // reader, comes before t2), v3 v1's.
    const std::vector<std::vector<std::size_t>> after = {{}, {0}, {1}, {2}};
    std::vector<PlannedValue> values = {
        {100, 0, {1}, false}, {200, 1, {2}, false}, {100, 2, {3}, false}, {50, 3, {}, false}};
    const opgraph::BufferAssignment a = opgraph::share_buffers(values, after);
    EXPECT_EQ(a.buffer_bytes.size(), 2u);
    EXPECT_EQ(a.buffer_of[0], a.buffer_of[2]);
    EXPECT_EQ(a.buffer_of[1], a.buffer_of[3]);
    EXPECT_NE(a.buffer_of[0], a.buffer_of[1]);
    EXPECT_EQ(a.bytes(), 300);
}

TEST(ShareBuffers, TasksTheFlowGraphMayRunAtOnceNeverShare) {
    // t0 feeds two branches t1 and t2 (unordered), joined by t3: v1 (of t1) cannot reuse v0
    // (t2 may still read it), and v2 (of t2) cannot reuse v1 (t3 reads it later).
    const std::vector<std::vector<std::size_t>> after = {{}, {0}, {0}, {1, 2}};
    std::vector<PlannedValue> values = {
        {64, 0, {1, 2}, false}, {64, 1, {3}, false}, {64, 2, {3}, false}, {64, 3, {}, false}};
    const opgraph::BufferAssignment a = opgraph::share_buffers(values, after);
    EXPECT_NE(a.buffer_of[1], a.buffer_of[0]);
    EXPECT_NE(a.buffer_of[2], a.buffer_of[0]);
    EXPECT_NE(a.buffer_of[2], a.buffer_of[1]);
    EXPECT_EQ(a.buffer_of[3], a.buffer_of[0]);  // t1 and t2 come before t3
}

TEST(ShareBuffers, PersistentValuesKeepTheirOwnMemory) {
    const std::vector<std::vector<std::size_t>> after = {{}, {0}, {1}};
    std::vector<PlannedValue> values = {
        {100, 0, {1}, true}, {100, 1, {2}, false}, {100, 2, {}, false}};
    const opgraph::BufferAssignment a = opgraph::share_buffers(values, after);
    EXPECT_EQ(a.buffer_of[0], -1);
    EXPECT_EQ(a.buffer_bytes.size(), 2u);  // v2 cannot reuse v0: it is kept
}

TEST(ShareBuffers, AGrowingTenantEnlargesTheBuffer) {
    const std::vector<std::vector<std::size_t>> after = {{}, {0}, {1}};
    std::vector<PlannedValue> values = {
        {10, 0, {1}, false}, {20, 1, {2}, false}, {1000, 2, {}, false}};
    const opgraph::BufferAssignment a = opgraph::share_buffers(values, after);
    EXPECT_EQ(a.buffer_of[2], a.buffer_of[0]);
    EXPECT_EQ(a.bytes(), 1020);
}

TEST(ShareBuffers, AnInPlaceValueTakesItsInputsBufferWhenItsProducerIsTheLastReader) {
    // t0 -> v0 -> t1 (relu-like, in place) -> v1 -> t2: v1 is written over v0.
    const std::vector<std::vector<std::size_t>> after = {{}, {0}, {1}};
    std::vector<PlannedValue> values = {{64, 0, {1}, false}, {64, 1, {2}, false, 0}};
    const opgraph::BufferAssignment a = opgraph::share_buffers(values, after);
    EXPECT_EQ(a.buffer_of[1], a.buffer_of[0]);
    EXPECT_EQ(a.bytes(), 64);
    // When t2 reads v0 too (a backward reading the relu's input), v1 needs its own buffer.
    values[0].readers = {1, 2};
    const opgraph::BufferAssignment b = opgraph::share_buffers(values, after);
    EXPECT_NE(b.buffer_of[1], b.buffer_of[0]);
    // So it does when a task the producer does not wait for may still read v0.
    const std::vector<std::vector<std::size_t>> branches = {{}, {0}, {0}};
    values[0].readers = {1, 2};
    const opgraph::BufferAssignment c = opgraph::share_buffers(values, branches);
    EXPECT_NE(c.buffer_of[1], c.buffer_of[0]);
}

// Element-wise activations write over their input in place (OpDef::in_place): after a
// convolution, a chain of them needs one buffer where ops that cannot (softmax) ping-pong
// between two.
TEST(MemoryPlan, ActivationsRunInPlace) {
    const auto plan_of = [](const std::string& op) {
        const std::string layer = "    - {op: " + op + "}\n";
        const opgraph::ModelFile model = opgraph::parse_model(
            "model:\n  inputs: {x: [16, 16, 8]}\n  layers:\n"
            "    - {op: conv2d, filters: 8, kernel: 3, padding: same}\n" +
                layer + layer + layer + "    - {op: global_avg_pool}\n",
            "in_place.yaml", ops(), opgraph::testing::training_specs());
        opgraph::MemoryPlanOptions options;
        options.batch_size = 4;
        return opgraph::plan_memory(model.graph, ops(), options);
    };
    const opgraph::MemoryPlan in_place = plan_of("relu");
    const opgraph::MemoryPlan copying = plan_of("softmax");
    const std::int64_t tensor = 4 * 16 * 16 * 8 * 4;
    EXPECT_EQ(in_place.unshared_activation_bytes, copying.unshared_activation_bytes);
    EXPECT_EQ(in_place.activation_bytes + tensor, copying.activation_bytes);
}

TEST(MemoryPlan, MnistTrainingAndInference) {
    const opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml", ops(),
                                 opgraph::testing::training_specs());
    opgraph::MemoryPlanOptions options;
    options.batch_size = 128;
    const opgraph::Graph inference =
        opgraph::inference_pipeline().run(model.graph, opgraph::PassContext{ops(), {}, {}});
    const opgraph::MemoryPlan infer = opgraph::plan_memory(inference, ops(), options);
    // 14,568 parameters plus the batch norms' moving statistics, as floats.
    EXPECT_GE(infer.parameter_bytes, 14568 * 4);
    EXPECT_EQ(infer.optimizer_bytes, 0);
    EXPECT_EQ(infer.input_bytes, 128 * 28 * 28 * 4);
    EXPECT_LT(infer.activation_bytes, infer.unshared_activation_bytes / 2);

    options.training = true;
    options.optimizer_slots = 2;
    const opgraph::Graph training = opgraph::train_pipeline().run(
        model.graph, opgraph::PassContext{ops(), model.training->loss, {}});
    const opgraph::MemoryPlan train = opgraph::plan_memory(training, ops(), options);
    EXPECT_EQ(train.parameter_bytes, infer.parameter_bytes);
    EXPECT_EQ(train.optimizer_bytes, 2 * 14292 * 4);  // the trainable parameters only
    EXPECT_LT(train.activation_bytes, train.unshared_activation_bytes);
    EXPECT_GT(train.activation_bytes, infer.activation_bytes);
    ASSERT_FALSE(train.largest.empty());
    for (std::size_t i = 1; i < train.largest.size(); ++i)
        EXPECT_GE(train.largest[i - 1].bytes, train.largest[i].bytes);
}

// A backward node keeps alive only the values it names: a batch norm's output dies once the
// relu after it has run (relu's backward reads its own output; batch norm's, its input and
// the statistics it saved). Each of the 4 blocks then holds 2 tensors T for backward (conv
// and relu outputs), about 11 T at the peak with the input and the gradients in flight; a
// batch-norm output kept until its backward put the peak at 14 T.
TEST(MemoryPlan, BackwardNodesKeepOnlyWhatTheyRead) {
    std::string layers;
    for (int block = 0; block < 4; ++block)
        layers +=
            "    - {op: conv2d, filters: 8, kernel: 3, padding: same, use_bias: false}\n"
            "    - {op: batch_norm}\n"
            "    - {op: relu}\n";
    const opgraph::ModelFile model = opgraph::parse_model(
        "model:\n  inputs: {x: [16, 16, 8]}\n  layers:\n" + layers +
            "    - {op: global_avg_pool}\n    - {op: dense, units: 10}\n    - {op: softmax}\n"
            "training: {dataset: mnist, optimizer: sgd, loss: categorical_crossentropy}\n",
        "chain.yaml", ops(), opgraph::testing::training_specs());
    opgraph::MemoryPlanOptions options;
    options.batch_size = 8;
    options.training = true;
    const opgraph::Graph training = opgraph::train_pipeline().run(
        model.graph, opgraph::PassContext{ops(), model.training->loss, {}});
    const std::int64_t tensor = 8 * 16 * 16 * 8 * 4;
    const opgraph::MemoryPlan plan = opgraph::plan_memory(training, ops(), options);
    EXPECT_LT(plan.activation_bytes, 12 * tensor);
}

TEST(MemoryPlan, AHundredThousandUnitDenseLayerNeedsTensOfGibibytes) {
    const opgraph::Graph g =
        opgraph::parse_model(R"(model:
  inputs: {x: [100000]}
  layers:
    - {op: dense, units: 100000}
)",
                             "huge.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::MemoryPlanOptions options;
    options.batch_size = 1;
    const opgraph::MemoryPlan plan = opgraph::plan_memory(g, ops(), options);
    EXPECT_GT(plan.parameter_bytes, std::int64_t{40} * 1000 * 1000 * 1000 - 1);
    ASSERT_FALSE(plan.largest.empty());
    EXPECT_EQ(plan.largest[0].name, "dense/kernel");
    EXPECT_EQ(plan.largest[0].kind, "parameter");
}

}  // namespace
