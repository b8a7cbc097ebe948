// Optimizer, schedule and callback types from plugins. A plugin that has some defines its
// entry point with OPGRAPH_PLUGIN_WITH_TRAINING_ITEMS(name, version, register_ops,
// register_items) instead of OPGRAPH_PLUGIN, where register_items is
// `void fn(opgraph::TrainingItems&)` adding its types to the registries (an OptimizerDef,
// ScheduleDef or CallbackDef each, declared as the built-in ones are). training_items()
// collects them for a session: model files are then read against them and the Trainer builds
// them (TrainOptions::items), and `opgraph ops --kind optimizer` lists them.
#pragma once

#include "opgraph/op/plugin.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training_items.hpp"

#define OPGRAPH_PLUGIN_WITH_TRAINING_ITEMS(NAME, VERSION, REGISTER_OPS, REGISTER_ITEMS) \
    OPGRAPH_PLUGIN_ENTRY(                                                               \
        NAME, VERSION, REGISTER_OPS,                                                    \
        (&::opgraph::detail::register_trampoline<::opgraph::TrainingItems, REGISTER_ITEMS>))

namespace opgraph {

// The built-in types and those of every plugin of `session` that registers some, in load
// order. The types' factories run plugin code: keep the session alive while they are used.
// Throws PluginError (registration_failed) naming the plugin's file when one fails, for
// example by registering a type name that is already taken.
TrainingItems training_items(const Session& session);

}  // namespace opgraph
