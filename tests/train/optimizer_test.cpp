#include "opgraph/train/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using opgraph::AttrSpec;
using opgraph::AttrValue;
using opgraph::ConfigItem;
using opgraph::Optimizer;

// Updates are computed in float: a few float roundings of values near 1.
constexpr double kTolerance = 2e-6;
// Adam's v is scaled by 1 - beta_2 computed in float as TF does: 1 - 0.999f = 0.00099998713,
// 1.3e-5 relative off 0.001, so v (at most 0.0041 here) is checked to 1e-7.
constexpr double kSecondMomentTolerance = 1e-7;

// An optimizer item with the given attributes; make_optimizer fills in the schema defaults.
ConfigItem optimizer_config(const std::string& type,
                            const std::map<std::string, AttrValue>& overrides = {}) {
    ConfigItem config;
    config.type = type;
    for (const auto& [name, value] : overrides) config.attrs.set(name, value);
    return config;
}

// One parameter being trained: its values, its zero-initialised slots and the step count.
struct Trained {
    Trained(const ConfigItem& config, std::vector<float> initial)
        : optimizer(opgraph::make_optimizer(config)), param(std::move(initial)) {
        slots.assign(optimizer->slot_names().size(), std::vector<float>(param.size(), 0.0f));
        for (auto& slot : slots) slot_ptrs.push_back(slot.data());
    }

    void step(const std::vector<float>& grad, double lr) {
        ASSERT_EQ(grad.size(), param.size());
        optimizer->update(param.data(), grad.data(), param.size(), slot_ptrs, lr, ++t);
    }

    const std::vector<float>& slot(const std::string& name) const {
        const std::vector<std::string> names = optimizer->slot_names();
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == name) return slots[i];
        throw std::out_of_range("no slot " + name);
    }

    std::unique_ptr<Optimizer> optimizer;
    std::vector<float> param;
    std::vector<std::vector<float>> slots;
    std::vector<float*> slot_ptrs;
    std::int64_t t = 0;
};

void expect_values(const std::vector<float>& actual, std::initializer_list<double> expected,
                   double tolerance = kTolerance) {
    ASSERT_EQ(actual.size(), expected.size());
    std::size_t i = 0;
    for (const double value : expected) {
        EXPECT_NEAR(actual[i], value, tolerance) << "element " << i;
        ++i;
    }
}

// The same three-element parameter and two gradients throughout.
const std::vector<float> kParam = {1.0f, -2.0f, 0.5f};
const std::vector<float> kGrad1 = {0.5f, -1.0f, 2.0f};
const std::vector<float> kGrad2 = {0.1f, 0.2f, -0.3f};
const std::vector<float> kZeroGrad = {0.0f, 0.0f, 0.0f};
constexpr double kLr = 0.1;

// ----------------------------------------------------------------------------------- SGD

TEST(Sgd, PlainStepIsLearningRateTimesGradient) {
    Trained sgd(optimizer_config("sgd"), kParam);
    EXPECT_TRUE(sgd.optimizer->slot_names().empty());
    // p -= 0.1 * g1 = {1 - 0.05, -2 + 0.1, 0.5 - 0.2}
    sgd.step(kGrad1, kLr);
    expect_values(sgd.param, {0.95, -1.9, 0.3});
    // p -= 0.1 * g2 = {0.95 - 0.01, -1.9 - 0.02, 0.3 + 0.03}
    sgd.step(kGrad2, kLr);
    expect_values(sgd.param, {0.94, -1.92, 0.33});
}

TEST(Sgd, MomentumAccumulatesVelocity) {
    Trained sgd(optimizer_config("sgd", {{"momentum", 0.9}}), kParam);
    ASSERT_EQ(sgd.optimizer->slot_names(), std::vector<std::string>{"momentum"});
    // vel = 0.9 * 0 - 0.1 * g1 = {-0.05, 0.1, -0.2}; p += vel
    sgd.step(kGrad1, kLr);
    expect_values(sgd.slot("momentum"), {-0.05, 0.1, -0.2});
    expect_values(sgd.param, {0.95, -1.9, 0.3});
    // vel = 0.9 * vel - 0.1 * g2 = {-0.045 - 0.01, 0.09 - 0.02, -0.18 + 0.03}
    //     = {-0.055, 0.07, -0.15}; p += vel
    sgd.step(kGrad2, kLr);
    expect_values(sgd.slot("momentum"), {-0.055, 0.07, -0.15});
    expect_values(sgd.param, {0.895, -1.83, 0.15});
    // No gradient: vel = 0.9 * vel = {-0.0495, 0.063, -0.135}; p += vel
    sgd.step(kZeroGrad, kLr);
    expect_values(sgd.param, {0.8455, -1.767, 0.015});
}

TEST(Sgd, NesterovLooksAheadAlongTheNewVelocity) {
    Trained sgd(optimizer_config("sgd", {{"momentum", 0.9}, {"nesterov", true}}), kParam);
    // vel = {-0.05, 0.1, -0.2} as without Nesterov, but
    // p += 0.9 * vel - 0.1 * g1 = {-0.045 - 0.05, 0.09 + 0.1, -0.18 - 0.2}
    //    = {-0.095, 0.19, -0.38}
    sgd.step(kGrad1, kLr);
    expect_values(sgd.slot("momentum"), {-0.05, 0.1, -0.2});
    expect_values(sgd.param, {0.905, -1.81, 0.12});
    // vel = {-0.055, 0.07, -0.15};
    // p += 0.9 * vel - 0.1 * g2 = {-0.0495 - 0.01, 0.063 - 0.02, -0.135 + 0.03}
    //    = {-0.0595, 0.043, -0.105}
    sgd.step(kGrad2, kLr);
    expect_values(sgd.slot("momentum"), {-0.055, 0.07, -0.15});
    expect_values(sgd.param, {0.8455, -1.767, 0.015});
}

TEST(Sgd, NesterovAndPlainMomentumDifferAsTheFormulasSay) {
    Trained plain(optimizer_config("sgd", {{"momentum", 0.5}}), kParam);
    Trained nesterov(optimizer_config("sgd", {{"momentum", 0.5}, {"nesterov", true}}), kParam);
    for (const auto* grad : {&kGrad1, &kGrad2, &kGrad1}) {
        const std::vector<float> plain_before = plain.param;
        const std::vector<float> nesterov_before = nesterov.param;
        plain.step(*grad, kLr);
        nesterov.step(*grad, kLr);
        for (std::size_t i = 0; i < kParam.size(); ++i) {
            // Same velocity, different step: vel versus momentum * vel - lr * g.
            const double velocity = plain.slot("momentum")[i];
            EXPECT_NEAR(nesterov.slot("momentum")[i], velocity, kTolerance);
            EXPECT_NEAR(plain.param[i] - plain_before[i], velocity, kTolerance);
            EXPECT_NEAR(nesterov.param[i] - nesterov_before[i], 0.5 * velocity - kLr * (*grad)[i],
                        kTolerance);
        }
    }
    EXPECT_GT(std::fabs(plain.param[0] - nesterov.param[0]), 0.01);
}

TEST(Sgd, NesterovWithoutMomentumIsPlainSgd) {
    Trained sgd(optimizer_config("sgd", {{"nesterov", true}}), kParam);
    EXPECT_TRUE(sgd.optimizer->slot_names().empty());
    sgd.step(kGrad1, kLr);
    expect_values(sgd.param, {0.95, -1.9, 0.3});
}

// ---------------------------------------------------------------------------------- Adam

TEST(Adam, TwoStepsByHand) {
    Trained adam(optimizer_config("adam"), kParam);
    ASSERT_EQ(adam.optimizer->slot_names(), (std::vector<std::string>{"m", "v"}));
    // t = 1: m = 0.1 * g1 = {0.05, -0.1, 0.2}
    //        v = 0.001 * g1^2 = {0.00025, 0.001, 0.004}
    //        sqrt(v) = {0.0158114, 0.0316228, 0.0632456}
    //        alpha = 0.1 * sqrt(1 - 0.999) / (1 - 0.9) = 0.0316227766
    //        step = alpha * m / (sqrt(v) + 1e-7)
    //             = {0.00158114 / 0.0158115, -0.00316228 / 0.0316229, 0.00632456 / 0.0632457}
    //             = {0.09999937, -0.09999968, 0.09999984}
    adam.step(kGrad1, kLr);
    expect_values(adam.slot("m"), {0.05, -0.1, 0.2});
    expect_values(adam.slot("v"), {0.00025, 0.001, 0.004}, kSecondMomentTolerance);
    expect_values(adam.param, {0.90000063, -1.90000032, 0.40000016});
    // t = 2: m = 0.9 * m + 0.1 * g2 = {0.045 + 0.01, -0.09 + 0.02, 0.18 - 0.03}
    //          = {0.055, -0.07, 0.15}
    //        v = 0.999 * v + 0.001 * g2^2 = {0.00024975 + 0.00001, 0.000999 + 0.00004,
    //            0.003996 + 0.00009} = {0.00025975, 0.001039, 0.004086}
    //        alpha = 0.1 * sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.1 * 0.0447102 / 0.19 = 0.0235317
    //        step = alpha * m / (sqrt(v) + 1e-7)
    //             = {0.00129425 / 0.0161168, -0.00164722 / 0.0322336, 0.00352975 / 0.0639219}
    //             = {0.0803036, -0.0511024, 0.0552197}
    adam.step(kGrad2, kLr);
    expect_values(adam.slot("m"), {0.055, -0.07, 0.15});
    expect_values(adam.slot("v"), {0.00025975, 0.001039, 0.004086}, kSecondMomentTolerance);
    expect_values(adam.param, {0.81969703, -1.84889787, 0.34478044});
}

TEST(Adam, BiasCorrectionMakesTheFirstStepLearningRateTimesSign) {
    // At t = 1, m = (1 - b1) g and v = (1 - b2) g^2, and alpha = lr sqrt(1 - b2) / (1 - b1)
    // cancels both factors: step = lr * g / |g| (less epsilon's share), whatever |g| is.
    const std::vector<float> grad = {0.01f, -1.0f, 100.0f, -3.5f};
    const double lr = 0.001;
    Trained adam(optimizer_config("adam"), std::vector<float>(grad.size(), 1.0f));
    adam.step(grad, lr);
    for (std::size_t i = 0; i < grad.size(); ++i) {
        const double sign = grad[i] > 0 ? 1.0 : -1.0;
        EXPECT_NEAR(1.0 - adam.param[i], lr * sign, lr * 1e-3) << "g = " << grad[i];
    }
}

TEST(Adam, AmsgradDividesByTheLargestSecondMomentSoFar) {
    // The second gradient is 0 for elements 0 and 2, so their v shrinks (v = 0.999 v) and
    // vhat keeps step 1's v; element 1's v grows and vhat follows it.
    const std::vector<float> grad2 = {0.0f, 0.2f, 0.0f};
    Trained amsgrad(optimizer_config("adam", {{"amsgrad", true}}), kParam);
    Trained adam(optimizer_config("adam"), kParam);
    ASSERT_EQ(amsgrad.optimizer->slot_names(), (std::vector<std::string>{"m", "v", "vhat"}));
    amsgrad.step(kGrad1, kLr);
    adam.step(kGrad1, kLr);
    // t = 1: vhat = v, so the step is Adam's.
    expect_values(amsgrad.param, {0.90000063, -1.90000032, 0.40000016});
    expect_values(amsgrad.slot("vhat"), {0.00025, 0.001, 0.004}, kSecondMomentTolerance);
    // t = 2: m = {0.045, -0.09 + 0.02, 0.18} = {0.045, -0.07, 0.18}
    //        v = {0.00024975, 0.000999 + 0.00004, 0.003996} = {0.00024975, 0.001039, 0.003996}
    //        vhat = max(vhat, v) = {0.00025, 0.001039, 0.004}
    //        alpha = 0.0235317
    //        amsgrad step = alpha * m / (sqrt(vhat) + 1e-7)
    //                     = {0.00105893 / 0.0158115, -0.00164722 / 0.0322336,
    //                        0.00423570 / 0.0632457} = {0.0669719, -0.0511024, 0.0669722}
    //        Adam's step (sqrt(v)) = {0.0670054, -0.0511024, 0.0670057}
    amsgrad.step(grad2, kLr);
    adam.step(grad2, kLr);
    expect_values(amsgrad.slot("v"), {0.00024975, 0.001039, 0.003996}, kSecondMomentTolerance);
    expect_values(amsgrad.slot("vhat"), {0.00025, 0.001039, 0.004}, kSecondMomentTolerance);
    expect_values(amsgrad.param, {0.83302874, -1.84889787, 0.33302795});
    expect_values(adam.param, {0.83299523, -1.84889787, 0.33299444});
}

TEST(AdamW, DecaysTheWeightsBeforeTheAdamStep) {
    Trained adamw(optimizer_config("adamw"), kParam);  // weight_decay 0.004
    // p = p - 0.1 * 0.004 * p = 0.9996 p = {0.9996, -1.9992, 0.4998}, then Adam's first
    // step {0.09999937, -0.09999968, 0.09999984}.
    adamw.step(kGrad1, kLr);
    expect_values(adamw.param, {0.89960063, -1.89920032, 0.39980016});
}

// ------------------------------------------------------------------------------- RMSprop

TEST(Rmsprop, TwoStepsByHand) {
    Trained rmsprop(optimizer_config("rmsprop"), kParam);
    ASSERT_EQ(rmsprop.optimizer->slot_names(), std::vector<std::string>{"rms"});
    // rms = 0.1 * g1^2 = {0.025, 0.1, 0.4}, sqrt = {0.158114, 0.316228, 0.632456}
    // step = 0.1 * g1 / (sqrt(rms) + 1e-7) = {0.05 / 0.158114, -0.1 / 0.316228, 0.2 / 0.632456}
    //      = {0.3162276, -0.3162277, 0.3162277}
    rmsprop.step(kGrad1, kLr);
    expect_values(rmsprop.slot("rms"), {0.025, 0.1, 0.4});
    expect_values(rmsprop.param, {0.68377243, -1.68377233, 0.18377228});
    // rms = 0.9 * rms + 0.1 * g2^2 = {0.0225 + 0.001, 0.09 + 0.004, 0.36 + 0.009}
    //     = {0.0235, 0.094, 0.369}, sqrt = {0.153297, 0.306594, 0.607454}
    // step = 0.1 * g2 / (sqrt(rms) + 1e-7) = {0.01 / 0.153297, 0.02 / 0.306594, -0.03 / 0.607454}
    //      = {0.0652328, 0.0652328, -0.0493865}
    rmsprop.step(kGrad2, kLr);
    expect_values(rmsprop.slot("rms"), {0.0235, 0.094, 0.369});
    expect_values(rmsprop.param, {0.61853967, -1.74900512, 0.23315876});
}

TEST(Rmsprop, CenteredSubtractsTheSquaredMeanGradient) {
    Trained rmsprop(optimizer_config("rmsprop", {{"centered", true}}), kParam);
    ASSERT_EQ(rmsprop.optimizer->slot_names(), (std::vector<std::string>{"rms", "mg"}));
    // rms = {0.025, 0.1, 0.4}; mg = 0.1 * g1 = {0.05, -0.1, 0.2}
    // denom = rms - mg^2 = {0.025 - 0.0025, 0.1 - 0.01, 0.4 - 0.04} = {0.0225, 0.09, 0.36}
    // sqrt(denom) = {0.15, 0.3, 0.6}; step = 0.1 * g1 / (sqrt + 1e-7) = {1/3, -1/3, 1/3}
    rmsprop.step(kGrad1, kLr);
    expect_values(rmsprop.slot("mg"), {0.05, -0.1, 0.2});
    expect_values(rmsprop.param, {0.66666689, -1.66666678, 0.16666672});
    // rms = {0.0235, 0.094, 0.369}; mg = 0.9 * mg + 0.1 * g2 = {0.055, -0.07, 0.15}
    // denom = {0.0235 - 0.003025, 0.094 - 0.0049, 0.369 - 0.0225} = {0.020475, 0.0891, 0.3465}
    // step = 0.1 * g2 / (sqrt(denom) + 1e-7) = {0.01 / 0.143091, 0.02 / 0.298496,
    //        -0.03 / 0.588643} = {0.0698856, 0.0670025, -0.0509647}
    rmsprop.step(kGrad2, kLr);
    expect_values(rmsprop.slot("mg"), {0.055, -0.07, 0.15});
    expect_values(rmsprop.param, {0.59678128, -1.73366928, 0.21763143});
}

TEST(Rmsprop, MomentumAccumulatesTheScaledGradient) {
    Trained rmsprop(optimizer_config("rmsprop", {{"momentum", 0.9}}), kParam);
    ASSERT_EQ(rmsprop.optimizer->slot_names(), (std::vector<std::string>{"rms", "momentum"}));
    // rms = {0.025, 0.1, 0.4}; mom = 0.1 * g1 / sqrt(rms + 1e-7) = {0.3162271, -0.3162276,
    // 0.3162277}; p -= mom
    rmsprop.step(kGrad1, kLr);
    expect_values(rmsprop.slot("momentum"), {0.31622713, -0.31622761, 0.31622773});
    expect_values(rmsprop.param, {0.68377287, -1.68377239, 0.18377227});
    // rms = {0.0235, 0.094, 0.369}
    // mom = 0.9 * mom + 0.1 * g2 / sqrt(rms + 1e-7)
    //     = {0.2846044 + 0.0652327, -0.2846048 + 0.0652328, 0.2846050 - 0.0493865}
    //     = {0.3498371, -0.2193721, 0.2352185}; p -= mom
    rmsprop.step(kGrad2, kLr);
    expect_values(rmsprop.slot("momentum"), {0.34983709, -0.21937207, 0.23521848});
    expect_values(rmsprop.param, {0.33393578, -1.46440032, -0.05144621});
}

TEST(Rmsprop, CenteredWithMomentum) {
    Trained rmsprop(optimizer_config("rmsprop", {{"momentum", 0.9}, {"centered", true}}), kParam);
    ASSERT_EQ(rmsprop.optimizer->slot_names(), (std::vector<std::string>{"rms", "momentum", "mg"}));
    // mom = 0.1 * g1 / sqrt(rms - mg^2 + 1e-7) = {0.05 / 0.1500003, -0.1 / 0.3000002,
    //       0.2 / 0.6000001} = {0.3333326, -0.3333331, 0.3333333}
    rmsprop.step(kGrad1, kLr);
    expect_values(rmsprop.param, {0.66666741, -1.66666685, 0.16666671});
    // mom = 0.9 * mom + 0.1 * g2 / sqrt({0.020475, 0.0891, 0.3465} + 1e-7)
    //     = {0.2999993 + 0.0698855, -0.2999998 + 0.0670025, 0.3 - 0.0509647}
    rmsprop.step(kGrad2, kLr);
    expect_values(rmsprop.slot("momentum"), {0.36988482, -0.23299735, 0.24903525});
    expect_values(rmsprop.param, {0.29678259, -1.4336695, -0.08236853});
}

TEST(Rmsprop, EpsilonIsInsideTheSquareRootOnlyWithMomentumAsInTf2) {
    // TF 2.x: without momentum param -= lr g / (sqrt(rms) + eps) (optimizer_v2 Python);
    // with momentum the ResourceApplyRMSProp kernel divides by sqrt(rms + eps). With a tiny
    // gradient the two differ tenfold. g = 1e-4: rms = 0.1 * 1e-8 = 1e-9
    //   no momentum: 0.1 * 1e-4 / (3.16228e-5 + 1e-7) = 0.3152309
    //   momentum:    0.1 * 1e-4 / sqrt(1e-9 + 1e-7) = 1e-5 / 3.17805e-4 = 0.0314658
    const std::vector<float> tiny = {1e-4f};
    Trained plain(optimizer_config("rmsprop"), {0.0f});
    Trained with_momentum(optimizer_config("rmsprop", {{"momentum", 0.5}}), {0.0f});
    plain.step(tiny, kLr);
    with_momentum.step(tiny, kLr);
    EXPECT_NEAR(plain.param[0], -0.3152309, 1e-6);
    EXPECT_NEAR(with_momentum.param[0], -0.0314658, 1e-6);
}

// -------------------------------------------------------------------------- weight decay

TEST(WeightDecay, ShrinksWeightsByLearningRateTimesDecay) {
    // With a zero gradient every optimizer's own step is 0 (Adam: 0 / (0 + eps); RMSprop:
    // 0 / (0 + eps)), leaving the decay: p = p - 0.1 * 0.5 * p = 0.95 p.
    for (const char* type : {"sgd", "adam", "adamw", "rmsprop"}) {
        Trained decayed(optimizer_config(type, {{"weight_decay", 0.5}}), kParam);
        decayed.step(kZeroGrad, kLr);
        expect_values(decayed.param, {0.95, -1.9, 0.475});
        decayed.step(kZeroGrad, kLr);
        expect_values(decayed.param, {0.9025, -1.805, 0.45125});
    }
}

TEST(WeightDecay, IsAppliedBeforeTheStep) {
    // Decay first: p = 0.95 * 1 - 0.1 * 0.5 = 0.9. (Step first would give 0.95 * 0.95.)
    Trained sgd(optimizer_config("sgd", {{"weight_decay", 0.5}}), {1.0f});
    sgd.step({0.5f}, kLr);
    EXPECT_NEAR(sgd.param[0], 0.9, kTolerance);
}

// ------------------------------------------------------------------- make_optimizer, API

TEST(MakeOptimizer, UsesTheSchemaDefaults) {
    const auto sgd = opgraph::make_optimizer(optimizer_config("sgd"));
    EXPECT_EQ(sgd->name(), "sgd");
    EXPECT_DOUBLE_EQ(sgd->initial_learning_rate(), 0.01);
    EXPECT_TRUE(sgd->slot_names().empty());

    const auto adam = opgraph::make_optimizer(optimizer_config("adam"));
    EXPECT_EQ(adam->name(), "adam");
    EXPECT_DOUBLE_EQ(adam->initial_learning_rate(), 0.001);
    EXPECT_EQ(adam->slot_names(), (std::vector<std::string>{"m", "v"}));

    const auto adamw = opgraph::make_optimizer(optimizer_config("adamw"));
    EXPECT_EQ(adamw->name(), "adamw");
    EXPECT_DOUBLE_EQ(adamw->initial_learning_rate(), 0.001);
    EXPECT_EQ(adamw->slot_names(), (std::vector<std::string>{"m", "v"}));

    const auto rmsprop = opgraph::make_optimizer(optimizer_config("rmsprop"));
    EXPECT_EQ(rmsprop->name(), "rmsprop");
    EXPECT_DOUBLE_EQ(rmsprop->initial_learning_rate(), 0.001);
    EXPECT_EQ(rmsprop->slot_names(), std::vector<std::string>{"rms"});

    const auto custom = opgraph::make_optimizer(optimizer_config("sgd", {{"learning_rate", 0.5}}));
    EXPECT_DOUBLE_EQ(custom->initial_learning_rate(), 0.5);
}

TEST(MakeOptimizer, KnowsEveryBuiltInOptimizer) {
    const auto names = opgraph::builtin_optimizers().names();
    EXPECT_EQ(names, (std::vector<std::string>{"adam", "adamw", "rmsprop", "sgd"}));
    for (const std::string& type : names)
        EXPECT_EQ(opgraph::make_optimizer(optimizer_config(type))->name(), type);
}

TEST(MakeOptimizer, UnknownTypeThrows) {
    ConfigItem config = optimizer_config("adam");
    config.type = "adamm";
    try {
        opgraph::make_optimizer(config);
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what())
                      .find("unknown optimizer type 'adamm' (did you mean "
                            "'adam'?)"),
                  std::string::npos)
            << error.what();
    }
    config.type = "lbfgs";
    EXPECT_THROW(opgraph::make_optimizer(config), std::invalid_argument);
}

// ---------------------------------------------------------------------- the registry

TEST(OptimizerRegistry, DeclaresEachOptimizerWithItsDocAndKerasDefaults) {
    const opgraph::OptimizerRegistry registry = opgraph::builtin_optimizers();
    EXPECT_EQ(registry.kind(), "optimizer");
    for (const opgraph::OptimizerDef* def : registry.all()) {
        EXPECT_FALSE(def->doc.empty()) << def->name;
        EXPECT_TRUE(def->factory) << def->name;
        EXPECT_NE(opgraph::find_attr(def->schema, "learning_rate"), nullptr) << def->name;
        EXPECT_NE(opgraph::find_attr(def->schema, "weight_decay"), nullptr) << def->name;
    }
    auto default_of = [&](const std::string& type, const std::string& attr) {
        return *opgraph::find_attr(registry.find(type)->schema, attr)->default_value;
    };
    EXPECT_EQ(default_of("sgd", "learning_rate"), AttrValue{0.01});
    EXPECT_EQ(default_of("adam", "epsilon"), AttrValue{1e-7});
    EXPECT_EQ(default_of("adam", "weight_decay"), AttrValue{0.0});
    EXPECT_EQ(default_of("adamw", "weight_decay"), AttrValue{0.004});
    EXPECT_EQ(default_of("rmsprop", "rho"), AttrValue{0.9});
    EXPECT_EQ(registry.find("lbfgs"), nullptr);
    // What the training reader checks against: the same, sorted by name.
    const std::vector<opgraph::ItemSpec> specs = registry.specs();
    ASSERT_EQ(specs.size(), 4u);
    EXPECT_EQ(specs[1].name, "adamw");
    EXPECT_EQ(specs[1].schema.size(), registry.find("adamw")->schema.size());
    EXPECT_FALSE(specs[1].check);
    EXPECT_FALSE(specs[1].takes_schedule);
}

// Sign SGD, an optimizer of a caller's own: param -= lr * sign(g) * scale.
class SignSgd final : public Optimizer {
public:
    explicit SignSgd(const ConfigItem& config)
        : Optimizer(config.type, config.attrs.get_real("learning_rate")),
          scale_(config.attrs.get_real("scale")) {}
    std::vector<std::string> slot_names() const override { return {}; }
    void update(float* param, const float* grad, std::size_t n, const std::vector<float*>&,
                double lr, std::int64_t) const override {
        for (std::size_t i = 0; i < n; ++i)
            param[i] -= static_cast<float>(lr * scale_ * ((grad[i] > 0) - (grad[i] < 0)));
    }

private:
    double scale_;
};

opgraph::OptimizerDef sign_sgd_def() {
    return {"sign_sgd",
            "steps of lr * scale against the gradient's sign",
            {AttrSpec::optional("learning_rate", 0.01).greater_than(0),
             AttrSpec::optional("scale", 1.0).greater_than(0)},
            [](const ConfigItem& config) { return std::make_unique<SignSgd>(config); }};
}

TEST(OptimizerRegistry, ACallerAddsItsOwnOptimizerBesideTheBuiltInOnes) {
    opgraph::OptimizerRegistry registry = opgraph::builtin_optimizers();
    registry.add(sign_sgd_def());
    EXPECT_EQ(registry.names(),
              (std::vector<std::string>{"adam", "adamw", "rmsprop", "sgd", "sign_sgd"}));
    // make() fills in the defaults the item does not give.
    const auto optimizer = registry.make(optimizer_config("sign_sgd", {{"scale", 2.0}}));
    EXPECT_EQ(optimizer->name(), "sign_sgd");
    EXPECT_DOUBLE_EQ(optimizer->initial_learning_rate(), 0.01);
    std::vector<float> param = kParam;
    optimizer->update(param.data(), kGrad1.data(), 3, {}, kLr, 1);
    expect_values(param, {0.8, -1.8, 0.3});
    // The built-in registry is not changed by it: each is an object of its own.
    EXPECT_EQ(opgraph::builtin_optimizers().names(),
              (std::vector<std::string>{"adam", "adamw", "rmsprop", "sgd"}));
}

// The message of the std::invalid_argument `f` throws; a test failure when it does not.
template <class F>
std::string invalid_argument_of(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    ADD_FAILURE() << "no std::invalid_argument";
    return {};
}

TEST(OptimizerRegistry, RefusesBadDefinitions) {
    opgraph::OptimizerRegistry registry("optimizer");
    registry.add(sign_sgd_def());
    EXPECT_NE(invalid_argument_of([&] {
                  registry.add(sign_sgd_def());
              }).find("optimizer type 'sign_sgd' is already registered"),
              std::string::npos);
    opgraph::OptimizerDef unnamed = sign_sgd_def();
    unnamed.name.clear();
    EXPECT_THROW(registry.add(unnamed), std::invalid_argument);
    opgraph::OptimizerDef no_factory = sign_sgd_def();
    no_factory.name = "no_factory";
    no_factory.factory = nullptr;
    EXPECT_NE(invalid_argument_of([&] { registry.add(no_factory); }).find("has no factory"),
              std::string::npos);
    opgraph::OptimizerDef bad_default = sign_sgd_def();
    bad_default.name = "bad_default";
    bad_default.schema[1] = AttrSpec::optional("scale", -1.0).greater_than(0);
    EXPECT_NE(invalid_argument_of([&] {
                  registry.add(bad_default);
              }).find("attribute 'scale': the default must be > 0"),
              std::string::npos);
    opgraph::OptimizerDef twice = sign_sgd_def();
    twice.name = "twice";
    twice.schema.push_back(AttrSpec::optional("scale", 3.0));
    EXPECT_THROW(registry.add(twice), std::invalid_argument);
    EXPECT_EQ(registry.names(), std::vector<std::string>{"sign_sgd"});
}

TEST(OptimizerRegistry, MakeChecksTheItemAgainstTheSchema) {
    const opgraph::OptimizerRegistry registry = opgraph::builtin_optimizers();
    auto error = [&](const ConfigItem& item) {
        return invalid_argument_of([&] { (void)registry.make(item); });
    };
    EXPECT_NE(error(optimizer_config("lbfgs"))
                  .find("unknown optimizer type 'lbfgs' (types: [adam, adamw, rmsprop, sgd])"),
              std::string::npos);
    EXPECT_NE(error(optimizer_config("adam", {{"beta1", 0.8}}))
                  .find("optimizer 'adam': unknown attribute 'beta1' (did you mean 'beta_1'?)"),
              std::string::npos);
    EXPECT_NE(error(optimizer_config("adam", {{"beta_1", 1.0}}))
                  .find("optimizer 'adam' attribute 'beta_1': must be < 1"),
              std::string::npos);
    EXPECT_NE(error(optimizer_config("sgd", {{"nesterov", std::string("yes")}}))
                  .find("attribute 'nesterov': expects bool"),
              std::string::npos);
    // An int is a valid float, as in a model file.
    EXPECT_DOUBLE_EQ(registry.make(optimizer_config("sgd", {{"learning_rate", std::int64_t{2}}}))
                         ->initial_learning_rate(),
                     2.0);
}

TEST(Update, RejectsAWrongSlotCountAndAStepBeforeOne) {
    const auto adam = opgraph::make_optimizer(optimizer_config("adam"));
    std::vector<float> param = kParam;
    std::vector<float> m(3), v(3);
    EXPECT_THROW(adam->update(param.data(), kGrad1.data(), 3, {m.data()}, kLr, 1),
                 std::invalid_argument);
    EXPECT_THROW(adam->update(param.data(), kGrad1.data(), 3, {m.data(), v.data()}, kLr, 0),
                 std::invalid_argument);
    EXPECT_EQ(param, kParam);
    EXPECT_NO_THROW(adam->update(param.data(), kGrad1.data(), 3, {m.data(), v.data()}, kLr, 1));
}

// ---------------------------------------------------------------------------- convergence

struct ConvergenceCase {
    const char* type;
    std::map<std::string, AttrValue> attrs;
    double lr;
};

TEST(Convergence, EveryOptimizerMinimisesAQuadratic) {
    // f(x) = sum((x - 3)^2), gradient 2 (x - 3), from x = {0, 2, 4.5}, 500 steps. adamw's
    // weight decay (0.004) pulls its fixed point slightly toward 0: it ends 7e-3 below 3.
    const std::vector<ConvergenceCase> cases = {
        {"sgd", {}, 0.1},
        {"sgd", {{"momentum", 0.9}}, 0.01},
        {"sgd", {{"momentum", 0.9}, {"nesterov", true}}, 0.01},
        {"adam", {}, 0.05},
        {"adam", {{"amsgrad", true}}, 0.05},
        {"adamw", {}, 0.05},
        {"rmsprop", {}, 0.01},
        {"rmsprop", {{"centered", true}}, 0.01},
        {"rmsprop", {{"momentum", 0.9}}, 0.001},
    };
    for (const ConvergenceCase& c : cases) {
        Trained trained(optimizer_config(c.type, c.attrs), {0.0f, 2.0f, 4.5f});
        std::vector<float> grad(trained.param.size());
        for (int step = 0; step < 500; ++step) {
            for (std::size_t i = 0; i < grad.size(); ++i) grad[i] = 2 * (trained.param[i] - 3);
            trained.step(grad, c.lr);
        }
        for (std::size_t i = 0; i < grad.size(); ++i)
            EXPECT_LT(std::fabs(trained.param[i] - 3), 1e-2)
                << c.type << " (" << c.attrs.size() << " options set), element " << i
                << ": x = " << trained.param[i];
    }
}

}  // namespace
