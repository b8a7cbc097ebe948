#include "opgraph/train/lr_schedule.hpp"

#include <muParser.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>
#include <optional>
#include <stdexcept>

namespace opgraph {

double LrSchedule::at(std::int64_t t, double lr, std::int64_t epoch, std::int64_t step) const {
    if (t < 0)
        throw std::invalid_argument("learning-rate schedule index " + std::to_string(t) +
                                    " is negative");
    return rate(t, lr, epoch, step);
}

namespace {

AttrSpec initial_learning_rate() {
    return AttrSpec::required("initial_learning_rate", AttrType::real).greater_than(0);
}
AttrSpec decay_steps() { return AttrSpec::optional("decay_steps", 1.0).greater_than(0); }
AttrSpec staircase() { return AttrSpec::optional("staircase", false); }

// p = t / decay_steps, floored when staircase (inverse_time, exponential).
double decay_progress(std::int64_t t, double decay_steps, bool staircase) {
    const double x = static_cast<double>(t);
    return staircase ? std::floor(x / decay_steps) : x / decay_steps;
}

// Keras's InverseTimeDecay.
class InverseTime final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {
            "inverse_time",
            "initial_learning_rate / (1 + decay_rate * t / decay_steps) (Keras's "
            "InverseTimeDecay)",
            {initial_learning_rate(), AttrSpec::required("decay_rate", AttrType::real).at_least(0),
             decay_steps(), staircase()},
            [](const ConfigItem& item) { return std::make_unique<InverseTime>(item); }};
    }

    explicit InverseTime(const ConfigItem& item)
        : LrSchedule(item.type),
          initial_(item.attrs.get_real("initial_learning_rate")),
          decay_rate_(item.attrs.get_real("decay_rate")),
          decay_steps_(item.attrs.get_real("decay_steps")),
          staircase_(item.attrs.get_bool("staircase")) {}

private:
    double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
        return initial_ / (1.0 + decay_rate_ * decay_progress(t, decay_steps_, staircase_));
    }

    double initial_, decay_rate_, decay_steps_;
    bool staircase_;
};

// Keras's ExponentialDecay.
class Exponential final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {"exponential",
                "initial_learning_rate * decay_rate ^ (t / decay_steps) (Keras's "
                "ExponentialDecay)",
                {initial_learning_rate(),
                 AttrSpec::required("decay_rate", AttrType::real).greater_than(0), decay_steps(),
                 staircase()},
                [](const ConfigItem& item) { return std::make_unique<Exponential>(item); }};
    }

    explicit Exponential(const ConfigItem& item)
        : LrSchedule(item.type),
          initial_(item.attrs.get_real("initial_learning_rate")),
          decay_rate_(item.attrs.get_real("decay_rate")),
          decay_steps_(item.attrs.get_real("decay_steps")),
          staircase_(item.attrs.get_bool("staircase")) {}

private:
    double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
        return initial_ * std::pow(decay_rate_, decay_progress(t, decay_steps_, staircase_));
    }

    double initial_, decay_rate_, decay_steps_;
    bool staircase_;
};

// PyTorch's StepLR.
class Step final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {"step",
                "initial_learning_rate * gamma ^ floor(t / step_size) (PyTorch's StepLR)",
                {initial_learning_rate(),
                 AttrSpec::required("step_size", AttrType::integer).at_least(1),
                 AttrSpec::optional("gamma", 0.1).greater_than(0)},
                [](const ConfigItem& item) { return std::make_unique<Step>(item); }};
    }

    explicit Step(const ConfigItem& item)
        : LrSchedule(item.type),
          initial_(item.attrs.get_real("initial_learning_rate")),
          step_size_(item.attrs.get_real("step_size")),
          gamma_(item.attrs.get_real("gamma")) {}

private:
    double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
        return initial_ * std::pow(gamma_, std::floor(static_cast<double>(t) / step_size_));
    }

    double initial_, step_size_, gamma_;
};

// Keras's CosineDecay: from initial to initial * alpha over decay_steps, then held.
class Cosine final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {"cosine",
                "cosine decay from initial_learning_rate to alpha * initial over decay_steps "
                "(Keras's CosineDecay)",
                {initial_learning_rate(),
                 AttrSpec::required("decay_steps", AttrType::integer).at_least(1),
                 AttrSpec::optional("alpha", 0.0).at_least(0).at_most(1)},
                [](const ConfigItem& item) { return std::make_unique<Cosine>(item); }};
    }

    explicit Cosine(const ConfigItem& item)
        : LrSchedule(item.type),
          initial_(item.attrs.get_real("initial_learning_rate")),
          decay_steps_(item.attrs.get_real("decay_steps")),
          alpha_(item.attrs.get_real("alpha")) {}

private:
    double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
        const double done = std::min(static_cast<double>(t), decay_steps_) / decay_steps_;
        const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * done));
        return initial_ * ((1.0 - alpha_) * cosine + alpha_);
    }

    double initial_, decay_steps_, alpha_;
};

// PyTorch's _annealing_cos: from `start` at pct 0 to `end` at pct 1.
double anneal_cos(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}

// Smith's one-cycle policy as PyTorch's OneCycleLR (cosine annealing, two phases).
class OneCycle final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {"one_cycle",
                "warm up to max_learning_rate over pct_start of total_steps, then anneal "
                "(PyTorch's OneCycleLR)",
                {AttrSpec::required("max_learning_rate", AttrType::real).greater_than(0),
                 AttrSpec::required("total_steps", AttrType::integer).at_least(1),
                 AttrSpec::optional("pct_start", 0.3).greater_than(0).less_than(1),
                 AttrSpec::optional("div_factor", 25.0).greater_than(0),
                 AttrSpec::optional("final_div_factor", 1e4).greater_than(0)},
                [](const ConfigItem& item) { return std::make_unique<OneCycle>(item); }};
    }

    explicit OneCycle(const ConfigItem& item)
        : LrSchedule(item.type),
          max_(item.attrs.get_real("max_learning_rate")),
          total_steps_(item.attrs.get_real("total_steps")),
          pct_start_(item.attrs.get_real("pct_start")),
          div_factor_(item.attrs.get_real("div_factor")),
          final_div_factor_(item.attrs.get_real("final_div_factor")) {}

private:
    double rate(std::int64_t t, double, std::int64_t, std::int64_t) const override {
        const double x = static_cast<double>(t);
        const double start = max_ / div_factor_;
        const double end = start / final_div_factor_;
        const double peak_at = pct_start_ * total_steps_ - 1.0;
        const double last = total_steps_ - 1.0;
        // PyTorch divides 0 by 0 when the warm-up phase is empty; it ends at its peak.
        if (x <= peak_at) return anneal_cos(start, max_, peak_at > 0 ? x / peak_at : 1.0);
        const double span = last - peak_at;
        const double pct = span > 0 ? std::min((x - peak_at) / span, 1.0) : 1.0;
        return anneal_cos(max_, end, pct);
    }

    double max_, total_steps_, pct_start_, div_factor_, final_div_factor_;
};

// Binds the variables to `parser`, sets `text` and evaluates it once at epoch 0, step 0 and
// lr 1e-3, as muparser compiles on the first evaluation; returns that value. The parser keeps
// the variables' addresses. Throws mu::Parser::exception_type.
double compile(mu::Parser& parser, const std::string& text, double& epoch, double& step,
               double& lr) {
    parser.DefineVar("epoch", &epoch);
    parser.DefineVar("step", &step);
    parser.DefineVar("lr", &lr);
    parser.SetExpr(text);
    epoch = 0;
    step = 0;
    lr = 1e-3;
    return parser.Eval();
}

std::string number_str(double v) { return attr_value_str(AttrValue{v}); }

// A free expression of epoch, step and lr (muparser syntax).
class Expression final : public LrSchedule {
public:
    static ScheduleDef def() {
        return {
            .name = "expression",
            .doc = "any expression of epoch, step and lr (muparser syntax), checked when loaded",
            .schema = {AttrSpec::required("expression", AttrType::string)},
            .factory = [](const ConfigItem& item) { return std::make_unique<Expression>(item); },
            .check = check};
    }

    // Throws std::invalid_argument when muparser cannot compile the expression.
    explicit Expression(const ConfigItem& item)
        : LrSchedule(item.type), text_(item.attrs.get_string("expression")) {
        try {
            (void)compile(parser_, text_, epoch_, step_, lr_);
        } catch (const mu::Parser::exception_type& error) {
            throw std::invalid_argument(
                "schedule expression: cannot parse '" + text_ + "': " + error.GetMsg() +
                " at position " + std::to_string(error.GetPos()) + " (variables: epoch, step, lr)");
        }
    }

private:
    // What the training reader reports: the expression must compile and give a positive
    // rate at epoch 0 (the position of a parse error is muparser's).
    static std::optional<ItemProblem> check(const AttrMap& attrs) {
        const std::string& text = attrs.get_string("expression");
        double epoch = 0, step = 0, lr = 0;
        try {
            mu::Parser parser;
            const double value = compile(parser, text, epoch, step, lr);
            if (!std::isfinite(value) || value <= 0)
                return ItemProblem{"expression",
                                   "gives learning rate " + number_str(value) +
                                       " at epoch 0; it must be a positive finite number",
                                   std::nullopt};
        } catch (const mu::Parser::exception_type& e) {
            return ItemProblem{
                "expression",
                "cannot parse '" + text + "': " + e.GetMsg() + " (variables: epoch, step, lr)",
                static_cast<std::size_t>(e.GetPos())};
        }
        return std::nullopt;
    }

    double rate(std::int64_t, double lr, std::int64_t epoch, std::int64_t step) const override {
        double value = 0;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            epoch_ = static_cast<double>(epoch);
            step_ = static_cast<double>(step);
            lr_ = lr;
            try {
                value = parser_.Eval();
            } catch (const mu::Parser::exception_type& error) {
                throw std::domain_error("schedule expression '" + text_ + "' fails at epoch " +
                                        std::to_string(epoch) + ", step " + std::to_string(step) +
                                        ": " + error.GetMsg());
            }
        }
        if (!std::isfinite(value) || value < 0)
            throw std::domain_error("schedule expression '" + text_ + "' gives learning rate " +
                                    number_str(value) + " at epoch " + std::to_string(epoch) +
                                    ", step " + std::to_string(step) +
                                    "; it must be a finite number >= 0");
        return value;
    }

    std::string text_;
    // The parser reads the variables through their addresses: the object never moves (the
    // mutex makes it immovable). Evaluating writes them, under the mutex.
    mutable std::mutex mutex_;
    mutable mu::Parser parser_;
    mutable double epoch_ = 0, step_ = 0, lr_ = 0;
};

}  // namespace

ScheduleRegistry builtin_schedules() {
    ScheduleRegistry registry("schedule");
    registry.add(InverseTime::def());
    registry.add(Exponential::def());
    registry.add(Step::def());
    registry.add(Cosine::def());
    registry.add(OneCycle::def());
    registry.add(Expression::def());
    return registry;
}

}  // namespace opgraph
