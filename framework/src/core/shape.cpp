#include "opgraph/core/shape.hpp"

namespace opgraph {

std::string shape_str(const Shape& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out += ", ";
        out += shape[i] == kDynamicDim ? "None" : std::to_string(shape[i]);
    }
    if (shape.size() == 1) out += ",";
    return out + ")";
}

std::int64_t elements_per_sample(const Shape& shape) {
    std::int64_t n = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) n *= shape[i];
    return n;
}

}  // namespace opgraph
