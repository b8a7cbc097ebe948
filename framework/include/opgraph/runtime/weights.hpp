// A program's parameters (weights, biases, batch-norm statistics) saved to and loaded from a
// safetensors file, by value name ("conv2d/kernel") in their Keras shapes. A quantized weights
// file (opgraph quantize) holds the same f32 parameters and each activation's calibrated range
// as a tensor "quantization/<value>" = [min, max].
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "opgraph/io/tensor_file.hpp"
#include "opgraph/passes/quantization.hpp"
#include "opgraph/runtime/program.hpp"

namespace opgraph {

// The "format" metadata of a quantized weights file, and its range tensors' name prefix.
// Version 2: the ranges are those of the graph fold_affine builds for int8 (no batch norm
// folded into the next layer's weights); version 1 (no number) had them folded so, and its
// ranges name other values.
inline constexpr const char* kQuantizedWeightsFormat = "opgraph quantized weights 2";
inline constexpr const char* kQuantizedWeightsFamily = "opgraph quantized weights";
inline constexpr const char* kActivationRangePrefix = "quantization/";

// Every parameter of `program`, plus `metadata`. Throws CheckpointError.
void save_weights(const Program& program, const std::filesystem::path& file,
                  const std::map<std::string, std::string>& metadata = {});

// Every parameter of `program` and the activation ranges, plus `metadata`. Throws
// CheckpointError.
void save_quantized_weights(const Program& program, const ActivationRanges& ranges,
                            const std::filesystem::path& file,
                            const std::map<std::string, std::string>& metadata = {});

// The activation ranges of a quantized weights file. Throws CheckpointError naming the file
// when it is not one ("make one with opgraph quantize") or a range is not two finite floats
// with min <= max.
ActivationRanges read_activation_ranges(const TensorFile& content, const std::string& file_name);

// Loads every parameter of `program` from `file`: a weights file, a quantized weights file
// (whose ranges are skipped) or a training checkpoint (whose optimizer slots are skipped). Throws
// CheckpointError naming the tensors that are missing, unexpected, or of another shape.
void load_weights(Program& program, const std::filesystem::path& file);

// The same with a file already read.
void load_weights(Program& program, const TensorFile& content, const std::string& file_name);

}  // namespace opgraph
