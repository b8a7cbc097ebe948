#include "opgraph/train/callbacks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/format.hpp"
#include "opgraph/runtime/weights.hpp"
#include "opgraph/train/path_template.hpp"

namespace opgraph {

namespace {

namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();
// The prefix of an lr_scheduler's schedule's state keys.
constexpr std::string_view kSchedule = "schedule.";

// "00003", as Keras's '%05d'.
std::string epoch_str(std::int64_t epoch) {
    char text[32];
    std::snprintf(text, sizeof text, "%05lld", static_cast<long long>(epoch));
    return text;
}

// '%0.5f'
std::string fixed5(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%0.5f", value);
    return text;
}

// state[key], or `fallback` when the state has no such key.
double value_or(const std::map<std::string, double>& state, const char* key, double fallback) {
    const auto it = state.find(key);
    return it == state.end() ? fallback : it->second;
}

// The value `monitor` names in `log`; none for a val_ monitor without validation.
std::optional<double> monitored(const std::string& monitor, const EpochLog& log,
                                const CallbackContext& context) {
    if (monitor == "loss") return log.loss;
    if (monitor == "acc") return log.accuracy;
    if (!context.has_validation) return std::nullopt;
    if (monitor == "val_loss") return log.val_loss;
    return log.val_accuracy;
}

std::string available_metrics(const CallbackContext& context) {
    return context.has_validation ? "loss,acc,val_loss,val_acc" : "loss,acc";
}

// Keras's mode auto: max when the monitor is an accuracy, min otherwise.
bool maximizes(const std::string& monitor, const std::string& mode) {
    if (mode == "max") return true;
    if (mode == "min") return false;
    return monitor.find("acc") != std::string::npos;
}

void print_line(const CallbackContext& context, const std::string& line) {
    if (context.out) *context.out << line << "\n" << std::flush;
}

// The attributes the monitoring callbacks share.
AttrSpec monitor() {
    return AttrSpec::optional("monitor", std::string("val_loss"))
        .one_of({"loss", "acc", "val_loss", "val_acc"});
}
AttrSpec mode() {
    return AttrSpec::optional("mode", std::string("auto")).one_of({"auto", "min", "max"});
}

// lr_scheduler: sets the learning rate from its schedule before each epoch (per: epoch, t the
// epoch from 0; Keras's LearningRateScheduler, whose line it prints) or before each batch
// (per: step, t the optimizer steps taken so far; nothing printed). On resume in the middle
// of an epoch the rate of the checkpoint holds until the next epoch (or batch) sets one. Its
// state is the schedule's.
class LrScheduler : public Callback {
public:
    static CallbackDef def() {
        return {.name = "lr_scheduler",
                .doc =
                    "sets the learning rate from its schedule before each epoch or step "
                    "(Keras's LearningRateScheduler)",
                .schema = {AttrSpec::required("per", AttrType::string,
                                              "apply the schedule every epoch or step")
                               .one_of({"epoch", "step"}),
                           AttrSpec::optional("verbose", std::int64_t{1}).at_least(0).at_most(1)},
                .factory =
                    [](const ConfigItem& item, const CallbackSetup& setup) {
                        if (!setup.schedule)
                            throw std::invalid_argument(setup.label +
                                                        ": lr_scheduler needs a schedule");
                        return std::make_unique<LrScheduler>(item,
                                                             setup.schedules.make(*setup.schedule));
                    },
                .takes_schedule = true};
    }

    LrScheduler(const ConfigItem& item, std::unique_ptr<LrSchedule> schedule)
        : schedule_(std::move(schedule)), per_step_(item.attrs.get_string("per") == "step") {}

    void on_epoch_begin(const EpochBegin& begin, CallbackContext& context) override {
        if (per_step_) return;
        const std::int64_t epoch = begin.epoch - 1;
        context.learning_rate = schedule_->at(epoch, context.learning_rate, epoch, begin.step);
        print_line(context, "\nEpoch " + epoch_str(begin.epoch) +
                                ": LearningRateScheduler setting learning rate to " +
                                keras_float_str(context.learning_rate) + ".");
    }

    void on_batch_begin(const BatchBegin& begin, CallbackContext& context) override {
        if (!per_step_) return;
        context.learning_rate =
            schedule_->at(begin.step, context.learning_rate, begin.epoch - 1, begin.step);
    }

    std::map<std::string, double> state() const override {
        std::map<std::string, double> state;
        for (const auto& [key, value] : schedule_->state())
            state[std::string(kSchedule) + key] = value;
        return state;
    }
    void restore(const std::map<std::string, double>& state) override {
        std::map<std::string, double> own;
        for (const auto& [key, value] : state)
            if (key.rfind(kSchedule, 0) == 0) own[key.substr(kSchedule.size())] = value;
        schedule_->restore(own);
    }

private:
    std::unique_ptr<LrSchedule> schedule_;
    bool per_step_;
};

// model_checkpoint: saves the weights (save_weights) to `filepath`, a PathTemplate, after each
// epoch, or every `every_steps` batches when that is > 0. save_best_only saves only when
// `monitor` is strictly better than the best so far; when the logs lack it (a val_ monitor
// without validation data) the save is skipped with a warning. Parent folders are created.
// The weights alone are written whatever save_weights_only says.
class ModelCheckpoint : public Callback {
public:
    static CallbackDef def() {
        return {"model_checkpoint",
                "saves the weights after each epoch or every N steps, optionally only the best",
                {AttrSpec::required("filepath", AttrType::string), monitor(), mode(),
                 AttrSpec::optional("save_best_only", false),
                 AttrSpec::optional("save_weights_only", false),
                 AttrSpec::optional("every_steps", std::int64_t{0}).at_least(0)},
                [](const ConfigItem& item, const CallbackSetup& setup) {
                    return std::make_unique<ModelCheckpoint>(item, setup.label, setup.diagnostics);
                }};
    }

    ModelCheckpoint(const ConfigItem& item, const std::string& label, Diagnostics& diagnostics)
        : path_(item.attrs.get_string("filepath"), item, label, diagnostics),
          monitor_(item.attrs.get_string("monitor")),
          maximize_(maximizes(monitor_, item.attrs.get_string("mode"))),
          save_best_only_(item.attrs.get_bool("save_best_only")),
          every_steps_(item.attrs.get_int("every_steps")),
          best_(maximize_ ? -kInf : kInf) {}

    bool on_batch_end(const BatchLog& log, CallbackContext& context) override {
        if (every_steps_ <= 0 || log.step % every_steps_ != 0) return false;
        save(log.epoch, {{"loss", log.mean_loss}, {"acc", log.mean_accuracy}}, context);
        return false;
    }

    bool on_epoch_end(const EpochLog& log, CallbackContext& context) override {
        if (every_steps_ > 0) return false;
        std::map<std::string, double> values = {{"loss", log.loss}, {"acc", log.accuracy}};
        if (context.has_validation) {
            values["val_loss"] = log.val_loss;
            values["val_acc"] = log.val_accuracy;
        }
        save(log.epoch, values, context);
        return false;
    }

    std::map<std::string, double> state() const override { return {{"best", best_}}; }
    void restore(const std::map<std::string, double>& state) override {
        best_ = value_or(state, "best", best_);
    }

private:
    void save(std::int64_t epoch, const std::map<std::string, double>& values,
              CallbackContext& context) {
        const std::string file = path_.format(epoch, values);
        if (save_best_only_) {
            const auto found = values.find(monitor_);
            if (found == values.end()) {
                print_line(context, "WARNING: Can save best model only with " + monitor_ +
                                        " available, skipping.");
                return;
            }
            const double current = found->second;
            if (!(maximize_ ? current > best_ : current < best_)) {
                print_line(context, "\nEpoch " + epoch_str(epoch) + ": " + monitor_ +
                                        " did not improve from " + fixed5(best_));
                return;
            }
            print_line(context, "\nEpoch " + epoch_str(epoch) + ": " + monitor_ +
                                    " improved from " + fixed5(best_) + " to " + fixed5(current) +
                                    ", saving model to " + file);
            best_ = current;
        } else {
            print_line(context, "\nEpoch " + epoch_str(epoch) + ": saving model to " + file);
        }
        const fs::path path(file);
        if (path.has_parent_path()) {
            std::error_code ignored;
            fs::create_directories(path.parent_path(), ignored);
        }
        std::map<std::string, std::string> metadata = {{"epoch", std::to_string(epoch)}};
        for (const auto& [name, value] : values) metadata[name] = python_float_repr(value);
        save_weights(context.program, path, metadata);
    }

    PathTemplate path_;
    std::string monitor_;
    bool maximize_;
    bool save_best_only_;
    std::int64_t every_steps_;
    double best_;
};

// early_stopping: stops when `monitor` has not improved by more than min_delta for `patience`
// epochs (never after the first epoch); with restore_best_weights, the parameters of the best
// epoch are put back when it stops. The best weights are not in checkpoints, so after a resume
// it restores the best weights seen since the resume. A val_ monitor without validation data
// is skipped with a warning.
class EarlyStopping : public Callback {
public:
    static CallbackDef def() {
        return {"early_stopping",
                "stops training when the monitored metric has stopped improving",
                {monitor(), mode(), AttrSpec::optional("min_delta", 0.0).at_least(0),
                 AttrSpec::optional("patience", std::int64_t{0}).at_least(0),
                 AttrSpec::optional("restore_best_weights", false)},
                [](const ConfigItem& item, const CallbackSetup&) {
                    return std::make_unique<EarlyStopping>(item);
                }};
    }

    explicit EarlyStopping(const ConfigItem& item)
        : monitor_(item.attrs.get_string("monitor")),
          maximize_(maximizes(monitor_, item.attrs.get_string("mode"))),
          min_delta_(item.attrs.get_real("min_delta")),
          patience_(item.attrs.get_int("patience")),
          restore_best_weights_(item.attrs.get_bool("restore_best_weights")) {}

    void on_train_begin(CallbackContext&) override {
        wait_ = 0;
        stopped_epoch_ = 0;
        best_epoch_ = 0;
        best_ = maximize_ ? -kInf : kInf;
        best_weights_.clear();
    }

    bool on_epoch_end(const EpochLog& log, CallbackContext& context) override {
        const std::optional<double> current = monitored(monitor_, log, context);
        if (!current) {
            print_line(context, "WARNING: Early stopping conditioned on metric `" + monitor_ +
                                    "` which is not available. Available metrics are: " +
                                    available_metrics(context));
            return false;
        }
        if (restore_best_weights_ && best_weights_.empty()) keep_weights(context);
        ++wait_;
        const bool improved =
            maximize_ ? *current - min_delta_ > best_ : *current + min_delta_ < best_;
        if (improved) {
            best_ = *current;
            best_epoch_ = log.epoch;
            if (restore_best_weights_) keep_weights(context);
            wait_ = 0;
        }
        if (wait_ >= patience_ && log.epoch > 1) {
            stopped_epoch_ = log.epoch;
            if (restore_best_weights_ && !best_weights_.empty()) {
                print_line(context, "Restoring model weights from the end of the best epoch: " +
                                        std::to_string(best_epoch_) + ".");
                for (const auto& [name, values] : best_weights_)
                    context.program.write(name, values);
            }
            return true;
        }
        return false;
    }

    void on_train_end(CallbackContext& context) override {
        if (stopped_epoch_ > 0)
            print_line(context, "Epoch " + epoch_str(stopped_epoch_) + ": early stopping");
    }

    std::map<std::string, double> state() const override {
        return {{"wait", double(wait_)}, {"best", best_}, {"best_epoch", double(best_epoch_)}};
    }
    void restore(const std::map<std::string, double>& state) override {
        wait_ = static_cast<std::int64_t>(value_or(state, "wait", double(wait_)));
        best_ = value_or(state, "best", best_);
        best_epoch_ = static_cast<std::int64_t>(value_or(state, "best_epoch", double(best_epoch_)));
    }

private:
    void keep_weights(const CallbackContext& context) {
        best_weights_.clear();
        for (const std::string& name : context.program.params())
            best_weights_.emplace_back(name, context.program.read(name));
    }

    std::string monitor_;
    bool maximize_;
    double min_delta_;
    std::int64_t patience_;
    bool restore_best_weights_;
    std::int64_t wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
    double best_ = 0;
    std::vector<std::pair<std::string, std::vector<float>>> best_weights_;
};

// csv_logger: one row per epoch: epoch (from 0) then the logs in sorted key order, acc, loss,
// lr, val_acc, val_loss (no val_ columns without validation); values as Python's repr. The
// file is truncated at the start of training unless `append` or the run is resumed (then the
// header is written only into an empty or new file).
class CsvLogger : public Callback {
public:
    static CallbackDef def() {
        return {"csv_logger",
                "writes each epoch's metrics and learning rate as a CSV row",
                {AttrSpec::required("filename", AttrType::string),
                 AttrSpec::optional("separator", std::string(",")),
                 AttrSpec::optional("append", false)},
                [](const ConfigItem& item, const CallbackSetup&) {
                    return std::make_unique<CsvLogger>(item);
                }};
    }

    explicit CsvLogger(const ConfigItem& item)
        : filename_(item.attrs.get_string("filename")),
          separator_(item.attrs.get_string("separator")),
          append_(item.attrs.get_bool("append")) {}

    void on_train_begin(CallbackContext& context) override {
        write_header_ = true;
        const bool append = append_ || context.resumed;
        if (append) {
            std::error_code error;
            write_header_ = !fs::exists(filename_, error) || fs::file_size(filename_, error) == 0;
        }
        file_.open(filename_, append ? std::ios::app : std::ios::trunc);
        if (!file_) throw CheckpointError(filename_ + ": cannot open the CSV log for writing");
    }

    bool on_epoch_end(const EpochLog& log, CallbackContext& context) override {
        std::vector<std::pair<std::string, double>> columns = {
            {"acc", log.accuracy}, {"loss", log.loss}, {"lr", log.learning_rate}};
        if (context.has_validation) {
            columns.emplace_back("val_acc", log.val_accuracy);
            columns.emplace_back("val_loss", log.val_loss);
        }
        if (write_header_) {
            file_ << "epoch";
            for (const auto& column : columns) file_ << separator_ << column.first;
            file_ << "\n";
            write_header_ = false;
        }
        file_ << log.epoch - 1;
        for (const auto& column : columns) file_ << separator_ << python_float_repr(column.second);
        file_ << "\n" << std::flush;
        if (!file_) throw CheckpointError(filename_ + ": cannot write the CSV log");
        return false;
    }

    void on_train_end(CallbackContext&) override { file_.close(); }

private:
    std::string filename_;
    std::string separator_;
    bool append_;
    bool write_header_ = true;
    std::ofstream file_;
};

// terminate_on_nan: stops after the first batch whose loss is NaN or infinite.
class TerminateOnNan : public Callback {
public:
    static CallbackDef def() {
        return {"terminate_on_nan",
                "stops training at the first batch whose loss is not finite",
                {},
                [](const ConfigItem&, const CallbackSetup&) {
                    return std::make_unique<TerminateOnNan>();
                }};
    }

    bool on_batch_end(const BatchLog& log, CallbackContext& context) override {
        if (std::isfinite(log.loss)) return false;
        print_line(context,
                   "Batch " + std::to_string(log.batch) + ": Invalid loss, terminating training");
        return true;
    }
};

// reduce_lr_on_plateau: multiplies the learning rate by `factor` (not below min_lr) after
// `patience` epochs without an improvement of more than min_delta, then waits `cooldown`
// epochs before counting again. A val_ monitor without validation data is skipped with a
// warning.
class ReduceLrOnPlateau : public Callback {
public:
    static CallbackDef def() {
        return {"reduce_lr_on_plateau",
                "multiplies the learning rate by a factor when the monitored metric stalls",
                {monitor(), mode(), AttrSpec::optional("factor", 0.1).greater_than(0).less_than(1),
                 AttrSpec::optional("patience", std::int64_t{10}).at_least(0),
                 AttrSpec::optional("min_delta", 1e-4).at_least(0),
                 AttrSpec::optional("cooldown", std::int64_t{0}).at_least(0),
                 AttrSpec::optional("min_lr", 0.0).at_least(0)},
                [](const ConfigItem& item, const CallbackSetup&) {
                    return std::make_unique<ReduceLrOnPlateau>(item);
                }};
    }

    explicit ReduceLrOnPlateau(const ConfigItem& item)
        : monitor_(item.attrs.get_string("monitor")),
          maximize_(maximizes(monitor_, item.attrs.get_string("mode"))),
          factor_(item.attrs.get_real("factor")),
          patience_(item.attrs.get_int("patience")),
          min_delta_(item.attrs.get_real("min_delta")),
          cooldown_(item.attrs.get_int("cooldown")),
          min_lr_(item.attrs.get_real("min_lr")) {}

    void on_train_begin(CallbackContext&) override {
        best_ = maximize_ ? -kInf : kInf;
        wait_ = 0;
        cooldown_counter_ = 0;
    }

    bool on_epoch_end(const EpochLog& log, CallbackContext& context) override {
        const std::optional<double> current = monitored(monitor_, log, context);
        if (!current) {
            print_line(context, "WARNING: Learning rate reduction is conditioned on metric `" +
                                    monitor_ + "` which is not available. Available metrics are: " +
                                    available_metrics(context));
            return false;
        }
        if (cooldown_counter_ > 0) {
            --cooldown_counter_;
            wait_ = 0;
        }
        const bool improved =
            maximize_ ? *current > best_ + min_delta_ : *current < best_ - min_delta_;
        if (improved) {
            best_ = *current;
            wait_ = 0;
        } else if (cooldown_counter_ == 0) {
            ++wait_;
            if (wait_ >= patience_) {
                const double old_lr = context.learning_rate;
                if (old_lr > static_cast<double>(static_cast<float>(min_lr_))) {
                    const double new_lr = std::max(old_lr * factor_, min_lr_);
                    context.learning_rate = new_lr;
                    print_line(context, "\nEpoch " + epoch_str(log.epoch) +
                                            ": ReduceLROnPlateau reducing learning rate to " +
                                            keras_float_str(new_lr) + ".");
                    cooldown_counter_ = cooldown_;
                    wait_ = 0;
                }
            }
        }
        return false;
    }

    std::map<std::string, double> state() const override {
        return {{"best", best_}, {"wait", double(wait_)}, {"cooldown", double(cooldown_counter_)}};
    }
    void restore(const std::map<std::string, double>& state) override {
        best_ = value_or(state, "best", best_);
        wait_ = static_cast<std::int64_t>(value_or(state, "wait", double(wait_)));
        cooldown_counter_ =
            static_cast<std::int64_t>(value_or(state, "cooldown", double(cooldown_counter_)));
    }

private:
    std::string monitor_;
    bool maximize_;
    double factor_;
    std::int64_t patience_;
    double min_delta_;
    std::int64_t cooldown_;
    double min_lr_;
    double best_ = 0;
    std::int64_t wait_ = 0, cooldown_counter_ = 0;
};

}  // namespace

CallbackRegistry builtin_callbacks() {
    CallbackRegistry registry("callback");
    registry.add(LrScheduler::def());
    registry.add(ModelCheckpoint::def());
    registry.add(EarlyStopping::def());
    registry.add(CsvLogger::def());
    registry.add(TerminateOnNan::def());
    registry.add(ReduceLrOnPlateau::def());
    return registry;
}

std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs,
                                                      const CallbackRegistry& callbacks,
                                                      const ScheduleRegistry& schedules) {
    std::vector<std::unique_ptr<Callback>> out;
    Diagnostics diagnostics;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        const std::string label = "callbacks[" + std::to_string(i) + "]";
        const CallbackSetup setup{label, diagnostics, configs[i].schedule, schedules};
        out.push_back(callbacks.make(configs[i].callback, setup));
    }
    diagnostics.throw_if_any();
    return out;
}

std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs) {
    return make_callbacks(configs, builtin_callbacks(), builtin_schedules());
}

}  // namespace opgraph
