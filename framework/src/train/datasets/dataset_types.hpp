// The built-in dataset types, one file each; builtin_datasets() registers them.
#pragma once

#include <string>

#include "opgraph/core/error.hpp"
#include "opgraph/train/datasets.hpp"

namespace opgraph::detail {

DatasetDef mnist_dataset();          // mnist.cpp
DatasetDef fashion_mnist_dataset();  // mnist.cpp
DatasetDef idx_dataset();            // idx_dataset.cpp
DatasetDef npy_dataset();            // npy_dataset.cpp

// "train" or "test": the key of a split's files in a dataset item.
inline std::string split_key(Split split) { return split == Split::train ? "train" : "test"; }

// The attributes train.x, train.y (required), test.x and test.y (optional) naming a split's
// samples and labels (`what`: "IDX file", "array").
Schema split_files_schema(const std::string& what);

// Throws DataError when `item` names no samples or labels for `split` (the test split's are
// optional): "set test: {x, y} or validation: none".
void check_split_files(const ConfigItem& item, Split split);

}  // namespace opgraph::detail
