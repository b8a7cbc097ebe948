// idx: a classification set from IDX files of any element type, e.g.
//   dataset: {type: idx, train: {x: a-images-idx3-ubyte, y: a-labels-idx1-ubyte},
//             test: {x: ..., y: ...}, scale: 0.00392156862745098}
// x of rank 2 (count, features), 3 (count, height, width: one channel) or 4 (count, height,
// width, channels); y of rank 1 holding class indices. Files may be gzipped.
#include "dataset_types.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

namespace opgraph::detail {

namespace {

// The shape of one sample of `x`: its dims after the first, grey images given one channel.
Shape sample_shape(const IdxArray& x, const std::filesystem::path& file) {
    if (x.dims.size() < 2)
        throw DataError(file.string() +
                        ": samples must be of rank 2 to 4 (count first), got rank " +
                        std::to_string(x.dims.size()));
    Shape shape(x.dims.begin() + 1, x.dims.end());
    if (shape.size() == 2) shape.push_back(1);  // (height, width) images: one channel
    return shape;
}

}  // namespace

DatasetDef idx_dataset() {
    DatasetDef def;
    def.name = "idx";
    def.doc = "IDX files (as MNIST's) of any element type: train: {x, y}, test: {x, y}";
    def.schema = {
        AttrSpec::required("train.x", AttrType::string, "samples of the training split"),
        AttrSpec::required("train.y", AttrType::string, "their class indices, rank 1"),
        AttrSpec::optional("test.x", std::string(), "samples of the test split"),
        AttrSpec::optional("test.y", std::string(), "their class indices"),
    };
    for (AttrSpec& spec : preprocessing_schema()) def.schema.push_back(std::move(spec));
    def.factory = [](const ConfigItem& item, Split split, const std::filesystem::path& root) {
        const std::string key = split_key(split);
        if (item.attrs.get_string(key + ".x").empty())
            throw DataError(item.where.str() + ": dataset 'idx' has no " + key + " files: set " +
                            key + ": {x: ..., y: ...} or validation: none");
        const std::filesystem::path x_file = dataset_file(item, key + ".x", root);
        const std::filesystem::path y_file = dataset_file(item, key + ".y", root);
        const IdxArray x = read_idx(x_file);
        const IdxArray y = read_idx(y_file);
        if (y.dims.size() != 1)
            throw DataError(y_file.string() + ": labels must be of rank 1, got rank " +
                            std::to_string(y.dims.size()));
        return std::make_unique<Dataset>(
            classification_set("idx", sample_shape(x, x_file), idx_to_floats(x), idx_to_floats(y),
                               x_file.string(), y_file.string(), item.attrs));
    };
    return def;
}

}  // namespace opgraph::detail
