// Tests for the .npy / .npz reader: every supported type and header form, byte swapping,
// conversion to floats, each malformed-file refusal (including headers claiming more data than
// the file holds, refused before allocating), and .npz archives with stored and deflated
// members, missing keys, bad CRCs and lying sizes. The files are built here, byte by byte.
#include "opgraph/io/npy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"

namespace {

namespace fs = std::filesystem;
using opgraph::DataError;
using opgraph::NpyArray;
using opgraph::NpyHeader;
using opgraph::NpyLimits;
using opgraph::NpyType;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ =
            fs::temp_directory_path() / ("opgraph_npy_test_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++) + "_" + std::to_string(ticks));
        fs::create_directories(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }

    const fs::path& path() const { return path_; }

    fs::path write(const std::string& name, const Bytes& bytes) const {
        const fs::path file = path_ / name;
        std::ofstream out(file, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        EXPECT_TRUE(out.good()) << file;
        return file;
    }

private:
    fs::path path_;
};

// Appends `value` as `bytes` little-endian bytes.
void put_le(Bytes& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// A .npy file as NumPy writes it: magic, version, header length, the dict padded with spaces
// to a multiple of 64 bytes and ending in '\n', then `data`.
Bytes npy(const std::string& dict, const Bytes& data, int version = 1) {
    const std::size_t preamble = version == 1 ? 10 : 12;
    std::string header = dict;
    while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(version), 0};
    put_le(out, header.size(), version == 1 ? 2 : 4);
    out.insert(out.end(), header.begin(), header.end());
    return concat(out, data);
}

// The header dict NumPy writes for a C-order array.
std::string dict(const std::string& descr, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

template <class T>
Bytes to_bytes(const std::vector<T>& values) {
    Bytes bytes(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

template <class T>
std::vector<T> from_bytes(const Bytes& bytes) {
    std::vector<T> values(bytes.size() / sizeof(T));
    if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
    return values;
}

// `bytes` with each element of `size` bytes reversed (host order to big-endian).
Bytes reverse_elements(Bytes bytes, std::size_t size) {
    for (std::size_t i = 0; i + size <= bytes.size(); i += size)
        std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + size));
    return bytes;
}

Bytes iota_bytes(std::size_t n) {
    Bytes bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return bytes;
}

// `data` compressed as a raw deflate stream (no zlib header), as zip stores it.
Bytes deflate_raw(const Bytes& data) {
    z_stream stream{};
    EXPECT_EQ(
        deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    Bytes in = data;
    Bytes out(deflateBound(&stream, static_cast<uLong>(in.size())));
    stream.next_in = in.data();
    stream.avail_in = static_cast<uInt>(in.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

struct Member {
    std::string name;
    Bytes content;
    bool deflate = false;
    std::uint32_t crc_xor = 0;  // corrupts the CRC-32 recorded for the member
};

// A zip archive of `members` laid out as NumPy's savez writes it (through Python's zipfile,
// forcing zip64 local headers: sizes 0xffffffff there, the real ones in a zip64 extra field and
// in the central directory).
Bytes zip(const std::vector<Member>& members) {
    Bytes out;
    Bytes directory;
    for (const Member& member : members) {
        const Bytes data = member.deflate ? deflate_raw(member.content) : member.content;
        const std::uint32_t crc =
            static_cast<std::uint32_t>(
                crc32(0, member.content.data(), static_cast<uInt>(member.content.size()))) ^
            member.crc_xor;
        const std::uint64_t method = member.deflate ? 8 : 0;
        const std::uint64_t local_offset = out.size();
        put_le(out, 0x04034b50, 4);
        put_le(out, 45, 2);      // version needed: zip64
        put_le(out, 0, 2);       // flags
        put_le(out, method, 2);  // compression method
        put_le(out, 0, 4);       // time, date
        put_le(out, crc, 4);
        put_le(out, 0xffffffff, 4);
        put_le(out, 0xffffffff, 4);
        put_le(out, member.name.size(), 2);
        put_le(out, 20, 2);  // extra: the zip64 field
        out.insert(out.end(), member.name.begin(), member.name.end());
        put_le(out, 1, 2);
        put_le(out, 16, 2);
        put_le(out, member.content.size(), 8);
        put_le(out, data.size(), 8);
        out.insert(out.end(), data.begin(), data.end());

        put_le(directory, 0x02014b50, 4);
        put_le(directory, 45, 2);  // version made by
        put_le(directory, 45, 2);  // version needed
        put_le(directory, 0, 2);   // flags
        put_le(directory, method, 2);
        put_le(directory, 0, 4);  // time, date
        put_le(directory, crc, 4);
        put_le(directory, data.size(), 4);
        put_le(directory, member.content.size(), 4);
        put_le(directory, member.name.size(), 2);
        put_le(directory, 0, 2);  // extra length
        put_le(directory, 0, 2);  // comment length
        put_le(directory, 0, 2);  // disk
        put_le(directory, 0, 2);  // internal attributes
        put_le(directory, 0, 4);  // external attributes
        put_le(directory, local_offset, 4);
        directory.insert(directory.end(), member.name.begin(), member.name.end());
    }
    const std::uint64_t directory_offset = out.size();
    out = concat(out, directory);
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 4);  // disk numbers
    put_le(out, members.size(), 2);
    put_le(out, members.size(), 2);
    put_le(out, directory.size(), 4);
    put_le(out, directory_offset, 4);
    put_le(out, 0, 2);  // comment length
    return out;
}

// Overwrites the 4 little-endian bytes at `offset`.
void patch32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Offset of the first central directory entry of an archive built by zip().
std::size_t first_entry(const Bytes& archive) {
    const std::size_t end = archive.size() - 22;
    std::uint32_t offset = 0;
    std::memcpy(&offset, &archive[end + 16], 4);
    return offset;
}

// Expects `read` to throw a DataError (exit code invalid_data) whose message starts with
// `prefix` and contains every one of `parts`.
template <class Read>
void expect_error(Read&& read, const std::string& prefix,
                  std::initializer_list<std::string> parts) {
    try {
        read();
        ADD_FAILURE() << "no DataError (expected one starting with " << prefix << ")";
    } catch (const DataError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(prefix, 0), 0U) << message;
        for (const std::string& part : parts)
            EXPECT_NE(message.find(part), std::string::npos)
                << "'" << part << "' not in " << message;
        EXPECT_EQ(e.exit_code(), opgraph::ExitCode::invalid_data);
    }
}

// Expects both read_npy_header and read_npy to refuse `file` that way.
void expect_npy_error(const fs::path& file, std::initializer_list<std::string> parts,
                      const NpyLimits& limits = {}) {
    const std::string prefix = file.string() + ": ";
    expect_error([&] { opgraph::read_npy_header(file, limits); }, prefix, parts);
    expect_error([&] { opgraph::read_npy(file, limits); }, prefix, parts);
}

// ---- .npy -----------------------------------------------------------------------------------

TEST(Npy, ReadsUint8Rank3) {
    TempDir dir;
    const Bytes data = iota_bytes(2 * 3 * 4);
    const fs::path file = dir.write("u8.npy", npy(dict("|u1", "(2, 3, 4)"), data));
    const NpyArray array = opgraph::read_npy(file);
    EXPECT_EQ(array.type, NpyType::u8);
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{2, 3, 4}));
    EXPECT_EQ(array.count(), 24);
    EXPECT_EQ(array.bytes, data);

    const NpyHeader header = opgraph::read_npy_header(file);
    EXPECT_EQ(header.type, NpyType::u8);
    EXPECT_EQ(header.shape, array.shape);
    EXPECT_EQ(header.count(), 24);
    EXPECT_EQ(header.data_offset, 128);
    EXPECT_FALSE(header.byte_swap);
}

TEST(Npy, RoundTripsFloat32) {
    TempDir dir;
    const std::vector<float> values = {1.5F,   -2.25F, std::numeric_limits<float>::max(),
                                       1e-45F, -0.0F,  std::numeric_limits<float>::infinity()};
    const NpyArray array =
        opgraph::read_npy(dir.write("f32.npy", npy(dict("<f4", "(2, 3)"), to_bytes(values))));
    EXPECT_EQ(array.type, NpyType::f32);
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(array.bytes, to_bytes(values));  // bit for bit, -0.0 included
}

TEST(Npy, RoundTripsFloat64) {
    TempDir dir;
    const std::vector<double> values = {3.141592653589793, -1e300, 5e-324, 0.1};
    const NpyArray array =
        opgraph::read_npy(dir.write("f64.npy", npy(dict("<f8", "(4,)"), to_bytes(values))));
    EXPECT_EQ(array.type, NpyType::f64);
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{4}));
    EXPECT_EQ(from_bytes<double>(array.bytes), values);
}

TEST(Npy, RoundTripsInt64) {
    TempDir dir;
    const std::vector<std::int64_t> values = {std::numeric_limits<std::int64_t>::min(), -1, 0,
                                              int64_max, 1234567890123};
    const NpyArray array =
        opgraph::read_npy(dir.write("i64.npy", npy(dict("<i8", "(5,)"), to_bytes(values))));
    EXPECT_EQ(array.type, NpyType::i64);
    EXPECT_EQ(from_bytes<std::int64_t>(array.bytes), values);
}

TEST(Npy, ReadsScalar) {
    TempDir dir;
    const NpyArray array = opgraph::read_npy(
        dir.write("scalar.npy", npy(dict("<f8", "()"), to_bytes<double>({-2.5}))));
    EXPECT_TRUE(array.shape.empty());
    EXPECT_EQ(array.count(), 1);
    EXPECT_EQ(from_bytes<double>(array.bytes), (std::vector<double>{-2.5}));
}

TEST(Npy, ReadsEmptyArray) {
    TempDir dir;
    const NpyArray array =
        opgraph::read_npy(dir.write("empty.npy", npy(dict("<f4", "(0, 5)"), {})));
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{0, 5}));
    EXPECT_EQ(array.count(), 0);
    EXPECT_TRUE(array.bytes.empty());
}

TEST(Npy, ReadsVersion2And3Headers) {
    TempDir dir;
    const Bytes data = to_bytes<std::int32_t>({7, -8, 9});
    for (int version : {2, 3}) {
        const fs::path file = dir.write("v" + std::to_string(version) + ".npy",
                                        npy(dict("<i4", "(3,)"), data, version));
        const NpyHeader header = opgraph::read_npy_header(file);
        EXPECT_EQ(header.data_offset, 128) << version;
        const NpyArray array = opgraph::read_npy(file);
        EXPECT_EQ(array.type, NpyType::i32);
        EXPECT_EQ(array.bytes, data) << version;
    }
}

TEST(Npy, SwapsBigEndianToHostOrder) {
    TempDir dir;
    const std::vector<float> floats = {1.5F, -2.0F, 1e10F};
    const fs::path f32 =
        dir.write("be_f32.npy", npy(dict(">f4", "(3,)"), reverse_elements(to_bytes(floats), 4)));
    EXPECT_TRUE(opgraph::read_npy_header(f32).byte_swap);
    EXPECT_EQ(from_bytes<float>(opgraph::read_npy(f32).bytes), floats);

    const std::vector<std::uint16_t> shorts = {0x1234, 0xfffe};
    const NpyArray u16 = opgraph::read_npy(
        dir.write("be_u16.npy", npy(dict(">u2", "(2,)"), Bytes{0x12, 0x34, 0xff, 0xfe})));
    EXPECT_EQ(from_bytes<std::uint16_t>(u16.bytes), shorts);

    // '=' is native order and '|' says "not applicable": neither is swapped.
    const fs::path native = dir.write("native.npy", npy(dict("=f4", "(3,)"), to_bytes(floats)));
    EXPECT_FALSE(opgraph::read_npy_header(native).byte_swap);
    EXPECT_EQ(from_bytes<float>(opgraph::read_npy(native).bytes), floats);
    EXPECT_EQ(opgraph::read_npy(dir.write("be_u8.npy", npy(dict(">u1", "(2,)"), {1, 2}))).bytes,
              (Bytes{1, 2}));
}

TEST(Npy, AcceptsHeaderVariants) {
    TempDir dir;
    const Bytes data = to_bytes<std::int32_t>({1, 2, 3, 4, 5, 6});
    const std::vector<std::string> dicts = {
        // Double quotes, another key order, no trailing comma, odd spacing.
        R"({"shape":( 2 ,3 ),"fortran_order" :False , "descr":"<i4"})",
        // A list for the shape, tabs, a Python 2 long suffix, an extra key.
        "{'descr': '<i4',\t'shape': [2L, 3], 'fortran_order': False, 'extra': (1, ('x',)), }",
        // No byte-order character.
        "{'descr': 'i4', 'fortran_order': False, 'shape': (2, 3,)}",
    };
    for (std::size_t i = 0; i < dicts.size(); ++i) {
        const NpyArray array =
            opgraph::read_npy(dir.write("v" + std::to_string(i) + ".npy", npy(dicts[i], data)));
        EXPECT_EQ(array.type, NpyType::i32) << dicts[i];
        EXPECT_EQ(array.shape, (std::vector<std::int64_t>{2, 3})) << dicts[i];
        EXPECT_EQ(array.bytes, data) << dicts[i];
    }
}

TEST(Npy, ConvertsEveryTypeToFloats) {
    struct Case {
        std::string descr;
        NpyType type;
        std::string name;
        std::size_t size;
        Bytes data;
        std::vector<float> expected;
    };
    const std::vector<Case> cases = {
        {"|u1", NpyType::u8, "uint8", 1, {0, 255}, {0, 255}},
        {"|i1", NpyType::i8, "int8", 1, {0x80, 0x7f}, {-128, 127}},
        {"<u2", NpyType::u16, "uint16", 2, to_bytes<std::uint16_t>({65535}), {65535}},
        {"<i2", NpyType::i16, "int16", 2, to_bytes<std::int16_t>({-300, 3}), {-300, 3}},
        {"<u4", NpyType::u32, "uint32", 4, to_bytes<std::uint32_t>({4000000000U}), {4e9F}},
        {"<i4", NpyType::i32, "int32", 4, to_bytes<std::int32_t>({-70000}), {-70000}},
        {"<u8", NpyType::u64, "uint64", 8, to_bytes<std::uint64_t>({1ULL << 40}), {0x1p40F}},
        {"<i8", NpyType::i64, "int64", 8, to_bytes<std::int64_t>({-5}), {-5}},
        {"<f4", NpyType::f32, "float32", 4, to_bytes<float>({0.25F}), {0.25F}},
        {"<f8", NpyType::f64, "float64", 8, to_bytes<double>({-0.5}), {-0.5F}},
        {"|b1", NpyType::boolean, "bool", 1, {0, 1, 1}, {0, 1, 1}},
    };
    TempDir dir;
    for (const Case& c : cases) {
        EXPECT_EQ(opgraph::npy_type_name(c.type), c.name);
        EXPECT_EQ(opgraph::npy_element_size(c.type), c.size) << c.name;
        const std::string shape = "(" + std::to_string(c.data.size() / c.size) + ",)";
        const NpyArray array =
            opgraph::read_npy(dir.write(c.name + ".npy", npy(dict(c.descr, shape), c.data)));
        EXPECT_EQ(array.type, c.type) << c.name;
        EXPECT_EQ(opgraph::npy_to_floats(array), c.expected) << c.name;
    }
}

TEST(Npy, RefusesTruncatedData) {
    TempDir dir;
    const fs::path file = dir.write("cut.npy", npy(dict("<f4", "(2, 3)"), iota_bytes(20)));
    expect_npy_error(file, {"truncated: header says 2x3 float32 = 24 bytes, file has 20 after "
                            "the header at byte 128"});
}

TEST(Npy, RefusesShapeLargerThanFileBeforeAllocating) {
    TempDir dir;
    const fs::path file =
        dir.write("huge.npy", npy(dict("|u1", "(1000000000, 1000000000)"), iota_bytes(4)));
    // 10^18 bytes: refused by the default 64 GiB limit...
    expect_npy_error(file, {"byte ",
                            "shape 1000000000x1000000000 of uint8 = 1000000000000000000 "
                            "bytes exceeds the limit of 68719476736 bytes"});
    // ...and, with the limit lifted, by the file size. Allocating first would throw
    // std::bad_alloc (or abort under a sanitizer), not DataError.
    NpyLimits limits;
    limits.max_bytes = int64_max;
    expect_npy_error(file,
                     {"truncated: header says 1000000000x1000000000 uint8 = 1000000000000000000 "
                      "bytes, file has 4 after the header at byte 128"},
                     limits);
}

TEST(Npy, RefusesOverflowingShape) {
    TempDir dir;
    NpyLimits limits;
    limits.max_bytes = int64_max;
    expect_npy_error(dir.write("overflow.npy", npy(dict("<f8", "(4294967296, 4294967296)"), {})),
                     {"shape 4294967296x4294967296 of float64 overflows"}, limits);
    expect_npy_error(dir.write("dim.npy", npy(dict("<f8", "(99999999999999999999,)"), {})),
                     {"shape dimension 0 99999999999999999999 is too large"});
}

TEST(Npy, RefusesTrailingBytes) {
    TempDir dir;
    expect_npy_error(dir.write("long.npy", npy(dict("|u1", "(10,)"), iota_bytes(11))),
                     {"trailing data: header says 10 uint8 = 10 bytes, file has 11 after the "
                      "header at byte 128"});
}

TEST(Npy, RefusesFortranOrder) {
    TempDir dir;
    const fs::path file = dir.write(
        "fortran.npy",
        npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", iota_bytes(24)));
    expect_npy_error(file, {"byte 44: ",
                            "Fortran-order arrays are not supported: save with "
                            "np.ascontiguousarray"});
}

TEST(Npy, RefusesObjectStructuredAndStringDtypes) {
    TempDir dir;
    expect_npy_error(dir.write("object.npy", npy(dict("|O", "(2,)"), iota_bytes(16))),
                     {"byte 20: ", "descr '|O': object arrays cannot be read"});
    expect_npy_error(
        dir.write("struct.npy",
                  npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, "
                      "'shape': (2,), }",
                      iota_bytes(16))),
        {"structured arrays cannot be read"});
    expect_npy_error(dir.write("string.npy", npy(dict("<U5", "(2,)"), iota_bytes(40))),
                     {"descr '<U5': string arrays cannot be read"});
    expect_npy_error(dir.write("complex.npy", npy(dict("<c8", "(2,)"), iota_bytes(16))),
                     {"descr '<c8' is not supported"});
}

TEST(Npy, RefusesBadMagic) {
    TempDir dir;
    Bytes zip_like = npy(dict("|u1", "(4,)"), iota_bytes(4));
    zip_like[0] = 'P';
    zip_like[1] = 'K';
    expect_npy_error(dir.write("zip.npy", zip_like), {"byte 0: not a .npy file"});
    expect_npy_error(dir.write("short.npy", {0x93, 'N', 'U'}), {"byte 0: not a .npy file"});
    expect_npy_error(dir.write("empty.npy", {}), {"file is empty"});
    expect_npy_error(dir.write("preamble.npy", {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x40}),
                     {"byte 9: truncated", "inside the .npy preamble"});
}

TEST(Npy, RefusesUnknownVersion) {
    TempDir dir;
    Bytes content = npy(dict("|u1", "(4,)"), iota_bytes(4));
    content[6] = 4;
    expect_npy_error(dir.write("v4.npy", content),
                     {"byte 6: unknown .npy format version 4.0 (expected 1.0, 2.0 or 3.0)"});
    content[6] = 1;
    content[7] = 1;
    expect_npy_error(dir.write("v11.npy", content), {"byte 6: unknown .npy format version 1.1"});
}

TEST(Npy, RefusesHeaderLongerThanFile) {
    TempDir dir;
    Bytes content = npy(dict("|u1", "(4,)"), iota_bytes(4));
    content[8] = 0xe8;  // header length 1000
    content[9] = 0x03;
    expect_npy_error(dir.write("long_header.npy", content),
                     {"byte 8: header length 1000 runs past the end of the file (132 bytes)"});
    Bytes v2 = npy(dict("|u1", "(4,)"), iota_bytes(4), 2);
    v2[11] = 0x7f;  // ~2 GiB
    expect_npy_error(dir.write("v2.npy", v2), {"byte 8: header length", "exceeds the limit"});
}

TEST(Npy, RefusesMissingKeys) {
    TempDir dir;
    expect_npy_error(
        dir.write("noshape.npy", npy("{'descr': '<f4', 'fortran_order': False}", iota_bytes(4))),
        {"byte 10: header has no 'shape' key"});
    expect_npy_error(
        dir.write("nodescr.npy", npy("{'fortran_order': False, 'shape': (1,)}", iota_bytes(4))),
        {"header has no 'descr' key"});
}

TEST(Npy, RefusesBadDimensions) {
    TempDir dir;
    expect_npy_error(dir.write("neg.npy", npy(dict("|u1", "(2, -3)"), {})),
                     {"shape dimension 1 -3 is negative"});
    expect_npy_error(dir.write("float.npy", npy(dict("|u1", "(2.5,)"), {})),
                     {"shape dimension 0 2.5 is not an integer"});
    expect_npy_error(dir.write("string.npy", npy(dict("|u1", "('2',)"), {})),
                     {"shape dimension 0 '2' is not an integer"});
    expect_npy_error(dir.write("none.npy", npy(dict("|u1", "(None,)"), {})),
                     {"shape dimension 0 None is not an integer"});
    expect_npy_error(dir.write("int.npy", npy(dict("|u1", "3"), {})),
                     {"'shape' must be a tuple of integers"});
}

TEST(Npy, RefusesRankAboveLimit) {
    TempDir dir;
    const fs::path file = dir.write("rank9.npy", npy(dict("|u1", "(1,1,1,1,1,1,1,1,1)"), {1}));
    expect_npy_error(file, {"rank 9 exceeds the limit of 8"});
    NpyLimits limits;
    limits.max_rank = 9;
    EXPECT_EQ(opgraph::read_npy(file, limits).shape.size(), 9U);
}

TEST(Npy, RefusesMalformedHeaderDict) {
    TempDir dir;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
         "malformed header: expected ',' or '}', found '''"},
        {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}",
         "malformed header: expected ':' after the key 'descr', found '''"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "unexpected text after"},
        {"['descr', '<f4']", "expected '{'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
         "duplicate key 'descr'"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
         "'fortran_order' must be True or False, got 0"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,", "expected a value"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': " + std::string(40, '(') + "}",
         "nested deeper than 32"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        expect_npy_error(
            dir.write("bad" + std::to_string(i) + ".npy", npy(cases[i].first, iota_bytes(4))),
            {cases[i].second});
    }
}

TEST(Npy, RefusesMissingFileAndDirectory) {
    TempDir dir;
    expect_npy_error(dir.path() / "missing.npy", {"cannot open"});
    expect_npy_error(dir.path(), {"is a directory"});
}

// ---- .npz -----------------------------------------------------------------------------------

TEST(Npz, ListsKeysInArchiveOrder) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(2,)"), {1, 2});
    const fs::path file = dir.write(
        "a.npz", zip({{"y_train.npy", x}, {"x_train.npy", x, true}, {"notes.txt", {'h', 'i'}}}));
    EXPECT_EQ(opgraph::npz_keys(file),
              (std::vector<std::string>{"y_train", "x_train", "notes.txt"}));
    EXPECT_TRUE(opgraph::npz_keys(dir.write("empty.npz", zip({}))).empty());
}

TEST(Npz, ReadsMemberByKeyWithAndWithoutSuffix) {
    TempDir dir;
    const std::vector<float> values = {0.5F, -1.0F, 2.0F, 8.0F};
    const fs::path file =
        dir.write("a.npz", zip({{"x.npy", npy(dict("<f4", "(2, 2)"), to_bytes(values))},
                                {"y.npy", npy(dict("|u1", "(3,)"), {7, 8, 9})}}));
    for (const std::string key : {"x", "x.npy"}) {
        const NpyArray x = opgraph::read_npz(file, key);
        EXPECT_EQ(x.type, NpyType::f32) << key;
        EXPECT_EQ(x.shape, (std::vector<std::int64_t>{2, 2})) << key;
        EXPECT_EQ(opgraph::npy_to_floats(x), values) << key;
    }
    EXPECT_EQ(opgraph::read_npz(file, "y").bytes, (Bytes{7, 8, 9}));
}

TEST(Npz, ReadsDeflatedMember) {
    TempDir dir;
    std::vector<std::int32_t> values(5000);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int32_t>(i % 17);
    const Bytes member = npy(dict("<i4", "(50, 100)"), to_bytes(values));
    const Bytes archive = zip({{"big.npy", member, true}});
    ASSERT_LT(archive.size(), member.size() / 4);  // really compressed
    const NpyArray array = opgraph::read_npz(dir.write("deflated.npz", archive), "big");
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{50, 100}));
    EXPECT_EQ(from_bytes<std::int32_t>(array.bytes), values);
    // A big-endian member is swapped as a file is.
    const Bytes be = npy(dict(">i4", "(5000,)"), reverse_elements(to_bytes(values), 4));
    const NpyArray swapped =
        opgraph::read_npz(dir.write("be.npz", zip({{"be.npy", be, true}})), "be");
    EXPECT_EQ(from_bytes<std::int32_t>(swapped.bytes), values);
}

TEST(Npz, MissingKeyListsKeys) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(1,)"), {1});
    const fs::path file = dir.write("a.npz", zip({{"x_train.npy", x}, {"y_train.npy", x}}));
    expect_error([&] { opgraph::read_npz(file, "z"); }, file.string() + ": ",
                 {"no array 'z' (the archive holds the keys x_train, y_train)"});
    const fs::path empty = dir.write("empty.npz", zip({}));
    expect_error([&] { opgraph::read_npz(empty, "x"); }, empty.string() + ": ",
                 {"no array 'x' (the archive holds no arrays)"});
}

TEST(Npz, RefusesCrcMismatch) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(4,)"), {1, 2, 3, 4});
    for (bool deflate : {false, true}) {
        const fs::path file =
            dir.write(deflate ? "deflated.npz" : "stored.npz", zip({{"x.npy", x, deflate, 0x10}}));
        EXPECT_EQ(opgraph::npz_keys(file), (std::vector<std::string>{"x"}));
        expect_error([&] { opgraph::read_npz(file, "x"); },
                     file.string() + ": byte 55: ", {"member 'x.npy': CRC-32 mismatch"});
    }
    // Flip one data byte instead: the recorded CRC is right but the data is not.
    Bytes archive = zip({{"x.npy", x}});
    archive[55 + x.size() - 1] ^= 0xff;
    const fs::path file = dir.write("flipped.npz", archive);
    expect_error([&] { opgraph::read_npz(file, "x"); }, file.string() + ": ", {"CRC-32 mismatch"});
}

TEST(Npz, MemberErrorsNameArchiveAndKey) {
    TempDir dir;
    const fs::path file = dir.write(
        "a.npz", zip({{"x_train.npy", npy(dict("<f4", "(1000000000, 1000000000)"), {}), true},
                      {"y.npy", npy(dict("|u1", "(3,)"), {1, 2})}}));
    expect_error([&] { opgraph::read_npz(file, "x_train"); }, file.string() + "[x_train]: byte ",
                 {"exceeds the limit of 68719476736 bytes"});
    expect_error([&] { opgraph::read_npz(file, "y"); }, file.string() + "[y]: ",
                 {"truncated: header says 3 uint8 = 3 bytes, member has 2 after the header at "
                  "byte 128"});
}

TEST(Npz, RefusesSizesTheArchiveCannotHold) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(4,)"), {1, 2, 3, 4});
    const Bytes stored = zip({{"x.npy", x}});
    const std::size_t entry = first_entry(stored);

    Bytes lying = stored;  // a stored member claiming 1 GB
    patch32(lying, entry + 20, 1000000000);
    patch32(lying, entry + 24, 1000000000);
    const fs::path past = dir.write("past.npz", lying);
    expect_error([&] { opgraph::read_npz(past, "x"); }, past.string() + ": byte 0: ",
                 {"member 'x.npy': 1000000000 compressed bytes at byte 55 runs past the central "
                  "directory at byte 187"});

    const Bytes deflated = zip({{"x.npy", x, true}});
    Bytes inflating = deflated;  // a few compressed bytes claiming 4 GB
    patch32(inflating, first_entry(deflated) + 24, 4000000000U);
    const fs::path ratio = dir.write("ratio.npz", inflating);
    expect_error([&] { opgraph::read_npz(ratio, "x"); }, ratio.string() + ": byte ",
                 {"compressed bytes cannot inflate to the 4000000000 bytes"});

    NpyLimits limits;
    limits.max_bytes = 0;
    patch32(inflating, first_entry(deflated) + 24, 2000000);
    const fs::path limit = dir.write("limit.npz", inflating);
    expect_error([&] { opgraph::read_npz(limit, "x", limits); }, limit.string() + ": byte ",
                 {"2000000 bytes exceed the limit of 1048588"});
}

TEST(Npz, RefusesInflatedSizeMismatch) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(4,)"), {1, 2, 3, 4});
    const Bytes archive = zip({{"x.npy", x, true}});
    const std::size_t entry = first_entry(archive);
    Bytes longer = archive;
    patch32(longer, entry + 24, static_cast<std::uint32_t>(x.size() + 1));
    const fs::path file = dir.write("longer.npz", longer);
    expect_error([&] { opgraph::read_npz(file, "x"); },
                 file.string() + ": byte 55: ", {"inflates to 132 bytes (the directory says 133)"});
    Bytes shorter = archive;
    patch32(shorter, entry + 24, static_cast<std::uint32_t>(x.size() - 1));
    const fs::path cut = dir.write("shorter.npz", shorter);
    expect_error([&] { opgraph::read_npz(cut, "x"); },
                 cut.string() + ": byte 55: ", {"inflates to more bytes (the directory says 131)"});
    Bytes corrupt = archive;
    corrupt[55] = 0xff;  // block type 3 does not exist
    const fs::path bad = dir.write("corrupt.npz", corrupt);
    expect_error([&] { opgraph::read_npz(bad, "x"); },
                 bad.string() + ": byte 55: ", {"corrupt deflate data"});
}

TEST(Npz, RefusesUnsupportedArchives) {
    TempDir dir;
    const Bytes x = npy(dict("|u1", "(4,)"), {1, 2, 3, 4});
    const fs::path npy_file = dir.write("x.npz", x);
    expect_error([&] { opgraph::npz_keys(npy_file); }, npy_file.string() + ": ",
                 {"not a zip archive"});
    expect_error([&] { opgraph::read_npz(npy_file, "x"); }, npy_file.string() + ": ",
                 {"not a zip archive"});

    const Bytes archive = zip({{"x.npy", x}});
    const std::size_t entry = first_entry(archive);
    Bytes method = archive;
    method[entry + 10] = 12;  // bzip2
    const fs::path bzip2 = dir.write("bzip2.npz", method);
    expect_error([&] { opgraph::read_npz(bzip2, "x"); }, bzip2.string() + ": byte ",
                 {"compression method 12 is not supported"});

    Bytes zip64 = archive;
    patch32(zip64, entry + 20, 0xffffffff);
    const fs::path big = dir.write("zip64.npz", zip64);
    expect_error([&] { opgraph::npz_keys(big); }, big.string() + ": byte ",
                 {"zip64 members (over 4 GiB) are not supported"});

    Bytes cut = archive;
    cut.erase(cut.begin() + static_cast<std::ptrdiff_t>(entry + 10),
              cut.begin() + static_cast<std::ptrdiff_t>(entry + 30));
    const fs::path truncated = dir.write("cut.npz", cut);
    expect_error([&] { opgraph::npz_keys(truncated); }, truncated.string() + ": byte ",
                 {"the central directory"});
}

}  // namespace
