// npy: a classification set from NumPy arrays, as np.save / np.savez write them, e.g.
//   dataset: {type: npy, train: {x: x_train.npy, y: y_train.npy}, test: {x: ..., y: ...}}
//   dataset: {type: npy, file: mnist.npz, train: {x: x_train, y: y_train}, test: {...}}
// With `file`, x and y are keys of that .npz archive; else each is a .npy file. Samples of
// rank 2 (count, features), 3 (count, height, width) or 4 (count, height, width, channels),
// C order, of any numeric type; labels of rank 1 (or (count, 1)) holding class indices.
#include "dataset_types.hpp"
#include "opgraph/io/npy.hpp"

namespace opgraph::detail {

namespace {

// The array attribute `name` of `item`: a member of the archive `file`, else a .npy file.
NpyArray read_array(const ConfigItem& item, const std::string& name,
                    const std::filesystem::path& root, std::string& source) {
    if (item.attrs.get_string("file").empty()) {
        const std::filesystem::path file = dataset_file(item, name, root);
        source = file.string();
        return read_npy(file);
    }
    const std::filesystem::path archive = dataset_file(item, "file", root);
    const std::string& key = item.attrs.get_string(name);
    source = archive.string() + "[" + key + "]";
    return read_npz(archive, key);
}

}  // namespace

DatasetDef npy_dataset() {
    DatasetDef def;
    def.name = "npy";
    def.doc = "NumPy arrays: train: {x, y}, test: {x, y} as .npy files, or keys of a .npz file";
    def.schema = split_files_schema(".npy file (or .npz key)");
    def.schema.push_back(AttrSpec::optional(
        "file", std::string(), "a .npz archive holding the arrays: x and y are its keys"));
    for (AttrSpec& spec : preprocessing_schema()) def.schema.push_back(std::move(spec));
    def.factory = [](const ConfigItem& item, Split split, const std::filesystem::path& root) {
        check_split_files(item, split);
        std::string x_source, y_source;
        const NpyArray x = read_array(item, split_key(split) + ".x", root, x_source);
        const NpyArray y = read_array(item, split_key(split) + ".y", root, y_source);
        if (y.shape.size() != 1 && !(y.shape.size() == 2 && y.shape[1] == 1))
            throw DataError(y_source + ": labels must be of rank 1 (or count x 1), got shape " +
                            shape_str(y.shape));
        return std::make_unique<Dataset>(
            classification_set("npy", sample_shape_of(x.shape, x_source), npy_to_floats(x),
                               npy_to_floats(y), x_source, y_source, item.attrs));
    };
    return def;
}

}  // namespace opgraph::detail
