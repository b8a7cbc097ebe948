// mnist and fashion_mnist: presets of idx over the IDX files scripts/fetch_data.sh fetches
// (MNIST raw, Fashion-MNIST gzipped from Debian), pixels scaled to [0, 1], 10 classes.
#include <system_error>

#include "dataset_types.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

namespace opgraph::detail {

namespace {

constexpr double kPixelScale = 1.0 / 255.0;
constexpr std::int64_t kClasses = 10;

// <dir>/<stem>, or <dir>/<stem>.gz (either is read; `gzipped` says which one is expected).
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

DatasetDef preset(const std::string& name, const std::string& doc, const std::string& folder,
                  bool gzipped) {
    DatasetDef def;
    def.name = name;
    def.doc = doc;
    def.schema = {AttrSpec::optional("dir", std::string(),
                                     "folder of the IDX files; default <data root>/" + folder)};
    def.factory = [name, folder, gzipped](const ConfigItem& item, Split split,
                                          const std::filesystem::path& root) {
        const std::string configured = item.attrs.get_string("dir");
        const std::filesystem::path dir =
            configured.empty() ? root / folder : std::filesystem::path(configured);
        const std::string prefix = split == Split::train ? "train" : "t10k";
        const auto images_file = find_file(dir, prefix + "-images-idx3-ubyte", gzipped);
        const auto labels_file = find_file(dir, prefix + "-labels-idx1-ubyte", gzipped);
        const IdxArray images = read_idx(images_file);
        const IdxArray labels = read_idx(labels_file);
        check_idx_pair(images, labels, images_file, labels_file, kClasses);
        const AttrMap attrs =
            with_defaults(preprocessing_schema(), {{"scale", kPixelScale}, {"classes", kClasses}});
        return std::make_unique<Dataset>(classification_set(
            name, {images.dims[1], images.dims[2], 1}, idx_to_floats(images), idx_to_floats(labels),
            images_file.string(), labels_file.string(), attrs));
    };
    return def;
}

}  // namespace

DatasetDef mnist_dataset() {
    return preset("mnist",
                  "MNIST: 60,000 training and 10,000 test images of digits, 28x28x1, 10 classes",
                  "mnist", false);
}

DatasetDef fashion_mnist_dataset() {
    return preset(
        "fashion_mnist",
        "Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28x28x1, 10 classes",
        "fashion-mnist", true);
}

}  // namespace opgraph::detail
