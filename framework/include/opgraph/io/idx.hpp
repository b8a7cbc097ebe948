// Reader for IDX files, the container format of MNIST and Fashion-MNIST.
//
// An IDX file is: two zero bytes, a type byte (see IdxType), a rank byte, `rank` big-endian
// uint32 dimensions, then the elements in row-major order, big-endian. Files may be
// gzip-compressed; the reader recognises gzip by its magic bytes (1f 8b), never by the name.
//
// Bad files (wrong magic, unknown type, truncated, trailing data, a header claiming billions of
// items) are refused with a DataError *before* any allocation larger than the file could hold.
// Every message starts with the file path and names the byte offset where one is relevant,
// e.g. "data/x.idx: byte 3: rank 9 exceeds the limit of 4".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace opgraph {

// Element type, as stored in byte 2 of an IDX header.
enum class IdxType : uint8_t {
    u8 = 0x08,
    i8 = 0x09,
    i16 = 0x0B,
    i32 = 0x0C,
    f32 = 0x0D,
    f64 = 0x0E
};

// Size in bytes of one element of `type` (1, 2, 4 or 8). Throws std::invalid_argument for a
// value outside the enum.
std::size_t idx_element_size(IdxType type);

// Short name of `type`: "u8", "i8", "i16", "i32", "f32", "f64" ("0x.." for unknown values).
std::string idx_type_name(IdxType type);

// The content of one IDX file.
struct IdxArray {
    IdxType type = IdxType::u8;
    std::vector<int64_t> dims;   // rank entries, each >= 1
    std::vector<uint8_t> bytes;  // count() * idx_element_size(type) bytes, host byte order

    // Number of elements: the product of dims (0 when dims is empty).
    int64_t count() const;
};

// Bounds a file must respect to be read at all.
struct IdxLimits {
    int max_rank = 4;                      // rank byte must be in 1..max_rank
    int64_t max_bytes = int64_t{1} << 31;  // upper bound on the data section, in bytes
};

// Reads the IDX file `file` (raw or gzip-compressed) and converts its elements to host byte
// order. Throws DataError if the file cannot be opened or read, is empty, is not IDX (first
// two bytes not zero), has an unknown type, a rank outside 1..limits.max_rank, a zero
// dimension, a data size that overflows or exceeds limits.max_bytes, or holds fewer or more
// data bytes than its header announces (for gzip: in the decompressed stream).
IdxArray read_idx(const std::filesystem::path& file, const IdxLimits& limits = {});

// Every element of `array` as a float (u8 0..255 as 0..255: no scaling).
std::vector<float> idx_to_floats(const IdxArray& array);

// Checks that `images` (read from images_file) and `labels` (read from labels_file) form a
// classification data set: images rank 3 u8 (count x rows x cols), labels rank 1 u8, the same
// number of items, and every label < num_classes. Throws DataError naming both files (and, for
// a bad label, its index and byte offset in labels_file). Throws std::invalid_argument if
// num_classes < 1.
void check_idx_pair(const IdxArray& images, const IdxArray& labels,
                    const std::filesystem::path& images_file,
                    const std::filesystem::path& labels_file, int num_classes);

}  // namespace opgraph
