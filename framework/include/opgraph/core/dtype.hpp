// Element types. Every value of the IR has one (Node::output_dtypes, GraphInput::dtype); a
// node computes in one (Node::dtype), which its op's kernels must offer (OpDef::dtypes).
// Parameters, their gradients and optimizer state are always f32 (master weights); lower
// precisions appear where the precision pass (opgraph/passes/precision.hpp) puts them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace opgraph {

enum class DType : std::uint8_t { f32, bf16, s8, u8, s32 };

// "f32", "bf16", "s8", "u8", "s32": the spelling of files, the CLI and messages.
const char* dtype_name(DType type);
// The type spelt `name`, or nothing.
std::optional<DType> parse_dtype(const std::string& name);
// Every type's name, in enum order (for attribute choices and messages).
std::vector<std::string> dtype_names();
// Bytes per element.
std::int64_t dtype_size(DType type);
// u8 or s8: the types of quantized values, which carry a scale (Node::output_scales).
constexpr bool is_quantized(DType type) { return type == DType::u8 || type == DType::s8; }

}  // namespace opgraph
