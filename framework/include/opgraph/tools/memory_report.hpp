// The memory plans of a model file as `opgraph summary` prints them: the training program
// (when the file has a training section) and the inference program, side by side.
#pragma once

#include <cstdint>
#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/passes/memory_plan.hpp"
#include "opgraph/train/optimizer.hpp"

namespace opgraph {

// The plan of the program TrainingStep compiles (train pipeline, the slots of the optimizer
// `optimizers` builds). Requires model.training.
MemoryPlan training_memory_plan(const ModelFile& model, const OpRegistry& ops,
                                const OptimizerRegistry& optimizers, std::int64_t batch_size);
// The plan of the program predict and bench --mode infer compile (inference pipeline).
MemoryPlan inference_memory_plan(const ModelFile& model, const OpRegistry& ops,
                                 std::int64_t batch_size);

// A table: parameters, optimizer state, inputs, activations shared and one buffer each,
// total, per program; then the largest contributors of each.
std::string format_memory_plans(const ModelFile& model, const OpRegistry& ops,
                                const OptimizerRegistry& optimizers, std::int64_t batch_size);

}  // namespace opgraph
