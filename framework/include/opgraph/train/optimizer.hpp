// A gradient-descent optimizer: the rule that turns a parameter's gradient into an update of
// the parameter. sgd (momentum, Nesterov), adam (amsgrad), adamw and rmsprop (centered,
// momentum), configured by the training section's optimizer item. Each optimizer is declared
// beside its class as an OptimizerDef (schema, doc, factory) in an OptimizerRegistry.
//
// The update rules are exactly those of Keras in TF 2.x (tf.keras optimizer_v2 and the TF
// training kernels it calls), the optimizers the seed run used. weight_decay, which
// optimizer_v2 does not have, follows Keras 3: decoupled, param -= lr * weight_decay * param,
// applied before the optimizer's own step.
//
// An Optimizer is an immutable configuration and holds no per-parameter state. The state
// ("slots": velocities, moment estimates) belongs to the caller: one float array of the
// parameter's size for each of slot_names(), zero-initialised before the first update and
// saved in checkpoints together with the step t, so a resumed run continues exactly. Slot
// names are Keras's ("momentum", "m", "v", "vhat", "rms", "mg").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/ir/training_config.hpp"
#include "opgraph/train/item_registry.hpp"

namespace opgraph {

class Optimizer {
public:
    virtual ~Optimizer() = default;

    // Names of the per-parameter state tensors, each the parameter's size, in the order
    // update() expects them. Depends only on the configuration; may be empty (sgd without
    // momentum keeps no state).
    virtual std::vector<std::string> slot_names() const = 0;

    // One update of `param` (n floats, row-major) from `grad` (n floats) with learning rate
    // `lr` at iteration `t` (1 for the first update, then 2, 3, ...; Adam's bias correction
    // uses it). slots[i] is the state named slot_names()[i], n floats, updated in place.
    // param, grad and the slots must not overlap. Does not allocate; computes in float.
    // Throws std::invalid_argument when slots.size() != slot_names().size() or t < 1.
    virtual void update(float* param, const float* grad, std::size_t n,
                        const std::vector<float*>& slots, double lr, std::int64_t t) const = 0;

    // The configured learning_rate, the rate before any schedule changes it.
    double initial_learning_rate() const { return initial_learning_rate_; }
    // The optimizer's type as written in the model file: sgd, adam, adamw or rmsprop.
    const std::string& name() const { return name_; }

protected:
    Optimizer(std::string name, double initial_learning_rate)
        : name_(std::move(name)), initial_learning_rate_(initial_learning_rate) {}

private:
    std::string name_;
    double initial_learning_rate_;
};

using OptimizerDef = ItemDef<Optimizer>;
using OptimizerRegistry = ItemRegistry<Optimizer>;

// A registry holding sgd, adam, adamw and rmsprop (Keras defaults), built on each call.
OptimizerRegistry builtin_optimizers();

// builtin_optimizers().make(config): the optimizer of the training section's optimizer item,
// its attributes completed by their schema defaults. Throws std::invalid_argument for an
// unknown type or a bad attribute.
std::unique_ptr<Optimizer> make_optimizer(const ConfigItem& config);

// Where slot `slot` of trained parameter `param` lives in the ParameterStore and in training
// checkpoints: "optimizer/<slot>/<param>" ("optimizer/m/conv2d/kernel").
std::string optimizer_slot_name(const std::string& slot, const std::string& param);

}  // namespace opgraph
