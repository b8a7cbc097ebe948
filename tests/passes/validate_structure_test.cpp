// validate_structure, run by the model loader on the graph it read: references to values that
// do not exist, duplicate names, cycles and wrong input counts, each reported at its place in
// the file, once.
#include <gtest/gtest.h>

#include "frontend/model_test_util.hpp"

namespace {

using opgraph::testing::errors_of;
using opgraph::testing::expect_diagnostics;

TEST(ModelFileErrors, InputThatNamesNoNodeSuggestsTheNearestName) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  nodes:
    - {name: conv1, op: conv2d, inputs: image, filters: 8, kernel: 3}
    - {name: relu1, op: relu, inputs: conv}
    - {name: flat, op: flatten, inputs: [imag]}
  outputs: [flat, relu2]
)"),
        {{5, 39, "relu1", "inputs", "'conv' names no node or graph input (did you mean 'conv1'?)"},
         {6, 42, "flat", "inputs", "'imag' names no node or graph input (did you mean 'image'?)"},
         {7, 19, "model", "outputs",
          "'relu2' names no node or graph input (did you mean 'relu1'?)"}});
}

// A name resolves to its first definition; the node 'x' reading 'a' used to make 'a' (which
// reads the graph input x) look like part of a cycle a -> x -> a as well.
TEST(ModelFileErrors, DuplicateNodeNamesPointToTheFirstDefinition) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: a, op: relu, inputs: x}
    - {name: b, op: sigmoid, inputs: a}
    - {name: a, op: tanh, inputs: b}
    - {name: x, op: relu, inputs: a}
  outputs: [x]
)"),
        {{6, 7, "a", "name", "duplicate name (first defined at line 4, column 7)"},
         {7, 7, "x", "name", "duplicate name (first defined at line 2, column 12)"}});
}

TEST(ModelFileErrors, CycleIsPrintedAsAPath) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: d, op: relu, inputs: x}
    - {name: a, op: add, inputs: [c, d]}
    - {name: b, op: relu, inputs: a}
    - {name: c, op: sigmoid, inputs: b}
    - {name: e, op: relu, inputs: c}
  outputs: [e]
)"),
                       {{5, 7, "a", "inputs", "cycle: a -> b -> c -> a"}});
}

// A wrong number of inputs used to be reported a second time by the op's shape function
// ("vector::_M_range_check").
TEST(ModelFileErrors, WrongInputCountIsReportedOnce) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10], y: [10]}
  nodes:
    - {name: loss, op: categorical_crossentropy, inputs: x}
    - {name: r, op: relu, inputs: [x, y]}
    - {name: s, op: relu}
    - {name: t, op: relu, inputs: "r:1"}
  outputs: [loss, s, t]
)"),
                       {{4, 7, "loss", "inputs", "takes 2 input(s) (prediction, target), got 1"},
                        {5, 7, "r", "inputs", "takes 1 input(s) (src), got 2"},
                        {6, 7, "s", "inputs", "missing required attribute: op 'relu' takes 1"}});
}

// conv2d's residual is optional: two inputs are fine, three are not, and the residual must
// have the output's shape.
TEST(ModelFileErrors, AResidualIsAnOptionalInputOfTheOutputsShape) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [5, 5, 2], shortcut: [5, 5, 2]}
  nodes:
    - {name: fine, op: conv2d, inputs: [x, shortcut], filters: 2, kernel: 3, padding: same}
    - {name: three, op: conv2d, inputs: [x, x, x], filters: 2, kernel: 1}
    - {name: wrong, op: conv2d, inputs: [x, shortcut], filters: 3, kernel: 1}
  outputs: [fine, three, wrong]
)"),
        {{5, 7, "three", "inputs", "takes 1 to 2 input(s) (src, residual (optional)), got 3"},
         {6, 7, "wrong", "",
          "residual and output have different shapes (None, 5, 5, 2) and (None, 5, 5, 3)"}});
}

}  // namespace
