// Evaluating a model on a data set (loss and accuracy, as Keras's evaluate) and predicting
// class probabilities, in inference mode, batch by batch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/io/dataset.hpp"
#include "opgraph/passes/loss_graph.hpp"
#include "opgraph/passes/quantization.hpp"
#include "opgraph/runtime/program.hpp"

namespace opgraph {

struct Metrics {
    double loss = 0;      // mean over the samples
    double accuracy = 0;  // argmax of the prediction equals the label
    std::int64_t samples = 0;
};

class Evaluator {
public:
    // Compiles `graph` + `loss_op` through the eval pipeline for inference at `batch_size`;
    // a smaller last batch gets a program of its own. Every program binds to `parameters`
    // (a TrainingStep's, to validate what it trains without copying) or, when null, to a
    // store of the Evaluator's own. With no loss op, evaluate() reports a loss of 0 and
    // predict() works as usual. The precision pass runs with `precision` (f32 or bf16); s8
    // (int8) runs the quantize pass with `ranges` (a quantized weights file's,
    // read_activation_ranges) and f32 elsewhere. Throws GraphError, MemoryError, and
    // std::invalid_argument for s8 without ranges.
    Evaluator(const Graph& graph, const std::string& loss_op, const OpRegistry& ops,
              std::int64_t batch_size, const ThreadConfig& threads,
              ParameterStore* parameters = nullptr, DType precision = DType::f32,
              const ActivationRanges* ranges = nullptr);
    ~Evaluator();

    // Loads weights into the parameters (throws CheckpointError).
    void load_weights(const std::filesystem::path& file);

    Metrics evaluate(const Dataset& data);
    // Class probabilities (the model's first output), one row per sample.
    std::vector<std::vector<float>> predict(const Dataset& data);

    Program& program() { return *main_; }
    // The graph its programs run: the eval pipeline's output.
    const Graph& graph() const { return graph_.graph; }

private:
    Program& program_for(std::int64_t batch);
    // A program of the eval graph for `batch` samples, bound to the parameter store.
    std::unique_ptr<Program> compile(std::int64_t batch) const;

    LossGraph graph_;
    const OpRegistry& ops_;
    std::int64_t batch_size_;
    ThreadConfig threads_;
    ParameterStore own_parameters_;
    ParameterStore* parameters_;
    std::unique_ptr<Program> main_;
    std::map<std::int64_t, std::unique_ptr<Program>> others_;
};

}  // namespace opgraph
