// IDX reader: header validation, raw and gzip sources, byte-order conversion.
#include "opgraph/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "opgraph/core/error.hpp"

namespace opgraph {
namespace {

constexpr std::size_t magic_and_type_bytes = 4;  // two zero bytes, type byte, rank byte
constexpr std::size_t dim_bytes = 4;             // each dimension is a big-endian uint32
constexpr int max_rank_byte = 255;               // the rank is stored in one byte
constexpr unsigned char gzip_magic0 = 0x1f;
constexpr unsigned char gzip_magic1 = 0x8b;
// deflate cannot expand data by more than ~1032:1, so a gzip file of n bytes cannot hold more
// than this many times n decompressed bytes; used to bound the up-front reservation.
constexpr int64_t max_deflate_ratio = 1032;
constexpr std::size_t read_chunk_bytes = std::size_t{1} << 20;
constexpr unsigned gzip_buffer_bytes = 1U << 17;

std::string hex_byte(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", value & 0xffU);
    return text;
}

// Builds "file: byte N: what" (or "file: what" when offset < 0). For gzip files the offset is
// in the decompressed stream and says so.
class ErrorContext {
public:
    explicit ErrorContext(const std::filesystem::path& file) : file_(file.string()) {}

    void set_gzip(bool gzip) { gzip_ = gzip; }
    bool gzip() const { return gzip_; }

    [[noreturn]] void fail(const std::string& what) const { throw DataError(file_ + ": " + what); }

    [[noreturn]] void fail_at(uint64_t offset, const std::string& what) const {
        std::string where = "byte " + std::to_string(offset);
        if (gzip_) where += " of the decompressed stream";
        throw DataError(file_ + ": " + where + ": " + what);
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
    bool gzip_ = false;
};

// A sequential byte source: read() returns how many bytes it delivered (fewer than asked only at
// the end of the data) and throws DataError on an I/O or decompression error.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual std::size_t read(uint8_t* dst, std::size_t size) = 0;
    // Why the data stopped early, e.g. zlib's "unexpected end of file" ("" when unknown).
    virtual std::string end_reason() { return ""; }
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class RawSource : public ByteSource {
public:
    RawSource(FilePtr file, const ErrorContext& context)
        : file_(std::move(file)), context_(context) {}

    std::size_t read(uint8_t* dst, std::size_t size) override {
        std::size_t got = std::fread(dst, 1, size, file_.get());
        if (got < size && std::ferror(file_.get()))
            context_.fail(std::string("read error: ") + std::strerror(errno));
        return got;
    }

private:
    FilePtr file_;
    const ErrorContext& context_;
};

class GzipSource : public ByteSource {
public:
    GzipSource(const std::filesystem::path& file, const ErrorContext& context) : context_(context) {
        gz_ = gzopen(file.c_str(), "rb");
        if (gz_ == nullptr) context_.fail(std::string("cannot open: ") + std::strerror(errno));
        gzbuffer(gz_, gzip_buffer_bytes);
    }
    GzipSource(const GzipSource&) = delete;
    GzipSource& operator=(const GzipSource&) = delete;
    ~GzipSource() override { gzclose(gz_); }

    std::size_t read(uint8_t* dst, std::size_t size) override {
        std::size_t total = 0;
        while (total < size) {
            unsigned want = static_cast<unsigned>(std::min(size - total, read_chunk_bytes));
            int got = gzread(gz_, dst + total, want);
            if (got < 0) fail_zlib();
            if (got == 0) break;
            total += static_cast<std::size_t>(got);
        }
        return total;
    }

    std::string end_reason() override {
        int code = Z_OK;
        const char* message = gzerror(gz_, &code);
        if (code == Z_OK || message == nullptr) return "";
        return strip_path(message);
    }

private:
    [[noreturn]] void fail_zlib() {
        int code = Z_OK;
        const char* message = gzerror(gz_, &code);
        context_.fail("gzip decompression failed: " +
                      (message != nullptr ? strip_path(message) : "unknown zlib error"));
    }

    // zlib prefixes its messages with the path, which our messages already start with.
    std::string strip_path(const std::string& message) const {
        const std::string prefix = context_.file() + ": ";
        return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
    }

    gzFile gz_ = nullptr;
    const ErrorContext& context_;
};

// " (reason)" when the source knows why it ended, else "".
std::string with_reason(ByteSource& source) {
    std::string reason = source.end_reason();
    return reason.empty() ? "" : " (" + reason + ")";
}

uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

bool known_type(uint8_t value) {
    switch (static_cast<IdxType>(value)) {
        case IdxType::u8:
        case IdxType::i8:
        case IdxType::i16:
        case IdxType::i32:
        case IdxType::f32:
        case IdxType::f64:
            return true;
    }
    return false;
}

// Reverses the bytes of every element of size `element_size` in place (big-endian to host on a
// little-endian machine).
void swap_elements(std::vector<uint8_t>& bytes, std::size_t element_size) {
    if (element_size == 1 || std::endian::native == std::endian::big) return;
    for (std::size_t i = 0; i + element_size <= bytes.size(); i += element_size)
        std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + element_size));
}

std::string dims_text(const std::vector<int64_t>& dims) {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) text += " x ";
        text += std::to_string(dims[i]);
    }
    return text;
}

struct Header {
    IdxType type = IdxType::u8;
    std::vector<int64_t> dims;
    std::size_t header_bytes = 0;
    int64_t data_bytes = 0;
};

// Reads and validates the header; allocates nothing proportional to the announced data size.
Header read_header(ByteSource& source, const IdxLimits& limits, const ErrorContext& context) {
    uint8_t prefix[magic_and_type_bytes] = {};
    std::size_t got = source.read(prefix, sizeof prefix);
    if (got == 0) {
        context.fail(context.gzip() ? "decompressed stream is empty (expected an IDX header)" +
                                          with_reason(source)
                                    : std::string("file is empty (expected an IDX header)"));
    }
    if (got >= 2 && (prefix[0] != 0 || prefix[1] != 0)) {
        context.fail_at(0, "not an IDX file (magic " + hex_byte(prefix[0]) +
                               hex_byte(prefix[1]).substr(2) + ", expected 0x0000)");
    }
    if (got < sizeof prefix) {
        context.fail_at(got, "truncated inside the IDX header (the data ends after " +
                                 std::to_string(got) + " of at least " +
                                 std::to_string(sizeof prefix) + " header bytes)" +
                                 with_reason(source));
    }
    if (!known_type(prefix[2])) {
        context.fail_at(2, "unknown IDX data type " + hex_byte(prefix[2]) +
                               " (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32 or "
                               "0x0e f64)");
    }
    Header header;
    header.type = static_cast<IdxType>(prefix[2]);
    const int rank = prefix[3];
    const int max_rank = std::min(limits.max_rank, max_rank_byte);
    if (rank == 0) context.fail_at(3, "rank 0 is invalid (an IDX array has at least 1 dimension)");
    if (rank > max_rank) {
        context.fail_at(3, "rank " + std::to_string(rank) + " exceeds the limit of " +
                               std::to_string(limits.max_rank));
    }

    uint8_t dim_buffer[max_rank_byte * dim_bytes];
    const std::size_t want = static_cast<std::size_t>(rank) * dim_bytes;
    got = source.read(dim_buffer, want);
    header.header_bytes = magic_and_type_bytes + want;
    if (got < want) {
        context.fail_at(magic_and_type_bytes + got,
                        "truncated inside the IDX header (rank " + std::to_string(rank) +
                            " needs " + std::to_string(header.header_bytes) +
                            " header bytes, the data ends after " +
                            std::to_string(magic_and_type_bytes + got) + ")" + with_reason(source));
    }

    const int64_t element_size = static_cast<int64_t>(idx_element_size(header.type));
    const int64_t max_bytes = std::max<int64_t>(limits.max_bytes, 0);
    int64_t data_bytes = element_size;
    bool too_large = false;
    for (int i = 0; i < rank; ++i) {
        const uint32_t dim = load_be32(dim_buffer + static_cast<std::size_t>(i) * dim_bytes);
        const std::size_t offset = magic_and_type_bytes + static_cast<std::size_t>(i) * dim_bytes;
        if (dim == 0) context.fail_at(offset, "dimension " + std::to_string(i) + " is 0");
        header.dims.push_back(dim);
        // Compare before multiplying so the product can never overflow.
        if (!too_large && data_bytes > max_bytes / static_cast<int64_t>(dim)) too_large = true;
        if (!too_large) data_bytes *= static_cast<int64_t>(dim);
    }
    if (too_large) {
        context.fail_at(magic_and_type_bytes, "dimensions " + dims_text(header.dims) + " of " +
                                                  idx_type_name(header.type) +
                                                  " exceed the limit of " +
                                                  std::to_string(max_bytes) + " data bytes");
    }
    header.data_bytes = data_bytes;
    return header;
}

std::string size_claim(const Header& header) {
    return "header says " + std::to_string(header.data_bytes) + " data bytes (" +
           dims_text(header.dims) + " " + idx_type_name(header.type) + ")";
}

// Reads the data section of a raw file after checking its size against the file size.
std::vector<uint8_t> read_raw_data(ByteSource& source, const Header& header, uint64_t file_size,
                                   const ErrorContext& context) {
    const uint64_t available =
        file_size > header.header_bytes ? file_size - header.header_bytes : 0;
    if (available != static_cast<uint64_t>(header.data_bytes)) {
        context.fail_at(header.header_bytes,
                        size_claim(header) + " but the file holds " + std::to_string(available));
    }
    std::vector<uint8_t> bytes(static_cast<std::size_t>(header.data_bytes));
    std::size_t got = source.read(bytes.data(), bytes.size());
    if (got != bytes.size()) {
        // The file shrank between stat and read.
        context.fail_at(header.header_bytes + got,
                        size_claim(header) + " but reading stopped after " + std::to_string(got));
    }
    uint8_t extra = 0;
    if (source.read(&extra, 1) != 0)
        context.fail_at(header.header_bytes + got, "trailing data after the IDX data");
    return bytes;
}

// Reads the data section of a gzip stream in bounded chunks, reserving no more than the
// compressed file could decompress to.
std::vector<uint8_t> read_gzip_data(GzipSource& source, const Header& header,
                                    uint64_t compressed_size, const ErrorContext& context) {
    const uint64_t wanted = static_cast<uint64_t>(header.data_bytes);
    const uint64_t plausible =
        compressed_size >
                static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / max_deflate_ratio
            ? wanted
            : compressed_size * static_cast<uint64_t>(max_deflate_ratio);
    std::vector<uint8_t> bytes;
    bytes.reserve(static_cast<std::size_t>(std::min(wanted, plausible)));
    std::size_t total = 0;
    while (total < wanted) {
        const std::size_t chunk =
            static_cast<std::size_t>(std::min<uint64_t>(wanted - total, read_chunk_bytes));
        bytes.resize(total + chunk);
        const std::size_t got = source.read(bytes.data() + total, chunk);
        total += got;
        if (got < chunk) {
            context.fail_at(header.header_bytes + total,
                            size_claim(header) + " but the decompressed stream holds " +
                                std::to_string(total) + with_reason(source));
        }
    }
    uint8_t extra = 0;
    if (source.read(&extra, 1) != 0) {
        context.fail_at(header.header_bytes + total, size_claim(header) +
                                                         " but the decompressed stream holds more "
                                                         "(trailing data after the IDX data)");
    }
    return bytes;
}

}  // namespace

std::size_t idx_element_size(IdxType type) {
    switch (type) {
        case IdxType::u8:
        case IdxType::i8:
            return 1;
        case IdxType::i16:
            return 2;
        case IdxType::i32:
        case IdxType::f32:
            return 4;
        case IdxType::f64:
            return 8;
    }
    throw std::invalid_argument("idx_element_size: unknown IdxType " +
                                hex_byte(static_cast<unsigned>(type)));
}

std::string idx_type_name(IdxType type) {
    switch (type) {
        case IdxType::u8:
            return "u8";
        case IdxType::i8:
            return "i8";
        case IdxType::i16:
            return "i16";
        case IdxType::i32:
            return "i32";
        case IdxType::f32:
            return "f32";
        case IdxType::f64:
            return "f64";
    }
    return hex_byte(static_cast<unsigned>(type));
}

int64_t IdxArray::count() const {
    if (dims.empty()) return 0;
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

IdxArray read_idx(const std::filesystem::path& file, const IdxLimits& limits) {
    ErrorContext context(file);
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) context.fail("is a directory, not an IDX file");
    FilePtr raw(std::fopen(file.c_str(), "rb"));
    if (!raw) context.fail(std::string("cannot open: ") + std::strerror(errno));
    const uint64_t file_size = std::filesystem::file_size(file, ec);
    if (ec) context.fail("cannot determine the file size: " + ec.message());

    uint8_t magic[2] = {};
    const std::size_t magic_got = std::fread(magic, 1, sizeof magic, raw.get());
    const bool gzip = magic_got == 2 && magic[0] == gzip_magic0 && magic[1] == gzip_magic1;

    IdxArray array;
    Header header;
    if (gzip) {
        raw.reset();
        context.set_gzip(true);
        GzipSource source(file, context);
        header = read_header(source, limits, context);
        array.bytes = read_gzip_data(source, header, file_size, context);
    } else {
        std::rewind(raw.get());
        RawSource source(std::move(raw), context);
        header = read_header(source, limits, context);
        array.bytes = read_raw_data(source, header, file_size, context);
    }
    array.type = header.type;
    array.dims = std::move(header.dims);
    swap_elements(array.bytes, idx_element_size(array.type));
    return array;
}

namespace {

template <class T>
void append_as_floats(const IdxArray& array, std::vector<float>& out) {
    const auto n = static_cast<std::size_t>(array.count());
    for (std::size_t i = 0; i < n; ++i) {
        T value;
        std::memcpy(&value, array.bytes.data() + i * sizeof(T), sizeof(T));
        out.push_back(static_cast<float>(value));
    }
}

}  // namespace

std::vector<float> idx_to_floats(const IdxArray& array) {
    std::vector<float> out;
    out.reserve(static_cast<std::size_t>(array.count()));
    switch (array.type) {
        case IdxType::u8:
            append_as_floats<std::uint8_t>(array, out);
            break;
        case IdxType::i8:
            append_as_floats<std::int8_t>(array, out);
            break;
        case IdxType::i16:
            append_as_floats<std::int16_t>(array, out);
            break;
        case IdxType::i32:
            append_as_floats<std::int32_t>(array, out);
            break;
        case IdxType::f32:
            append_as_floats<float>(array, out);
            break;
        case IdxType::f64:
            append_as_floats<double>(array, out);
            break;
    }
    return out;
}

void check_idx_pair(const IdxArray& images, const IdxArray& labels,
                    const std::filesystem::path& images_file,
                    const std::filesystem::path& labels_file, int num_classes) {
    if (num_classes < 1) {
        throw std::invalid_argument("check_idx_pair: num_classes must be >= 1, got " +
                                    std::to_string(num_classes));
    }
    const std::string pair =
        " (images " + images_file.string() + ", labels " + labels_file.string() + ")";
    if (images.type != IdxType::u8 || images.dims.size() != 3) {
        throw DataError(images_file.string() + ": images must be rank 3 u8 (count x rows x " +
                        "cols), got rank " + std::to_string(images.dims.size()) + " " +
                        idx_type_name(images.type) + pair);
    }
    if (labels.type != IdxType::u8 || labels.dims.size() != 1) {
        throw DataError(labels_file.string() + ": labels must be rank 1 u8, got rank " +
                        std::to_string(labels.dims.size()) + " " + idx_type_name(labels.type) +
                        pair);
    }
    if (images.dims[0] != labels.dims[0]) {
        throw DataError(images_file.string() + ": holds " + std::to_string(images.dims[0]) +
                        " images but " + labels_file.string() + " holds " +
                        std::to_string(labels.dims[0]) + " labels");
    }
    const std::size_t label_data_offset = magic_and_type_bytes + dim_bytes;
    for (std::size_t i = 0; i < labels.bytes.size(); ++i) {
        if (labels.bytes[i] >= num_classes) {
            throw DataError(
                labels_file.string() + ": byte " + std::to_string(label_data_offset + i) +
                ": label " + std::to_string(labels.bytes[i]) + " at index " + std::to_string(i) +
                " is out of range for " + std::to_string(num_classes) + " classes" + pair);
        }
    }
}

}  // namespace opgraph
