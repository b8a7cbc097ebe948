// Learning-rate schedules: the rate an lr_scheduler callback sets at each epoch or step, from
// the schedule item of its callback item. One class per schedule type, each declared beside
// its class as a ScheduleDef (schema, doc, factory) in a ScheduleRegistry:
//
// t is the index the callback counts in (`per: epoch` or `per: step`), from 0:
//   inverse_time  initial / (1 + decay_rate * p),  p = t / decay_steps (floored if staircase)
//   exponential   initial * decay_rate ^ p,        p = t / decay_steps (floored if staircase)
//   step          initial * gamma ^ floor(t / step_size)
//   cosine        initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(t, decay_steps) /
//                 decay_steps)) + alpha)
//   one_cycle     PyTorch's OneCycleLR (cosine annealing, two phases): from
//                 max / div_factor up to max at t = pct_start * total_steps - 1, then down to
//                 max / div_factor / final_div_factor at t = total_steps - 1, held after.
//   expression    a muparser expression of the variables epoch, step and lr.
// inverse_time, exponential and cosine are Keras's InverseTimeDecay, ExponentialDecay and
// CosineDecay, step is PyTorch's StepLR; all computed in double.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "opgraph/ir/training_config.hpp"
#include "opgraph/train/item_registry.hpp"

namespace opgraph {

class LrSchedule {
public:
    virtual ~LrSchedule() = default;

    // The learning rate at index t (the epoch or the step, from 0), given the current rate lr
    // (used by expressions and as the `lr` variable), the epoch and the step counters.
    // Only expressions read lr, epoch and step; the other types read only t.
    // Throws std::invalid_argument if t < 0, and std::domain_error if an expression gives a
    // negative or non-finite value (zero is allowed, as cosine decay reaches it too).
    // Thread-safe: the built-in schedules hold no mutable state but an expression's parser,
    // which is evaluated under a mutex.
    double at(std::int64_t t, double lr, std::int64_t epoch, std::int64_t step) const;

    // The type as written in the model file: inverse_time, expression, ...
    const std::string& type() const { return type_; }

    // State a schedule carries from one call to the next, saved in training checkpoints with
    // its callback's (the built-in schedules have none), and its restoration on resume.
    virtual std::map<std::string, double> state() const { return {}; }
    virtual void restore(const std::map<std::string, double>&) {}

protected:
    explicit LrSchedule(std::string type) : type_(std::move(type)) {}
    // at() for t >= 0.
    virtual double rate(std::int64_t t, double lr, std::int64_t epoch, std::int64_t step) const = 0;

private:
    std::string type_;
};

using ScheduleDef = ItemDef<LrSchedule>;
using ScheduleRegistry = ItemRegistry<LrSchedule>;

// A registry holding the six schedules above, built on each call. The expression schedule's
// factory throws std::invalid_argument for an expression muparser cannot compile with the
// variables epoch, step and lr (the message gives muparser's reason and position); its spec's
// check reports the same, and a rate at epoch 0 that is not positive, to the training reader.
ScheduleRegistry builtin_schedules();

}  // namespace opgraph
