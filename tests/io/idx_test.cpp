// Tests for the IDX reader: valid raw and gzipped files, every malformed-header case, size
// mismatches, refusal of huge headers, and the images/labels pair check.
#include "opgraph/io/idx.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"

namespace {

namespace fs = std::filesystem;
using opgraph::DataError;
using opgraph::IdxArray;
using opgraph::IdxLimits;
using opgraph::IdxType;
using Bytes = std::vector<uint8_t>;

constexpr uint8_t type_u8 = 0x08;
constexpr uint8_t type_i16 = 0x0B;
constexpr uint8_t type_i32 = 0x0C;
constexpr uint8_t type_f32 = 0x0D;
constexpr uint8_t type_f64 = 0x0E;
constexpr uint8_t type_unknown = 0x07;
constexpr int num_classes = 10;
constexpr int64_t real_train_count = 60000;

// IDX header bytes: magic, type, rank, big-endian dims.
Bytes header(uint8_t type, std::initializer_list<uint32_t> dims) {
    Bytes bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
    for (uint32_t d : dims) {
        bytes.push_back(static_cast<uint8_t>(d >> 24));
        bytes.push_back(static_cast<uint8_t>(d >> 16));
        bytes.push_back(static_cast<uint8_t>(d >> 8));
        bytes.push_back(static_cast<uint8_t>(d));
    }
    return bytes;
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes iota_bytes(std::size_t n) {
    Bytes bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    return bytes;
}

// A fresh directory under the system temp dir, removed with everything in it at the end.
class IdxTest : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
        dir_ =
            fs::temp_directory_path() / ("opgraph_idx_test_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++) + "_" + std::to_string(ticks));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path write(const std::string& name, const Bytes& bytes) {
        fs::path file = dir_ / name;
        std::ofstream out(file, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        EXPECT_TRUE(out.good()) << file;
        return file;
    }

    fs::path write_gzip(const std::string& name, const Bytes& bytes) {
        fs::path file = dir_ / name;
        gzFile gz = gzopen(file.c_str(), "wb");
        EXPECT_NE(gz, nullptr) << file;
        if (gz == nullptr) return file;
        if (!bytes.empty()) {
            EXPECT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
                      static_cast<int>(bytes.size()));
        }
        EXPECT_EQ(gzclose(gz), Z_OK);
        return file;
    }

    // Expects read_idx(file) to throw a DataError whose message starts with the file path and
    // contains every one of `parts`.
    void expect_error(const fs::path& file, std::initializer_list<std::string> parts,
                      const IdxLimits& limits = {}) {
        try {
            opgraph::read_idx(file, limits);
            ADD_FAILURE() << "no DataError for " << file;
        } catch (const DataError& e) {
            const std::string message = e.what();
            EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0U) << message;
            for (const std::string& part : parts)
                EXPECT_NE(message.find(part), std::string::npos)
                    << "'" << part << "' not in " << message;
            EXPECT_EQ(e.exit_code(), opgraph::ExitCode::invalid_data);
        }
    }

    fs::path dir_;
};

TEST_F(IdxTest, ReadsRawU8Rank3) {
    const Bytes data = iota_bytes(2 * 3 * 4);
    const fs::path file = write("images.idx", concat(header(type_u8, {2, 3, 4}), data));
    const IdxArray array = opgraph::read_idx(file);
    EXPECT_EQ(array.type, IdxType::u8);
    EXPECT_EQ(array.dims, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(array.count(), 24);
    EXPECT_EQ(array.bytes, data);
}

TEST_F(IdxTest, ReadsGzipIdenticallyToRaw) {
    const Bytes content = concat(header(type_u8, {5, 7, 3}), iota_bytes(5 * 7 * 3));
    const IdxArray raw = opgraph::read_idx(write("plain.idx", content));
    // Named without .gz: detection goes by the magic bytes, not the name.
    const IdxArray gz = opgraph::read_idx(write_gzip("compressed.idx", content));
    EXPECT_EQ(gz.type, raw.type);
    EXPECT_EQ(gz.dims, raw.dims);
    EXPECT_EQ(gz.bytes, raw.bytes);
}

TEST_F(IdxTest, ConvertsMultiByteElementsToHostOrder) {
    const Bytes i32_data = {0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfe};
    const IdxArray ints =
        opgraph::read_idx(write("i32.idx", concat(header(type_i32, {2}), i32_data)));
    ASSERT_EQ(ints.bytes.size(), 8U);
    int32_t values[2];
    std::memcpy(values, ints.bytes.data(), sizeof values);
    EXPECT_EQ(values[0], 0x01020304);
    EXPECT_EQ(values[1], -2);

    const Bytes i16_data = {0x12, 0x34};
    const IdxArray shorts =
        opgraph::read_idx(write("i16.idx", concat(header(type_i16, {1}), i16_data)));
    int16_t short_value = 0;
    std::memcpy(&short_value, shorts.bytes.data(), sizeof short_value);
    EXPECT_EQ(short_value, 0x1234);

    const Bytes f32_data = {0x3f, 0xc0, 0x00, 0x00};  // 1.5f
    const IdxArray floats =
        opgraph::read_idx(write("f32.idx", concat(header(type_f32, {1}), f32_data)));
    float float_value = 0;
    std::memcpy(&float_value, floats.bytes.data(), sizeof float_value);
    EXPECT_EQ(float_value, 1.5F);

    const Bytes f64_data = {0xc0, 0x04, 0, 0, 0, 0, 0, 0};  // -2.5
    const IdxArray doubles =
        opgraph::read_idx(write("f64.idx", concat(header(type_f64, {1}), f64_data)));
    double double_value = 0;
    std::memcpy(&double_value, doubles.bytes.data(), sizeof double_value);
    EXPECT_EQ(double_value, -2.5);
}

TEST_F(IdxTest, RejectsWrongMagic) {
    Bytes content = concat(header(type_u8, {4}), iota_bytes(4));
    content[0] = 0x50;
    content[1] = 0x4b;
    expect_error(write("zip.idx", content), {"byte 0", "not an IDX file", "magic 0x504b"});
}

TEST_F(IdxTest, RejectsUnknownType) {
    expect_error(write("type.idx", concat(header(type_unknown, {4}), iota_bytes(4))),
                 {"byte 2", "unknown IDX data type 0x07"});
}

TEST_F(IdxTest, RejectsRankZero) {
    expect_error(write("rank0.idx", header(type_u8, {})), {"byte 3", "rank 0"});
}

TEST_F(IdxTest, RejectsRankAboveLimit) {
    const Bytes content = concat(header(type_u8, {1, 1, 1, 1, 1}), iota_bytes(1));
    expect_error(write("rank5.idx", content), {"byte 3", "rank 5 exceeds the limit of 4"});
    IdxLimits limits;
    limits.max_rank = 5;
    EXPECT_EQ(opgraph::read_idx(dir_ / "rank5.idx", limits).dims.size(), 5U);
}

TEST_F(IdxTest, RejectsZeroDimension) {
    expect_error(write("zero.idx", header(type_u8, {3, 0, 2})), {"byte 8", "dimension 1 is 0"});
}

TEST_F(IdxTest, RejectsTruncatedHeader) {
    expect_error(write("short2.idx", {0, 0}), {"byte 2", "truncated inside the IDX header"});
    Bytes content = header(type_u8, {10, 28, 28});
    content.resize(9);  // cut inside the second dimension
    expect_error(write("short9.idx", content), {"byte 9", "truncated inside the IDX header"});
    content.resize(9);
    expect_error(write_gzip("short9.gz", content),
                 {"byte 9 of the decompressed stream", "truncated inside the IDX header"});
}

TEST_F(IdxTest, RejectsTruncatedData) {
    const Bytes content = concat(header(type_u8, {10, 4}), iota_bytes(30));
    expect_error(write("cut.idx", content),
                 {"byte 12", "header says 40 data bytes", "but the file holds 30"});
    expect_error(write_gzip("cut.idx.gz", content),
                 {"byte 42 of the decompressed stream", "header says 40 data bytes", "holds 30"});
}

TEST_F(IdxTest, RejectsTruncatedGzipStream) {
    const Bytes content = concat(header(type_u8, {64, 64}), iota_bytes(64 * 64));
    const fs::path full = write_gzip("full.gz", content);
    std::ifstream in(full, std::ios::binary);
    Bytes compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    compressed.resize(compressed.size() / 2);
    expect_error(write("half.gz", compressed), {"header says 4096 data bytes"});
}

TEST_F(IdxTest, RejectsTrailingData) {
    const Bytes content = concat(header(type_u8, {10}), iota_bytes(11));
    expect_error(write("long.idx", content),
                 {"byte 8", "header says 10 data bytes", "but the file holds 11"});
    expect_error(write_gzip("long.idx.gz", content),
                 {"byte 18 of the decompressed stream", "trailing data"});
}

TEST_F(IdxTest, RefusesHugeHeaderWithoutAllocating) {
    // 4 billion u8 items claimed by a 20-byte file: refused by the default 2 GiB limit...
    const Bytes content = concat(header(type_u8, {4000000000U}), iota_bytes(12));
    ASSERT_EQ(content.size(), 20U);
    const fs::path file = write("huge.idx", content);
    expect_error(file, {"byte 4", "exceed the limit of 2147483648 data bytes"});
    // ...and, with the limit lifted, by the file size, before any allocation.
    IdxLimits limits;
    limits.max_bytes = int64_t{1} << 40;
    expect_error(file, {"byte 8", "header says 4000000000 data bytes", "the file holds 12"},
                 limits);
    // A gzip file cannot make the reader reserve the claimed size either.
    expect_error(write_gzip("huge.gz", content),
                 {"header says 4000000000 data bytes", "decompressed stream holds 12"}, limits);
}

TEST_F(IdxTest, RefusesOverflowingDimensions) {
    IdxLimits limits;
    limits.max_bytes = std::numeric_limits<int64_t>::max();
    const Bytes content = header(type_f64, {0xffffffffU, 0xffffffffU, 0xffffffffU});
    expect_error(write("overflow.idx", content), {"byte 4", "exceed the limit"}, limits);
}

TEST_F(IdxTest, RejectsEmptyFile) {
    expect_error(write("empty.idx", {}), {"file is empty"});
    expect_error(write_gzip("empty.gz", {}), {"decompressed stream is empty"});
}

TEST_F(IdxTest, RejectsMissingFileAndDirectory) {
    expect_error(dir_ / "missing.idx", {"cannot open"});
    expect_error(dir_, {"is a directory"});
}

TEST_F(IdxTest, CheckPairAcceptsMatchingSet) {
    const fs::path images_file = write("img", concat(header(type_u8, {3, 2, 2}), iota_bytes(12)));
    const fs::path labels_file = write("lbl", concat(header(type_u8, {3}), Bytes{0, 9, 4}));
    const IdxArray images = opgraph::read_idx(images_file);
    const IdxArray labels = opgraph::read_idx(labels_file);
    EXPECT_NO_THROW(opgraph::check_idx_pair(images, labels, images_file, labels_file, num_classes));
}

TEST_F(IdxTest, CheckPairRejectsCountMismatch) {
    const fs::path images_file = write("img", concat(header(type_u8, {3, 2, 2}), iota_bytes(12)));
    const fs::path labels_file = write("lbl", concat(header(type_u8, {2}), Bytes{1, 2}));
    const IdxArray images = opgraph::read_idx(images_file);
    const IdxArray labels = opgraph::read_idx(labels_file);
    try {
        opgraph::check_idx_pair(images, labels, images_file, labels_file, num_classes);
        ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(images_file.string()), std::string::npos) << message;
        EXPECT_NE(message.find(labels_file.string()), std::string::npos) << message;
        EXPECT_NE(message.find("3 images"), std::string::npos) << message;
        EXPECT_NE(message.find("2 labels"), std::string::npos) << message;
    }
}

TEST_F(IdxTest, CheckPairRejectsLabelOutOfRange) {
    const fs::path images_file = write("img", concat(header(type_u8, {4, 1, 1}), iota_bytes(4)));
    const fs::path labels_file = write("lbl", concat(header(type_u8, {4}), Bytes{1, 2, 10, 12}));
    const IdxArray images = opgraph::read_idx(images_file);
    const IdxArray labels = opgraph::read_idx(labels_file);
    try {
        opgraph::check_idx_pair(images, labels, images_file, labels_file, num_classes);
        ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(labels_file.string() + ": byte 10: ", 0), 0U) << message;
        EXPECT_NE(message.find("label 10 at index 2"), std::string::npos) << message;
        EXPECT_NE(message.find("10 classes"), std::string::npos) << message;
        EXPECT_NE(message.find(images_file.string()), std::string::npos) << message;
    }
}

TEST_F(IdxTest, CheckPairRejectsWrongRankOrType) {
    const fs::path images_file = write("img", concat(header(type_u8, {4, 1}), iota_bytes(4)));
    const fs::path labels_file = write("lbl", concat(header(type_u8, {4}), Bytes{1, 2, 3, 4}));
    const IdxArray images = opgraph::read_idx(images_file);
    const IdxArray labels = opgraph::read_idx(labels_file);
    EXPECT_THROW(opgraph::check_idx_pair(images, labels, images_file, labels_file, num_classes),
                 DataError);
    EXPECT_THROW(opgraph::check_idx_pair(images, labels, images_file, labels_file, 0),
                 std::invalid_argument);
}

// The data directory: $OPGRAPH_DATA_DIR, else <repo root>/data (OPGRAPH_SOURCE_DIR when the
// build defines it, otherwise derived from this file's path).
fs::path data_dir() {
    if (const char* env = std::getenv("OPGRAPH_DATA_DIR"); env != nullptr && *env != '\0')
        return env;
#ifdef OPGRAPH_SOURCE_DIR
    return fs::path(OPGRAPH_SOURCE_DIR) / "data";
#else
    return fs::path(__FILE__).parent_path().parent_path() / "data";
#endif
}

TEST(IdxRealData, ReadsMnistTrainLabels) {
    const fs::path file = data_dir() / "mnist" / "train-labels-idx1-ubyte";
    if (!fs::exists(file)) GTEST_SKIP() << file << " not present (run scripts/fetch_data.sh)";
    const IdxArray labels = opgraph::read_idx(file);
    EXPECT_EQ(labels.type, IdxType::u8);
    EXPECT_EQ(labels.dims, (std::vector<int64_t>{real_train_count}));
    for (uint8_t label : labels.bytes) ASSERT_LT(label, num_classes);
}

}  // namespace
