#include "opgraph/train/lr_schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "opgraph/core/format.hpp"
#include "opgraph/ir/training_config.hpp"

namespace {

using opgraph::AttrValue;
using opgraph::ConfigItem;
using opgraph::keras_float_str;
using opgraph::LrSchedule;

// A schedule item with the given attributes, as a model file writes it.
ConfigItem schedule_item(const std::string& type,
                         const std::vector<std::pair<std::string, AttrValue>>& attrs) {
    ConfigItem item;
    item.type = type;
    for (const auto& [name, value] : attrs) item.attrs.set(name, value);
    return item;
}

// The schedule of `item`, built by the registry, which fills in the schema defaults.
std::unique_ptr<LrSchedule> make(const ConfigItem& item) {
    return opgraph::builtin_schedules().make(item);
}

// The learning rates Keras printed for lr = 0.003 / (1 + 0.319 * epoch), epochs 0..17.
const std::vector<std::string> kSeedLog = {
    "0.003",        "0.0022744503", "0.0018315018", "0.0015329586", "0.0013181019", "0.0011560694",
    "0.0010295127", "0.0009279307", "0.0008445946", "0.0007749935", "0.0007159905", "0.000665336",
    "0.0006213753", "0.0005828638", "0.0005488474", "0.0005185825", "0.000491481",  "0.0004670715"};

TEST(LrSchedule, InverseTimeMatchesSeedLog) {
    const auto schedule = make(
        schedule_item("inverse_time", {{"initial_learning_rate", 0.003}, {"decay_rate", 0.319}}));
    for (std::int64_t epoch = 0; epoch < 18; ++epoch)
        EXPECT_EQ(keras_float_str(schedule->at(epoch, 0.003, epoch, epoch * 1875)),
                  kSeedLog[static_cast<std::size_t>(epoch)])
            << "epoch " << epoch;
}

TEST(LrSchedule, ExpressionMatchesSeedLog) {
    const auto schedule = make(
        schedule_item("expression", {{"expression", std::string("0.003 / (1 + 0.319 * epoch)")}}));
    double lr = 0.003;
    for (std::int64_t epoch = 0; epoch < 18; ++epoch) {
        lr = schedule->at(epoch, lr, epoch, epoch * 1875);
        EXPECT_EQ(keras_float_str(lr), kSeedLog[static_cast<std::size_t>(epoch)])
            << "epoch " << epoch;
    }
}

TEST(LrSchedule, InverseTime) {
    const auto smooth =
        schedule_item("inverse_time",
                      {{"initial_learning_rate", 0.1}, {"decay_rate", 0.5}, {"decay_steps", 2.0}});
    const auto schedule = make(smooth);
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(1, 0, 0, 0), 0.1 / 1.25);
    EXPECT_DOUBLE_EQ(schedule->at(4, 0, 0, 0), 0.05);

    auto stairs = smooth;
    stairs.attrs.set("staircase", true);
    const auto staircase = make(stairs);
    EXPECT_DOUBLE_EQ(staircase->at(1, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(staircase->at(2, 0, 0, 0), 0.1 / 1.5);
    EXPECT_DOUBLE_EQ(staircase->at(3, 0, 0, 0), 0.1 / 1.5);
    EXPECT_DOUBLE_EQ(staircase->at(4, 0, 0, 0), 0.05);
}

TEST(LrSchedule, InverseTimeTakesIntegerDecaySteps) {
    // A YAML `decay_steps: 2` reads as an int; the real attribute accepts it.
    const auto schedule = make(schedule_item(
        "inverse_time",
        {{"initial_learning_rate", 0.1}, {"decay_rate", 0.5}, {"decay_steps", std::int64_t{2}}}));
    EXPECT_DOUBLE_EQ(schedule->at(4, 0, 0, 0), 0.05);
}

TEST(LrSchedule, Exponential) {
    auto item = schedule_item(
        "exponential", {{"initial_learning_rate", 0.1}, {"decay_rate", 0.5}, {"decay_steps", 2.0}});
    const auto schedule = make(item);
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(1, 0, 0, 0), 0.1 * std::sqrt(0.5));
    EXPECT_DOUBLE_EQ(schedule->at(2, 0, 0, 0), 0.05);
    EXPECT_DOUBLE_EQ(schedule->at(6, 0, 0, 0), 0.0125);

    item.attrs.set("staircase", true);
    const auto staircase = make(item);
    EXPECT_DOUBLE_EQ(staircase->at(1, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(staircase->at(3, 0, 0, 0), 0.05);
    EXPECT_DOUBLE_EQ(staircase->at(4, 0, 0, 0), 0.025);
}

TEST(LrSchedule, Step) {
    const auto schedule = make(schedule_item(
        "step", {{"initial_learning_rate", 1.0}, {"step_size", std::int64_t{3}}}));  // gamma 0.1
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 0, 0), 1.0);
    EXPECT_DOUBLE_EQ(schedule->at(2, 0, 0, 0), 1.0);
    EXPECT_DOUBLE_EQ(schedule->at(3, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(5, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(6, 0, 0, 0), 0.01);

    const auto halving = make(schedule_item(
        "step", {{"initial_learning_rate", 0.8}, {"step_size", std::int64_t{1}}, {"gamma", 0.5}}));
    EXPECT_DOUBLE_EQ(halving->at(3, 0, 0, 0), 0.1);
}

TEST(LrSchedule, Cosine) {
    const auto schedule = make(schedule_item(
        "cosine",
        {{"initial_learning_rate", 1.0}, {"decay_steps", std::int64_t{4}}, {"alpha", 0.1}}));
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 0, 0), 1.0);
    EXPECT_DOUBLE_EQ(schedule->at(1, 0, 0, 0), 0.45 * (1 + std::sqrt(0.5)) + 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(2, 0, 0, 0), 0.55);
    EXPECT_DOUBLE_EQ(schedule->at(4, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule->at(100, 0, 0, 0), 0.1);  // held at the end

    const auto to_zero = make(schedule_item(
        "cosine", {{"initial_learning_rate", 0.5}, {"decay_steps", std::int64_t{2}}}));
    EXPECT_DOUBLE_EQ(to_zero->at(1, 0, 0, 0), 0.25);
    EXPECT_NEAR(to_zero->at(2, 0, 0, 0), 0.0, 1e-17);
}

TEST(LrSchedule, OneCycleFollowsPyTorch) {
    // PyTorch OneCycleLR(max_lr=1, total_steps=10, pct_start=0.2): the peak is at step
    // 0.2 * 10 - 1 = 1, the end at step 9; start 1 / 25, end 1 / 25 / 1e4.
    const auto schedule = make(schedule_item(
        "one_cycle",
        {{"max_learning_rate", 1.0}, {"total_steps", std::int64_t{10}}, {"pct_start", 0.2}}));
    // PyTorch's formula at pct 0 is 1 + (0.04 - 1) / 2 * 2, not exactly 0.04.
    EXPECT_NEAR(schedule->at(0, 0, 0, 0), 0.04, 1e-15);
    EXPECT_DOUBLE_EQ(schedule->at(1, 0, 0, 0), 1.0);
    EXPECT_DOUBLE_EQ(schedule->at(3, 0, 0, 0), 4e-6 + (1 - 4e-6) / 2 * (1 + std::sqrt(0.5)));
    EXPECT_DOUBLE_EQ(schedule->at(5, 0, 0, 0), (1 + 4e-6) / 2);
    EXPECT_DOUBLE_EQ(schedule->at(9, 0, 0, 0), 4e-6);
    EXPECT_DOUBLE_EQ(schedule->at(50, 0, 0, 0), 4e-6);  // held after total_steps

    // Default pct_start 0.3 of 10 steps: peak at step 2, halfway up at step 1.
    const auto warmup = make(schedule_item(
        "one_cycle", {{"max_learning_rate", 0.5}, {"total_steps", std::int64_t{10}}}));
    EXPECT_NEAR(warmup->at(0, 0, 0, 0), 0.02, 1e-15);
    EXPECT_DOUBLE_EQ(warmup->at(1, 0, 0, 0), (0.5 + 0.02) / 2);
    EXPECT_DOUBLE_EQ(warmup->at(2, 0, 0, 0), 0.5);
}

TEST(LrSchedule, OneCycleWithEmptyWarmupStartsAtPeak) {
    // pct_start * total_steps = 1: PyTorch would divide 0 by 0 at step 0.
    const auto schedule = make(schedule_item(
        "one_cycle",
        {{"max_learning_rate", 1.0}, {"total_steps", std::int64_t{10}}, {"pct_start", 0.1}}));
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 0, 0), 1.0);
    EXPECT_DOUBLE_EQ(schedule->at(9, 0, 0, 0), 4e-6);
}

TEST(LrSchedule, ExpressionUsesLrAndStep) {
    const auto schedule =
        make(schedule_item("expression", {{"expression", std::string("lr * 0.5 + step / 1000")}}));
    EXPECT_DOUBLE_EQ(schedule->at(0, 0.2, 7, 3), 0.103);
    EXPECT_DOUBLE_EQ(schedule->at(3, 0.2, 0, 0), 0.1);  // t is not a variable
    EXPECT_EQ(schedule->type(), "expression");

    const auto warmup = make(schedule_item(
        "expression", {{"expression", std::string("min(1, (step + 1) / 100) * 0.1")}}));
    EXPECT_DOUBLE_EQ(warmup->at(0, 0, 0, 0), 0.001);
    EXPECT_DOUBLE_EQ(warmup->at(0, 0, 0, 499), 0.1);
}

TEST(LrSchedule, BadExpressionThrows) {
    for (const char* text : {"0.003 / (1 + epochs)", "0.003 * (", "", "lr +* 2"}) {
        EXPECT_THROW(make(schedule_item("expression", {{"expression", std::string(text)}})),
                     std::invalid_argument)
            << text;
    }
    try {
        (void)make(schedule_item("expression", {{"expression", std::string("1 / epochs")}}));
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("epochs"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("variables: epoch, step, lr"), std::string::npos)
            << e.what();
    }
}

TEST(LrSchedule, ExpressionGivingNegativeOrNanThrowsAtEvaluation) {
    const auto schedule =
        make(schedule_item("expression", {{"expression", std::string("0.1 - 0.01 * epoch")}}));
    EXPECT_DOUBLE_EQ(schedule->at(0, 0, 5, 0), 0.05);
    EXPECT_NEAR(schedule->at(0, 0, 10, 0), 0.0, 1e-17);
    EXPECT_THROW(schedule->at(0, 0, 11, 0), std::domain_error);

    const auto nan = make(schedule_item("expression", {{"expression", std::string("sqrt(-lr)")}}));
    EXPECT_THROW(nan->at(0, 0.1, 0, 0), std::domain_error);
}

TEST(LrSchedule, BadItemsThrow) {
    ConfigItem unknown;
    unknown.type = "cosin";
    try {
        (void)make(unknown);
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("did you mean 'cosine'"), std::string::npos)
            << e.what();
    }
    // decay_rate is required.
    ConfigItem missing = schedule_item("inverse_time", {{"initial_learning_rate", 0.1}});
    EXPECT_THROW(make(missing), std::invalid_argument);
    // Out of the schema's range, and of the wrong type.
    EXPECT_THROW(make(schedule_item(
                     "inverse_time",
                     {{"initial_learning_rate", 0.1}, {"decay_rate", 0.5}, {"decay_steps", 0.0}})),
                 std::invalid_argument);
    EXPECT_THROW(make(schedule_item("step", {{"initial_learning_rate", 0.1}, {"step_size", 2.5}})),
                 std::invalid_argument);
}

TEST(LrSchedule, MissingOptionalAttributesTakeDefaults) {
    ConfigItem item;
    item.type = "step";
    item.attrs.set("initial_learning_rate", 1.0);
    item.attrs.set("step_size", std::int64_t{2});
    EXPECT_DOUBLE_EQ(make(item)->at(2, 0, 0, 0), 0.1);
}

TEST(LrSchedule, NegativeIndexThrows) {
    const auto schedule = make(
        schedule_item("step", {{"initial_learning_rate", 1.0}, {"step_size", std::int64_t{3}}}));
    EXPECT_THROW(schedule->at(-1, 0, 0, 0), std::invalid_argument);
}

TEST(LrSchedule, ExpressionIsThreadSafe) {
    const auto shared = make(
        schedule_item("expression", {{"expression", std::string("lr + epoch * 1000 + step")}}));
    std::vector<std::thread> threads;
    std::vector<int> failures(8, 0);
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            for (int k = 0; k < 2000; ++k)
                if (shared->at(0, 0.5, i, k) != 0.5 + i * 1000 + k) ++failures[i];
        });
    }
    for (std::thread& thread : threads) thread.join();
    for (int i = 0; i < 8; ++i) EXPECT_EQ(failures[i], 0) << "thread " << i;
}

// ---------------------------------------------------------------------- the registry

TEST(LrScheduleRegistry, DeclaresEverySchedule) {
    const opgraph::ScheduleRegistry registry = opgraph::builtin_schedules();
    EXPECT_EQ(registry.kind(), "schedule");
    EXPECT_EQ(registry.names(), (std::vector<std::string>{"cosine", "exponential", "expression",
                                                          "inverse_time", "one_cycle", "step"}));
    for (const opgraph::ScheduleDef* def : registry.all()) {
        EXPECT_FALSE(def->doc.empty()) << def->name;
        EXPECT_FALSE(def->schema.empty()) << def->name;
        // Only the expression has a check beyond its schema.
        EXPECT_EQ(static_cast<bool>(def->check), def->name == "expression") << def->name;
    }
    const opgraph::AttrSpec* decay_rate =
        opgraph::find_attr(registry.find("inverse_time")->schema, "decay_rate");
    ASSERT_NE(decay_rate, nullptr);
    EXPECT_TRUE(decay_rate->required());
    EXPECT_EQ(make(schedule_item("cosine", {{"initial_learning_rate", 1.0},
                                            {"decay_steps", std::int64_t{4}}}))
                  ->type(),
              "cosine");
}

// A definition found in a temporary registry would dangle (this test once read one freed).
template <class Registry>
concept FindsOnATemporary = requires {
    std::declval<Registry&&>().find(std::string{});
};
static_assert(!FindsOnATemporary<opgraph::ScheduleRegistry>);
static_assert(requires(const opgraph::ScheduleRegistry& r) { r.find(std::string{}); });

TEST(LrScheduleRegistry, TheExpressionCheckGivesTheReadersProblems) {
    const opgraph::ScheduleRegistry registry = opgraph::builtin_schedules();
    const opgraph::ScheduleDef* def = registry.find("expression");
    ASSERT_NE(def, nullptr);
    auto check = [&](const std::string& text) {
        return def->check(opgraph::AttrMap{{"expression", text}});
    };
    EXPECT_FALSE(check("0.003 / (1 + 0.319 * epoch)").has_value());
    const auto parse = check("0.003 / (1 + * epoch)");
    ASSERT_TRUE(parse.has_value());
    EXPECT_EQ(parse->attribute, "expression");
    EXPECT_NE(parse->message.find("cannot parse '0.003 / (1 + * epoch)': "), std::string::npos)
        << parse->message;
    EXPECT_NE(parse->message.find("(variables: epoch, step, lr)"), std::string::npos);
    EXPECT_EQ(parse->position, std::optional<std::size_t>{13});  // the '*'
    const auto zero = check("lr - 0.001");
    ASSERT_TRUE(zero.has_value());
    EXPECT_EQ(zero->message,
              "gives learning rate 0.0 at epoch 0; it must be a positive finite number");
    EXPECT_FALSE(zero->position.has_value());
}

TEST(LrScheduleRegistry, ACallerAddsItsOwnSchedule) {
    // Linear warm-up to `peak` over `steps`, then constant.
    class Warmup final : public LrSchedule {
    public:
        explicit Warmup(const ConfigItem& item)
            : LrSchedule(item.type),
              peak_(item.attrs.get_real("peak")),
              steps_(item.attrs.get_real("steps")) {}

    private:
        double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
            return peak_ * std::min(1.0, static_cast<double>(t + 1) / steps_);
        }
        double peak_, steps_;
    };
    opgraph::ScheduleRegistry registry = opgraph::builtin_schedules();
    registry.add({"warmup",
                  "linear warm-up, then constant",
                  {opgraph::AttrSpec::required("peak", opgraph::AttrType::real).greater_than(0),
                   opgraph::AttrSpec::optional("steps", std::int64_t{4}).at_least(1)},
                  [](const ConfigItem& item) { return std::make_unique<Warmup>(item); }});
    const auto warmup = registry.make(schedule_item("warmup", {{"peak", 0.4}}));
    EXPECT_DOUBLE_EQ(warmup->at(0, 0, 0, 0), 0.1);
    EXPECT_DOUBLE_EQ(warmup->at(3, 0, 0, 0), 0.4);
    EXPECT_DOUBLE_EQ(warmup->at(9, 0, 0, 0), 0.4);
    EXPECT_THROW(warmup->at(-1, 0, 0, 0), std::invalid_argument);  // checked for every schedule
    EXPECT_THROW(registry.make(schedule_item("warmup", {})), std::invalid_argument);  // no peak
}

TEST(KerasFloatStr, AsPythonPrintsRoundedToTenDecimals) {
    EXPECT_EQ(keras_float_str(1e-05), "1e-05");
    EXPECT_EQ(keras_float_str(0.1), "0.1");
    EXPECT_EQ(keras_float_str(1.0), "1.0");
    EXPECT_EQ(keras_float_str(0.5), "0.5");
    EXPECT_EQ(keras_float_str(0.003), "0.003");
    EXPECT_EQ(keras_float_str(0.003 / (1 + 0.319)), "0.0022744503");
    EXPECT_EQ(keras_float_str(0.003 / (1 + 0.319 * 10)), "0.0007159905");
    EXPECT_EQ(keras_float_str(-1.0), "-1.0");
    EXPECT_EQ(keras_float_str(0.0), "0.0");
    EXPECT_EQ(keras_float_str(-0.0), "-0.0");
    EXPECT_EQ(keras_float_str(100.0), "100.0");
    EXPECT_EQ(keras_float_str(123.456), "123.456");
    EXPECT_EQ(keras_float_str(0.00012345678901234), "0.0001234568");
    EXPECT_EQ(keras_float_str(1e-4), "0.0001");
    EXPECT_EQ(keras_float_str(0.000100001), "0.000100001");
    EXPECT_EQ(keras_float_str(9.9e-05), "9.9e-05");
    EXPECT_EQ(keras_float_str(1.5e-5), "1.5e-05");
    EXPECT_EQ(keras_float_str(1.23456789012e-5), "1.23457e-05");
    EXPECT_EQ(keras_float_str(1e15), "1000000000000000.0");
    EXPECT_EQ(keras_float_str(1e16), "1e+16");
    EXPECT_EQ(keras_float_str(2.5e20), "2.5e+20");
    EXPECT_EQ(keras_float_str(1e300), "1e+300");
    // Would round to 0: printed unrounded.
    EXPECT_EQ(keras_float_str(1.5e-11), "1.5e-11");
    EXPECT_EQ(keras_float_str(std::nan("")), "nan");
    EXPECT_EQ(keras_float_str(HUGE_VAL), "inf");
    EXPECT_EQ(keras_float_str(-HUGE_VAL), "-inf");
}

}  // namespace
