#include "opgraph/train/datasets.hpp"

#include <algorithm>
#include <cmath>
#include <system_error>

#include "dataset_types.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/op/memory_layout.hpp"

namespace opgraph {

DatasetRegistry builtin_datasets() {
    DatasetRegistry registry("dataset");
    registry.add(detail::mnist_dataset());
    registry.add(detail::fashion_mnist_dataset());
    registry.add(detail::idx_dataset());
    registry.add(detail::npy_dataset());
    return registry;
}

Schema preprocessing_schema() {
    return {
        AttrSpec::optional("scale", 1.0, "each value is multiplied by it first (1/255: pixels)")
            .greater_than(0),
        AttrSpec::optional("normalize.mean", std::vector<double>{},
                           "then subtracted, per channel (the last axis) or one for all"),
        AttrSpec::optional("normalize.std", std::vector<double>{},
                           "then divided by, per channel or one for all"),
        AttrSpec::optional("classes", std::int64_t{0},
                           "the number of classes; 0: one more than the largest label")
            .at_least(0),
    };
}

std::filesystem::path dataset_file(const ConfigItem& item, const std::string& name,
                                   const std::filesystem::path& root) {
    const std::filesystem::path written = item.attrs.get_string(name);
    const std::filesystem::path file = written.is_absolute() ? written : root / written;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        throw DataError(file.string() + ": not found (dataset '" + item.type + "' attribute " +
                        name + ": relative paths are under the data root, --data-dir or $" +
                        kDataDirEnv + ", default ./data)");
    return file;
}

namespace detail {

Schema split_files_schema(const std::string& what) {
    return {
        AttrSpec::required("train.x", AttrType::string, what + " of the training samples"),
        AttrSpec::required("train.y", AttrType::string, what + " of their class indices"),
        AttrSpec::optional("test.x", std::string(), what + " of the test samples"),
        AttrSpec::optional("test.y", std::string(), what + " of their class indices"),
    };
}

void check_split_files(const ConfigItem& item, Split split) {
    const std::string key = split_key(split);
    if (item.attrs.get_string(key + ".x").empty() || item.attrs.get_string(key + ".y").empty())
        throw DataError(item.where.str() + ": dataset '" + item.type + "' has no " + key +
                        " split: set " + key + ": {x: ..., y: ...} or validation: none");
}

}  // namespace detail

Shape sample_shape_of(const std::vector<std::int64_t>& dims, const std::string& source) {
    if (dims.size() < 2 || dims.size() > 4)
        throw DataError(source +
                        ": samples must be an array of rank 2 to 4 (count first), got rank " +
                        std::to_string(dims.size()));
    Shape shape(dims.begin() + 1, dims.end());
    if (dims.size() == 3) shape = {dims[1], dims[2], 1};  // (height, width) images: one channel
    return shape;
}

namespace {

// mean or std as one value per channel: one given value for all, or exactly `channels`.
std::vector<double> per_channel(const AttrMap& attrs, const std::string& name,
                                std::int64_t channels, double fallback, const std::string& x) {
    std::vector<double> values = attrs.get_reals(name);
    if (values.empty()) return std::vector<double>(static_cast<std::size_t>(channels), fallback);
    if (values.size() == 1)
        return std::vector<double>(static_cast<std::size_t>(channels), values[0]);
    if (static_cast<std::int64_t>(values.size()) != channels)
        throw DataError(x + ": " + name + " has " + std::to_string(values.size()) +
                        " values, the samples have " + std::to_string(channels) +
                        " channels (the last axis)");
    return values;
}

void preprocess(std::vector<float>& x, const Shape& sample_shape, const AttrMap& attrs,
                const std::string& source) {
    const auto scale = static_cast<float>(attrs.get_real("scale"));
    const std::int64_t channels = sample_shape.empty() ? 1 : sample_shape.back();
    const std::vector<double> mean = per_channel(attrs, "normalize.mean", channels, 0.0, source);
    const std::vector<double> stdev = per_channel(attrs, "normalize.std", channels, 1.0, source);
    for (const double s : stdev)
        if (!(s > 0)) throw DataError(source + ": normalize.std values must be > 0");
    const auto c = static_cast<std::size_t>(channels);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t k = i % c;
        x[i] = static_cast<float>((x[i] * scale - mean[k]) / stdev[k]);
    }
}

}  // namespace

Dataset classification_set(const std::string& name, const Shape& sample_shape, std::vector<float> x,
                           const std::vector<float>& labels, const std::string& x_source,
                           const std::string& y_source, const AttrMap& attrs) {
    const std::int64_t per_sample = element_count(sample_shape);
    const auto count = static_cast<std::int64_t>(labels.size());
    if (per_sample < 1 || static_cast<std::int64_t>(x.size()) != count * per_sample)
        throw DataError(x_source + ": holds " +
                        std::to_string(x.size() / std::max<std::int64_t>(per_sample, 1)) +
                        " samples of shape " + shape_str(sample_shape) + " but " + y_source +
                        " holds " + std::to_string(count) + " labels");
    const std::int64_t declared = attrs.get_int("classes");
    Dataset out;
    out.name = name;
    out.sample_shape = sample_shape;
    out.labels.reserve(labels.size());
    std::int64_t largest = -1;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double label = labels[i];
        const bool whole = std::isfinite(label) && label >= 0 && std::floor(label) == label &&
                           label < 2147483647.0;
        if (!whole || (declared > 0 && label >= static_cast<double>(declared)))
            throw DataError(y_source + ": sample " + std::to_string(i) + ": label " +
                            std::to_string(label) + " is not a class index" +
                            (declared > 0 ? " in [0, " + std::to_string(declared) + ")"
                                          : std::string(" (a whole number >= 0)")));
        out.labels.push_back(static_cast<std::int32_t>(label));
        largest = std::max<std::int64_t>(largest, out.labels.back());
    }
    if (count == 0) throw DataError(y_source + ": holds no samples");
    out.classes = declared > 0 ? declared : largest + 1;
    preprocess(x, sample_shape, attrs, x_source);
    out.images = std::move(x);
    return out;
}

Dataset load_dataset(const DatasetRegistry& registry, const ConfigItem& item, Split split,
                     const std::filesystem::path& root) {
    return std::move(*registry.make(item, split, root));
}

void check_fits_model(const Dataset& data, const Graph& model, std::int64_t prediction_classes) {
    const GraphInput& input = model.inputs.at(0);
    const Shape takes(input.shape.begin() + 1, input.shape.end());
    if (takes != data.sample_shape)
        throw DataError("dataset '" + data.name + "': samples of shape " +
                        shape_str(data.sample_shape) + " do not fit " + input.where.str() +
                        ": the model's input '" + input.name + "' takes " + shape_str(takes));
    if (data.classes > prediction_classes)
        throw DataError("dataset '" + data.name + "': " + std::to_string(data.classes) +
                        " classes, but the model (" + model.file + ") predicts " +
                        std::to_string(prediction_classes));
}

void check_splits(const Dataset& train, const Dataset& test) {
    if (train.sample_shape != test.sample_shape)
        throw DataError("dataset '" + train.name + "': test samples have shape " +
                        shape_str(test.sample_shape) + ", training samples " +
                        shape_str(train.sample_shape));
}

}  // namespace opgraph
