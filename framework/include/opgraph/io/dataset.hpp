// A classification data set in memory: samples of one shape (channels-last for images) as
// floats, and a class index per sample. The dataset types that read them from files are a
// registry of the train layer (opgraph/train/datasets.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"

namespace opgraph {

enum class Split { train, test };

struct Dataset {
    std::string name;
    Shape sample_shape;  // e.g. (height, width, channels) or (features)
    std::int64_t classes = 0;
    std::vector<float> images;         // size() samples, row-major, preprocessed
    std::vector<std::int32_t> labels;  // each < classes

    std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// Environment variable naming the data root (the folder holding mnist/, fashion-mnist/).
inline constexpr const char* kDataDirEnv = "OPGRAPH_DATA_DIR";

// The data root: `cli` when given, else $OPGRAPH_DATA_DIR, else "data".
std::filesystem::path data_root(const std::string& cli = {});

// Reads an IDX file of uint8 images (N, H, W) scaled to [0, 1]: the input of `opgraph predict`.
Dataset load_images(const std::filesystem::path& file);

}  // namespace opgraph
