// The built-in dataset types, one file each; builtin_datasets() registers them.
#pragma once

#include <string>

#include "opgraph/train/datasets.hpp"

namespace opgraph::detail {

DatasetDef mnist_dataset();          // mnist.cpp
DatasetDef fashion_mnist_dataset();  // mnist.cpp
DatasetDef idx_dataset();            // idx_dataset.cpp

// "train" or "test": the key of a split's files in a dataset item.
inline std::string split_key(Split split) { return split == Split::train ? "train" : "test"; }

}  // namespace opgraph::detail
