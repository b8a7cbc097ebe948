#include "opgraph/train/training_items.hpp"

namespace opgraph {

TrainingItemSpecs TrainingItems::specs() const {
    return {optimizers.specs(), schedules.specs(), callbacks.specs(), datasets.specs()};
}

}  // namespace opgraph
