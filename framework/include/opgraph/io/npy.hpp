// Reader for NumPy .npy files and .npz archives.
//
// A .npy file is: the magic "\x93NUMPY", a major version byte (1, 2 or 3), a minor version
// byte (0), the header length (uint16 little-endian for version 1, uint32 for 2 and 3), then the
// header: a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// (ASCII; UTF-8 for version 3) padded with spaces and ending in '\n'. The elements follow, in C
// order, in the byte order the descr names ('<' little, '>' big, '|' not applicable, '='
// native). Supported descrs are the bool, integer and float types of NpyType; object,
// structured, string and Fortran-order arrays are refused.
//
// A .npz file is a zip archive (members stored or deflated) of .npy files, one per array, each
// named "<key>.npy". Zip64 archives (members or archives over 4 GiB) are refused.
//
// Bad files (wrong magic, unknown version, malformed header, truncated data, trailing data, a
// header claiming more data than the file holds, a bad CRC-32) are refused with a DataError
// *before* any allocation sized by the header: every size is first checked against the file
// size and the limits. Every message starts with the file path (for a .npz member,
// "archive.npz[key]") and names the byte offset where one is relevant, e.g.
// "data/x.npy: byte 8: header length 70000 runs past the end of the file (128 bytes): the
// header would end at byte 70010".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace opgraph {

// Element type of an array, as its descr names it: '|u1' u8, '|i1' i8, '<u2' u16, '<i2' i16,
// '<u4' u32, '<i4' i32, '<u8' u64, '<i8' i64, '<f4' f32, '<f8' f64, '|b1' boolean.
enum class NpyType { u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, boolean };

// Size in bytes of one element of `type` (1, 2, 4 or 8). Throws std::invalid_argument for a
// value outside the enum.
std::size_t npy_element_size(NpyType type);

// NumPy's name for `type`: "uint8", "int8", ..., "float32", "float64", "bool".
std::string npy_type_name(NpyType type);

// What a .npy header says, checked against the file's size: nothing is allocated from it.
struct NpyHeader {
    NpyType type = NpyType::u8;
    std::vector<std::int64_t> shape;  // may be empty (a scalar: one element)
    std::int64_t data_offset = 0;     // byte offset of the first element in the file (or member)
    // True when the elements are stored in the opposite of the host byte order (e.g. '>f4' on
    // x86): whoever maps the data must reverse the bytes of each element.
    bool byte_swap = false;

    // Number of elements: the product of shape (1 for a scalar).
    std::int64_t count() const;
};

// The content of one .npy file or .npz member.
struct NpyArray {
    NpyType type = NpyType::u8;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;  // count() elements, host (little-endian) byte order, C order

    // Number of elements: the product of shape (1 for a scalar).
    std::int64_t count() const;
};

// Bounds a file must respect to be read at all.
struct NpyLimits {
    int max_rank = 8;                                // the shape has at most this many dimensions
    std::int64_t max_bytes = std::int64_t{1} << 36;  // upper bound on the data section, in bytes
};

// Reads and checks the header of the .npy file `file` (for memory-mapping its data later):
// everything read_npy checks except the data itself. Throws DataError if the file cannot be
// opened, is not .npy (bad magic), has an unknown version, a header longer than the file, a
// malformed header dict or one missing 'descr', 'fortran_order' or 'shape', Fortran order, an
// unsupported descr (object, structured, string, ...), a negative or non-integer dimension, a
// rank above limits.max_rank, a data size that overflows or exceeds limits.max_bytes, or a file
// holding fewer or more data bytes than the header announces.
NpyHeader read_npy_header(const std::filesystem::path& file, const NpyLimits& limits = {});

// Reads the .npy file `file` and converts its elements to host byte order. Throws DataError as
// read_npy_header does (and on a read error).
NpyArray read_npy(const std::filesystem::path& file, const NpyLimits& limits = {});

// The arrays' names in the .npz `file` (its members' names without ".npy"), in archive order.
// Throws DataError if the file is not a zip archive or its central directory is malformed.
std::vector<std::string> npz_keys(const std::filesystem::path& file);

// The member `key` (or `key`.npy) of the .npz `file`, read as read_npy reads a file. Throws
// DataError listing the keys when absent, and for a member that runs past the archive, an
// unsupported compression method, encryption, zip64, a size above the limits, a corrupt deflate
// stream, a CRC-32 mismatch, or a bad .npy (messages start with "file[key]: ").
NpyArray read_npz(const std::filesystem::path& file, const std::string& key,
                  const NpyLimits& limits = {});

// Every element of `array` as a float (integers by value, no scaling; boolean as 0 or 1).
std::vector<float> npy_to_floats(const NpyArray& array);

}  // namespace opgraph
