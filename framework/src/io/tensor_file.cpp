#include "opgraph/io/tensor_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "opgraph/core/error.hpp"

namespace opgraph {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; big-endian hosts need byte swapping");

namespace {

constexpr std::size_t kLengthBytes = 8;
constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& message) {
    throw CheckpointError(file.string() + ": " + message);
}

std::string errno_text() { return std::strerror(errno); }

// Checksums: "crc32:<tensor>" holds the CRC-32 of a tensor's bytes, "crc32:__metadata__" that
// of the other metadata entries (key, '=', value, '\n', in key order), as 8 hex digits.
constexpr const char* kCrcPrefix = "crc32:";

std::string crc_hex(const void* data, std::size_t bytes, uLong crc = crc32(0L, Z_NULL, 0)) {
    const auto* p = static_cast<const Bytef*>(data);
    while (bytes > 0) {  // crc32 takes a uInt length
        const uInt chunk = static_cast<uInt>(std::min<std::size_t>(bytes, 1u << 30));
        crc = crc32(crc, p, chunk);
        p += chunk;
        bytes -= chunk;
    }
    char text[9];
    std::snprintf(text, sizeof text, "%08lx", static_cast<unsigned long>(crc));
    return text;
}

std::string metadata_crc(const std::map<std::string, std::string>& metadata) {
    std::string text;
    for (const auto& [key, value] : metadata)
        if (key.rfind(kCrcPrefix, 0) != 0) text += key + "=" + value + "\n";
    return crc_hex(text.data(), text.size());
}

// Writes all of `data` to fd or fails naming the file.
void write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& file) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(file, "cannot write: " + errno_text());
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void fsync_directory(const std::filesystem::path& dir, const std::filesystem::path& file) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) fail(file, "cannot open its directory to sync it: " + errno_text());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) fail(file, "cannot sync its directory: " + errno_text());
}

}  // namespace

const NamedTensor* TensorFile::find(const std::string& name) const {
    for (const NamedTensor& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

void write_tensor_file(const std::filesystem::path& file, const TensorFile& content) {
    std::map<std::string, std::string> metadata = content.metadata;
    for (const NamedTensor& t : content.tensors)
        metadata[kCrcPrefix + t.name] = crc_hex(t.data.data(), t.data.size() * sizeof(float));
    metadata[std::string(kCrcPrefix) + kMetadataKey] = metadata_crc(content.metadata);
    nlohmann::ordered_json header;
    header[kMetadataKey] = metadata;
    std::uint64_t offset = 0;
    for (const NamedTensor& t : content.tensors) {
        std::int64_t count = 1;
        for (std::int64_t d : t.shape) count *= d;
        if (count != static_cast<std::int64_t>(t.data.size()))
            fail(file, "tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                           " values for shape " + shape_str(t.shape));
        const std::uint64_t bytes = t.data.size() * sizeof(float);
        header[t.name] = {
            {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');  // alignment
    const std::uint64_t length = text.size();

    const std::filesystem::path dir = file.parent_path();
    const std::string prefix = "." + file.filename().string() + ".tmp";
    // A write killed before its rename left its temporary file: never complete, never read.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec))
        if (entry.path().filename().string().rfind(prefix, 0) == 0)
            std::filesystem::remove(entry.path(), ec);
    std::string temp = (dir / (prefix + "XXXXXX")).string();
    int fd = ::mkstemp(temp.data());
    if (fd < 0) fail(file, "cannot create a temporary file beside it: " + errno_text());
    try {
        char prefix[kLengthBytes];
        std::memcpy(prefix, &length, kLengthBytes);
        write_all(fd, prefix, kLengthBytes, file);
        write_all(fd, text.data(), text.size(), file);
        for (const NamedTensor& t : content.tensors)
            write_all(fd, reinterpret_cast<const char*>(t.data.data()),
                      t.data.size() * sizeof(float), file);
        if (::fsync(fd) != 0) fail(file, "cannot sync: " + errno_text());
        const int closed = ::close(fd);
        fd = -1;  // closed even when close() fails: never closed twice
        if (closed != 0) fail(file, "cannot close: " + errno_text());
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        const std::string why = errno_text();
        ::unlink(temp.c_str());
        fail(file, "cannot move the new file into place: " + why);
    }
    fsync_directory(dir, file);
}

namespace {

// Checks the CRC-32 of every tensor and of the metadata where the file carries one (files
// from other tools may not); removes the checksum entries from the metadata.
void verify_checksums(const std::filesystem::path& file, TensorFile& content) {
    std::map<std::string, std::string> checksums;
    for (auto it = content.metadata.begin(); it != content.metadata.end();)
        if (it->first.rfind(kCrcPrefix, 0) == 0) {
            checksums[it->first.substr(std::strlen(kCrcPrefix))] = it->second;
            it = content.metadata.erase(it);
        } else {
            ++it;
        }
    if (checksums.empty()) return;
    auto meta = checksums.find(kMetadataKey);
    if (meta != checksums.end() && meta->second != metadata_crc(content.metadata))
        fail(file, "metadata is corrupt (CRC-32 " + metadata_crc(content.metadata) +
                       ", header says " + meta->second + ")");
    for (const NamedTensor& t : content.tensors) {
        auto crc = checksums.find(t.name);
        if (crc == checksums.end()) fail(file, "tensor '" + t.name + "' has no checksum");
        const std::string actual = crc_hex(t.data.data(), t.data.size() * sizeof(float));
        if (actual != crc->second)
            fail(file, "tensor '" + t.name + "' is corrupt (CRC-32 " + actual + ", header says " +
                           crc->second + ")");
    }
}

}  // namespace

void require_tensors(const TensorFile& content,
                     const std::vector<std::pair<std::string, Shape>>& expected,
                     const std::string& file_name, const std::string& what) {
    std::vector<std::string> problems;
    std::set<std::string> names;
    for (const auto& [name, shape] : expected) {
        names.insert(name);
        const NamedTensor* t = content.find(name);
        if (t == nullptr)
            problems.push_back("'" + name + "' " + shape_str(shape) + " is missing");
        else if (t->shape != shape)
            problems.push_back("'" + name + "' is " + shape_str(t->shape) + " in the file but " +
                               shape_str(shape) + " in the graph");
    }
    for (const NamedTensor& t : content.tensors)
        if (!names.count(t.name))
            problems.push_back("'" + t.name + "' " + shape_str(t.shape) + " is not in the graph");
    if (problems.empty()) return;
    std::string message = file_name + ": " + what + " do not match the graph:";
    for (const std::string& p : problems) message += "\n  " + p;
    throw CheckpointError(message);
}

TensorFile read_tensor_file(const std::filesystem::path& file, const TensorFileLimits& limits) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) fail(file, "cannot read: " + ec.message());
    if (size < kLengthBytes) fail(file, "byte 0: too short for a safetensors header");
    if (size > limits.max_file_bytes)
        fail(file, "larger than the limit of " + std::to_string(limits.max_file_bytes) + " bytes");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(file, "cannot open");
    std::uint64_t length = 0;
    in.read(reinterpret_cast<char*>(&length), kLengthBytes);
    if (length > limits.max_header_bytes || length > size - kLengthBytes)
        fail(file, "byte 0: header length " + std::to_string(length) + " exceeds the file (" +
                       std::to_string(size) + " bytes) or the limit");
    std::string text(length, '\0');
    in.read(text.data(), static_cast<std::streamsize>(length));
    if (!in) fail(file, "byte 8: truncated header");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        fail(file,
             "byte " + std::to_string(kLengthBytes + e.byte) + ": header is not JSON: " + e.what());
    } catch (const nlohmann::json::exception& e) {  // a number out of range, such as 1e999
        fail(file, "byte 8: header is not valid JSON: " + std::string(e.what()));
    }
    if (!header.is_object()) fail(file, "byte 8: header is not a JSON object");
    const std::uint64_t data_start = kLengthBytes + length;
    const std::uint64_t data_size = size - data_start;
    TensorFile out;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    std::uint64_t claimed = 0;  // data bytes of the tensors read so far
    try {
        for (const auto& [key, value] : header.items()) {
            if (key == kMetadataKey) {
                for (const auto& [mk, mv] : value.items()) out.metadata[mk] = mv.get<std::string>();
                continue;
            }
            if (value.at("dtype").get<std::string>() != "F32")
                fail(file, "tensor '" + key + "': dtype " + value.at("dtype").dump() +
                               ", only F32 is supported");
            NamedTensor t;
            t.name = key;
            std::uint64_t count = 1;
            // Sizes must be JSON integers: converting a float such as 1e300 to an integer is
            // undefined behaviour.
            for (const auto& d : value.at("shape")) {
                constexpr auto kMaxDim = std::uint64_t{std::numeric_limits<std::int64_t>::max()};
                if (!d.is_number_unsigned() || d.get<std::uint64_t>() > kMaxDim)
                    fail(file,
                         "tensor '" + key + "': shape is not a list of non-negative integers");
                const std::int64_t dim = d.get<std::int64_t>();
                if (dim > 0 && count > data_size / static_cast<std::uint64_t>(dim))
                    fail(file, "tensor '" + key + "': shape " + value.at("shape").dump() +
                                   " is larger than the file");
                count *= static_cast<std::uint64_t>(dim);
                t.shape.push_back(dim);
            }
            const auto& offsets = value.at("data_offsets");
            if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
                !offsets[1].is_number_unsigned())
                fail(file,
                     "tensor '" + key + "': data_offsets is not a pair of non-negative integers");
            const std::uint64_t begin = offsets[0].get<std::uint64_t>();
            const std::uint64_t end = offsets[1].get<std::uint64_t>();
            if (begin > end || end > data_size || end - begin != count * sizeof(float))
                fail(file, "tensor '" + key + "': data_offsets [" + std::to_string(begin) + ", " +
                               std::to_string(end) + "] do not fit its shape " +
                               shape_str(t.shape) + " within the " + std::to_string(data_size) +
                               " data bytes");
            // Tensors may not overlap, so together they fit in the data section. Checked before
            // allocating: many tensors naming the same bytes would otherwise multiply the file.
            claimed += end - begin;
            if (claimed > data_size) fail(file, "tensors overlap in the data section");
            t.data.resize(count);
            in.seekg(static_cast<std::streamoff>(data_start + begin));
            in.read(reinterpret_cast<char*>(t.data.data()),
                    static_cast<std::streamsize>(end - begin));
            if (!in)
                fail(file, "byte " + std::to_string(data_start + begin) + ": truncated data of '" +
                               key + "'");
            ranges.emplace_back(begin, end);
            out.tensors.push_back(std::move(t));
        }
    } catch (const nlohmann::json::exception& e) {
        fail(file, std::string("byte 8: malformed header: ") + e.what());
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i)
        if (ranges[i].first < ranges[i - 1].second)
            fail(file, "tensors overlap in the data section");
    verify_checksums(file, out);
    return out;
}

}  // namespace opgraph
