// The cross-entropy of one row of predictions, with Keras's semantics, and its gradient:
// the arithmetic categorical_crossentropy and sparse_categorical_crossentropy share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/memory_layout.hpp"

namespace opgraph::ops {

inline constexpr double kCrossentropyEpsilon = 1e-7;  // Keras backend.epsilon()

// Rows of a (..., classes) value: every position but the last axis.
inline std::int64_t rows_of(const Shape& shape, std::int64_t classes) {
    return element_count(shape) / std::max<std::int64_t>(classes, 1);
}

// Loss of one row of `classes` predictions against target weights target(i) (one-hot, soft
// or smoothed). With from_logits, -sum t_i * log_softmax(z)_i computed stably; otherwise the
// prediction is rescaled to sum to 1 and clipped to [eps, 1 - eps], as Keras does, and the
// loss is -sum t_i * log(q_i).
template <class Target>
double crossentropy_row(const float* prediction, const Target& target, std::int64_t classes,
                        bool from_logits) {
    double loss = 0;
    if (from_logits) {
        const double max = *std::max_element(prediction, prediction + classes);
        double sum_exp = 0;
        for (std::int64_t i = 0; i < classes; ++i) sum_exp += std::exp(prediction[i] - max);
        const double log_sum = std::log(sum_exp);
        for (std::int64_t i = 0; i < classes; ++i)
            loss -= target(i) * (prediction[i] - max - log_sum);
        return loss;
    }
    double sum = 0;
    for (std::int64_t i = 0; i < classes; ++i) sum += prediction[i];
    for (std::int64_t i = 0; i < classes; ++i) {
        const double q =
            std::clamp(prediction[i] / sum, kCrossentropyEpsilon, 1 - kCrossentropyEpsilon);
        loss -= target(i) * std::log(q);
    }
    return loss;
}

// diff[j] = scale * d(crossentropy_row)/d(prediction[j]). With from_logits: softmax_j * sum(t)
// - t_j. Otherwise, through the rescaling p / S and the clip (whose gradient is 0 where it
// clips): g_i = -t_i / q_i, diff_j = (g_j - sum_i g_i p_i / S) / S.
template <class Target>
void crossentropy_row_gradient(const float* prediction, const Target& target, std::int64_t classes,
                               bool from_logits, double scale, float* diff) {
    if (from_logits) {
        const double max = *std::max_element(prediction, prediction + classes);
        double sum_exp = 0;
        double target_sum = 0;
        for (std::int64_t i = 0; i < classes; ++i) {
            sum_exp += std::exp(prediction[i] - max);
            target_sum += target(i);
        }
        for (std::int64_t j = 0; j < classes; ++j) {
            const double softmax = std::exp(prediction[j] - max) / sum_exp;
            diff[j] = static_cast<float>(scale * (softmax * target_sum - target(j)));
        }
        return;
    }
    double sum = 0;
    for (std::int64_t i = 0; i < classes; ++i) sum += prediction[i];
    const auto g = [&](std::int64_t i) {
        const double p = prediction[i] / sum;
        const bool clipped = p < kCrossentropyEpsilon || p > 1 - kCrossentropyEpsilon;
        return clipped ? 0.0 : -target(i) / p;
    };
    double dot = 0;
    for (std::int64_t i = 0; i < classes; ++i) dot += g(i) * prediction[i] / sum;
    for (std::int64_t j = 0; j < classes; ++j)
        diff[j] = static_cast<float>(scale * (g(j) - dot) / sum);
}

}  // namespace opgraph::ops
