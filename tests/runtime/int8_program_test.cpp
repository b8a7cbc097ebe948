// int8 as it runs: a program quantized from ranges calibrated on the f32 program gives the
// f32 probabilities up to quantization error, with batch norms folded before the weights are
// quantized, a grouped convolution, fused ReLUs, an f32 residual add between integer layers
// and no reference kernels; a batch norm whose channel scales differ by ~100x keeps its
// accuracy; casts quantize and dequantize exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::DType;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

constexpr std::int64_t kBatch = 16;
constexpr std::int64_t kClasses = 5;

const char* kYaml = R"(
model:
  inputs: {image: [10, 10, 2]}
  nodes:
    - {name: a, op: conv2d, inputs: [image], filters: 8, kernel: 3, activation: relu}
    - {name: bn, op: batch_norm, inputs: [a]}
    - {name: b, op: conv2d, inputs: [bn], filters: 8, kernel: 3}
    - {name: bn2, op: batch_norm, inputs: [b]}
    - {name: r, op: relu, inputs: [bn2]}
    - {name: g, op: conv2d, inputs: [r], filters: 8, kernel: 1, groups: 2, activation: relu}
    - {name: sum, op: add, inputs: [r, g]}
    - {name: pool, op: max_pool2d, inputs: [sum], pool: 2}
    - {name: c, op: conv2d, inputs: [pool], filters: 6, kernel: 1, activation: relu}
    - {name: flat, op: flatten, inputs: [c]}
    - {name: scores, op: dense, inputs: [flat], units: 5}
    - {name: probs, op: softmax, inputs: [scores]}
  outputs: [probs]
)";

// The int8 inference graph; without ranges, the f32 graph its calibration runs on.
opgraph::Graph inference(const opgraph::ActivationRanges* ranges) {
    const opgraph::Graph loaded = opgraph::parse_model(kYaml, "int8_program_test.yaml", ops(),
                                                       opgraph::testing::training_specs())
                                      .graph;
    opgraph::PassContext context{ops(), {}, {}, DType::s8};
    context.activation_ranges = ranges;
    return opgraph::inference_pipeline().run(loaded, context);
}

std::vector<float> uniform(std::size_t count, float low, float high, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(low, high);
    std::vector<float> v(count);
    for (float& x : v) x = value(rng);
    return v;
}

opgraph::ProgramOptions options(opgraph::ParameterStore& store) {
    opgraph::ProgramOptions o;
    o.batch_size = kBatch;
    o.parameters = &store;
    return o;
}

TEST(Int8Program, InferenceMatchesF32UpToQuantization) {
    opgraph::ParameterStore store;
    const opgraph::Graph f32 = inference(nullptr);
    opgraph::Program reference(f32, ops(), options(store));
    // Batch norms that are not the identity, so that folding matters.
    for (const char* bn : {"bn", "bn2"}) {
        const std::string p(bn);
        reference.write(p + "/gamma", uniform(8, 0.5f, 1.5f, 1));
        reference.write(p + "/beta", uniform(8, -0.2f, 0.2f, 2));
        reference.write(p + "/moving_mean", uniform(8, 0.f, 0.3f, 3));
        reference.write(p + "/moving_variance", uniform(8, 0.5f, 2.f, 4));
    }
    // Calibrated on three batches; the last one is the batch compared.
    std::vector<float> images;
    for (unsigned batch = 0; batch < 3; ++batch) {
        const std::vector<float> b = uniform(kBatch * 10 * 10 * 2, 0.f, 1.f, 10 + batch);
        images.insert(images.end(), b.begin(), b.end());
    }
    const opgraph::ActivationRanges ranges = opgraph::calibrate(
        f32, ops(), options(store), images.data(), 3 * kBatch, opgraph::CalibrationMethod::minmax);
    reference.write("image", uniform(kBatch * 10 * 10 * 2, 0.f, 1.f, 12));
    reference.run();
    const std::vector<float> expected = reference.read("probs");

    const opgraph::Graph int8 = inference(&ranges);
    for (const char* name : {"a", "b", "g", "c"})
        EXPECT_EQ(int8.find_node(name)->dtype == DType::f32, std::string(name) == "g") << name;
    // The f32 residual sum is pooled in f32 and quantized for c.
    EXPECT_EQ(int8.find_node("pool")->dtype, DType::f32);
    EXPECT_EQ(int8.find_node("c")->inputs.front(), "pool/to_u8");
    opgraph::Program program(int8, ops(), options(store));
    program.write("image", uniform(kBatch * 10 * 10 * 2, 0.f, 1.f, 12));
    program.run();
    const std::vector<float> got = program.read("probs");
    double worst = 0;
    int agree = 0;
    for (std::int64_t s = 0; s < kBatch; ++s) {
        const auto row = [&](const std::vector<float>& p) { return p.begin() + s * kClasses; };
        for (std::int64_t k = 0; k < kClasses; ++k)
            worst = std::max(worst, double(std::fabs(row(got)[k] - row(expected)[k])));
        agree += std::max_element(row(got), row(got) + kClasses) - row(got) ==
                         std::max_element(row(expected), row(expected) + kClasses) - row(expected)
                     ? 1
                     : 0;
    }
    EXPECT_LT(worst, 0.03) << "int8 probabilities far from f32's";
    EXPECT_GE(agree, kBatch - 1);
    EXPECT_GT(worst, 0.0) << "the int8 program computed in f32";
    for (const std::string& impl : program.implementations())
        EXPECT_EQ(impl.find("ref"), std::string::npos) << impl;
}

// mnist.yaml's conv2d_4 -> batch_norm_2 -> conv2d_5 in small: channel 0 of `a` varies by 0.05
// around 1, channel 1 over [0, 1]; the batch norm scales them by 31.6 (its epsilon's limit)
// and 0.35, and b sums both. Folded into b's weights, the map left channel 1 a weight of one
// int8 step and channel 0 a dozen levels of a's u8 output (errors ~0.1); applied after a's
// relu, it quantizes normalised values.
TEST(Int8Program, BatchNormsOfVeryDifferentChannelScalesKeepTheirAccuracy) {
    const opgraph::Graph loaded =
        opgraph::parse_model(R"(
model:
  inputs: {x: [4, 4, 2]}
  nodes:
    - {name: a, op: conv2d, inputs: [x], filters: 2, kernel: 1, activation: relu}
    - {name: bn, op: batch_norm, inputs: [a]}
    - {name: b, op: conv2d, inputs: [bn], filters: 2, kernel: 1}
  outputs: [b]
)",
                             "int8_bn_test.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::ParameterStore store;
    opgraph::PassContext context{ops(), {}, {}, DType::s8};
    const opgraph::Graph f32 = opgraph::inference_pipeline().run(loaded, context);
    opgraph::Program reference(f32, ops(), options(store));
    reference.write("a/kernel", {0.05f, 0.f, 0.f, 1.f});  // (in, out)
    reference.write("a/bias", {1.f, 0.f});
    reference.write("bn/gamma", {1.f, 0.1f});
    reference.write("bn/beta", {0.f, 0.f});
    reference.write("bn/moving_mean", {1.025f, 0.5f});
    reference.write("bn/moving_variance", {0.f, 1.f / 12});
    reference.write("b/kernel", {1.f, 1.f, 1.f, -1.f});
    const std::vector<float> images = uniform(3 * kBatch * 4 * 4 * 2, 0.f, 1.f, 21);
    const opgraph::ActivationRanges ranges = opgraph::calibrate(
        f32, ops(), options(store), images.data(), 3 * kBatch, opgraph::CalibrationMethod::minmax);
    context.activation_ranges = &ranges;
    opgraph::Program program(opgraph::inference_pipeline().run(loaded, context), ops(),
                             options(store));
    const std::vector<float> x = uniform(kBatch * 4 * 4 * 2, 0.f, 1.f, 22);
    reference.write("x", x);
    program.write("x", x);
    reference.run();
    program.run();
    const std::vector<float> expected = reference.read("b"), got = program.read("b");
    double worst = 0, largest = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, double(std::fabs(got[i] - expected[i])));
        largest = std::max(largest, double(std::fabs(expected[i])));
    }
    EXPECT_GT(largest, 0.5);
    EXPECT_LT(worst, 0.02) << "int8 far from f32 (largest |output| " << largest << ")";
}

TEST(Int8Program, CastsQuantizeAndDequantizeWithTheScale) {
    const opgraph::Graph loaded =
        opgraph::parse_model(R"(
model:
  inputs: {x: [4]}
  nodes:
    - {name: d, op: dense, inputs: [x], units: 4, use_bias: false}
  outputs: [d]
)",
                             "int8_cast_test.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    const opgraph::ActivationRanges ranges{{"x", {-2.54f, 1.f}}};
    opgraph::PassContext context{ops(), {}, {}, DType::s8};
    context.activation_ranges = &ranges;
    const opgraph::Graph g = opgraph::inference_pipeline().run(loaded, context);
    ASSERT_NE(g.find_node("x/to_s8"), nullptr);
    opgraph::ProgramOptions o;
    o.batch_size = 1;
    opgraph::Program program(g, ops(), o);
    std::vector<float> identity(16, 0.f);
    for (int i = 0; i < 4; ++i) identity[i * 5] = 1.f;
    program.write("d/kernel", identity);
    // Scale 2.54 / 127 = 0.02: 1.0 is 50 steps, 0.013 rounds to 1 step, -3
    // saturates at s8's least, -128.
    program.write("x", std::vector<float>{1.f, 0.013f, -3.f, 0.f});
    program.run();
    const std::vector<float> out = program.read("d");
    EXPECT_NEAR(out[0], 1.f, 1e-5);
    EXPECT_NEAR(out[1], 0.02f, 1e-5);
    EXPECT_NEAR(out[2], -2.56f, 1e-5);
    EXPECT_EQ(out[3], 0.f);
}

}  // namespace
