#include "opgraph/runtime/weights.hpp"

#include <cmath>

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

namespace {

std::string format_of(const TensorFile& content) {
    const auto meta = content.metadata.find("format");
    return meta == content.metadata.end() ? std::string{} : meta->second;
}

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// `content` without the tensors whose names start with `prefix`.
TensorFile without(const TensorFile& content, const char* prefix) {
    TensorFile kept;
    for (const NamedTensor& t : content.tensors)
        if (!starts_with(t.name, prefix)) kept.tensors.push_back(t);
    return kept;
}

}  // namespace

void save_quantized_weights(const Program& program, const ActivationRanges& ranges,
                            const std::filesystem::path& file,
                            const std::map<std::string, std::string>& metadata) {
    TensorFile content;
    content.metadata = metadata;
    content.metadata["format"] = kQuantizedWeightsFormat;
    for (const std::string& name : program.params())
        content.tensors.push_back({name, program.shape(name), program.read(name)});
    for (const auto& [value, range] : ranges)
        content.tensors.push_back({kActivationRangePrefix + value, {2}, {range.min, range.max}});
    write_tensor_file(file, content);
}

ActivationRanges read_activation_ranges(const TensorFile& content, const std::string& file_name) {
    const std::string format = format_of(content);
    if (format != kQuantizedWeightsFormat && starts_with(format, kQuantizedWeightsFamily))
        throw CheckpointError(file_name + ": its activation ranges ('" + format +
                              "') were calibrated by an older opgraph on a graph folded "
                              "differently; quantize the model again with opgraph quantize");
    if (format != kQuantizedWeightsFormat)
        throw CheckpointError(file_name +
                              ": not a quantized weights file (it has no activation ranges); "
                              "make one with opgraph quantize GRAPH --weights " +
                              file_name + " -o Q.safetensors");
    ActivationRanges ranges;
    for (const NamedTensor& t : content.tensors) {
        if (!starts_with(t.name, kActivationRangePrefix)) continue;
        const bool valid = t.data.size() == 2 && std::isfinite(t.data[0]) &&
                           std::isfinite(t.data[1]) && t.data[0] <= t.data[1];
        if (!valid)
            throw CheckpointError(file_name + ": tensor '" + t.name +
                                  "' is not a range [min, max] of two finite floats");
        ranges[t.name.substr(std::string(kActivationRangePrefix).size())] = {t.data[0], t.data[1]};
    }
    return ranges;
}

void load_weights(Program& program, const TensorFile& content, const std::string& file_name) {
    const std::string format = format_of(content);
    if (format == kCheckpointFormat) {
        // A training checkpoint is a weights file too: its optimizer slots are left out.
        load_weights(program, without(content, kOptimizerSlotPrefix),
                     file_name + " (training checkpoint)");
        return;
    }
    if (starts_with(format, kQuantizedWeightsFamily)) {  // its f32 weights fit every version
        load_weights(program, without(content, kActivationRangePrefix), file_name);
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
