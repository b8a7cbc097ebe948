// Weights files and training checkpoints load into a program's parameters: a checkpoint is a
// weights file too (its optimizer slots are skipped), a weights file with foreign tensors is
// refused naming them.
#include "opgraph/runtime/weights.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/io/checkpoint.hpp"
#include "test_sessions.hpp"

namespace {

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

const char* kModel = R"(model:
  inputs: {x: [3]}
  layers: [{name: d, op: dense, units: 2}]
)";

std::filesystem::path fresh_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir);
    return dir;
}

TEST(Weights, ATrainingCheckpointLoadsAsWeights) {
    const opgraph::Graph g =
        opgraph::parse_model(kModel, "weights.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::Program program(g, ops(), {});
    opgraph::TrainingState state;
    state.params = {{"d/kernel", {3, 2}, {1, 2, 3, 4, 5, 6}}, {"d/bias", {2}, {7, 8}}};
    state.slots = {{"optimizer/m/d/kernel", {3, 2}, std::vector<float>(6, 0.5f)},
                   {"optimizer/m/d/bias", {2}, {0.5f, 0.5f}}};
    const auto dir = fresh_dir("opgraph_weights_test_checkpoint");
    opgraph::save_checkpoint(dir, state);
    opgraph::load_weights(program, dir / opgraph::kCheckpointFile);
    EXPECT_EQ(program.read("d/kernel"), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(program.read("d/bias"), (std::vector<float>{7, 8}));
}

TEST(Weights, AWeightsFileWithForeignTensorsIsRefusedNamingThem) {
    const opgraph::Graph g =
        opgraph::parse_model(kModel, "weights.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::Program program(g, ops(), {});
    opgraph::TensorFile content;
    content.tensors = {{"d/kernel", {3, 2}, std::vector<float>(6, 1.f)},
                       {"d/bias", {2}, {0, 0}},
                       {"optimizer/m/d/bias", {2}, {0, 0}}};
    const auto file = fresh_dir("opgraph_weights_test_file") / "w.safetensors";
    std::filesystem::create_directories(file.parent_path());
    opgraph::write_tensor_file(file, content);
    try {
        opgraph::load_weights(program, file);
        FAIL() << "loaded a tensor the graph does not have";
    } catch (const opgraph::CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("'optimizer/m/d/bias' (2,) is not in the graph"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace

namespace {

// A quantized weights file loads as weights (its ranges skipped) and gives its ranges back;
// ranges from another file, or malformed ones, are refused naming the file and the tensor.
TEST(Weights, AQuantizedWeightsFileHoldsTheWeightsAndTheRanges) {
    const opgraph::Graph g =
        opgraph::parse_model(kModel, "weights.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::Program program(g, ops(), {});
    program.write("d/bias", std::vector<float>{7, 8});
    const auto file = fresh_dir("opgraph_weights_test_quantized") / "q.safetensors";
    std::filesystem::create_directories(file.parent_path());
    const opgraph::ActivationRanges ranges{{"x", {-1, 2}}, {"d", {0, 3.5f}}};
    opgraph::save_quantized_weights(program, ranges, file);
    opgraph::Program other(g, ops(), {});
    opgraph::load_weights(other, file);
    EXPECT_EQ(other.read("d/bias"), (std::vector<float>{7, 8}));
    const opgraph::TensorFile content = opgraph::read_tensor_file(file);
    const opgraph::ActivationRanges read = opgraph::read_activation_ranges(content, "q");
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read.at("d").max, 3.5f);
    EXPECT_EQ(read.at("x").min, -1.f);

    opgraph::TensorFile bad = content;
    for (opgraph::NamedTensor& t : bad.tensors)
        if (t.name == "quantization/d") t.data = {4, 3};  // min > max
    EXPECT_THROW(
        try {
            opgraph::read_activation_ranges(bad, "q.safetensors");
        } catch (const opgraph::CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find("q.safetensors: tensor 'quantization/d'"),
                      std::string::npos)
                << e.what();
            throw;
        },
        opgraph::CheckpointError);
    opgraph::TensorFile plain;
    plain.tensors = {{"d/bias", {2}, {0, 0}}};
    EXPECT_THROW(opgraph::read_activation_ranges(plain, "w.safetensors"), opgraph::CheckpointError);
}

// A file of the first format had its ranges calibrated with batch norms folded into the next
// layer's weights, so they name other values than today's int8 graphs: its weights still
// load, its ranges are refused, asking for opgraph quantize again.
TEST(Weights, RangesOfTheFirstQuantizedFormatAreRefused) {
    const opgraph::Graph g =
        opgraph::parse_model(kModel, "weights.yaml", ops(), opgraph::testing::training_specs())
            .graph;
    opgraph::Program program(g, ops(), {});
    program.write("d/bias", std::vector<float>{7, 8});
    const auto file = fresh_dir("opgraph_weights_test_v1") / "q1.safetensors";
    std::filesystem::create_directories(file.parent_path());
    opgraph::save_quantized_weights(program, {{"x", {-1, 2}}}, file);
    opgraph::TensorFile v1 = opgraph::read_tensor_file(file);
    v1.metadata["format"] = "opgraph quantized weights";
    opgraph::write_tensor_file(file, v1);
    opgraph::Program other(g, ops(), {});
    opgraph::load_weights(other, file);
    EXPECT_EQ(other.read("d/bias"), (std::vector<float>{7, 8}));
    try {
        opgraph::read_activation_ranges(opgraph::read_tensor_file(file), "q1.safetensors");
        FAIL() << "took the ranges of a first-format file";
    } catch (const opgraph::CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("q1.safetensors: its activation ranges"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("opgraph quantize"), std::string::npos) << e.what();
    }
}

}  // namespace
