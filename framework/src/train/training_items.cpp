#include "opgraph/train/training_items.hpp"

namespace opgraph {

TrainingItemSpecs TrainingItems::specs() const {
    return {optimizers.specs(), schedules.specs(), callbacks.specs()};
}

// Declared in opgraph/ir/training_config.hpp for the training reader (frontend), which
// cannot include this layer.
TrainingItemSpecs builtin_training_item_specs() { return TrainingItems{}.specs(); }

}  // namespace opgraph
