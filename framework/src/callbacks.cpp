#include "opgraph/callbacks.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "opgraph/diagnostic.hpp"
#include "opgraph/lr_schedule.hpp"
#include "opgraph/weights.hpp"

namespace opgraph {

namespace {

namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();

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

// The value `monitor` names in `log`; none for a val_ monitor without validation.
double value_or(const std::map<std::string, double>& state, const char* key, double fallback) {
    const auto it = state.find(key);
    return it == state.end() ? fallback : it->second;
}

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

// A model_checkpoint filepath: literal text and Python format fields.
class PathTemplate {
public:
    // Adds a diagnostic for each bad field.
    PathTemplate(const std::string& text, const ConfigItem& item, const std::string& label,
                 Diagnostics& diagnostics) {
        const SourceLocation where =
            item.attr_where.count("filepath") ? item.attr_where.at("filepath") : item.where;
        auto bad = [&](const std::string& message) {
            diagnostics.add(where, label, "filepath", message);
        };
        std::string literal;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
                literal += c;  // {{ and }} are literal braces
                ++i;
                continue;
            }
            if (c == '}') {
                bad("a single '}' in '" + text + "' (write '}}' for a brace)");
                return;
            }
            if (c != '{') {
                literal += c;
                continue;
            }
            const std::size_t close = text.find('}', i);
            if (close == std::string::npos) {
                bad("an unclosed '{' in '" + text + "'");
                return;
            }
            const std::string field = text.substr(i + 1, close - i - 1);
            const std::size_t colon = field.find(':');
            Part part{literal, field.substr(0, colon),
                      colon == std::string::npos ? "" : field.substr(colon + 1)};
            literal.clear();
            i = close;
            static const std::vector<std::string> names = {"epoch", "loss", "acc", "val_loss",
                                                           "val_acc"};
            if (std::find(names.begin(), names.end(), part.name) == names.end()) {
                bad("unknown format field '{" + part.name +
                    "}' (known: epoch, loss, acc, val_loss, val_acc)");
                continue;
            }
            if (!part.spec.empty()) {
                const bool integer = part.name == "epoch";
                const std::string allowed = integer ? "d" : "feEgG";
                const char type = part.spec.back();
                const bool simple =
                    part.spec.find_first_not_of("0123456789.+- ") == part.spec.size() - 1;
                if (allowed.find(type) == std::string::npos || !simple) {
                    bad("unsupported format spec '" + part.spec + "' for {" + part.name +
                        "} (use e.g. " + (integer ? "{epoch:02d}" : "{val_acc:.4f}") + ")");
                    continue;
                }
            }
            parts_.push_back(std::move(part));
        }
        tail_ = literal;
    }

    std::string format(std::int64_t epoch, const std::map<std::string, double>& values) const {
        std::string result;
        for (const Part& part : parts_) {
            result += part.literal;
            char text[128];
            if (part.name == "epoch") {
                if (part.spec.empty()) {
                    result += std::to_string(epoch);
                } else {
                    std::string spec(1, '%');
                    spec.append(part.spec, 0, part.spec.size() - 1).append("lld");
                    std::snprintf(text, sizeof text, spec.c_str(), static_cast<long long>(epoch));
                    result += text;
                }
                continue;
            }
            const auto found = values.find(part.name);
            const double value = found == values.end() ? std::nan("") : found->second;
            if (part.spec.empty()) {
                result += python_float_repr(value);
            } else {
                std::string spec(1, '%');
                spec.append(part.spec);
                std::snprintf(text, sizeof text, spec.c_str(), value);
                result += text;
            }
        }
        return result + tail_;
    }

private:
    struct Part {
        std::string literal;  // text before the field
        std::string name;
        std::string spec;
    };
    std::vector<Part> parts_;
    std::string tail_;
};

class ModelCheckpoint : public Callback {
public:
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

class EarlyStopping : public Callback {
public:
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

class CsvLogger : public Callback {
public:
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

class TerminateOnNan : public Callback {
public:
    bool on_batch_end(const BatchLog& log, CallbackContext& context) override {
        if (std::isfinite(log.loss)) return false;
        print_line(context,
                   "Batch " + std::to_string(log.batch) + ": Invalid loss, terminating training");
        return true;
    }
};

class ReduceLrOnPlateau : public Callback {
public:
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

std::string python_float_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char text[64];
    const auto result =
        std::to_chars(text, text + sizeof text, value, std::chars_format::scientific);
    const std::string scientific(text, result.ptr);  // "-1.2345e-05", shortest round trip
    const std::size_t e = scientific.find('e');
    std::string mantissa = scientific.substr(0, e);
    const int exponent = std::stoi(scientific.substr(e + 1));
    std::string sign;
    if (mantissa.front() == '-') {
        sign = "-";
        mantissa.erase(0, 1);
    }
    std::string digits = mantissa;
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    if (exponent < -4 || exponent >= 16) {
        char exp_text[16];
        std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+',
                      exponent < 0 ? -exponent : exponent);
        return sign + mantissa + exp_text;
    }
    if (exponent < 0)
        return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const std::size_t integer_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= integer_digits)
        return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
    return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& configs) {
    std::vector<std::unique_ptr<Callback>> callbacks;
    Diagnostics diagnostics;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        const ConfigItem& item = configs[i].callback;
        const std::string label = "callbacks[" + std::to_string(i) + "]";
        if (item.type == "model_checkpoint")
            callbacks.push_back(std::make_unique<ModelCheckpoint>(item, label, diagnostics));
        else if (item.type == "early_stopping")
            callbacks.push_back(std::make_unique<EarlyStopping>(item));
        else if (item.type == "csv_logger")
            callbacks.push_back(std::make_unique<CsvLogger>(item));
        else if (item.type == "terminate_on_nan")
            callbacks.push_back(std::make_unique<TerminateOnNan>());
        else if (item.type == "reduce_lr_on_plateau")
            callbacks.push_back(std::make_unique<ReduceLrOnPlateau>(item));
    }
    diagnostics.throw_if_any();
    return callbacks;
}

}  // namespace opgraph
