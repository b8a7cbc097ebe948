// One parameter store: programs bound to it share the floats (nothing copied), a write through
// one program reaches the others before their next step, and entries keep their shape.
#include "opgraph/runtime/parameter_store.hpp"

#include <gtest/gtest.h>

#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

// conv -> batch norm: in inference the batch norm folds into the conv's weights, which the
// program derives from the parameters (prepare_constants).
const char* kModel = R"(model:
  inputs: {x: [4, 4, 2]}
  nodes:
    - {name: c, op: conv2d, inputs: x, filters: 3, kernel: 1}
    - {name: bn, op: batch_norm, inputs: c}
  outputs: [bn]
)";

opgraph::Graph inference_graph() {
    const opgraph::Graph g =
        opgraph::parse_model(kModel, "store.yaml", ops(), opgraph::testing::training_specs()).graph;
    return opgraph::inference_pipeline().run(g, opgraph::PassContext{ops(), {}, {}});
}

opgraph::ProgramOptions bound_to(opgraph::ParameterStore& store, std::int64_t batch) {
    opgraph::ProgramOptions options;
    options.batch_size = batch;
    options.parameters = &store;
    options.seed = 3;
    return options;
}

TEST(ParameterStore, EnsureInitialisesOnceAndChecksTheShape) {
    opgraph::ParameterStore store;
    const opgraph::ParamSpec spec{"kernel", {2, 3}, true, "ones"};
    float* data = store.ensure("d/kernel", spec, 0).data();
    EXPECT_EQ(data[5], 1.f);
    data[5] = 4.f;
    EXPECT_EQ(store.ensure("d/kernel", spec, 0).data()[5], 4.f);  // not initialised again
    EXPECT_EQ(store.names(), std::vector<std::string>{"d/kernel"});
    EXPECT_EQ(store.bytes(), 6 * 4);
    EXPECT_THROW(store.ensure("d/kernel", {"kernel", {3, 2}, true, "ones"}, 0),
                 std::invalid_argument);
}

TEST(ParameterStore, ProgramsBoundToItShareTheParameters) {
    opgraph::ParameterStore store;
    const opgraph::Graph g = inference_graph();
    opgraph::Program big(g, ops(), bound_to(store, 4));
    opgraph::Program small(g, ops(), bound_to(store, 1));
    EXPECT_EQ(big.params(), small.params());
    EXPECT_EQ(store.names().size(), big.params().size());
    for (const std::string& p : big.params())
        EXPECT_EQ(big.memory(p).get_data_handle(), small.memory(p).get_data_handle()) << p;

    std::vector<float> x(4 * 4 * 4 * 2);  // four samples; the small program takes the first
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i % 7);
    big.write("x", x);
    small.write("x", x.data(), x.size() / 4);
    big.run();
    small.run();
    const auto first = [](const std::vector<float>& v) {
        return std::vector<float>(v.begin(), v.begin() + 4 * 4 * 3);
    };
    EXPECT_EQ(first(big.read(g.outputs[0])), small.read(g.outputs[0]));

    // New batch-norm statistics written through one program reach the other's folded weights.
    big.write("bn/moving_mean", std::vector<float>{1.f, -1.f, 0.5f});
    big.run();
    small.run();
    EXPECT_EQ(first(big.read(g.outputs[0])), small.read(g.outputs[0]));
    // And so do floats written into the store directly, once it is touched.
    store.at("bn/moving_variance").data()[1] = 4.f;
    store.touch();
    big.run();
    small.run();
    EXPECT_EQ(first(big.read(g.outputs[0])), small.read(g.outputs[0]));
}

}  // namespace
