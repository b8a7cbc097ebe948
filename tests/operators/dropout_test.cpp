// dropout value tests: identity with rate 0, dropped by the inference pipeline; in training the
// kept fraction follows 1 - rate, kept values are scaled by 1 / (1 - rate), and the mask is a
// function of (seed, step): the same for the same pair, another for another step.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "op_test_util.hpp"
#include "opgraph/passes/pipeline.hpp"

namespace {

using opgraph::testing::core_session;
using opgraph::testing::expect_near;
using opgraph::testing::run_op;

opgraph::AttrMap dropout_attrs(double rate, std::int64_t seed = -1) {
    opgraph::AttrMap attrs;
    attrs.set("rate", rate);
    attrs.set("seed", seed);
    return attrs;
}

// The graph x -> dropout -> n, checked.
opgraph::Graph dropout_graph(const opgraph::Shape& shape, const opgraph::AttrMap& attrs) {
    const opgraph::OpRegistry& ops = core_session().ops();
    opgraph::Graph g;
    g.name = "dropout";
    g.file = "<dropout test>";
    g.inputs.push_back({"x", shape, {}});
    opgraph::Node node;
    node.name = "n";
    node.op = "dropout";
    node.inputs = {"x"};
    node.input_where = {{}};
    node.attrs = attrs;
    g.nodes = {node};
    g.outputs = {"n"};
    g.output_where = {{}};
    opgraph::Diagnostics diagnostics;
    g = opgraph::check_graph(g, ops, diagnostics);
    diagnostics.throw_if_any();
    return g;
}

// A training program of dropout_graph (to run at several steps).
std::unique_ptr<opgraph::Program> dropout_program(const opgraph::Shape& shape,
                                                  const opgraph::AttrMap& attrs) {
    opgraph::ProgramOptions options;
    options.training = true;
    options.batch_size = shape[0];
    return std::make_unique<opgraph::Program>(dropout_graph(shape, attrs), core_session().ops(),
                                              options);
}

std::vector<float> iota_values(std::size_t n) {
    std::vector<float> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = 1.f + static_cast<float>(i % 97);
    return values;
}

TEST(Dropout, RateZeroInTrainingIsTheIdentity) {
    const std::vector<float> src = {1, -2, 3, -4, 5, -6};
    const auto run = run_op("dropout", {{{2, 3}, src}}, dropout_attrs(0.0), {}, true);
    expect_near(run.outputs[0], src, 0.f);
}

TEST(Dropout, TheInferencePipelineDropsIt) {
    const opgraph::OpRegistry& ops = core_session().ops();
    const opgraph::Graph g = opgraph::inference_pipeline().run(
        dropout_graph({2, 3}, dropout_attrs(0.5)), opgraph::PassContext{ops, {}, {}});
    EXPECT_TRUE(g.nodes.empty());
    EXPECT_EQ(g.outputs, std::vector<std::string>{"x"});
    opgraph::ProgramOptions options;
    options.batch_size = 2;
    opgraph::Program program(g, ops, options);
    EXPECT_TRUE(program.profile().empty());  // no kernel runs
}

TEST(Dropout, AnInferenceProgramRefusesItUnlessDropped) {
    opgraph::ProgramOptions options;
    options.batch_size = 2;
    try {
        opgraph::Program program(dropout_graph({2, 3}, dropout_attrs(0.5)), core_session().ops(),
                                 options);
        FAIL() << "compiled dropout for inference";
    } catch (const opgraph::GraphError& e) {
        EXPECT_NE(std::string(e.what()).find("drop_identities"), std::string::npos) << e.what();
    }
}

TEST(Dropout, KeepsAboutOneMinusRateAndScalesKeptValues) {
    constexpr std::size_t kCount = 100000;
    for (const double rate : {0.1, 0.3, 0.5, 0.8}) {
        const std::vector<float> src = iota_values(kCount);
        const auto run = run_op("dropout", {{{100, 1000}, src}}, dropout_attrs(rate), {}, true);
        const std::vector<float>& dst = run.outputs[0];
        std::size_t kept = 0;
        for (std::size_t i = 0; i < kCount; ++i) {
            if (dst[i] == 0.f) continue;
            ++kept;
            ASSERT_NEAR(dst[i], src[i] / (1.0 - rate), 1e-4 * src[i]) << "element " << i;
        }
        const double fraction = static_cast<double>(kept) / kCount;
        EXPECT_NEAR(fraction, 1.0 - rate, 0.01) << "rate " << rate;
    }
}

TEST(Dropout, MaskDependsOnSeedAndStepOnly) {
    const opgraph::Shape shape = {4, 8, 8, 16};
    const std::vector<float> src(4 * 8 * 8 * 16, 1.f);
    auto a = dropout_program(shape, dropout_attrs(0.5, 1234));
    auto b = dropout_program(shape, dropout_attrs(0.5, 1234));
    a->write("x", src);
    b->write("x", src);
    a->set_step(7);
    b->set_step(7);
    a->run();
    b->run();
    const std::vector<float> first = a->read("n");
    EXPECT_EQ(first, b->read("n"));  // same seed, same step: same mask
    a->run();
    EXPECT_EQ(first, a->read("n"));  // running again at the same step changes nothing
    a->set_step(8);
    a->run();
    const std::vector<float> next = a->read("n");
    std::size_t differ = 0;
    for (std::size_t i = 0; i < first.size(); ++i) differ += first[i] != next[i];
    // Independent masks of rate 0.5 differ in about half of the elements.
    EXPECT_GT(differ, first.size() / 3) << "another step should draw another mask";

    auto c = dropout_program(shape, dropout_attrs(0.5, 99));
    c->write("x", src);
    c->set_step(7);
    c->run();
    EXPECT_NE(first, c->read("n"));  // another seed, another mask
}

}  // namespace
