// infer_shapes, run by the model loader on the graph it read: shapes that do not fit an op,
// and values too large for the ops' shape arithmetic, each reported at its place in the file.
#include <gtest/gtest.h>

#include "frontend/model_test_util.hpp"

namespace {

using opgraph::testing::errors_of;
using opgraph::testing::expect_diagnostics;

TEST(ModelFileErrors, ShapeMismatchShowsBothShapes) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  nodes:
    - {name: c1, op: conv2d, inputs: image, filters: 32, kernel: 3}
    - {name: c2, op: conv2d, inputs: c1, filters: 32, kernel: 3}
    - {name: sum, op: add, inputs: [c1, c2]}
    - {name: flat, op: flatten, inputs: sum}
  outputs: flat
)"),
                       {{6, 7, "sum", "", "(None, 26, 26, 32) and (None, 24, 24, 32)"}});
}

// Found by fuzzing (fuzz/model_file_fuzzer.cpp, UBSan): dimensions whose product overflows
// int64 reached the ops' shape arithmetic. Values are capped per sample, reported where the
// shape is written.
TEST(ModelFileErrors, InputLargerThanTheElementLimitIsRefused) {
    expect_diagnostics(errors_of("model:\n  inputs: {x: [4294967296, 4294967296, 4]}\n"
                                 "  layers:\n    - {op: flatten}\n"),
                       {{2, 12, "", "", "more than"}});
}

TEST(ModelFileErrors, LayerOutputLargerThanTheElementLimitIsRefused) {
    expect_diagnostics(errors_of("model:\n  inputs: {x: [1000000]}\n  layers:\n"
                                 "    - {op: dense, units: 4611686018427387904}\n"),
                       {{4, 7, "dense", "", "more than"}});
}

}  // namespace
