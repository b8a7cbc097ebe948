#include "opgraph/runtime/initializers.hpp"

#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>

#include "opgraph/core/suggest.hpp"

namespace opgraph {

namespace {

// Keras's fans: the last dimension is fan-out, the one before fan-in, the rest the
// receptive field (conv (kh, kw, in, out)); a vector has fan_in = fan_out = its size.
std::pair<double, double> fans(const Shape& shape) {
    if (shape.empty()) return {1, 1};
    if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
    double receptive = 1;
    for (std::size_t i = 0; i + 2 < shape.size(); ++i) receptive *= double(shape[i]);
    return {receptive * double(shape[shape.size() - 2]), receptive * double(shape.back())};
}

std::uint64_t stream_seed(std::uint64_t seed, const std::string& name) {
    return seed * 0x9E3779B97F4A7C15ull ^ std::hash<std::string>{}(name);
}

// Keras's truncated normal: redraw beyond two standard deviations; the stddev is scaled by
// 0.8796... so that the truncated distribution has the requested variance.
constexpr double kTruncatedNormalCorrection = 0.87962566103423978;

}  // namespace

const std::vector<std::string>& initializer_names() {
    static const std::vector<std::string> names = {"zeros",         "ones",        "glorot_uniform",
                                                   "glorot_normal", "he_uniform",  "he_normal",
                                                   "lecun_uniform", "lecun_normal"};
    return names;
}

std::vector<float> initialize(const std::string& initializer, const Shape& shape,
                              std::uint64_t seed, const std::string& param_name) {
    std::int64_t count = 1;
    for (std::int64_t d : shape) count *= d;
    std::vector<float> out(static_cast<std::size_t>(count));
    if (initializer == "zeros") return out;
    if (initializer == "ones") {
        std::fill(out.begin(), out.end(), 1.0f);
        return out;
    }
    const auto [fan_in, fan_out] = fans(shape);
    double scale = 0;  // variance scaling: variance = scale / fan
    if (initializer.rfind("glorot", 0) == 0)
        scale = 2.0 / (fan_in + fan_out);
    else if (initializer.rfind("he", 0) == 0)
        scale = 2.0 / fan_in;
    else if (initializer.rfind("lecun", 0) == 0)
        scale = 1.0 / fan_in;
    else
        throw std::invalid_argument("unknown initializer '" + initializer + "'" +
                                    did_you_mean(initializer, initializer_names()));
    std::mt19937_64 rng(stream_seed(seed, param_name));
    if (initializer.find("uniform") != std::string::npos) {
        const double limit = std::sqrt(3.0 * scale);
        std::uniform_real_distribution<double> dist(-limit, limit);
        for (float& v : out) v = static_cast<float>(dist(rng));
    } else {
        const double stddev = std::sqrt(scale) / kTruncatedNormalCorrection;
        std::normal_distribution<double> dist(0.0, stddev);
        for (float& v : out) {
            double x = dist(rng);
            while (std::abs(x) > 2 * stddev) x = dist(rng);
            v = static_cast<float>(x);
        }
    }
    return out;
}

}  // namespace opgraph
