// The optimizers' update rules. Each loop reproduces the TF 2.x code the seed run executed
// (tf.keras optimizer_v2 and the training kernels it calls, tensorflow/core/kernels/
// training_ops.cc), in float and in the same order of operations, so results agree with it to
// float rounding. Hyper-parameters are rounded to float first, as TF casts them to the
// variable's dtype; per-step scalars (Adam's bias-corrected rate) are computed in double and
// rounded once.
//
// The loops are branch-free and allocation-free. They vectorise where sqrt may be inlined:
// GCC and Clang keep a libm call (for errno) in any loop with a sqrt unless the file is built
// with -fno-math-errno, which it should be.
#include "opgraph/train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "opgraph/io/checkpoint.hpp"

namespace opgraph {

namespace {

// Attribute names, as in the schemas below.
constexpr const char* kLearningRate = "learning_rate";
constexpr const char* kMomentum = "momentum";
constexpr const char* kNesterov = "nesterov";
constexpr const char* kBeta1 = "beta_1";
constexpr const char* kBeta2 = "beta_2";
constexpr const char* kEpsilon = "epsilon";
constexpr const char* kAmsgrad = "amsgrad";
constexpr const char* kRho = "rho";
constexpr const char* kCentered = "centered";
constexpr const char* kWeightDecay = "weight_decay";

// The attributes the optimizers share, with Keras's ranges.
AttrSpec learning_rate(double default_value) {
    return AttrSpec::optional(kLearningRate, default_value).greater_than(0);
}
AttrSpec epsilon() { return AttrSpec::optional(kEpsilon, 1e-7).greater_than(0); }
AttrSpec beta(const char* name, double default_value) {
    return AttrSpec::optional(name, default_value).at_least(0).less_than(1);
}
AttrSpec momentum() { return AttrSpec::optional(kMomentum, 0.0).at_least(0).less_than(1); }
AttrSpec weight_decay(double default_value) {
    return AttrSpec::optional(kWeightDecay, default_value).at_least(0);
}

float real_attr(const ConfigItem& config, const char* name) {
    return static_cast<float>(config.attrs.get_real(name));
}

// What every optimizer shares: the argument checks of update() and the weight decay.
class KerasOptimizer : public Optimizer {
protected:
    KerasOptimizer(const ConfigItem& config, std::size_t slot_count)
        : Optimizer(config.type, config.attrs.get_real(kLearningRate)),
          weight_decay_(config.attrs.get_real(kWeightDecay)),
          slot_count_(slot_count) {}

    // Checks update()'s arguments, then applies the decoupled weight decay of Keras 3
    // (Optimizer._apply_weight_decay: variable -= variable * weight_decay * lr), which runs
    // before the optimizer's step. Nothing happens when weight_decay is 0.
    void begin_update(float* __restrict param, std::size_t n, const std::vector<float*>& slots,
                      double lr, std::int64_t t) const {
        if (slots.size() != slot_count_)
            throw std::invalid_argument(name() + " update: expected " +
                                        std::to_string(slot_count_) + " slot(s), got " +
                                        std::to_string(slots.size()));
        if (t < 1)
            throw std::invalid_argument(name() + " update: iteration t starts at 1, got " +
                                        std::to_string(t));
        if (weight_decay_ <= 0) return;
        const float decay = static_cast<float>(lr * weight_decay_);
        for (std::size_t i = 0; i < n; ++i) param[i] -= param[i] * decay;
    }

private:
    double weight_decay_;
    std::size_t slot_count_;
};

// ---------------------------------------------------------------------------------------
// SGD (optimizer_v2/gradient_descent.py).
//   momentum 0 (ResourceApplyGradientDescent), no slot:
//     param -= lr * g
//   momentum > 0 (ResourceApplyKerasMomentum), slot "momentum" (the velocity):
//     velocity = momentum * velocity - lr * g
//     param += velocity                                  plain
//     param += momentum * velocity - lr * g              nesterov (the updated velocity)
// nesterov without momentum is plain SGD, as in Keras.

void sgd_loop(float* __restrict param, const float* __restrict grad, std::size_t n, float lr) {
    for (std::size_t i = 0; i < n; ++i) param[i] -= grad[i] * lr;
}

template <bool kNesterovUpdate>
void momentum_loop(float* __restrict param, const float* __restrict grad,
                   float* __restrict velocity, std::size_t n, float lr, float momentum) {
    for (std::size_t i = 0; i < n; ++i) {
        velocity[i] = velocity[i] * momentum - grad[i] * lr;
        if constexpr (kNesterovUpdate)
            param[i] += velocity[i] * momentum - grad[i] * lr;
        else
            param[i] += velocity[i];
    }
}

class Sgd final : public KerasOptimizer {
public:
    static OptimizerDef def() {
        return {"sgd",
                "stochastic gradient descent, with optional (Nesterov) momentum",
                {learning_rate(0.01), momentum(), AttrSpec::optional(kNesterov, false),
                 weight_decay(0.0)},
                [](const ConfigItem& config) { return std::make_unique<Sgd>(config); }};
    }

    explicit Sgd(const ConfigItem& config)
        : KerasOptimizer(config, config.attrs.get_real(kMomentum) > 0 ? 1 : 0),
          has_momentum_(config.attrs.get_real(kMomentum) > 0),
          momentum_(real_attr(config, kMomentum)),
          nesterov_(config.attrs.get_bool(kNesterov)) {}

    std::vector<std::string> slot_names() const override {
        if (!has_momentum_) return {};
        return {"momentum"};
    }

    void update(float* param, const float* grad, std::size_t n, const std::vector<float*>& slots,
                double lr, std::int64_t t) const override {
        begin_update(param, n, slots, lr, t);
        const float lr_f = static_cast<float>(lr);
        if (!has_momentum_)
            sgd_loop(param, grad, n, lr_f);
        else if (nesterov_)
            momentum_loop<true>(param, grad, slots[0], n, lr_f, momentum_);
        else
            momentum_loop<false>(param, grad, slots[0], n, lr_f, momentum_);
    }

private:
    bool has_momentum_;
    float momentum_;
    bool nesterov_;
};

// ---------------------------------------------------------------------------------------
// Adam (optimizer_v2/adam.py -> ResourceApplyAdam, ResourceApplyAdamWithAmsgrad), slots "m",
// "v" and, with amsgrad, "vhat":
//   m = m + (g - m) * (1 - beta_1)                       (= beta_1 * m + (1 - beta_1) * g)
//   v = v + (g^2 - v) * (1 - beta_2)                     (= beta_2 * v + (1 - beta_2) * g^2)
//   vhat = max(vhat, v)                                  amsgrad; vhat replaces v below
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   param -= m * alpha / (sqrt(v) + epsilon)
// epsilon is added after the bias correction (Keras's "epsilon hat"), so at t = 1 every
// weight moves by about lr * sign(g). adamw is the same rule; only its default weight_decay
// (0.004) differs, which is what Keras 3's AdamW is.

template <bool kAmsgradUpdate>
void adam_loop(float* __restrict param, const float* __restrict grad, float* __restrict m,
               float* __restrict v, float* __restrict vhat, std::size_t n, float one_minus_beta_1,
               float one_minus_beta_2, float alpha, float epsilon) {
    for (std::size_t i = 0; i < n; ++i) {
        m[i] += (grad[i] - m[i]) * one_minus_beta_1;
        v[i] += (grad[i] * grad[i] - v[i]) * one_minus_beta_2;
        if constexpr (kAmsgradUpdate) {
            vhat[i] = std::max(vhat[i], v[i]);
            param[i] -= (m[i] * alpha) / (std::sqrt(vhat[i]) + epsilon);
        } else {
            param[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + epsilon);
        }
    }
}

class Adam final : public KerasOptimizer {
public:
    static OptimizerDef def() {
        return {"adam", "Adam: adaptive moment estimation, with optional AMSGrad", schema(0.0),
                [](const ConfigItem& config) { return std::make_unique<Adam>(config); }};
    }
    static OptimizerDef adamw_def() {
        return {"adamw", "Adam with decoupled weight decay (Keras 3's AdamW)", schema(0.004),
                [](const ConfigItem& config) { return std::make_unique<Adam>(config); }};
    }

    explicit Adam(const ConfigItem& config)
        : KerasOptimizer(config, config.attrs.get_bool(kAmsgrad) ? 3 : 2),
          beta_1_(real_attr(config, kBeta1)),
          beta_2_(real_attr(config, kBeta2)),
          epsilon_(real_attr(config, kEpsilon)),
          amsgrad_(config.attrs.get_bool(kAmsgrad)) {}

    std::vector<std::string> slot_names() const override {
        if (amsgrad_) return {"m", "v", "vhat"};
        return {"m", "v"};
    }

    void update(float* param, const float* grad, std::size_t n, const std::vector<float*>& slots,
                double lr, std::int64_t t) const override {
        begin_update(param, n, slots, lr, t);
        const double step = static_cast<double>(t);
        const double beta_1_power = std::pow(static_cast<double>(beta_1_), step);
        const double beta_2_power = std::pow(static_cast<double>(beta_2_), step);
        const float alpha =
            static_cast<float>(lr * std::sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power));
        const float one_minus_beta_1 = 1.0f - beta_1_;
        const float one_minus_beta_2 = 1.0f - beta_2_;
        if (amsgrad_)
            adam_loop<true>(param, grad, slots[0], slots[1], slots[2], n, one_minus_beta_1,
                            one_minus_beta_2, alpha, epsilon_);
        else
            adam_loop<false>(param, grad, slots[0], slots[1], nullptr, n, one_minus_beta_1,
                             one_minus_beta_2, alpha, epsilon_);
    }

private:
    static Schema schema(double default_weight_decay) {
        return {learning_rate(0.001),
                beta(kBeta1, 0.9),
                beta(kBeta2, 0.999),
                epsilon(),
                AttrSpec::optional(kAmsgrad, false),
                weight_decay(default_weight_decay)};
    }

    float beta_1_;
    float beta_2_;
    float epsilon_;
    bool amsgrad_;
};

// ---------------------------------------------------------------------------------------
// RMSprop (optimizer_v2/rmsprop.py). Slots "rms", then "momentum" when momentum > 0, then
// "mg" when centered. TF 2.x has two code paths, reproduced as they are:
//   momentum 0, computed in Python:
//     rms = rho * rms + (1 - rho) * g^2
//     mg = rho * mg + (1 - rho) * g;  denom = rms - mg^2        centered (else denom = rms)
//     param -= lr * g / (sqrt(denom) + epsilon)
//   momentum > 0, the ResourceApplyRMSProp / ResourceApplyCenteredRMSProp kernels:
//     rms = rms + (g^2 - rms) * (1 - rho)
//     mg = mg + (g - mg) * (1 - rho);  denom = rms - mg^2 + epsilon   centered
//                                      denom = rms + epsilon          otherwise
//     mom = momentum * mom + lr * g / sqrt(denom)
//     param -= mom
// Note where epsilon goes: outside the square root without momentum, inside it with
// momentum. That is TF 2.x's behaviour; it only matters when rms is near epsilon.

template <bool kCenteredUpdate>
void rmsprop_loop(float* __restrict param, const float* __restrict grad, float* __restrict rms,
                  float* __restrict mg, std::size_t n, float lr, float rho, float one_minus_rho,
                  float epsilon) {
    for (std::size_t i = 0; i < n; ++i) {
        rms[i] = rho * rms[i] + one_minus_rho * (grad[i] * grad[i]);
        float denom = rms[i];
        if constexpr (kCenteredUpdate) {
            mg[i] = rho * mg[i] + one_minus_rho * grad[i];
            denom = rms[i] - mg[i] * mg[i];
        }
        param[i] -= lr * grad[i] / (std::sqrt(denom) + epsilon);
    }
}

template <bool kCenteredUpdate>
void rmsprop_momentum_loop(float* __restrict param, const float* __restrict grad,
                           float* __restrict rms, float* __restrict mom, float* __restrict mg,
                           std::size_t n, float lr, float one_minus_rho, float momentum,
                           float epsilon) {
    for (std::size_t i = 0; i < n; ++i) {
        rms[i] += (grad[i] * grad[i] - rms[i]) * one_minus_rho;
        float denom = rms[i] + epsilon;
        if constexpr (kCenteredUpdate) {
            mg[i] += (grad[i] - mg[i]) * one_minus_rho;
            denom = (rms[i] - mg[i] * mg[i]) + epsilon;
        }
        mom[i] = mom[i] * momentum + (grad[i] * lr) / std::sqrt(denom);
        param[i] -= mom[i];
    }
}

class Rmsprop final : public KerasOptimizer {
public:
    static OptimizerDef def() {
        return {"rmsprop",
                "RMSprop: steps scaled by a moving average of squared gradients",
                {learning_rate(0.001), beta(kRho, 0.9), momentum(), epsilon(),
                 AttrSpec::optional(kCentered, false), weight_decay(0.0)},
                [](const ConfigItem& config) { return std::make_unique<Rmsprop>(config); }};
    }

    explicit Rmsprop(const ConfigItem& config)
        : KerasOptimizer(config, 1 + (config.attrs.get_real(kMomentum) > 0 ? 1 : 0) +
                                     (config.attrs.get_bool(kCentered) ? 1 : 0)),
          rho_(real_attr(config, kRho)),
          has_momentum_(config.attrs.get_real(kMomentum) > 0),
          momentum_(real_attr(config, kMomentum)),
          epsilon_(real_attr(config, kEpsilon)),
          centered_(config.attrs.get_bool(kCentered)) {}

    std::vector<std::string> slot_names() const override {
        std::vector<std::string> names = {"rms"};
        if (has_momentum_) names.push_back("momentum");
        if (centered_) names.push_back("mg");
        return names;
    }

    void update(float* param, const float* grad, std::size_t n, const std::vector<float*>& slots,
                double lr, std::int64_t t) const override {
        begin_update(param, n, slots, lr, t);
        const float lr_f = static_cast<float>(lr);
        const float one_minus_rho = 1.0f - rho_;
        float* rms = slots[0];
        float* mg = centered_ ? slots.back() : nullptr;
        if (!has_momentum_) {
            if (centered_)
                rmsprop_loop<true>(param, grad, rms, mg, n, lr_f, rho_, one_minus_rho, epsilon_);
            else
                rmsprop_loop<false>(param, grad, rms, mg, n, lr_f, rho_, one_minus_rho, epsilon_);
            return;
        }
        float* mom = slots[1];
        if (centered_)
            rmsprop_momentum_loop<true>(param, grad, rms, mom, mg, n, lr_f, one_minus_rho,
                                        momentum_, epsilon_);
        else
            rmsprop_momentum_loop<false>(param, grad, rms, mom, mg, n, lr_f, one_minus_rho,
                                         momentum_, epsilon_);
    }

private:
    float rho_;
    bool has_momentum_;
    float momentum_;
    float epsilon_;
    bool centered_;
};

}  // namespace

OptimizerRegistry builtin_optimizers() {
    OptimizerRegistry registry("optimizer");
    registry.add(Sgd::def());
    registry.add(Adam::def());
    registry.add(Adam::adamw_def());
    registry.add(Rmsprop::def());
    return registry;
}

std::unique_ptr<Optimizer> make_optimizer(const ConfigItem& config) {
    return builtin_optimizers().make(config);
}

std::string optimizer_slot_name(const std::string& slot, const std::string& param) {
    return kOptimizerSlotPrefix + slot + "/" + param;
}

}  // namespace opgraph
