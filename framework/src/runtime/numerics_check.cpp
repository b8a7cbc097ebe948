#include "numerics_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/op/memory_layout.hpp"

namespace opgraph::detail {

namespace {

bool all_finite(const float* data, std::size_t count) {
    // Summing x - x is 0 for finite x and NaN otherwise: one branch-free pass.
    float sum = 0.f;
    for (std::size_t i = 0; i < count; ++i) sum += data[i] - data[i];
    return sum == 0.f;
}

// bf16 is the top half of an f32: an exponent of all ones is an infinity or a NaN.
bool all_finite_bf16(const std::uint16_t* data, std::size_t count) {
    constexpr std::uint16_t kExponent = 0x7F80;
    std::uint16_t any = 0;
    for (std::size_t i = 0; i < count; ++i)
        any |= static_cast<std::uint16_t>((data[i] & kExponent) == kExponent);
    return any == 0;
}

// "[i, j, k]" of the flat row-major `index` over `shape`.
std::string unravel(std::size_t index, const Shape& shape) {
    std::vector<std::int64_t> position(shape.size(), 0);
    for (std::size_t d = shape.size(); d-- > 0;) {
        const auto extent = static_cast<std::size_t>(std::max<std::int64_t>(shape[d], 1));
        position[d] = static_cast<std::int64_t>(index % extent);
        index /= extent;
    }
    std::string text = "[";
    for (std::size_t d = 0; d < position.size(); ++d)
        text += (d ? ", " : "") + std::to_string(position[d]);
    return text + "]";
}

}  // namespace

void check_finite(const Node& node, const std::string& value, const Shape& shape,
                  const dnnl::memory& memory) {
    // Not a number of the model: a workspace or mask a kernel saved for backward.
    const auto type = memory.get_desc().data_type();
    if (type != dnnl::memory::data_type::f32 && type != dnnl::memory::data_type::bf16) return;
    const auto* own = static_cast<const float*>(memory.get_data_handle());
    if (type == dnnl::memory::data_type::f32 &&
        all_finite(own, memory.get_desc().get_size() / sizeof(float)))
        return;
    if (type == dnnl::memory::data_type::bf16 &&
        all_finite_bf16(static_cast<const std::uint16_t*>(memory.get_data_handle()),
                        memory.get_desc().get_size() / sizeof(std::uint16_t)))
        return;
    // Found one: locate it in IR order (the value may be in a blocked layout, or bf16).
    std::vector<float> plain(static_cast<std::size_t>(element_count(shape)));
    dnnl::memory::desc plain_desc = plain_data_desc(shape);
    dnnl::stream stream(memory.get_engine());
    if (memory.get_desc() == plain_desc) {
        std::copy_n(own, plain.size(), plain.begin());
    } else {
        dnnl::memory target(plain_desc, memory.get_engine(), plain.data());
        dnnl::memory source = memory;
        dnnl::reorder(source, target).execute(stream, source, target);
        stream.wait();
    }
    const auto bad =
        std::find_if(plain.begin(), plain.end(), [](float x) { return !std::isfinite(x); });
    if (bad == plain.end()) return;  // only the layout's padding held garbage
    const auto index = static_cast<std::size_t>(bad - plain.begin());
    throw NumericalError(node.where.str() + ": node '" + node.name + "' (op '" + node.op +
                         "'): output '" + value + "' " + shape_str(shape) + " holds " +
                         (std::isnan(*bad) ? "nan"
                          : *bad > 0       ? "inf"
                                           : "-inf") +
                         " at " + unravel(index, shape) + " (--check-numerics)");
}

}  // namespace opgraph::detail
