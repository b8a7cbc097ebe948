// Keras's training callbacks, run by the Trainer after each batch and each epoch: model
// checkpoint, early stopping, CSV logger, terminate on NaN and reduce LR on plateau, each built
// from a callback item of the training section (types and attributes: callback_schemas()).
// The lr_scheduler callback is not one of these: the Trainer applies its schedule itself.
//
// Semantics and printed lines follow tf.keras 2.x:
//   model_checkpoint      saves the weights (save_weights) to `filepath` after each epoch, or
//                         every `every_steps` batches when that is > 0; `filepath` may hold
//                         Python format fields {epoch} / {epoch:02d} (from 1) and {loss},
//                         {acc}, {val_loss}, {val_acc} with an optional spec ({val_acc:.4f}).
//                         save_best_only saves only when `monitor` is strictly better than
//                         the best so far. Parent folders are created. The weights alone are
//                         written whatever save_weights_only says.
//   early_stopping        stops when `monitor` has not improved by more than min_delta for
//                         `patience` epochs (never after the first epoch); with
//                         restore_best_weights, the parameters of the best epoch are put back
//                         when it stops.
//   csv_logger            one row per epoch: epoch (from 0) then the logs in sorted key order,
//                         acc, loss, lr, val_acc, val_loss (no val_ columns without
//                         validation); values as Python's repr. The file is truncated at the
//                         start of training unless `append` (then the header is written only
//                         into an empty or new file).
//   terminate_on_nan      stops after the first batch whose loss is NaN or infinite.
//   reduce_lr_on_plateau  multiplies the learning rate by `factor` (not below min_lr) after
//                         `patience` epochs without an improvement of more than min_delta,
//                         then waits `cooldown` epochs before counting again.
// In a resumed run the counters and best values continue from the checkpoint and the CSV log
// is appended to; early_stopping's best weights are not in checkpoints, so after a resume it
// restores the best weights seen since the resume.
// mode auto means max for an accuracy monitor and min for a loss. A val_ monitor without
// validation data is skipped with a warning (as Keras does).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <vector>

#include "opgraph/program.hpp"
#include "opgraph/training.hpp"
#include "opgraph/training_config.hpp"

namespace opgraph {

// What the Trainer lends its callbacks for one fit().
struct CallbackContext {
    Program& program;             // the main training program: params(), read(), write()
    double& learning_rate;        // the rate the next batch uses; callbacks may set it
    std::ostream* out = nullptr;  // progress and logs; null: silent
    bool has_validation = false;  // val_loss / val_acc are meaningful in an EpochLog
    bool resumed = false;         // continuing from a checkpoint (files are appended to)
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

// The callbacks of `configs`, in order, lr_scheduler items skipped. Throws GraphError for a
// model_checkpoint filepath with an unknown or malformed format field (every one reported).
std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs);

// Python's repr of a float: shortest round-trip digits, positional when 1e-4 <= |x| < 1e16
// (at least one fractional digit, "1.0"), scientific otherwise ("1e-05", "2.5e+20"); "nan",
// "inf", "-inf".
std::string python_float_repr(double value);

}  // namespace opgraph
