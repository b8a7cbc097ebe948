// The registry of dataset types a training section's `dataset:` names, declared as optimizers
// are (opgraph/train/item_registry.hpp): each type is one DatasetDef {name, doc, schema,
// factory} in its own file (framework/src/train/datasets/), and a plugin adds its own through
// TrainingItems. Built in: mnist and fashion_mnist (IDX presets), idx and npy.
//
// What the types share, and a plugin's type may use too: file paths relative to the data
// root, the preprocessing attributes (scale, normalize: {mean, std} per channel) and the
// assembly of a classification set whose number of classes comes from its labels.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "opgraph/io/dataset.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/train/item_registry.hpp"

namespace opgraph {

// A factory reads one split; `root` is the data root (data_root()).
using DatasetDef = ItemDef<Dataset, Split, const std::filesystem::path&>;
using DatasetRegistry = ItemRegistry<Dataset, Split, const std::filesystem::path&>;

// A registry holding mnist, fashion_mnist, idx and npy, built on each call.
DatasetRegistry builtin_datasets();

// The attributes every built-in type has besides its files: scale (each value is multiplied
// by it first), normalize.mean and normalize.std (then (x - mean[c]) / std[c] over the last
// axis, the channels; one value for all channels or one per channel) and classes (0: one more
// than the largest label).
Schema preprocessing_schema();

// `attrs`'s path attribute `name` as a file: relative paths are under `root`. Throws
// DataError when the file does not exist, naming the attribute and the path.
std::filesystem::path dataset_file(const ConfigItem& item, const std::string& name,
                                   const std::filesystem::path& root);

// The shape of one sample of an array of `dims` (count first): rank 2 (count, features),
// 3 (count, height, width: grey images get one channel) or 4 (count, height, width,
// channels). Throws DataError naming `source` for another rank.
Shape sample_shape_of(const std::vector<std::int64_t>& dims, const std::string& source);

// The samples and labels read from `x_source` and `y_source` (file names for messages) as a
// classification data set: count(x) = |labels| x element_count(sample_shape), every label a
// whole number >= 0 (and < classes when the classes attribute is set); `attrs`'s
// preprocessing applied. Throws DataError naming the file and the sample.
Dataset classification_set(const std::string& name, const Shape& sample_shape, std::vector<float> x,
                           const std::vector<float>& labels, const std::string& x_source,
                           const std::string& y_source, const AttrMap& attrs);

// registry.make(item, split, root) by value: one split of the dataset `item` names.
Dataset load_dataset(const DatasetRegistry& registry, const ConfigItem& item, Split split,
                     const std::filesystem::path& root);

// Checks that `data` fits `model`: its sample shape is that of the model's first input (the
// batch dimension aside) and its classes are no more than the model's prediction has
// (`prediction_classes`, its last dimension). Throws DataError naming both shapes or counts.
void check_fits_model(const Dataset& data, const Graph& model, std::int64_t prediction_classes);

// Checks that a test split fits the training split: the same sample shape. Throws DataError
// naming both shapes.
void check_splits(const Dataset& train, const Dataset& test);

}  // namespace opgraph
