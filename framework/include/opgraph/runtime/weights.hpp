// A program's parameters (weights, biases, batch-norm statistics) saved to and loaded from a
// safetensors file, by value name ("conv2d/kernel") in their Keras shapes.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "opgraph/io/tensor_file.hpp"
#include "opgraph/runtime/program.hpp"

namespace opgraph {

// Every parameter of `program`, plus `metadata`. Throws CheckpointError.
void save_weights(const Program& program, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata = {});

// Loads every parameter of `program` from `file`: a weights file or a training checkpoint
// (whose optimizer slots are skipped). Throws CheckpointError naming the tensors that are
// missing, unexpected, or of another shape.
void load_weights(Program& program, const std::filesystem::path& file);

// The same with a file already read.
void load_weights(Program& program, const TensorFile& content, const std::string& file_name);

}  // namespace opgraph
