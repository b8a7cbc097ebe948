// Human-readable listings of what a model file may name (`opgraph ops`): the registered
// operators (plugin, inputs, attributes with their types, defaults and valid values), and the
// training section's item types: optimizers, schedules and callbacks.
#pragma once

#include <string>
#include <vector>

#include "opgraph/ir/training_config.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/train/training_items.hpp"

namespace opgraph {

// Every op when `op` is empty, else just that one (throws std::invalid_argument with a "did
// you mean" when it is not registered).
std::string format_op_listing(const OpRegistry& ops, const std::string& op = {});

// The item types `specs` of one kind (a registry's specs(), e.g. builtin_optimizers().specs())
// with their attributes, as format_op_listing lists ops. `kind` names them: optimizer,
// schedule, callback. Every type when `name` is empty, else just that one (throws
// std::invalid_argument with a "did you mean" when there is none of that name).
std::string format_item_listing(const std::string& kind, const std::vector<ItemSpec>& specs,
                                const std::string& name = {});

// The same for the registry of `items` that `kind` names: optimizer, schedule or callback.
// Throws std::invalid_argument for another kind (with a "did you mean" among those and op,
// the kind format_op_listing lists) or an unknown name.
std::string format_item_listing(const TrainingItems& items, const std::string& kind,
                                const std::string& name = {});

}  // namespace opgraph
