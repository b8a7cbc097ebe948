// Random parameters for the tests that compare two programs of one model: every parameter of
// a Program drawn from U(-scale, scale), batch-norm variances from U(0.1, 0.9) so that they
// stay positive.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "opgraph/runtime/program.hpp"

namespace opgraph::testing {

inline void randomize_parameters(Program& program, std::mt19937& rng, float scale = 1.f) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const std::string& p : program.params()) {
        std::vector<float> v(program.read(p).size());
        for (float& x : v)
            x = p.find("variance") != std::string::npos ? 0.5f + 0.4f * u(rng) : scale * u(rng);
        program.write(p, v);
    }
}

}  // namespace opgraph::testing
