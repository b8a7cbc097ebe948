// Internal: reading the `training:` section of a model file into a TrainingConfig.
#pragma once

#include <yaml-cpp/yaml.h>

#include "opgraph/ir/training_config.hpp"
#include "opgraph/op/op_registry.hpp"
#include "yaml_attrs.hpp"

namespace opgraph::detail {

// Reads and checks every key of the section: the optimizer, the callbacks and their schedules
// against the types of `items`, the dataset against items.datasets, the loss against the
// ops of category "loss". Problems go to ctx.diagnostics.
TrainingConfig read_training(const YAML::Node& section, const OpRegistry& ops,
                             const TrainingItemSpecs& items, const ReadContext& ctx);

}  // namespace opgraph::detail
