// Reverse-mode autodiff over whole graphs: the gradient of the loss with respect to every
// parameter matches central differences, values used twice have their gradients summed, and
// an op without a gradient rule is named.
#include "opgraph/passes/autodiff.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/passes/loss_graph.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::Session& session() { return opgraph::testing::core_and_test_session(); }

constexpr std::int64_t kBatch = 4;

struct Trainable {
    opgraph::BackwardGraph backward;
    std::unique_ptr<opgraph::Program> program;
};

Trainable compile(const std::string& yaml, const std::set<std::string>& frozen = {}) {
    const opgraph::ModelFile model = opgraph::parse_model(yaml, "autodiff.yaml", session().ops(),
                                                          opgraph::testing::training_specs());
    const opgraph::LossGraph loss =
        opgraph::with_loss(model.graph, model.training->loss, session().ops());
    Trainable t;
    t.backward = opgraph::differentiate(loss.graph, loss.loss, session().ops(), frozen);
    opgraph::ProgramOptions options;
    options.batch_size = kBatch;
    options.training = true;
    options.seed = 3;
    t.program = std::make_unique<opgraph::Program>(t.backward.graph, session().ops(), options);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    const auto& input = t.backward.graph.inputs.front();
    std::vector<float> x(
        static_cast<std::size_t>(opgraph::element_count(t.program->shape(input.name))));
    for (float& v : x) v = pixel(rng);
    t.program->write(input.name, x);
    const std::int64_t classes = t.program->shape("target").back();
    std::vector<float> target(static_cast<std::size_t>(kBatch * classes), 0.f);
    for (std::int64_t i = 0; i < kBatch; ++i)
        target[static_cast<std::size_t>(i * classes + i % classes)] = 1.f;
    t.program->write("target", target);
    t.program->write(t.backward.loss_grad, {1.f});
    return t;
}

// Compares d loss / d param with central differences on a few elements of every parameter.
void expect_gradients_match(Trainable& t, double tolerance = 2e-2) {
    opgraph::Program& p = *t.program;
    const double epsilon = 1e-3;
    auto loss = [&] {
        p.run();
        return static_cast<double>(p.read("loss").front());
    };
    loss();
    ASSERT_FALSE(t.backward.param_grads.empty());
    for (const auto& [param, grad] : t.backward.param_grads) {
        const std::vector<float> analytic = p.read(grad);
        std::vector<float> w = p.read(param);
        ASSERT_EQ(analytic.size(), w.size()) << param;
        const std::size_t step = std::max<std::size_t>(1, w.size() / 5);
        for (std::size_t k = 0; k < w.size(); k += step) {
            const float original = w[k];
            w[k] = original + static_cast<float>(epsilon);
            p.write(param, w);
            const double plus = loss();
            w[k] = original - static_cast<float>(epsilon);
            p.write(param, w);
            const double minus = loss();
            w[k] = original;
            p.write(param, w);
            const double numeric = (plus - minus) / (2 * epsilon);
            const double error = std::abs(analytic[k] - numeric) /
                                 std::max({1e-2, std::abs(double(analytic[k])), std::abs(numeric)});
            EXPECT_LT(error, tolerance)
                << param << "[" << k << "]: analytic " << analytic[k] << ", numeric " << numeric;
        }
    }
}

TEST(Autodiff, SequentialCnnGradientsMatchFiniteDifferences) {
    Trainable t = compile(R"(model:
  inputs: {image: [6, 6, 1]}
  layers:
    - {op: conv2d, filters: 3, kernel: 3, use_bias: false}
    - {op: batch_norm}
    - {op: tanh}
    - {op: conv2d, filters: 4, kernel: 1, activation: sigmoid}
    - {op: avg_pool2d, pool: 2}
    - {op: flatten}
    - {op: dense, units: 3}
    - {op: softmax}
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)");
    // conv kernels, gamma, beta, the second conv's kernel and bias, dense kernel and bias.
    EXPECT_EQ(t.backward.param_grads.size(), 7u);
    EXPECT_FALSE(t.backward.param_grads.count("batch_norm/moving_mean"));
    expect_gradients_match(t);
}

TEST(Autodiff, ValueUsedTwiceHasItsGradientsSummed) {
    Trainable t = compile(R"(model:
  inputs: {x: [5]}
  nodes:
    - {name: h, op: dense, inputs: x, units: 4, activation: tanh}
    - {name: branch, op: dense, inputs: h, units: 4, activation: tanh}
    - {name: sum, op: add, inputs: [h, branch]}
    - {name: out, op: dense, inputs: sum, units: 3}
    - {name: probs, op: softmax, inputs: out}
  outputs: [probs]
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)");
    int sums = 0;
    for (const opgraph::Node& n : t.backward.graph.nodes)
        if (n.name.rfind("grad_sum_", 0) == 0) {
            ++sums;
            EXPECT_EQ(n.op, opgraph::kGradientSumOp);
            EXPECT_EQ(n.inputs.size(), 2u);
        }
    EXPECT_EQ(sums, 1);  // h feeds both `branch` and `sum`
    expect_gradients_match(t);
}

TEST(Autodiff, FrozenParametersAndInputsGetNoGradient) {
    const opgraph::ModelFile model =
        opgraph::parse_model(R"(model:
  inputs: {x: [5]}
  layers:
    - {name: first, op: dense, units: 4}
    - {name: second, op: dense, units: 3}
    - {op: softmax}
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)",
                             "autodiff.yaml", session().ops(), opgraph::testing::training_specs());
    const auto loss = opgraph::with_loss(model.graph, "categorical_crossentropy", session().ops());
    const auto backward = opgraph::differentiate(loss.graph, loss.loss, session().ops(),
                                                 {"first/kernel", "first/bias"});
    EXPECT_EQ(backward.param_grads.size(), 2u);
    EXPECT_TRUE(backward.param_grads.count("second/kernel"));
    for (const opgraph::Node& n : backward.graph.nodes)
        EXPECT_NE(n.name, "first/backward_data") << "no gradient flows into a frozen layer's input";
}

TEST(Autodiff, BranchesWithAFrozenLayerMatchFiniteDifferences) {
    // The input fans out to three branches, one of them frozen; a branch also fans out to
    // both the add and the concat. The gradients of the trained parameters stay exact.
    Trainable t = compile(R"(model:
  inputs: {image: [5, 5, 2]}
  nodes:
    - {name: left, op: conv2d, inputs: image, filters: 3, kernel: 3, activation: tanh}
    - {name: right, op: conv2d, inputs: image, filters: 3, kernel: 3}
    - {name: frozen, op: conv2d, inputs: image, filters: 3, kernel: 3, activation: sigmoid}
    - {name: sum, op: add, inputs: [left, right, frozen]}
    - {name: both, op: concat, inputs: [sum, right]}
    - {name: flat, op: flatten, inputs: both}
    - {name: out, op: dense, inputs: flat, units: 3}
    - {name: probs, op: softmax, inputs: out}
  outputs: [probs]
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)",
                          {"frozen/kernel", "frozen/bias"});
    EXPECT_EQ(t.backward.param_grads.size(), 6u);  // left, right, out: kernel and bias each
    EXPECT_FALSE(t.backward.param_grads.count("frozen/kernel"));
    EXPECT_FALSE(t.backward.param_grads.count("frozen/bias"));
    for (const opgraph::Node& n : t.backward.graph.nodes)
        EXPECT_EQ(n.name.rfind("frozen/", 0), std::string::npos)
            << "a backward node of the frozen layer: " << n.name;
    expect_gradients_match(t);
}

TEST(Autodiff, OpWithoutRuleIsNamed) {
    const opgraph::ModelFile model =
        opgraph::parse_model(R"(model:
  inputs: {x: [5]}
  layers:
    - {op: dense, units: 3}
    - {name: opaque, op: test_flaky}
    - {op: softmax}
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)",
                             "autodiff.yaml", session().ops(), opgraph::testing::training_specs());
    const auto loss = opgraph::with_loss(model.graph, "categorical_crossentropy", session().ops());
    try {
        opgraph::differentiate(loss.graph, loss.loss, session().ops());
        FAIL() << "differentiated through an op without a gradient rule";
    } catch (const opgraph::GraphError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u);
        EXPECT_EQ(e.diagnostics()[0].node, "opaque");
        EXPECT_NE(e.diagnostics()[0].message.find("'test_flaky' has no gradient rule"),
                  std::string::npos)
            << e.what();
    }
}

// What a forward kernel keeps for backward (weight snapshots, batch statistics, workspaces,
// masks) is a value of the training graph: the forward node saves it as outputs after its own
// and the backward nodes name it as an input, so the memory plan sees it and nothing links
// kernels behind the graph's back.
TEST(Autodiff, ForwardNodesSaveWhatTheirBackwardNodesRead) {
    Trainable t = compile(R"(model:
  inputs: {x: [6, 6, 1]}
  nodes:
    - {name: conv, op: conv2d, inputs: x, filters: 4, kernel: 3}
    - {name: bn, op: batch_norm, inputs: conv}
    - {name: act, op: relu, inputs: bn}
    - {name: pool, op: max_pool2d, inputs: act}
    - {name: drop, op: dropout, inputs: pool, rate: 0.25}
    - {name: flat, op: flatten, inputs: drop}
    - {name: out, op: dense, inputs: flat, units: 3}
    - {name: probs, op: softmax, inputs: out}
  outputs: [probs]
training: {dataset: mnist, optimizer: adam, loss: categorical_crossentropy}
)");
    const opgraph::Graph& g = t.backward.graph;
    const auto node = [&](const std::string& name) -> const opgraph::Node& {
        const opgraph::Node* n = g.find_node(name);
        EXPECT_NE(n, nullptr) << name;
        return *n;
    };
    using Inputs = std::vector<std::string>;
    // The first layer needs no gradient of its input, so nothing reads its kernel snapshot.
    EXPECT_FALSE(node("conv").saves);
    EXPECT_EQ(node("conv").output_shapes.size(), 1u);
    EXPECT_EQ(g.find_node("conv/backward_data"), nullptr);
    ASSERT_EQ(node("out").output_shapes.size(), 2u);
    EXPECT_EQ(node("out").output_shapes[1], (opgraph::Shape{16, 3}));  // its kernel
    // Inputs after diff_dst: the forward's inputs and saved values.
    const auto after_diff = [&](const std::string& name) {
        const Inputs& in = node(name).inputs;
        return Inputs(in.begin() + 1, in.end());
    };
    EXPECT_TRUE(node("out").saves);
    EXPECT_EQ(after_diff("out/backward_data"), (Inputs{"flat", "out:1"}));
    ASSERT_EQ(node("bn").output_shapes.size(), 5u);  // dst, mean, variance, gamma, beta
    EXPECT_EQ(after_diff("bn/backward"), (Inputs{"conv", "bn:1", "bn:2", "bn:3", "bn:4"}));
    EXPECT_EQ(after_diff("pool/backward"), (Inputs{"act", "pool:1"}));
    EXPECT_EQ(after_diff("drop/backward"), (Inputs{"drop:1"}));
    EXPECT_EQ(node("conv/backward_weights").inputs.size(), 2u);  // diff_dst, src
    EXPECT_FALSE(node("act").saves);  // relu's backward reads its output, a value already
    EXPECT_FALSE(node("probs").saves);
    for (const opgraph::Node& n : g.nodes)
        EXPECT_TRUE(n.attrs.has(opgraph::kForwardAttr) || n.name.rfind("grad_sum_", 0) == 0 ||
                    n.output_shapes.size() == 1 || n.saves)
            << n.name;
    t.program->run();  // compiles and runs without reaching into other kernels
    for (float v : t.program->read(t.backward.param_grads.at("conv/kernel")))
        EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
