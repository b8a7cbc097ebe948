#include "opgraph/op/memory_layout.hpp"

#include <stdexcept>

namespace opgraph {

namespace {

constexpr std::size_t kImageRank = 4;

dnnl::memory::format_tag row_major_tag(std::size_t rank) {
    using tag = dnnl::memory::format_tag;
    switch (rank) {
        case 1:
            return tag::a;
        case 2:
            return tag::ab;
        case 3:
            return tag::abc;
        case 4:
            return tag::abcd;
        case 5:
            return tag::abcde;
        case 6:
            return tag::abcdef;
        default:
            throw std::invalid_argument("rank " + std::to_string(rank) + " is not supported");
    }
}

}  // namespace

dnnl::memory::dims logical_dims(const Shape& shape) {
    if (shape.empty()) return {1};
    if (shape.size() == kImageRank) return {shape[0], shape[3], shape[1], shape[2]};
    return dnnl::memory::dims(shape.begin(), shape.end());
}

dnnl::memory::data_type dnnl_data_type(DType type) {
    using dt = dnnl::memory::data_type;
    switch (type) {
        case DType::f32:
            return dt::f32;
        case DType::bf16:
            return dt::bf16;
        case DType::s8:
            return dt::s8;
        case DType::u8:
            return dt::u8;
        case DType::s32:
            return dt::s32;
    }
    throw std::invalid_argument("unknown element type");
}

dnnl::memory::desc plain_data_desc(const Shape& shape, DType type) {
    const auto dims = logical_dims(shape);
    const auto tag =
        shape.size() == kImageRank ? dnnl::memory::format_tag::nhwc : row_major_tag(dims.size());
    return {dims, dnnl_data_type(type), tag};
}

dnnl::memory::desc row_major_desc(const Shape& shape) {
    const dnnl::memory::dims dims =
        shape.empty() ? dnnl::memory::dims{1} : dnnl::memory::dims(shape.begin(), shape.end());
    return {dims, dnnl::memory::data_type::f32, row_major_tag(dims.size())};
}

std::int64_t element_count(const Shape& shape) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
}

}  // namespace opgraph
