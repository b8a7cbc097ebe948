// Image classification data sets read from IDX files: MNIST (raw IDX, fetched by
// scripts/fetch_data.sh) and Fashion-MNIST (gzipped IDX from Debian). Images are scaled to
// [0, 1] and shaped (height, width, 1), channels-last.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"
#include "opgraph/ir/training_config.hpp"

namespace opgraph {

enum class Split { train, test };

struct Dataset {
    std::string name;
    Shape sample_shape;  // (height, width, channels)
    std::int64_t classes = 0;
    std::vector<float> images;         // size() samples, row-major, in [0, 1]
    std::vector<std::int32_t> labels;  // each < classes

    std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// Environment variable naming the data root (the folder holding mnist/, fashion-mnist/).
inline constexpr const char* kDataDirEnv = "OPGRAPH_DATA_DIR";

// The data root: `cli` when given, else $OPGRAPH_DATA_DIR, else "data".
std::filesystem::path data_root(const std::string& cli = {});

// Reads one split of the dataset the training section names. A `dir` attribute, when set,
// is used as is; otherwise <root>/<dataset folder>. Throws DataError naming the file.
Dataset load_dataset(const ConfigItem& dataset, Split split, const std::filesystem::path& root);

// Reads an IDX file of uint8 images (N, H, W) scaled to [0, 1]: the input of `opgraph predict`.
Dataset load_images(const std::filesystem::path& file);

}  // namespace opgraph
