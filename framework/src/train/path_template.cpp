#include "opgraph/train/path_template.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/format.hpp"
#include "opgraph/ir/training_config.hpp"

namespace opgraph {

PathTemplate::PathTemplate(const std::string& text, const ConfigItem& item,
                           const std::string& label, Diagnostics& diagnostics) {
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

std::string PathTemplate::format(std::int64_t epoch,
                                 const std::map<std::string, double>& values) const {
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

}  // namespace opgraph
