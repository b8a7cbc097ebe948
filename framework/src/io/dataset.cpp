#include "opgraph/io/dataset.hpp"

#include <cstdlib>

#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

namespace opgraph {

namespace {

constexpr float kPixelScale = 1.0f / 255.0f;
constexpr int kDigitClasses = 10;

struct Layout {
    const char* folder;
    bool gzipped;
};

Layout layout_of(const std::string& type) {
    if (type == "fashion_mnist") return {"fashion-mnist", true};
    return {"mnist", false};
}

std::filesystem::path find_file(const std::filesystem::path& dir, const std::string& stem,
                                bool gzipped) {
    const std::filesystem::path raw = dir / stem;
    const std::filesystem::path gz = dir / (stem + ".gz");
    std::error_code ec;
    if (std::filesystem::exists(gzipped ? gz : raw, ec)) return gzipped ? gz : raw;
    if (std::filesystem::exists(gzipped ? raw : gz, ec)) return gzipped ? raw : gz;
    throw DataError((gzipped ? gz : raw).string() +
                    ": not found (scripts/fetch_data.sh fetches and verifies the data sets; "
                    "--data-dir or $" +
                    std::string(kDataDirEnv) + " point elsewhere)");
}

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

Dataset load_dataset(const ConfigItem& dataset, Split split, const std::filesystem::path& root) {
    const Layout layout = layout_of(dataset.type);
    const std::string configured = dataset.attrs.has("dir") ? dataset.attrs.get_string("dir") : "";
    const std::filesystem::path dir =
        configured.empty() ? root / layout.folder : std::filesystem::path(configured);
    const char* prefix = split == Split::train ? "train" : "t10k";
    const auto images_file =
        find_file(dir, std::string(prefix) + "-images-idx3-ubyte", layout.gzipped);
    const auto labels_file =
        find_file(dir, std::string(prefix) + "-labels-idx1-ubyte", layout.gzipped);
    const IdxArray images = read_idx(images_file);
    const IdxArray labels = read_idx(labels_file);
    check_idx_pair(images, labels, images_file, labels_file, kDigitClasses);
    Dataset out;
    out.name = dataset.type;
    out.sample_shape = sample_shape_of(images);
    out.classes = kDigitClasses;
    out.images = scaled(images);
    out.labels.assign(labels.bytes.begin(), labels.bytes.end());
    return out;
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
