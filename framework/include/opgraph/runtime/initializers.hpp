// Parameter initialisers with Keras's definitions (fans from the Keras-layout shape:
// conv kernel (kh, kw, in, out), dense (in, units)). Deterministic: the values depend only
// on the seed and the parameter's name, not on the order parameters are created in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"

namespace opgraph {

// zeros, ones, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform,
// lecun_normal. Throws std::invalid_argument naming an unknown initialiser.
std::vector<float> initialize(const std::string& initializer, const Shape& shape,
                              std::uint64_t seed, const std::string& param_name);

const std::vector<std::string>& initializer_names();

}  // namespace opgraph
