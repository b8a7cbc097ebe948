// Running one op on small hand-written inputs, for value tests of the core operators.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "test_sessions.hpp"

namespace opgraph::testing {

struct TensorValue {
    Shape shape;              // concrete, IR order (batch, height, width, channels)
    std::vector<float> data;  // row-major in that order
};

struct OpRun {
    std::vector<std::vector<float>> outputs;  // plain, IR order
    std::vector<Shape> output_shapes;
    std::map<std::string, std::vector<float>> params;  // after the run (moving statistics)
};

// Runs `op` once on `inputs` with `attrs` over the schema defaults. `params` overrides the
// initialised parameters by name ("kernel", "bias", "gamma", ...).
inline OpRun run_op(const std::string& op, const std::vector<TensorValue>& inputs,
                    const AttrMap& attrs = {},
                    const std::map<std::string, std::vector<float>>& params = {},
                    bool training = false) {
    const OpRegistry& ops = core_session().ops();
    const OpDef* def = ops.find(op);
    Graph g;
    g.name = op;
    g.file = "<" + op + " test>";
    Node node;
    node.name = "n";
    node.op = op;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        g.inputs.push_back({"x" + std::to_string(i), inputs[i].shape, {}});
        node.inputs.push_back("x" + std::to_string(i));
        node.input_where.push_back({});
    }
    node.attrs = with_defaults(def->attrs, attrs);
    g.nodes = {node};
    g.outputs = {"n"};
    g.output_where = {{}};
    Diagnostics diagnostics;
    g = check_graph(g, ops, diagnostics);
    diagnostics.throw_if_any();
    ProgramOptions options;
    options.training = training;
    options.batch_size = inputs.empty() ? 1 : inputs[0].shape[0];
    Program program(g, ops, options);
    for (std::size_t i = 0; i < inputs.size(); ++i)
        program.write("x" + std::to_string(i), inputs[i].data);
    for (const auto& [name, values] : params) program.write("n/" + name, values);
    program.run();
    OpRun run;
    for (std::size_t i = 0; i < g.nodes[0].output_shapes.size(); ++i) {
        const std::string name = value_name("n", i);
        run.outputs.push_back(program.read(name));
        run.output_shapes.push_back(program.shape(name));
    }
    for (const std::string& p : program.params()) run.params[p.substr(2)] = program.read(p);
    return run;
}

inline void expect_near(const std::vector<float>& actual, const std::vector<float>& expected,
                        float tolerance = 1e-5f) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i)
        EXPECT_NEAR(actual[i], expected[i], tolerance) << "element " << i;
}

}  // namespace opgraph::testing
