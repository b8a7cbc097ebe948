// Every kind of item type a training section names, as the registries one object owns: the
// optimizers, the schedules, the callbacks and the datasets (built-in unless the owner adds
// its own).
#pragma once

#include "opgraph/ir/training_config.hpp"
#include "opgraph/train/callbacks.hpp"
#include "opgraph/train/datasets.hpp"
#include "opgraph/train/lr_schedule.hpp"
#include "opgraph/train/optimizer.hpp"

namespace opgraph {

struct TrainingItems {
    OptimizerRegistry optimizers = builtin_optimizers();
    ScheduleRegistry schedules = builtin_schedules();
    CallbackRegistry callbacks = builtin_callbacks();
    DatasetRegistry datasets = builtin_datasets();

    // What the training reader checks a section against.
    TrainingItemSpecs specs() const;
};

}  // namespace opgraph
