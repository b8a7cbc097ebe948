// TrainingStep: the optimizer updates run on the flow graph give exactly what a separate
// backward pass followed by the optimizer's rule gives, for full batches and for the smaller
// last batch (its own program, parameters copied back), and every update runs once per step.
#include "opgraph/train/training_step.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/passes/autodiff.hpp"
#include "opgraph/passes/loss_graph.hpp"
#include "opgraph/train/optimizer.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::Session& session() { return opgraph::testing::core_session(); }

constexpr std::int64_t kBatch = 8;
constexpr std::uint64_t kSeed = 5;
constexpr double kLr = 0.1;

// Two paths that meet (a gradient sum), a batch-norm (statistics that are parameters
// without gradient) and a dense head; plain SGD so that the expected update is w - lr * g.
const char* kYaml = R"(
model:
  inputs: {image: [6, 6, 1]}
  nodes:
    - {name: a, op: conv2d, inputs: [image], filters: 2, kernel: 3}
    - {name: b, op: conv2d, inputs: [image], filters: 2, kernel: 3, activation: relu}
    - {name: sum, op: add, inputs: [a, b]}
    - {name: bn, op: batch_norm, inputs: [sum]}
    - {name: flat, op: flatten, inputs: [bn]}
    - {name: scores, op: dense, inputs: [flat], units: 3}
    - {name: probs, op: softmax, inputs: [scores]}
  outputs: [probs]
training:
  dataset: mnist
  optimizer: {type: sgd, learning_rate: 0.1}
  loss: categorical_crossentropy
)";

struct Batch {
    std::vector<float> images;
    std::vector<std::int32_t> labels;
};

Batch make_batch(std::int64_t count, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    Batch b;
    for (std::int64_t i = 0; i < count * 36; ++i) b.images.push_back(pixel(rng));
    for (std::int64_t i = 0; i < count; ++i)
        b.labels.push_back(static_cast<std::int32_t>(rng() % 3));
    return b;
}

// The gradients of every parameter at the parameters `params` for `batch`, computed by a
// program without updates.
std::map<std::string, std::vector<float>> gradients(
    const opgraph::ModelFile& model, const std::map<std::string, std::vector<float>>& params,
    const Batch& batch) {
    const opgraph::LossGraph loss =
        opgraph::with_loss(model.graph, "categorical_crossentropy", session().ops());
    const opgraph::BackwardGraph backward =
        opgraph::differentiate(loss.graph, loss.loss, session().ops());
    opgraph::ProgramOptions po;
    po.batch_size = static_cast<std::int64_t>(batch.labels.size());
    po.training = true;
    po.threads = {1, 1};
    opgraph::Program program(backward.graph, session().ops(), po);
    for (const auto& [name, value] : params) program.write(name, value);
    program.write(backward.loss_grad, {1.f});
    program.write("image", batch.images);
    std::vector<float> target(batch.labels.size() * 3, 0.f);
    for (std::size_t i = 0; i < batch.labels.size(); ++i) target[i * 3 + batch.labels[i]] = 1.f;
    program.write(loss.target, target);
    program.set_step(0);
    program.run();
    std::map<std::string, std::vector<float>> out;
    for (const auto& [param, grad] : backward.param_grads) out[param] = program.read(grad);
    return out;
}

std::map<std::string, std::vector<float>> read_params(opgraph::Program& program) {
    std::map<std::string, std::vector<float>> out;
    for (const std::string& p : program.params()) out[p] = program.read(p);
    return out;
}

void expect_sgd_step(const std::map<std::string, std::vector<float>>& before,
                     const std::map<std::string, std::vector<float>>& grads,
                     const std::map<std::string, std::vector<float>>& after) {
    ASSERT_FALSE(grads.empty());
    for (const auto& [param, g] : grads) {
        const std::vector<float>& w = before.at(param);
        const std::vector<float>& w2 = after.at(param);
        ASSERT_EQ(w.size(), g.size()) << param;
        for (std::size_t i = 0; i < w.size(); ++i)
            EXPECT_NEAR(w2[i], w[i] - kLr * g[i], 1e-6) << param << "[" << i << "]";
    }
}

TEST(TrainingStep, UpdatesOnTheFlowGraphEqualBackwardThenSgd) {
    const opgraph::ModelFile model = opgraph::parse_model(kYaml, "step.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainingStep step(model.graph, *model.training, session().ops(), kBatch, {1, 1},
                               kSeed);
    for (unsigned s = 0; s < 3; ++s) {
        const Batch batch = make_batch(kBatch, s);
        const auto before = read_params(step.program());
        const auto grads = gradients(model, before, batch);
        const opgraph::StepResult result =
            step.run(batch.images.data(), batch.labels.data(), kBatch, kLr);
        EXPECT_TRUE(std::isfinite(result.loss));
        expect_sgd_step(before, grads, read_params(step.program()));
        EXPECT_EQ(step.iteration(), static_cast<std::int64_t>(s) + 1);
    }
    // One update task per trained parameter, each run once per step.
    const auto profile = step.program().profile();
    const auto updates = std::count_if(profile.begin(), profile.end(), [](const auto& k) {
        return k.op == std::string(opgraph::kUpdateOp);
    });
    EXPECT_EQ(static_cast<std::size_t>(updates), step.trained_params().size());
    EXPECT_EQ(step.program().profiled_runs(), 3);
}

TEST(TrainingStep, SmallerLastBatchUpdatesTheMainProgram) {
    const opgraph::ModelFile model = opgraph::parse_model(kYaml, "step.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainingStep step(model.graph, *model.training, session().ops(), kBatch, {1, 1},
                               kSeed);
    const Batch batch = make_batch(3, 9);
    const auto before = read_params(step.program());
    const auto grads = gradients(model, before, batch);
    step.run(batch.images.data(), batch.labels.data(), 3, kLr);
    expect_sgd_step(before, grads, read_params(step.program()));
    // Batch-norm's moving statistics moved too (they are parameters without gradient).
    EXPECT_NE(read_params(step.program()).at("bn/moving_mean"), before.at("bn/moving_mean"));
}

TEST(TrainingStep, RefusesBadCountsAndLabels) {
    const opgraph::ModelFile model = opgraph::parse_model(kYaml, "step.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainingStep step(model.graph, *model.training, session().ops(), kBatch, {1, 1},
                               kSeed);
    Batch batch = make_batch(kBatch, 1);
    EXPECT_THROW(step.run(batch.images.data(), batch.labels.data(), 0, kLr), std::invalid_argument);
    EXPECT_THROW(step.run(batch.images.data(), batch.labels.data(), kBatch + 1, kLr),
                 std::invalid_argument);
    batch.labels[2] = 3;
    EXPECT_THROW(step.run(batch.images.data(), batch.labels.data(), kBatch, kLr),
                 std::invalid_argument);
}

// The parameter store owns the optimizer's slots beside the parameters: Adam's m and v of
// every trained parameter, zero before the first step and moved by it; none for the
// batch-norm statistics (no gradient).
TEST(TrainingStep, TheParameterStoreOwnsTheOptimizerSlots) {
    std::string yaml = kYaml;
    const std::string sgd = "{type: sgd, learning_rate: 0.1}";
    yaml.replace(yaml.find(sgd), sgd.size(), "adam");
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "step.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    opgraph::TrainingStep step(model.graph, *model.training, session().ops(), kBatch, {1, 1},
                               kSeed);
    const opgraph::ParameterStore& store = step.parameters();
    ASSERT_FALSE(step.trained_params().empty());
    for (const std::string& p : step.trained_params())
        for (const char* slot : {"m", "v"}) {
            const opgraph::ParameterStore::Entry& e =
                store.at(opgraph::optimizer_slot_name(slot, p));
            EXPECT_TRUE(e.optimizer_state);
            EXPECT_EQ(e.shape, store.at(p).shape);
            EXPECT_TRUE(std::all_of(e.data(), e.data() + e.size(), [](float x) { return x == 0; }));
        }
    EXPECT_FALSE(store.has(opgraph::optimizer_slot_name("m", "bn/moving_mean")));
    const Batch batch = make_batch(kBatch, 2);
    step.run(batch.images.data(), batch.labels.data(), kBatch, kLr);
    const opgraph::ParameterStore::Entry& m =
        store.at(opgraph::optimizer_slot_name("m", "scores/kernel"));
    EXPECT_TRUE(std::any_of(m.data(), m.data() + m.size(), [](float x) { return x != 0; }));
}

}  // namespace
