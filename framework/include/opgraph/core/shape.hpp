// Tensor shapes. A Shape lists every dimension including the batch, which may be unknown
// (kDynamicDim, printed "None" as Keras does). Image tensors are channels-last, as in Keras:
// (batch, height, width, channels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace opgraph {

inline constexpr std::int64_t kDynamicDim = -1;

using Shape = std::vector<std::int64_t>;

// "(None, 26, 26, 32)"
std::string shape_str(const Shape& shape);

// Product of all dimensions except the first (the batch); 1 for a rank-1 shape.
// Requires every non-batch dimension to be known.
std::int64_t elements_per_sample(const Shape& shape);

}  // namespace opgraph
