#include "opgraph/runtime/weights.hpp"

#include "opgraph/io/checkpoint.hpp"

namespace opgraph {

void save_weights(const Program& program, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata) {
    TensorFile content;
    content.metadata = metadata;
    content.metadata["format"] = "opgraph weights";
    for (const std::string& name : program.params())
        content.tensors.push_back({name, program.shape(name), program.read(name)});
    write_tensor_file(file, content);
}

void load_weights(Program& program, const TensorFile& content, const std::string& file_name) {
    const auto meta = content.metadata.find("format");
    if (meta != content.metadata.end() && meta->second == kCheckpointFormat) {
        // A training checkpoint is a weights file too: its optimizer slots are left out.
        TensorFile weights;
        for (const NamedTensor& t : content.tensors)
            if (t.name.rfind(kOptimizerSlotPrefix, 0) != 0) weights.tensors.push_back(t);
        load_weights(program, weights, file_name + " (training checkpoint)");
        return;
    }
    std::vector<std::pair<std::string, Shape>> expected;
    for (const std::string& name : program.params())
        expected.emplace_back(name, program.shape(name));
    require_tensors(content, expected, file_name, "weights");
    for (const std::string& name : program.params()) program.write(name, content.find(name)->data);
}

void load_weights(Program& program, const std::filesystem::path& file) {
    load_weights(program, read_tensor_file(file), file.string());
}

}  // namespace opgraph
