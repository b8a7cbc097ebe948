// Named float32 tensors on disk in the safetensors format (an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
// raw little-endian data), so that other tools (Python's safetensors, numpy) read them.
//
// Writes are atomic: a temporary file in the same directory, fsync, rename over the target,
// fsync of the directory; the previous file stays intact until the new one is complete.
// Reads are defensive: every size and offset is checked against the file before anything
// large is allocated. Every tensor and the metadata carry a CRC-32 in the metadata
// ("crc32:<tensor>", "crc32:__metadata__"), checked on read when present (files written by
// other tools have none); a mismatch names the tensor. Both throw CheckpointError naming the file
// (and byte offset).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/core/shape.hpp"

namespace opgraph {

struct NamedTensor {
    std::string name;
    Shape shape;
    std::vector<float> data;  // row-major
};

struct TensorFile {
    std::map<std::string, std::string> metadata;
    std::vector<NamedTensor> tensors;  // written in this order; read back sorted by offset

    const NamedTensor* find(const std::string& name) const;
};

struct TensorFileLimits {
    std::uint64_t max_header_bytes = 16u << 20;
    std::uint64_t max_file_bytes = std::uint64_t{8} << 30;
};

// Writes `content` atomically: a temporary file beside `file` (".<name>.tmpXXXXXX", removed on
// failure; those a killed write left are removed first), fsync, rename, fsync of the directory.
void write_tensor_file(const std::filesystem::path& file, const TensorFile& content);
TensorFile read_tensor_file(const std::filesystem::path& file, const TensorFileLimits& limits = {});

// Throws CheckpointError "<file_name>: <what> do not match the graph:" listing each expected
// tensor that is missing or of another shape and each tensor of `content` not expected.
void require_tensors(const TensorFile& content,
                     const std::vector<std::pair<std::string, Shape>>& expected,
                     const std::string& file_name, const std::string& what);

}  // namespace opgraph
