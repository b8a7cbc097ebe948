// One compiled optimizer step: the model with its loss attached, differentiated, compiled for
// a batch size, and the optimizer's update of every trained parameter run on the same oneTBB
// flow graph as the forward and backward kernels, each update as soon as its parameter's
// gradient is complete. What the Trainer runs per batch and `opgraph bench --mode train` times.
//
// A batch smaller than the batch size (the last one of an epoch) runs on a second program
// compiled once for that count; both bind to one ParameterStore (nothing is copied), which also
// owns the optimizer's slots ("optimizer/<slot>/<parameter>", optimizer_slot_name()). The step
// count t is exposed for checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/ir/training_config.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"
#include "opgraph/runtime/threads.hpp"
#include "opgraph/train/optimizer.hpp"

namespace opgraph {

struct StepResult {
    double loss = 0;           // the batch's mean loss
    std::int64_t correct = 0;  // samples whose argmax prediction is the label
};

class TrainingStep {
public:
    // Builds model + loss (config.loss) + backward graph and compiles it for `batch_size`
    // with config.optimizer, built by `optimizers` (null: builtin_optimizers()); parameters
    // initialised from `seed`; with `check_numerics`, every kernel's outputs are checked
    // (ProgramOptions::check_numerics). Throws GraphError.
    TrainingStep(const Graph& model, const TrainingConfig& config, const OpRegistry& ops,
                 std::int64_t batch_size, const ThreadConfig& threads, std::uint64_t seed,
                 bool check_numerics = false, const OptimizerRegistry* optimizers = nullptr);
    ~TrainingStep();
    TrainingStep(const TrainingStep&) = delete;
    TrainingStep& operator=(const TrainingStep&) = delete;

    // One step on `count` samples (1 <= count <= batch_size): `images` holds count samples
    // of the model input's shape (row-major, channels-last), `labels` count class indices.
    // Forward, backward and the update at learning rate `lr`; iteration() grows by one.
    // Does not allocate when count == batch_size.
    StepResult run(const float* images, const std::int32_t* labels, std::int64_t count, double lr);

    std::int64_t batch_size() const;
    // The classes the model predicts: the last dimension of its prediction.
    std::int64_t classes() const;
    // The program of full batches: parameters and batch-norm statistics live here
    // (params(), read(), write(), profile()).
    Program& program();
    // The parameters both programs are bound to (an Evaluator may bind to it too), and the
    // optimizer's slots of the trained ones, each the parameter's shape.
    ParameterStore& parameters();
    const Optimizer& optimizer() const;

    // Optimizer steps taken so far (Adam's t of the last update; 0 before the first).
    std::int64_t iteration() const;
    void set_iteration(std::int64_t iteration);
    // Trained parameters (those with a gradient), in program().params() order.
    const std::vector<std::string>& trained_params() const;
    // The graphs it compiled: the model with its loss (after the precision pass), and with the
    // backward nodes (opgraph/passes/pipeline.hpp).
    const TrainingGraph& graph() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace opgraph
