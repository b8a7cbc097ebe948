#include "opgraph/io/dataset.hpp"

#include <cstdlib>

#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

namespace opgraph {

namespace {

constexpr float kPixelScale = 1.0f / 255.0f;
std::vector<float> scaled(const IdxArray& images) {
    std::vector<float> out(images.bytes.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = images.bytes[i] * kPixelScale;
    return out;
}

Shape sample_shape_of(const IdxArray& images) { return {images.dims[1], images.dims[2], 1}; }

}  // namespace

std::filesystem::path data_root(const std::string& cli) {
    if (!cli.empty()) return cli;
    if (const char* env = std::getenv(kDataDirEnv); env != nullptr && *env != '\0') return env;
    return "data";
}

Dataset load_images(const std::filesystem::path& file) {
    const IdxArray images = read_idx(file);
    if (images.type != IdxType::u8 || images.dims.size() != 3)
        throw DataError(
            file.string() + ": expected uint8 images of rank 3 (count, height, width), got " +
            idx_type_name(images.type) + " of rank " + std::to_string(images.dims.size()));
    Dataset out;
    out.name = file.filename().string();
    out.sample_shape = sample_shape_of(images);
    out.images = scaled(images);
    out.labels.assign(static_cast<std::size_t>(images.dims[0]), 0);
    return out;
}

}  // namespace opgraph
