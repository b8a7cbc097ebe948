#include "opgraph/core/dtype.hpp"

#include <array>

namespace opgraph {

namespace {

struct DTypeInfo {
    DType type;
    const char* name;
    std::int64_t size;
};

constexpr std::array<DTypeInfo, 5> kTypes = {{
    {DType::f32, "f32", 4},
    {DType::bf16, "bf16", 2},
    {DType::s8, "s8", 1},
    {DType::u8, "u8", 1},
    {DType::s32, "s32", 4},
}};

const DTypeInfo& info(DType type) { return kTypes.at(static_cast<std::size_t>(type)); }

}  // namespace

const char* dtype_name(DType type) { return info(type).name; }

std::optional<DType> parse_dtype(const std::string& name) {
    for (const DTypeInfo& t : kTypes)
        if (name == t.name) return t.type;
    return std::nullopt;
}

std::vector<std::string> dtype_names() {
    std::vector<std::string> out;
    for (const DTypeInfo& t : kTypes) out.emplace_back(t.name);
    return out;
}

std::int64_t dtype_size(DType type) { return info(type).size; }

}  // namespace opgraph
