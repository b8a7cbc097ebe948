// idx: a classification set from IDX files of any element type, e.g.
//   dataset: {type: idx, train: {x: a-images-idx3-ubyte, y: a-labels-idx1-ubyte},
//             test: {x: ..., y: ...}, scale: 0.00392156862745098}
// x of rank 2 (count, features), 3 (count, height, width: one channel) or 4 (count, height,
// width, channels); y of rank 1 holding class indices. Files may be gzipped.
#include "dataset_types.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

namespace opgraph::detail {

DatasetDef idx_dataset() {
    DatasetDef def;
    def.name = "idx";
    def.doc = "IDX files (as MNIST's) of any element type: train: {x, y}, test: {x, y}";
    def.schema = split_files_schema("IDX file");
    for (AttrSpec& spec : preprocessing_schema()) def.schema.push_back(std::move(spec));
    def.factory = [](const ConfigItem& item, Split split, const std::filesystem::path& root) {
        check_split_files(item, split);
        const std::filesystem::path x_file = dataset_file(item, split_key(split) + ".x", root);
        const std::filesystem::path y_file = dataset_file(item, split_key(split) + ".y", root);
        const IdxArray x = read_idx(x_file);
        const IdxArray y = read_idx(y_file);
        if (y.dims.size() != 1)
            throw DataError(y_file.string() + ": labels must be of rank 1, got rank " +
                            std::to_string(y.dims.size()));
        return std::make_unique<Dataset>(
            classification_set("idx", sample_shape_of(x.dims, x_file.string()), idx_to_floats(x),
                               idx_to_floats(y), x_file.string(), y_file.string(), item.attrs));
    };
    return def;
}

}  // namespace opgraph::detail
