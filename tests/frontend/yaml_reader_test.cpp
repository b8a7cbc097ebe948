// The model loader's reading of a file: YAML syntax, resource limits (deep nesting, alias
// bombs are refused quickly), duplicate and misspelt keys, nodes and their attributes, and the
// training section. Every diagnostic names the exact line and column, the node and the
// attribute; one mistake is reported once.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <string>
#include <vector>

#include "frontend/model_test_util.hpp"
#include "opgraph/frontend/model_file.hpp"

namespace {

using opgraph::testing::dump;
using opgraph::testing::errors_of;
using opgraph::testing::expect_diagnostics;
using opgraph::testing::load;

// ---- YAML itself

TEST(ModelFileErrors, YamlSyntaxErrorNamesTheLineAndTheUnclosedBracket) {
    const auto errors = errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: dense, units: 4
    - {op: relu}
)");
    // yaml-cpp notices at the next entry; the bracket that was never closed is named too.
    expect_diagnostics(errors, {{5, 7, "", "", "YAML syntax error: end of map flow not found"}});
    EXPECT_NE(errors[0].message.find("opened at line 4, column 7"), std::string::npos);
}

TEST(ModelFileErrors, TabIndentationIsNamedInTheSyntaxError) {
    expect_diagnostics(errors_of("model:\n  inputs: {x: [10]}\n  layers:\n\t- {op: relu}\n"),
                       {{4, 2, "", "", "indented with a tab"}});
}

// yaml-cpp 0.7 accepts a quote left open at the end of the file, swallowing the rest of the
// file into one string: the loader used to report only the missing 'layers' that caused.
TEST(ModelFileErrors, UnterminatedQuotedStringIsASyntaxError) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  name: "abc
  layers:
    - {op: relu}
)"),
                       {{3, 9, "", "", "quoted string is never closed"}});
}

// Quotes inside plain scalars and comments are not taken for the start of a quoted string.
TEST(ModelFileErrors, QuotesInsidePlainScalarsAndCommentsAreFine) {
    const opgraph::ModelFile model = load(R"(model:
  name: rock 'n roll   # the "classic" one, isn't it
  inputs: {x: [10]}
  layers:
    - {op: relu}
)");
    EXPECT_EQ(model.graph.name, "rock 'n roll");
}

TEST(ModelFileErrors, EmptyFileIsRefusedAtLineOne) {
    expect_diagnostics(errors_of(""), {{1, 1, "", "", "file is empty"}});
    expect_diagnostics(errors_of("  \n\n"), {{1, 1, "", "", "file is empty"}});
    // Comments only: yaml-cpp gives a null document without a position.
    expect_diagnostics(errors_of("# a model, one day\n---\n"), {{1, 1, "", "", "no content"}});
}

TEST(ModelFileErrors, EmptyModelSectionIsReportedAtItsKeyOnce) {
    expect_diagnostics(
        errors_of("# header\nmodel:\ntraining:\n  dataset: mnist\n  optimizer: adam\n"
                  "  loss: categorical_crossentropy\n"),
        {{2, 1, "model", "", "expects a mapping with inputs and layers"}});
}

// ---- resource limits

// Peak resident memory of this process, in KiB.
long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

// Defined before the deep-nesting test and its 50 MB text, so that a run of the whole binary
// (not only ctest's one process per test) measures the peak memory from a low start.
TEST(ModelFileErrors, AliasBombIsRefusedWithinASecond) {
    // "Billion laughs": ten levels of anchors, each a list of ten aliases of the one before,
    // would expand to 10^10 scalars.
    const std::string text = R"(a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
a9: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
model: *a9
)";
    const long rss_before = peak_rss_kib();
    const auto start = std::chrono::steady_clock::now();
    const auto errors = errors_of(text);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(1));
    EXPECT_LT(peak_rss_kib() - rss_before, 64 * 1024) << "KiB more at peak";
    // Named by the top-level key it explodes under (the first walked: the last written).
    expect_diagnostics(errors, {{11, 1, "", "model", "alias bomb"}});
}

TEST(ModelFileErrors, TenThousandDeepNestingIsRefusedNotACrash) {
    constexpr int kDepth = 10000;
    const auto repeat = [](const std::string& s, int n) {
        std::string out;
        out.reserve(s.size() * static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) out += s;
        return out;
    };
    // Flow style: the mapping `a:` is level 1, so the 64th bracket (column 3 + 64) opens
    // level 65.
    expect_diagnostics(errors_of("a: " + repeat("[", kDepth) + repeat("]", kDepth) + "\n"),
                       {{1, 67, "", "", "nesting deeper than 64 levels"}});
    expect_diagnostics(errors_of("a: " + repeat("{a: ", kDepth) + "1" + repeat("}", kDepth)),
                       {{1, 4 + 4 * 63, "", "", "nesting deeper than 64 levels"}});
    // Block style, compact: "- - - x" and "? ? ? x"; the 64th indicator (column 127) opens
    // level 65. It used to be reported at the end of the line.
    expect_diagnostics(errors_of(repeat("- ", kDepth) + "x\n"),
                       {{1, 127, "", "", "nesting deeper than 64 levels"}});
    expect_diagnostics(errors_of(repeat("? ", kDepth) + "x\n"),
                       {{1, 127, "", "", "nesting deeper than 64 levels"}});
    // Indented mappings, one space per level (50 MB: above the default size limit, which
    // refuses it too; raised here so that the depth check is what refuses it).
    std::string mappings;
    mappings.reserve(static_cast<std::size_t>(kDepth) * (kDepth / 2 + 8));
    for (int i = 0; i < kDepth; ++i)
        mappings.append(static_cast<std::size_t>(i), ' ').append("k:\n");
    opgraph::YamlLimits roomy;
    roomy.max_bytes = mappings.size() + 1;
    expect_diagnostics(errors_of(mappings, roomy),
                       {{65, 65, "", "", "nesting deeper than 64 levels"}});
    expect_diagnostics(errors_of(mappings), {{0, 0, "", "", "over the limit"}});
}

// ---- nodes and attributes

TEST(ModelFileErrors, UnknownOpSuggestsTheNearestName) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: dense, units: 4}
    - {op: rleu}
)"),
                       {{5, 12, "rleu", "op", "unknown op 'rleu' (did you mean 'relu'?)"}});
}

// One typo, one diagnostic: the misspelt key is not also reported as a missing attribute.
TEST(ModelFileErrors, MisspelledAttributeSuggestsTheNearestNameOnce) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {op: conv2d, filter: 32, kernel: 3}
    - {op: flatten}
)"),
        {{4, 20, "conv2d", "filter", "unknown attribute (did you mean 'filters'?)"}});
}

TEST(ModelFileErrors, MissingRequiredAttributeIsReportedAtTheNode) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - op: dense
      activation: relu
    - {op: softmax}
)"),
        {{4, 7, "dense", "units", "missing required attribute (int >= 1, required)"}});
}

TEST(ModelFileErrors, WrongTypesAreEachReported) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {op: conv2d, filters: "32", kernel: 3}
    - {op: conv2d, filters: 8, kernel: [3, 3, 3]}
    - {op: conv2d, filters: 8.5, kernel: 3}
    - {op: conv2d, filters: 8, kernel: [3, 2.5]}
    - {op: dropout, rate: [0.5]}
    - {op: flatten}
)"),
                       {{4, 29, "conv2d", "filters", "expects an int, got string '32'"},
                        {5, 40, "conv2d_1", "kernel", "expects a list of 2 values, got 3"},
                        {6, 29, "conv2d_2", "filters", "expects an int, got float 8.5"},
                        {7, 40, "conv2d_3", "kernel", "element 1 expects an int, got float 2.5"},
                        {8, 27, "dropout", "rate", "expects a float, got a list"}});
}

// An empty value's own position is whatever follows it (here the next line): the diagnostic
// points at its key.
TEST(ModelFileErrors, EmptyValueIsReportedAtItsKey) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - op: conv2d
      filters:
      kernel: 3
    - {op: conv2d, filters: , kernel: 3}
    - {op: flatten}
)"),
                       {{5, 7, "conv2d", "filters", "expects an int, got nothing (null)"},
                        {7, 20, "conv2d_1", "filters", "expects an int, got nothing (null)"}});
}

TEST(ModelFileErrors, OutOfRangeValuesAreEachReported) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {op: conv2d, filters: 8, kernel: 3, stride: 0}
    - {op: conv2d, filters: 8, kernel: -3}
    - {op: conv2d, filters: 8, kernel: [3, -1]}
    - {op: dropout, rate: 1.5}
    - {op: flatten}
training:
  dataset: mnist
  optimizer: {type: adam, learning_rate: .nan}
  loss: categorical_crossentropy
)"),
        // A single value broadcast to a pair has no "element 0" to speak of.
        {{4, 51, "conv2d", "stride", "must be >= 1, got 0"},
         {5, 40, "conv2d_1", "kernel", "must be >= 1, got -3"},
         {6, 40, "conv2d_2", "kernel", "element 1 must be >= 1, got -1"},
         {7, 27, "dropout", "rate", "must be < 1, got 1.5"},
         {11, 42, "optimizer", "learning_rate", "must be a finite number, got nan"}});
    const auto errors = errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - {op: conv2d, filters: 8, kernel: 3, stride: 0}
    - {op: flatten}
)");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message.find("element"), std::string::npos) << errors[0].message;
}

// yaml-cpp keeps the second of two equal keys silently: the loader reports it, under the name
// the loader gives that node or item everywhere else (explicit, automatic, "optimizer").
TEST(ModelFileErrors, DuplicateYamlKeysNameTheNodeAndTheKey) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {image: [28, 28, 1]}
  layers:
    - name: conv1
      op: conv2d
      filters: 32
      kernel: 3
      filters: 16
    - {op: conv2d, filters: 8, kernel: 3, kernel: 1}
    - {op: flatten}
training:
  dataset: mnist
  optimizer: {type: adam, learning_rate: 0.1, learning_rate: 0.2}
  loss: categorical_crossentropy
  callbacks:
    - type: lr_scheduler
      per: epoch
      schedule: {type: step, initial_learning_rate: 0.1, step_size: 2, step_size: 3}
  epochs: 3
  epochs: 4
)"),
        {{8, 7, "conv1", "filters", "duplicate key (first written at line 6, column 7)"},
         {9, 43, "conv2d_1", "kernel", "duplicate key (first written at line 9, column 32)"},
         {13, 47, "optimizer", "learning_rate",
          "duplicate key (first written at line 13, column 27)"},
         {18, 72, "callbacks[0].schedule", "step_size",
          "duplicate key (first written at line 18, column 58)"},
         {20, 3, "training", "epochs", "duplicate key (first written at line 19, column 3)"}});
}

// A duplicate input key was reported three times: as a duplicate key, a duplicate name and a
// second input of a sequential model.
TEST(ModelFileErrors, DuplicateInputKeyIsReportedOnce) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10], x: [5]}
  layers:
    - {op: relu}
)"),
        {{2, 21, "model.inputs", "x", "duplicate key (first written at line 2, column 12)"}});
}

// Reported at the model, naming the candidates; the graph is still checked through them.
TEST(ModelFileErrors, NodesFormWithoutOutputs) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: a, op: relu, inputs: x}
    - {name: b, op: relu, inputs: a}
    - {name: c, op: dense, inputs: a, units: 0}
)"),
                       {{2, 3, "model", "outputs", "missing required attribute"},
                        {6, 46, "c", "units", "must be >= 1, got 0"}});
    const auto errors = errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: a, op: relu, inputs: x}
    - {name: b, op: relu, inputs: a}
    - {name: c, op: sigmoid, inputs: a}
)");
    ASSERT_EQ(errors.size(), 1u) << dump(errors);
    EXPECT_NE(errors[0].message.find("e.g. outputs: [b, c]"), std::string::npos) << dump(errors);
    // An empty list used to be reported as "the graph has no outputs" at line 1, column 1.
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: a, op: relu, inputs: x}
  outputs: []
)"),
        {{5, 12, "model", "outputs", "expects at least one output, e.g. outputs: [a]"}});
}

TEST(ModelFileErrors, InputsInASequentialLayerAreRefused) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: dense, units: 4}
    - {op: relu, inputs: x}
)"),
                       {{5, 26, "relu", "inputs", "use 'nodes' to give inputs explicitly"}});
}

// ---- one mistake, one diagnostic

// An input whose shape is wrong, or a model without inputs, used to make every node reading
// it fail again as a dangling reference.
TEST(ModelFileErrors, BadOrMissingGraphInputsAreReportedOnce) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {image: [28, 0, 1], mask: [], "": [3]}
  nodes:
    - {name: a, op: flatten, inputs: image}
    - {name: b, op: flatten, inputs: mask}
  outputs: [a, b]
)"),
                       {{2, 19, "image", "shape", "element 1 must be >= 1, got 0"},
                        {2, 37, "mask", "shape", "expects a list of 1 to 11 values, got 0"},
                        {2, 41, "model", "inputs", "expects a name, got ''"}});
    expect_diagnostics(errors_of(R"(model:
  nodes:
    - {name: a, op: relu, inputs: image}
    - {name: b, op: relu, inputs: a}
  outputs: b
)"),
                       {{2, 3, "model", "inputs", "missing required attribute"}});
    expect_diagnostics(errors_of(R"(model:
  inputs: [28, 28, 1]
  layers:
    - {op: relu}
    - {op: dense, units: 3}
)"),
                       {{2, 11, "model", "inputs", "expects a mapping of input name to shape"}});
}

// A misspelt reserved key is read as the key it resembles, so that the one typo is not also
// reported as a missing key and as every reference to the node.
TEST(ModelFileErrors, MisspeltReservedKeysAreReportedOnce) {
    expect_diagnostics(
        errors_of(R"(modle:
  inputs: {x: [10]}
  nodes:
    - {nmae: a, op: relu, input: x}
    - {name: b, op: dense, inputs: a, unit: 4}
  ouputs: [b]
training:
  dataset: mnist
  optimiser: adam
  loss: mean_squared_error
  callbacks:
    - type: lr_scheduler
      per: epoch
      schedul: {type: step, initial_learning_rate: 0.1, step_size: 2}
)"),
        {{1, 1, "", "modle", "unknown key (did you mean 'model'?)"},
         {4, 8, "a", "nmae", "unknown attribute (did you mean 'name'?)"},
         {4, 27, "a", "input", "unknown attribute (did you mean 'inputs'?)"},
         {5, 39, "b", "unit", "unknown attribute (did you mean 'units'?)"},
         {6, 3, "model", "ouputs", "unknown key (did you mean 'outputs'?)"},
         {9, 3, "training", "optimiser", "unknown attribute (did you mean 'optimizer'?)"},
         {14, 7, "callbacks[0]", "schedul", "unknown attribute (did you mean 'schedule'?)"}});
}

// Nodes without a name are labelled by their place in the list, and are not duplicates of
// each other.
TEST(ModelFileErrors, UnnamedNodesAreLabelledByPosition) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {op: relu, inputs: x}
    - {op: relu, inputs: x}
    - {name: a, inputs: x}
    - 42
  outputs: a
)"),
        {{4, 7, "nodes[0]", "name", "missing required attribute"},
         {5, 7, "nodes[1]", "name", "missing required attribute"},
         {6, 7, "a", "op", "missing required attribute"},
         {7, 7, "nodes[3]", "", "expects a node mapping such as {op: relu}, got int 42"}});
}

// A name with ':' could never be referred to ("a:1" is output 1 of a); a sequential layer of
// an unknown op such as "conv2:d" used to be named after it, failing the next layer's input.
TEST(ModelFileErrors, NamesThatCannotBeReferredToAreReportedOnce) {
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  nodes:
    - {name: "a:b", op: relu, inputs: x}
  outputs: nodes[0]
)"),
                       {{4, 14, "nodes[0]", "name", "'a:b' cannot name a value"}});
    expect_diagnostics(errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: "conv2:d", filters: 8, kernel: 1}
    - {op: relu}
)"),
                       {{4, 12, "layer", "op", "unknown op 'conv2:d' (did you mean 'conv2d'?)"}});
}

// ---- the training section

TEST(ModelFileErrors, TrainingSectionErrorsAreAllReported) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: dense, units: 4}
    - {op: softmax}
training:
  dataset: mnist
  optimizer: {type: adamm, learning_rate: 0.003}
  loss: categorical_crossentropyy
  metrics: [acuracy]
  callbacks:
    - type: lr_schedular
    - type: lr_scheduler
      schedule: {type: inverse_time, initial_learning_rate: 0.003, decay_rate: 0.319}
    - type: lr_scheduler
      per: epoch
      schedule:
        type: expression
        expression: 0.003 / (1 + * epoch)
)"),
        {{8, 21, "optimizer", "type", "unknown optimizer type 'adamm' (did you mean 'adam'?)"},
         {9, 9, "training", "loss",
          "unknown loss 'categorical_crossentropyy' (did you mean 'categorical_crossentropy'?)"},
         {10, 12, "training", "metrics",
          "'acuracy' is not one of: accuracy, acc (did you mean 'accuracy'?)"},
         {12, 13, "callbacks[0]", "type",
          "unknown callback type 'lr_schedular' (did you mean 'lr_scheduler'?)"},
         {13, 7, "callbacks[1]", "per",
          "missing required attribute (string {epoch, step}, required)"},
         // The column of the '*' inside the expression.
         {19, 34, "callbacks[2].schedule", "expression", "cannot parse '0.003 / (1 + * epoch)'"}});
}

// The column used to be one short for a quoted expression (the quote was not counted).
TEST(ModelFileErrors, ExpressionErrorColumnInsideAQuotedScalar) {
    expect_diagnostics(
        errors_of(R"yaml(model:
  inputs: {x: [10]}
  layers:
    - {op: softmax}
training:
  dataset: mnist
  optimizer: adam
  loss: categorical_crossentropy
  callbacks:
    - type: lr_scheduler
      per: epoch
      schedule: {type: expression, expression: "0.003 / (1 + * epoch)"}
    - type: lr_scheduler
      per: epoch
      schedule: {type: expression, expression: '0 * epoch'}
)yaml"),
        {{12, 62, "callbacks[0].schedule", "expression", "Unexpected operator \"*\""},
         {15, 48, "callbacks[1].schedule", "expression", "gives learning rate 0.0 at epoch 0"}});
}

// A callback given by its type alone used to be reported as "only an lr_scheduler callback
// takes a schedule", without a position.
TEST(ModelFileErrors, CallbackGivenByItsTypeAlone) {
    const opgraph::ModelFile model = load(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: softmax}
training:
  dataset: mnist
  optimizer: adam
  loss: categorical_crossentropy
  callbacks: [terminate_on_nan, {type: csv_logger, filename: log.csv}]
)");
    ASSERT_TRUE(model.training.has_value());
    ASSERT_EQ(model.training->callbacks.size(), 2u);
    EXPECT_EQ(model.training->callbacks[0].callback.type, "terminate_on_nan");
    EXPECT_FALSE(model.training->callbacks[0].schedule.has_value());
}

// Whether a callback takes a schedule is declared by its type (lr_scheduler's), and the
// schedule item is checked against the schedule types.
TEST(ModelFileErrors, ScheduleItemsBelongToTheCallbacksThatTakeThem) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: softmax}
training:
  dataset: mnist
  optimizer: adam
  loss: categorical_crossentropy
  callbacks:
    - {type: csv_logger, filename: log.csv, schedule: {type: step}}
    - {type: lr_scheduler, per: step}
    - {type: lr_scheduler, per: step, schedule: {type: cosin, initial_learning_rate: 0.1}}
)"),
        {{10, 55, "callbacks[0]", "schedule", "only an lr_scheduler callback takes a schedule"},
         {11, 7, "callbacks[1]", "schedule",
          "missing required attribute (one of [cosine, exponential, expression, inverse_time, "
          "one_cycle, step])"},
         {12, 56, "callbacks[2].schedule", "type",
          "unknown schedule type 'cosin' (did you mean 'cosine'?)"}});
}

TEST(ModelFileErrors, UnknownLossListsTheLossesWhenNothingIsClose) {
    expect_diagnostics(
        errors_of(R"(model:
  inputs: {x: [10]}
  layers:
    - {op: softmax}
training:
  dataset: mnist
  optimizer: adam
  loss: relu
)"),
        {{8, 9, "training", "loss",
          "unknown loss 'relu' (losses: [categorical_crossentropy, mean_squared_error, "
          "sparse_categorical_crossentropy])"}});
}

}  // namespace
