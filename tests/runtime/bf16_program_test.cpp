// bf16 as it runs: an inference program in bf16 gives the f32 program's probabilities up to
// bf16 rounding, and a mixed-precision training step (bf16 layers, f32 master weights and
// gradients) computes the f32 step's loss and learns. Skipped where oneDNN has no bf16
// kernels (below AVX-512, e.g. under ONEDNN_MAX_CPU_ISA=AVX2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "opgraph/train/training_step.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::DType;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

constexpr std::int64_t kBatch = 16;

// Every op family with a bf16 kernel: conv (fused relu), batch norm, dropout, max and average
// pooling, add, concat, dense, flatten; softmax and the loss in f32.
const char* kYaml = R"(
model:
  inputs: {image: [10, 10, 2]}
  nodes:
    - {name: a, op: conv2d, inputs: [image], filters: 8, kernel: 3, activation: relu}
    - {name: bn, op: batch_norm, inputs: [a]}
    - {name: drop, op: dropout, inputs: [bn], rate: 0.2}
    - {name: b, op: conv2d, inputs: [drop], filters: 8, kernel: 3, padding: same, activation: relu}
    - {name: sum, op: add, inputs: [drop, b]}
    - {name: pool, op: max_pool2d, inputs: [sum], pool: 2}
    - {name: avg, op: avg_pool2d, inputs: [sum], pool: 2}
    - {name: both, op: concat, inputs: [pool, avg]}
    - {name: flat, op: flatten, inputs: [both]}
    - {name: scores, op: dense, inputs: [flat], units: 5}
    - {name: probs, op: softmax, inputs: [scores]}
  outputs: [probs]
training:
  dataset: mnist
  optimizer: {type: adam, learning_rate: 0.01}
  loss: categorical_crossentropy
)";

bool has_bf16() { return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core; }

opgraph::ModelFile model() {
    return opgraph::parse_model(kYaml, "bf16_program_test.yaml", ops(),
                                opgraph::testing::training_specs());
}

std::vector<float> images(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    std::vector<float> v(kBatch * 10 * 10 * 2);
    for (float& x : v) x = pixel(rng);
    return v;
}

TEST(Bf16Program, InferenceMatchesF32UpToBf16Rounding) {
    if (!has_bf16()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this ISA";
    const opgraph::ModelFile m = model();
    opgraph::ParameterStore store;
    opgraph::ProgramOptions options;
    options.batch_size = kBatch;
    options.parameters = &store;
    options.share_buffers = true;
    std::vector<std::vector<float>> out;
    for (const DType precision : {DType::f32, DType::bf16}) {
        const opgraph::Graph g = opgraph::inference_pipeline().run(
            m.graph, opgraph::PassContext{ops(), {}, {}, precision});
        opgraph::Program program(g, ops(), options);
        program.write("image", images(3));
        program.run();
        out.push_back(program.read("probs"));
        if (precision == DType::bf16) {
            for (const std::string& impl : program.implementations())
                EXPECT_EQ(impl.find("ref:"), std::string::npos) << impl;
        }
    }
    double worst = 0;
    for (std::size_t i = 0; i < out[0].size(); ++i)
        worst = std::max(worst, static_cast<double>(std::fabs(out[0][i] - out[1][i])));
    EXPECT_GT(worst, 0.0) << "the bf16 program computed in f32";
    EXPECT_LT(worst, 0.03) << "probabilities differ by more than bf16 rounding explains";
}

TEST(Bf16Program, MixedPrecisionTrainingComputesTheF32LossAndLearns) {
    if (!has_bf16()) GTEST_SKIP() << "oneDNN has no bf16 kernels on this ISA";
    const opgraph::ModelFile m = model();
    const std::vector<float> x = images(7);
    std::vector<std::int32_t> labels(kBatch);
    for (std::int64_t i = 0; i < kBatch; ++i) labels[static_cast<std::size_t>(i)] = i % 5;
    std::vector<std::vector<double>> losses;
    for (const char* precision : {"f32", "bf16"}) {
        opgraph::TrainingConfig config = *m.training;
        config.precision = precision;
        opgraph::TrainingStep step(m.graph, config, ops(), kBatch, {1, 1}, 11);
        std::vector<double> l;
        for (int i = 0; i < 30; ++i)
            l.push_back(step.run(x.data(), labels.data(), kBatch, 0.01).loss);
        losses.push_back(l);
        for (const std::string& p : step.trained_params())  // master weights stay f32
            EXPECT_EQ(step.program().memory(p).get_desc().data_type(),
                      dnnl::memory::data_type::f32);
    }
    // Same weights, same batch: bf16's 8-bit mantissa moves the loss by a few percent.
    EXPECT_NEAR(losses[1][0], losses[0][0], 0.05 * losses[0][0]);
    EXPECT_NE(losses[1][0], losses[0][0]);
    EXPECT_LT(losses[1].back(), 0.5 * losses[1].front()) << "bf16 training did not learn";
}

}  // namespace
