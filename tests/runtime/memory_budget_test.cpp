// A Program checks its memory plan against the memory available before allocating anything,
// and with share_buffers gives node outputs buffers that values ordered apart share.
#include "opgraph/runtime/memory_budget.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

opgraph::Graph mnist_inference() {
    const opgraph::ModelFile model =
        opgraph::load_model_file(std::string(OPGRAPH_SOURCE_DIR) + "/graphs/mnist.yaml", ops(),
                                 opgraph::testing::training_specs());
    return opgraph::inference_pipeline().run(model.graph, opgraph::PassContext{ops(), {}, {}});
}

opgraph::ProgramOptions options(bool share) {
    opgraph::ProgramOptions o;
    o.batch_size = 16;
    o.threads.intra_op = 1;
    o.threads.inter_op = 1;
    o.share_buffers = share;
    return o;
}

TEST(MemoryBudget, TheMachineHasSomeMemoryAvailable) {
    const std::int64_t available = opgraph::available_memory_bytes();
    EXPECT_GT(available, std::int64_t{64} << 20);
}

TEST(MemoryBudget, APlanThatDoesNotFitIsRefusedWithNeedAvailabilityAndLargest) {
    opgraph::ProgramOptions o = options(false);
    o.memory_limit = 100 * 1024;  // 100 KiB: less than mnist's activations at batch 16
    try {
        opgraph::Program program(mnist_inference(), ops(), o);
        FAIL() << "compiled a program over its memory limit";
    } catch (const opgraph::MemoryError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::out_of_memory);
        EXPECT_NE(message.find("mnist.yaml: the inference program needs "), std::string::npos)
            << message;
        EXPECT_NE(message.find(" GiB is available; largest: '"), std::string::npos) << message;
    }
}

TEST(SharedBuffers, GiveTheSameOutputsInLessMemory) {
    const opgraph::Graph g = mnist_inference();
    opgraph::Program plain(g, ops(), options(false));
    opgraph::Program shared(g, ops(), options(true));
    for (const std::string& p : plain.params()) shared.write(p, plain.read(p));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(0.f, 1.f);
    const std::string& input = g.inputs.front().name;
    for (int step = 0; step < 2; ++step) {
        std::vector<float> x(plain.read(input).size());
        for (float& v : x) v = uniform(rng);
        plain.write(input, x);
        shared.write(input, x);
        plain.run();
        shared.run();
        EXPECT_EQ(plain.read(g.outputs.front()), shared.read(g.outputs.front()));
    }
    EXPECT_LT(shared.allocated_bytes(), plain.allocated_bytes());
}

// conv2d, then three element-wise activations written over their input in place: the same
// outputs as with one buffer per value, in less memory than ops that cannot (softmax).
TEST(SharedBuffers, InPlaceActivationsGiveTheSameOutputsInOneBuffer) {
    const auto chain = [](const std::string& op) {
        const std::string layer = "    - {op: " + op + "}\n";
        return opgraph::parse_model(
                   "model:\n  inputs: {x: [12, 12, 3]}\n  layers:\n"
                   "    - {op: conv2d, filters: 16, kernel: 3}\n" +
                       layer + layer + layer + "    - {op: flatten}\n",
                   "in_place.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    };
    const opgraph::Graph g = chain("sigmoid");
    opgraph::Program plain(g, ops(), options(false));
    opgraph::Program shared(g, ops(), options(true));
    for (const std::string& p : plain.params()) shared.write(p, plain.read(p));
    std::vector<float> x(plain.read("x").size());
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    for (float& v : x) v = uniform(rng);
    plain.write("x", x);
    shared.write("x", x);
    plain.run();
    shared.run();
    EXPECT_EQ(plain.read(g.outputs.front()), shared.read(g.outputs.front()));
    opgraph::Program copying(chain("softmax"), ops(), options(true));
    EXPECT_LT(shared.allocated_bytes(), copying.allocated_bytes());
}

// The ops of `ops` into `copy`, those named in `copying` without OpDef::in_place.
void register_copying(const opgraph::OpRegistry& ops, const std::set<std::string>& copying,
                      opgraph::OpRegistry& copy) {
    for (const opgraph::OpDef* def : ops.all()) {
        opgraph::OpDef d = *def;
        if (copying.count(d.name) != 0) d.in_place = false;
        copy.add(std::move(d));
    }
}

// Training: dropout (forward and backward), batch norm's backward and the activations'
// backward write over their input's buffer, and the gradients are those of a program with a
// buffer per value and of one sharing buffers with those ops copying.
TEST(SharedBuffers, TrainingWritesDropoutBatchNormAndActivationGradientsInPlace) {
    const opgraph::ModelFile model = opgraph::parse_model(
        "model:\n  inputs: {x: [12, 12, 3]}\n  layers:\n"
        "    - {op: conv2d, filters: 16, kernel: 3, activation: relu}\n"
        "    - {op: batch_norm}\n"
        "    - {op: dropout, rate: 0.3}\n"
        "    - {op: conv2d, filters: 8, kernel: 1}\n"
        "    - {op: batch_norm}\n"
        "    - {op: relu}\n"
        "    - {op: conv2d, filters: 8, kernel: 1}\n"
        "    - {op: flatten}\n"
        "    - {op: dense, units: 5}\n"
        "    - {op: softmax}\n",
        "in_place_training.yaml", ops(), opgraph::testing::training_specs());
    const opgraph::TrainingGraph training =
        opgraph::training_graph(model.graph, "categorical_crossentropy", ops());
    const opgraph::BackwardGraph& backward = training.backward;
    const std::set<std::string> copying_ops = {"dropout", "dropout_backward", "batch_norm_backward",
                                               "conv2d_activation_backward", "relu_backward"};
    opgraph::OpRegistry copying;
    register_copying(ops(), copying_ops, copying);
    const auto program = [&](const opgraph::OpRegistry& registry, bool share) {
        opgraph::ProgramOptions o = options(share);
        o.training = true;
        o.param_gradients = backward.param_grads;
        return std::make_unique<opgraph::Program>(backward.graph, registry, o);
    };
    const auto in_place = program(ops(), true);
    const auto separate = program(copying, true);
    const auto plain = program(ops(), false);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> uniform(0.f, 1.f);
    std::vector<float> x(in_place->read("x").size());
    for (float& v : x) v = uniform(rng);
    std::vector<float> target(in_place->read(training.loss.target).size());
    const std::size_t classes = 5;
    for (std::size_t row = 0; row < target.size() / classes; ++row)
        target[row * classes + row % classes] = 1.f;
    for (opgraph::Program* p : {in_place.get(), separate.get(), plain.get()}) {
        for (const std::string& param : in_place->params()) p->write(param, in_place->read(param));
        p->write("x", x);
        p->write(training.loss.target, target);
        p->write(backward.loss_grad, {1.f});
        p->set_step(3);
        p->run();
    }
    for (const auto& [param, gradient] : backward.param_grads) {
        const std::vector<float> expected = plain->read(gradient);
        EXPECT_EQ(in_place->read(gradient), expected) << param;
        EXPECT_EQ(separate->read(gradient), expected) << param;
    }
    const auto same_buffer = [](const opgraph::Program& p, const opgraph::Node& node) {
        return p.memory(node.name).get_data_handle() ==
               p.memory(node.inputs.front()).get_data_handle();
    };
    int written_over = 0;
    for (const opgraph::Node& node : backward.graph.nodes) {
        if (copying_ops.count(node.op) == 0) continue;
        EXPECT_TRUE(same_buffer(*in_place, node)) << node.name << " (" << node.op << ")";
        EXPECT_FALSE(same_buffer(*separate, node)) << node.name << " (" << node.op << ")";
        ++written_over;
    }
    EXPECT_EQ(written_over, 6);  // dropout and its backward, two batch norms, two activations
}

TEST(SharedBuffers, AnIntermediateValueCannotBeRead) {
    const opgraph::Graph g = mnist_inference();
    opgraph::Program shared(g, ops(), options(true));
    shared.run();
    EXPECT_THROW(shared.read(g.nodes.front().name), std::invalid_argument);
}

}  // namespace
