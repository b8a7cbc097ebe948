// .npy / .npz reader: preamble and header-dict parsing, size checks against the file, zip
// central directory, stored and deflated members.
#include "opgraph/io/npy.hpp"

#include <sys/types.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "opgraph/core/error.hpp"

namespace opgraph {
namespace {

constexpr char npy_magic[] = "\x93NUMPY";
constexpr std::size_t npy_magic_bytes = 6;
constexpr std::size_t version_offset = 6;        // major byte, then minor byte
constexpr std::size_t header_length_offset = 8;  // uint16 (version 1) or uint32 (2 and 3)
constexpr std::size_t max_preamble_bytes = 12;
// Headers of the arrays this reader supports are a few hundred bytes; NumPy itself refuses
// headers over 10000 bytes by default. Bounds the header allocation whatever the file size.
constexpr std::uint64_t max_header_bytes = std::uint64_t{1} << 20;
constexpr int max_literal_depth = 32;  // nesting of tuples and lists in the header dict

constexpr std::uint32_t zip_end_signature = 0x06054b50;
constexpr std::uint32_t zip_entry_signature = 0x02014b50;
constexpr std::uint32_t zip_local_signature = 0x04034b50;
constexpr std::size_t zip_end_bytes = 22;  // end-of-central-directory record, without comment
constexpr std::size_t zip_max_comment_bytes = 0xffff;
constexpr std::size_t zip_entry_bytes = 46;  // central directory entry, without name etc.
constexpr std::size_t zip_local_bytes = 30;  // local file header, without name and extra
constexpr std::uint64_t zip64_marker16 = 0xffff;
constexpr std::uint64_t zip64_marker32 = 0xffffffff;
constexpr std::uint64_t zip_flag_encrypted = 1;
constexpr std::uint64_t zip_stored = 0;
constexpr std::uint64_t zip_deflated = 8;
// deflate cannot expand data by more than ~1032:1: bounds what a member's compressed size can
// claim to inflate to.
constexpr std::uint64_t max_deflate_ratio = 1032;

std::string hex32(std::uint64_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08llx", static_cast<unsigned long long>(value));
    return text;
}

// Builds "name: byte N: what" (or "name: what"). `name` is the file path, or "archive[key]"
// for a .npz member; `noun` ("file", "archive" or "member") is what sizes are measured in.
class ErrorContext {
public:
    ErrorContext(std::string name, std::string noun)
        : name_(std::move(name)), noun_(std::move(noun)) {}

    [[noreturn]] void fail(const std::string& what) const { throw DataError(name_ + ": " + what); }

    [[noreturn]] void fail_at(std::uint64_t offset, const std::string& what) const {
        fail("byte " + std::to_string(offset) + ": " + what);
    }

    const std::string& noun() const { return noun_; }

private:
    std::string name_;
    std::string noun_;
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// An open file and its size.
struct OpenFile {
    std::unique_ptr<std::FILE, FileCloser> file;
    std::uint64_t size = 0;
};

OpenFile open_file(const std::filesystem::path& path, const ErrorContext& context) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) context.fail("is a directory, not a file");
    OpenFile open;
    open.file.reset(std::fopen(path.c_str(), "rb"));
    if (!open.file) context.fail(std::string("cannot open: ") + std::strerror(errno));
    open.size = std::filesystem::file_size(path, ec);
    if (ec) context.fail("cannot determine the file size: " + ec.message());
    return open;
}

// The `size` bytes at `offset`, which the caller has checked lie inside the file.
std::vector<std::uint8_t> read_at(const OpenFile& open, std::uint64_t offset, std::uint64_t size,
                                  const ErrorContext& context) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    if (fseeko(open.file.get(), static_cast<off_t>(offset), SEEK_SET) != 0)
        context.fail_at(offset, std::string("cannot seek: ") + std::strerror(errno));
    const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), open.file.get());
    if (got != bytes.size()) {
        context.fail_at(offset + got, std::ferror(open.file.get())
                                          ? std::string("read error: ") + std::strerror(errno)
                                          : "the file ends after " + std::to_string(got) + " of " +
                                                std::to_string(size) +
                                                " bytes (did it shrink while being read?)");
    }
    return bytes;
}

// The little-endian unsigned integer of `bytes` bytes at `p`.
std::uint64_t load_le(const std::uint8_t* p, std::size_t bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = bytes; i-- > 0;) value = (value << 8) | p[i];
    return value;
}

// Reverses the bytes of every element of size `element_size` in place.
void swap_elements(std::vector<std::uint8_t>& bytes, std::size_t element_size) {
    if (element_size == 1) return;
    for (std::size_t i = 0; i + element_size <= bytes.size(); i += element_size)
        std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + element_size));
}

std::int64_t shape_count(const std::vector<std::int64_t>& shape) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
}

// "60000x28x28", or "scalar" for an empty shape.
std::string shape_text(const std::vector<std::int64_t>& shape) {
    if (shape.empty()) return "scalar";
    std::string text;
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i > 0 ? "x" : "") + std::to_string(shape[i]);
    return text;
}

// ---- The header dict ------------------------------------------------------------------------

// One value of the header's Python literal: a quoted string, a bare word (True, False, None, a
// number) or a tuple or list of values. `offset` is its byte offset in the file.
struct Literal {
    enum class Kind { string, word, sequence };
    Kind kind = Kind::word;
    std::string text;            // the string's contents, or the word
    std::vector<Literal> items;  // a sequence's elements
    std::uint64_t offset = 0;
};

// The literal as it would appear in the header, for messages (sequences abbreviated).
std::string literal_text(const Literal& value) {
    switch (value.kind) {
        case Literal::Kind::string:
            return "'" + value.text + "'";
        case Literal::Kind::word:
            return value.text;
        case Literal::Kind::sequence:
            return "(...)";
    }
    return "";
}

// Parses the dict literal `text`, found at byte `base` of the file: `{key: value, ...}` with
// quoted keys in any order, single or double quotes, optional trailing commas, any spacing.
class DictParser {
public:
    DictParser(std::string_view text, std::uint64_t base, const ErrorContext& context)
        : text_(text), base_(base), context_(context) {}

    std::map<std::string, Literal> parse() {
        std::map<std::string, Literal> dict;
        skip_space();
        if (!consume('{')) fail("expected '{' (the header is not a dict)");
        while (true) {
            skip_space();
            if (consume('}')) break;
            const std::uint64_t key_offset = base_ + pos_;
            if (!at_quote()) fail("expected a quoted key or '}'");
            const std::string key = parse_string();
            skip_space();
            if (!consume(':')) fail("expected ':' after the key '" + key + "'");
            if (!dict.emplace(key, parse_value(0)).second)
                context_.fail_at(key_offset, "malformed header: duplicate key '" + key + "'");
            skip_space();
            if (consume(',')) continue;
            if (!consume('}')) fail("expected ',' or '}'");
            break;
        }
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the dict");
        return dict;
    }

private:
    Literal parse_value(int depth) {
        skip_space();
        Literal value;
        value.offset = base_ + pos_;
        if (at_quote()) {
            value.kind = Literal::Kind::string;
            value.text = parse_string();
            return value;
        }
        if (pos_ < text_.size() && (text_[pos_] == '(' || text_[pos_] == '[')) {
            if (depth >= max_literal_depth)
                fail("values nested deeper than " + std::to_string(max_literal_depth) + " levels");
            const char close = text_[pos_++] == '(' ? ')' : ']';
            value.kind = Literal::Kind::sequence;
            while (true) {
                skip_space();
                if (consume(close)) break;
                value.items.push_back(parse_value(depth + 1));
                skip_space();
                if (consume(',')) continue;
                if (!consume(close)) fail(std::string("expected ',' or '") + close + "'");
                break;
            }
            return value;
        }
        const std::size_t start = pos_;
        while (pos_ < text_.size() && !is_delimiter(text_[pos_])) ++pos_;
        value.text = text_.substr(start, pos_ - start);
        if (value.text.empty()) fail("expected a value");
        return value;
    }

    // A quoted string; a backslash takes the next character literally.
    std::string parse_string() {
        const std::uint64_t start = base_ + pos_;
        const char quote = text_[pos_++];
        std::string text;
        while (true) {
            if (pos_ >= text_.size())
                context_.fail_at(start, "malformed header: unterminated string");
            char c = text_[pos_++];
            if (c == quote) return text;
            if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
            text += c;
        }
    }

    static bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
    static bool is_delimiter(char c) {
        return is_space(c) || std::string_view("(){}[],:'\"").find(c) != std::string_view::npos;
    }
    bool at_quote() const {
        return pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"');
    }
    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    bool consume(char c) {
        if (pos_ >= text_.size() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }

    // Fails at the current position, naming what was found there.
    [[noreturn]] void fail(const std::string& what) const {
        std::string found = "the end of the header";
        if (pos_ < text_.size()) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            found = std::isprint(c) ? std::string("'") + text_[pos_] + "'" : hex32(c);
        }
        context_.fail_at(base_ + pos_, "malformed header: " + what + ", found " + found);
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::uint64_t base_;
    const ErrorContext& context_;
};

struct Descr {
    NpyType type = NpyType::u8;
    bool byte_swap = false;
};

// The element type and byte order a descr names: an optional order character then a code.
Descr parse_descr(const Literal& descr, const ErrorContext& context) {
    const std::string only = " (only bool, integer and float arrays can be read)";
    if (descr.kind == Literal::Kind::sequence) {
        context.fail_at(
            descr.offset,
            "descr is a list (a structured dtype): structured arrays cannot be read" + only);
    }
    if (descr.kind != Literal::Kind::string)
        context.fail_at(descr.offset, "descr must be a string such as '<f4', got " + descr.text);
    std::string_view code = descr.text;
    char order = '=';
    if (!code.empty() && std::string_view("<>|=").find(code[0]) != std::string_view::npos) {
        order = code[0];
        code.remove_prefix(1);
    }
    const std::string quoted = "descr '" + descr.text + "'";
    if (!code.empty() && code[0] == 'O')
        context.fail_at(descr.offset, quoted + ": object arrays cannot be read" + only);
    if (!code.empty() && std::string_view("SUVa").find(code[0]) != std::string_view::npos)
        context.fail_at(descr.offset, quoted + ": string arrays cannot be read" + only);

    static constexpr std::pair<std::string_view, NpyType> codes[] = {
        {"b1", NpyType::boolean}, {"u1", NpyType::u8},  {"i1", NpyType::i8},  {"u2", NpyType::u16},
        {"i2", NpyType::i16},     {"u4", NpyType::u32}, {"i4", NpyType::i32}, {"u8", NpyType::u64},
        {"i8", NpyType::i64},     {"f4", NpyType::f32}, {"f8", NpyType::f64}};
    for (const auto& [name, type] : codes) {
        if (code != name) continue;
        constexpr bool host_big = std::endian::native == std::endian::big;
        // '|' (no byte order) and '=' (native) both mean the host's order.
        const bool stored_big = order == '>' || (order != '<' && host_big);
        return {type, npy_element_size(type) > 1 && stored_big != host_big};
    }
    context.fail_at(descr.offset, quoted +
                                      " is not supported (supported: b1 u1 i1 u2 i2 u4 i4 u8 i8 "
                                      "f4 f8, little- or big-endian)");
}

bool parse_bool(const Literal& value, const std::string& key, const ErrorContext& context) {
    if (value.kind == Literal::Kind::word && (value.text == "True" || value.text == "False"))
        return value.text == "True";
    context.fail_at(value.offset,
                    "'" + key + "' must be True or False, got " + literal_text(value));
}

// A tuple of non-negative integers (a Python 2 "L" suffix allowed), at most limits.max_rank.
std::vector<std::int64_t> parse_shape(const Literal& shape, const NpyLimits& limits,
                                      const ErrorContext& context) {
    if (shape.kind != Literal::Kind::sequence) {
        context.fail_at(shape.offset,
                        "'shape' must be a tuple of integers such as (60000, 28, 28)"
                        ", got " +
                            literal_text(shape));
    }
    if (shape.items.size() > static_cast<std::size_t>(std::max(limits.max_rank, 0))) {
        context.fail_at(shape.offset, "rank " + std::to_string(shape.items.size()) +
                                          " exceeds the limit of " +
                                          std::to_string(limits.max_rank));
    }
    std::vector<std::int64_t> dims;
    for (const Literal& dim : shape.items) {
        const std::string which = "shape dimension " + std::to_string(dims.size()) + " ";
        std::string_view text = dim.text;
        if (text.size() > 1 && (text.back() == 'L' || text.back() == 'l')) text.remove_suffix(1);
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (dim.kind != Literal::Kind::word || text.empty() || end != text.data() + text.size() ||
            (ec != std::errc() && ec != std::errc::result_out_of_range)) {
            context.fail_at(dim.offset, which + literal_text(dim) + " is not an integer");
        }
        if (ec == std::errc::result_out_of_range || value < 0) {
            context.fail_at(dim.offset,
                            which + dim.text + (text[0] == '-' ? " is negative" : " is too large"));
        }
        dims.push_back(value);
    }
    return dims;
}

// Bytes of data the header describes; fails if that overflows or exceeds limits.max_bytes.
std::int64_t data_bytes(const NpyHeader& header, std::uint64_t shape_offset,
                        const NpyLimits& limits, const ErrorContext& context) {
    const std::string what =
        "shape " + shape_text(header.shape) + " of " + npy_type_name(header.type);
    // A zero dimension empties the array whatever the others are.
    if (std::find(header.shape.begin(), header.shape.end(), 0) != header.shape.end()) return 0;
    auto bytes = static_cast<std::int64_t>(npy_element_size(header.type));
    for (std::int64_t d : header.shape) {
        if (bytes > std::numeric_limits<std::int64_t>::max() / d)
            context.fail_at(shape_offset, what + " overflows: more than 2^63 bytes");
        bytes *= d;
    }
    if (bytes > limits.max_bytes) {
        context.fail_at(shape_offset, what + " = " + std::to_string(bytes) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(limits.max_bytes) + " bytes");
    }
    return bytes;
}

// ---- .npy -----------------------------------------------------------------------------------

// Where the header dict and the data start.
struct Preamble {
    std::uint64_t dict_offset = 0;
    std::uint64_t data_offset = 0;
};

// Parses magic, version and header length from `prefix` (the first min(total_size, 12) bytes
// of the .npy, or more) and checks the header length against `total_size`.
Preamble parse_preamble(std::span<const std::uint8_t> prefix, std::uint64_t total_size,
                        const ErrorContext& context) {
    const std::string ends = "truncated: the " + context.noun() + " ends after " +
                             std::to_string(total_size) + " bytes, inside the .npy preamble";
    if (total_size == 0) context.fail(context.noun() + " is empty (expected a .npy header)");
    if (prefix.size() < npy_magic_bytes ||
        std::memcmp(prefix.data(), npy_magic, npy_magic_bytes) != 0)
        context.fail_at(0, "not a .npy " + context.noun() + " (it does not start with \\x93NUMPY)");
    if (prefix.size() < header_length_offset) context.fail_at(prefix.size(), ends);
    const int major = prefix[version_offset];
    const int minor = prefix[version_offset + 1];
    if (major < 1 || major > 3 || minor != 0) {
        context.fail_at(version_offset, "unknown .npy format version " + std::to_string(major) +
                                            "." + std::to_string(minor) +
                                            " (expected 1.0, 2.0 or 3.0)");
    }
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    Preamble preamble;
    preamble.dict_offset = header_length_offset + length_bytes;
    if (prefix.size() < preamble.dict_offset) context.fail_at(prefix.size(), ends);
    const std::uint64_t length = load_le(prefix.data() + header_length_offset, length_bytes);
    preamble.data_offset = preamble.dict_offset + length;
    const std::string claim = "header length " + std::to_string(length);
    if (length > max_header_bytes) {
        context.fail_at(header_length_offset, claim + " exceeds the limit of " +
                                                  std::to_string(max_header_bytes) + " bytes");
    }
    if (preamble.data_offset > total_size) {
        context.fail_at(header_length_offset,
                        claim + " runs past the end of the " + context.noun() + " (" +
                            std::to_string(total_size) + " bytes): the header would end at byte " +
                            std::to_string(preamble.data_offset));
    }
    return preamble;
}

// Parses and checks the header of a .npy of `total_size` bytes; `head` holds at least its
// whole header (up to the data offset parse_preamble finds).
NpyHeader parse_header(std::span<const std::uint8_t> head, std::uint64_t total_size,
                       const NpyLimits& limits, const ErrorContext& context) {
    const Preamble preamble = parse_preamble(head, total_size, context);
    const std::string_view text(reinterpret_cast<const char*>(head.data()) + preamble.dict_offset,
                                preamble.data_offset - preamble.dict_offset);
    const auto dict = DictParser(text, preamble.dict_offset, context).parse();
    auto require = [&](const std::string& key) -> const Literal& {
        const auto it = dict.find(key);
        if (it == dict.end()) {
            context.fail_at(preamble.dict_offset,
                            "header has no '" + key +
                                "' key (a .npy header needs 'descr', 'fortran_order' and 'shape')");
        }
        return it->second;
    };

    const Descr descr = parse_descr(require("descr"), context);
    const Literal& fortran = require("fortran_order");
    if (parse_bool(fortran, "fortran_order", context)) {
        context.fail_at(fortran.offset,
                        "Fortran-order arrays are not supported: save with np.ascontiguousarray");
    }
    const Literal& shape = require("shape");
    NpyHeader header;
    header.type = descr.type;
    header.byte_swap = descr.byte_swap;
    header.shape = parse_shape(shape, limits, context);
    header.data_offset = static_cast<std::int64_t>(preamble.data_offset);

    const auto bytes =
        static_cast<std::uint64_t>(data_bytes(header, shape.offset, limits, context));
    const std::uint64_t available = total_size - preamble.data_offset;
    if (available != bytes) {
        context.fail(std::string(available < bytes ? "truncated" : "trailing data") +
                     ": header says " + shape_text(header.shape) + " " +
                     npy_type_name(header.type) + " = " + std::to_string(bytes) + " bytes, " +
                     context.noun() + " has " + std::to_string(available) +
                     " after the header at byte " + std::to_string(preamble.data_offset));
    }
    return header;
}

// Reads and checks the header of the .npy file `open`.
NpyHeader read_file_header(const OpenFile& open, const NpyLimits& limits,
                           const ErrorContext& context) {
    const auto prefix =
        read_at(open, 0, std::min<std::uint64_t>(open.size, max_preamble_bytes), context);
    const Preamble preamble = parse_preamble(prefix, open.size, context);
    return parse_header(read_at(open, 0, preamble.data_offset, context), open.size, limits,
                        context);
}

// The array `header` describes, from its data bytes in file byte order.
NpyArray make_array(const NpyHeader& header, std::vector<std::uint8_t> bytes) {
    NpyArray array;
    array.type = header.type;
    array.shape = header.shape;
    array.bytes = std::move(bytes);
    if (header.byte_swap) swap_elements(array.bytes, npy_element_size(header.type));
    return array;
}

// ---- .npz -----------------------------------------------------------------------------------

// One central directory entry.
struct ZipMember {
    std::string name;
    std::uint64_t flags = 0;
    std::uint64_t method = 0;
    std::uint64_t crc = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;
    std::uint64_t local_offset = 0;  // of its local file header
    std::uint64_t entry_offset = 0;  // of its central directory entry
};

struct ZipDirectory {
    std::vector<ZipMember> members;  // in archive order
    std::uint64_t offset = 0;        // of the central directory: members lie before it
};

// The array name of a member: its name without ".npy".
std::string key_of(const ZipMember& member) {
    const std::string_view name = member.name;
    return std::string(name.ends_with(".npy") ? name.substr(0, name.size() - 4) : name);
}

// Finds the end-of-central-directory record at the end of the archive, then reads every
// central directory entry. Refuses zip64 and multi-disk archives.
ZipDirectory read_directory(const OpenFile& open, const ErrorContext& context) {
    const std::uint64_t tail_size =
        std::min<std::uint64_t>(open.size, zip_end_bytes + zip_max_comment_bytes);
    const std::uint64_t tail_offset = open.size - tail_size;
    const auto tail = read_at(open, tail_offset, tail_size, context);
    // The record is the last signature whose comment ends exactly at the end of the file.
    std::optional<std::size_t> end;
    for (std::size_t i = tail.size() >= zip_end_bytes ? tail.size() - zip_end_bytes + 1 : 0;
         i-- > 0;) {
        if (load_le(&tail[i], 4) == zip_end_signature &&
            i + zip_end_bytes + load_le(&tail[i + 20], 2) == tail.size()) {
            end = i;
            break;
        }
    }
    if (!end) {
        context.fail(
            "not a zip archive (no end-of-central-directory record; a .npz is a zip of .npy "
            "files)");
    }
    const std::uint8_t* record = &tail[*end];
    const std::uint64_t record_offset = tail_offset + *end;
    const std::uint64_t entries = load_le(record + 10, 2);
    const std::uint64_t directory_size = load_le(record + 12, 4);
    const std::uint64_t directory_offset = load_le(record + 16, 4);
    if (entries == zip64_marker16 || directory_size == zip64_marker32 ||
        directory_offset == zip64_marker32) {
        context.fail_at(record_offset,
                        "zip64 archives are not supported (over 4 GiB or 65535 members)");
    }
    if (load_le(record + 4, 2) != 0 || load_le(record + 6, 2) != 0 ||
        load_le(record + 8, 2) != entries)
        context.fail_at(record_offset, "multi-disk zip archives are not supported");
    if (directory_offset + directory_size > record_offset) {
        context.fail_at(record_offset + 12,
                        "the central directory (" + std::to_string(directory_size) +
                            " bytes at byte " + std::to_string(directory_offset) +
                            ") runs past the end-of-central-directory record at byte " +
                            std::to_string(record_offset));
    }

    const auto directory = read_at(open, directory_offset, directory_size, context);
    ZipDirectory result;
    result.offset = directory_offset;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        ZipMember member;
        member.entry_offset = directory_offset + pos;
        const std::string which =
            "central directory entry " + std::to_string(i) + " of " + std::to_string(entries);
        const std::uint8_t* entry = directory.data() + pos;
        if (directory.size() - pos < zip_entry_bytes || load_le(entry, 4) != zip_entry_signature)
            context.fail_at(member.entry_offset, which + " is missing or corrupt");
        member.flags = load_le(entry + 8, 2);
        member.method = load_le(entry + 10, 2);
        member.crc = load_le(entry + 16, 4);
        member.compressed_size = load_le(entry + 20, 4);
        member.size = load_le(entry + 24, 4);
        const std::uint64_t name_bytes = load_le(entry + 28, 2);
        const std::uint64_t entry_bytes =
            zip_entry_bytes + name_bytes + load_le(entry + 30, 2) + load_le(entry + 32, 2);
        member.local_offset = load_le(entry + 42, 4);
        if (directory.size() - pos < entry_bytes)
            context.fail_at(member.entry_offset, which + " runs past the central directory");
        member.name.assign(reinterpret_cast<const char*>(entry + zip_entry_bytes), name_bytes);
        if (member.compressed_size == zip64_marker32 || member.size == zip64_marker32 ||
            member.local_offset == zip64_marker32) {
            context.fail_at(member.entry_offset, "member '" + member.name +
                                                     "': zip64 members (over 4 GiB) are not "
                                                     "supported");
        }
        result.members.push_back(std::move(member));
        pos += entry_bytes;
    }
    return result;
}

// Inflates the raw deflate stream `compressed` (at byte `offset` of the archive), which must
// produce exactly `size` bytes.
std::vector<std::uint8_t> inflate_member(std::vector<std::uint8_t>& compressed, std::uint64_t size,
                                         std::uint64_t offset, const std::string& what,
                                         const ErrorContext& context) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(size));
    std::uint8_t spare = 0;  // zlib refuses a null output pointer, even for zero bytes
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) context.fail(what + "cannot initialise zlib");
    stream.next_in = compressed.data();
    stream.avail_in = static_cast<uInt>(compressed.size());  // < 4 GiB: no zip64
    stream.next_out = out.empty() ? &spare : out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&stream, Z_FINISH);
    const std::uint64_t produced = stream.total_out;
    const std::string zlib_message = stream.msg != nullptr ? stream.msg : "";
    const bool output_full = stream.avail_out == 0;
    inflateEnd(&stream);

    const std::string claim = " (the directory says " + std::to_string(size) + ")";
    if (status == Z_STREAM_END && produced == size) return out;
    if (status == Z_STREAM_END)
        context.fail_at(offset,
                        what + "inflates to " + std::to_string(produced) + " bytes" + claim);
    if (status == Z_BUF_ERROR && output_full)
        context.fail_at(offset, what + "inflates to more bytes" + claim);
    if (status == Z_BUF_ERROR) {
        context.fail_at(offset, what + "the deflate stream ends early, after " +
                                    std::to_string(produced) + " bytes" + claim);
    }
    context.fail_at(offset, what + "corrupt deflate data" +
                                (zlib_message.empty() ? "" : " (" + zlib_message + ")"));
}

// The uncompressed bytes of `member`, after checking its sizes against the archive and the
// limits; refuses a CRC-32 mismatch.
std::vector<std::uint8_t> read_member(const OpenFile& open, const ZipDirectory& directory,
                                      const ZipMember& member, const NpyLimits& limits,
                                      const ErrorContext& context) {
    const std::string what = "member '" + member.name + "': ";
    if ((member.flags & zip_flag_encrypted) != 0)
        context.fail_at(member.entry_offset, what + "encrypted members are not supported");
    if (member.method != zip_stored && member.method != zip_deflated) {
        context.fail_at(member.entry_offset, what + "compression method " +
                                                 std::to_string(member.method) +
                                                 " is not supported (only 0 stored, 8 deflate)");
    }
    const std::string past =
        " runs past the central directory at byte " + std::to_string(directory.offset);
    if (member.local_offset + zip_local_bytes > directory.offset) {
        context.fail_at(member.entry_offset, what + "the local header at byte " +
                                                 std::to_string(member.local_offset) + past);
    }
    const auto local = read_at(open, member.local_offset, zip_local_bytes, context);
    if (load_le(local.data(), 4) != zip_local_signature)
        context.fail_at(member.local_offset, what + "no local file header here");
    // Sizes come from the central directory: NumPy writes 0xffffffff in local headers.
    const std::uint64_t data_offset =
        member.local_offset + zip_local_bytes + load_le(&local[26], 2) + load_le(&local[28], 2);
    if (data_offset > directory.offset || member.compressed_size > directory.offset - data_offset) {
        context.fail_at(member.local_offset, what + std::to_string(member.compressed_size) +
                                                 " compressed bytes at byte " +
                                                 std::to_string(data_offset) + past);
    }
    const std::uint64_t max_size =
        static_cast<std::uint64_t>(std::max<std::int64_t>(limits.max_bytes, 0)) +
        max_preamble_bytes + max_header_bytes;
    if (member.size > max_size) {
        context.fail_at(member.entry_offset, what + std::to_string(member.size) +
                                                 " bytes exceed the limit of " +
                                                 std::to_string(max_size) + " (header and data)");
    }
    if (member.method == zip_stored && member.size != member.compressed_size) {
        context.fail_at(member.entry_offset, what + "stored, but its sizes differ (" +
                                                 std::to_string(member.compressed_size) +
                                                 " compressed, " + std::to_string(member.size) +
                                                 " uncompressed)");
    }
    if (member.method == zip_deflated && member.size / max_deflate_ratio > member.compressed_size) {
        context.fail_at(member.entry_offset, what + std::to_string(member.compressed_size) +
                                                 " compressed bytes cannot inflate to the " +
                                                 std::to_string(member.size) +
                                                 " bytes the directory claims");
    }

    auto bytes = read_at(open, data_offset, member.compressed_size, context);
    if (member.method == zip_deflated)
        bytes = inflate_member(bytes, member.size, data_offset, what, context);
    const std::uint64_t crc = crc32(0, bytes.data(), static_cast<uInt>(bytes.size()));
    if (crc != member.crc) {
        context.fail_at(data_offset, what + "CRC-32 mismatch: the directory says " +
                                         hex32(member.crc) + ", the data has " + hex32(crc) +
                                         " (the archive is corrupt)");
    }
    return bytes;
}

// ---- Conversion -----------------------------------------------------------------------------

template <class T>
void append_as_floats(const NpyArray& array, std::vector<float>& out) {
    for (std::size_t i = 0; i + sizeof(T) <= array.bytes.size(); i += sizeof(T)) {
        T value;
        std::memcpy(&value, array.bytes.data() + i, sizeof(T));
        out.push_back(static_cast<float>(value));
    }
}

}  // namespace

std::size_t npy_element_size(NpyType type) {
    switch (type) {
        case NpyType::u8:
        case NpyType::i8:
        case NpyType::boolean:
            return 1;
        case NpyType::u16:
        case NpyType::i16:
            return 2;
        case NpyType::u32:
        case NpyType::i32:
        case NpyType::f32:
            return 4;
        case NpyType::u64:
        case NpyType::i64:
        case NpyType::f64:
            return 8;
    }
    throw std::invalid_argument("npy_element_size: unknown NpyType " +
                                std::to_string(static_cast<int>(type)));
}

std::string npy_type_name(NpyType type) {
    switch (type) {
        case NpyType::u8:
            return "uint8";
        case NpyType::i8:
            return "int8";
        case NpyType::u16:
            return "uint16";
        case NpyType::i16:
            return "int16";
        case NpyType::u32:
            return "uint32";
        case NpyType::i32:
            return "int32";
        case NpyType::u64:
            return "uint64";
        case NpyType::i64:
            return "int64";
        case NpyType::f32:
            return "float32";
        case NpyType::f64:
            return "float64";
        case NpyType::boolean:
            return "bool";
    }
    return "NpyType(" + std::to_string(static_cast<int>(type)) + ")";
}

std::int64_t NpyHeader::count() const { return shape_count(shape); }

std::int64_t NpyArray::count() const { return shape_count(shape); }

NpyHeader read_npy_header(const std::filesystem::path& file, const NpyLimits& limits) {
    const ErrorContext context(file.string(), "file");
    return read_file_header(open_file(file, context), limits, context);
}

NpyArray read_npy(const std::filesystem::path& file, const NpyLimits& limits) {
    const ErrorContext context(file.string(), "file");
    const OpenFile open = open_file(file, context);
    const NpyHeader header = read_file_header(open, limits, context);
    const auto offset = static_cast<std::uint64_t>(header.data_offset);
    return make_array(header, read_at(open, offset, open.size - offset, context));
}

std::vector<std::string> npz_keys(const std::filesystem::path& file) {
    const ErrorContext context(file.string(), "archive");
    std::vector<std::string> keys;
    for (const ZipMember& member : read_directory(open_file(file, context), context).members)
        keys.push_back(key_of(member));
    return keys;
}

NpyArray read_npz(const std::filesystem::path& file, const std::string& key,
                  const NpyLimits& limits) {
    const ErrorContext context(file.string(), "archive");
    const OpenFile open = open_file(file, context);
    const ZipDirectory directory = read_directory(open, context);
    // As NumPy: the member named `key`, else the one named `key`.npy.
    auto named = [&](const std::string& name) {
        return std::find_if(directory.members.begin(), directory.members.end(),
                            [&](const ZipMember& member) { return member.name == name; });
    };
    auto member = named(key);
    if (member == directory.members.end()) member = named(key + ".npy");
    if (member == directory.members.end()) {
        std::string keys;
        for (const ZipMember& each : directory.members)
            keys += (keys.empty() ? "" : ", ") + key_of(each);
        context.fail("no array '" + key + "' (the archive holds " +
                     (keys.empty() ? "no arrays" : "the keys " + keys) + ")");
    }

    std::vector<std::uint8_t> bytes = read_member(open, directory, *member, limits, context);
    const ErrorContext member_context(file.string() + "[" + key_of(*member) + "]", "member");
    const NpyHeader header = parse_header(bytes, bytes.size(), limits, member_context);
    bytes.erase(bytes.begin(), bytes.begin() + header.data_offset);
    return make_array(header, std::move(bytes));
}

std::vector<float> npy_to_floats(const NpyArray& array) {
    std::vector<float> out;
    out.reserve(array.bytes.size() / npy_element_size(array.type));
    switch (array.type) {
        case NpyType::u8:
            append_as_floats<std::uint8_t>(array, out);
            break;
        case NpyType::i8:
            append_as_floats<std::int8_t>(array, out);
            break;
        case NpyType::u16:
            append_as_floats<std::uint16_t>(array, out);
            break;
        case NpyType::i16:
            append_as_floats<std::int16_t>(array, out);
            break;
        case NpyType::u32:
            append_as_floats<std::uint32_t>(array, out);
            break;
        case NpyType::i32:
            append_as_floats<std::int32_t>(array, out);
            break;
        case NpyType::u64:
            append_as_floats<std::uint64_t>(array, out);
            break;
        case NpyType::i64:
            append_as_floats<std::int64_t>(array, out);
            break;
        case NpyType::f32:
            append_as_floats<float>(array, out);
            break;
        case NpyType::f64:
            append_as_floats<double>(array, out);
            break;
        case NpyType::boolean:
            for (std::uint8_t value : array.bytes) out.push_back(value != 0 ? 1.0F : 0.0F);
            break;
    }
    return out;
}

}  // namespace opgraph
