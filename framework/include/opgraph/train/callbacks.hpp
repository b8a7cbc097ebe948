// Keras's training callbacks, run by the Trainer around each batch and each epoch: the
// learning-rate scheduler, model checkpoint, early stopping, CSV logger, terminate on NaN and
// reduce LR on plateau. Each is declared beside its class in callbacks.cpp as a CallbackDef
// (schema, doc, factory) of a CallbackRegistry, and built from a callback item of the
// training section. Semantics and printed lines follow tf.keras 2.x; each callback's
// contract is on its class.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/ir/training_config.hpp"
#include "opgraph/runtime/program.hpp"
#include "opgraph/train/item_registry.hpp"
#include "opgraph/train/lr_schedule.hpp"
#include "opgraph/train/training.hpp"

namespace opgraph {

// What the Trainer lends its callbacks for one fit().
struct CallbackContext {
    Program& program;             // the main training program: params(), read(), write()
    double& learning_rate;        // the rate the next batch uses; callbacks may set it
    std::ostream* out = nullptr;  // progress and logs; null: silent
    bool has_validation = false;  // val_loss / val_acc are meaningful in an EpochLog
    bool resumed = false;         // continuing from a checkpoint (files are appended to)
};

// An epoch about to start.
struct EpochBegin {
    std::int64_t epoch = 0;  // from 1
    std::int64_t step = 0;   // optimizer steps taken so far
};

// A batch about to be trained.
struct BatchBegin {
    std::int64_t epoch = 0;  // from 1
    std::int64_t batch = 0;  // index within the epoch, from 0
    std::int64_t step = 0;   // optimizer steps taken before this one
};

// One finished batch.
struct BatchLog {
    std::int64_t epoch = 0;                   // from 1
    std::int64_t batch = 0;                   // index within the epoch, from 0
    std::int64_t step = 0;                    // optimizer steps taken so far, this one included
    double loss = 0;                          // this batch's loss
    double mean_loss = 0, mean_accuracy = 0;  // running means over the epoch so far
};

class Callback {
public:
    virtual ~Callback() = default;
    // Before the first epoch.
    virtual void on_train_begin(CallbackContext&) {}
    // Before each epoch's first batch, after its "Epoch i/n" line; not for an epoch resumed
    // in its middle, which began before the checkpoint.
    virtual void on_epoch_begin(const EpochBegin&, CallbackContext&) {}
    // Before each batch's step; the step uses the learning_rate the callbacks leave in the
    // context.
    virtual void on_batch_begin(const BatchBegin&, CallbackContext&) {}
    // After each batch's optimizer step; true stops training (the epoch is closed normally).
    virtual bool on_batch_end(const BatchLog&, CallbackContext&) { return false; }
    // After each epoch's validation; true stops training after this epoch.
    virtual bool on_epoch_end(const EpochLog&, CallbackContext&) { return false; }
    // After the last epoch (or the stop).
    virtual void on_train_end(CallbackContext&) {}
    // The callback's counters and best values, saved in training checkpoints, and their
    // restoration in a resumed run (called after on_train_begin).
    virtual std::map<std::string, double> state() const { return {}; }
    virtual void restore(const std::map<std::string, double>&) {}
};

// What a callback's factory gets besides its item.
struct CallbackSetup {
    const std::string& label;                   // "callbacks[2]": names the item in diagnostics
    Diagnostics& diagnostics;                   // problems found while building, reported together
    const std::optional<ConfigItem>& schedule;  // the item's schedule (a takes_schedule type)
    const ScheduleRegistry& schedules;          // the types it may name
};

using CallbackDef = ItemDef<Callback, const CallbackSetup&>;
using CallbackRegistry = ItemRegistry<Callback, const CallbackSetup&>;

// A registry holding the six callbacks above, built on each call.
CallbackRegistry builtin_callbacks();

// The callbacks of `configs`, in order. Throws GraphError for a model_checkpoint filepath
// with an unknown or malformed format field (every one reported), std::invalid_argument for
// an unknown type or a bad attribute (a callback or its schedule).
std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs,
                                                      const CallbackRegistry& callbacks,
                                                      const ScheduleRegistry& schedules);
// The same with builtin_callbacks() and builtin_schedules().
std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs);

}  // namespace opgraph
