#include "opgraph/core/attribute.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace opgraph {

const char* attr_type_name(AttrType type) {
    switch (type) {
        case AttrType::integer:
            return "int";
        case AttrType::real:
            return "float";
        case AttrType::boolean:
            return "bool";
        case AttrType::string:
            return "string";
        case AttrType::int_list:
            return "list of int";
        case AttrType::real_list:
            return "list of float";
        case AttrType::string_list:
            return "list of string";
    }
    return "?";
}

AttrType attr_value_type(const AttrValue& value) { return static_cast<AttrType>(value.index()); }

namespace {

std::string real_str(double v) {
    std::ostringstream out;
    out << v;
    std::string s = out.str();
    if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

template <typename T, typename F>
std::string list_str(const std::vector<T>& values, F&& item) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + item(values[i]);
    return out + "]";
}

}  // namespace

std::string attr_value_str(const AttrValue& value) {
    struct Printer {
        std::string operator()(std::int64_t v) const { return std::to_string(v); }
        std::string operator()(double v) const { return real_str(v); }
        std::string operator()(bool v) const { return v ? "true" : "false"; }
        std::string operator()(const std::string& v) const { return v.empty() ? "''" : v; }
        std::string operator()(const std::vector<std::int64_t>& v) const {
            return list_str(v, [](std::int64_t x) { return std::to_string(x); });
        }
        std::string operator()(const std::vector<double>& v) const { return list_str(v, real_str); }
        std::string operator()(const std::vector<std::string>& v) const {
            return list_str(v, [](const std::string& x) { return x; });
        }
    };
    return std::visit(Printer{}, value);
}

AttrSpec AttrSpec::required(std::string name, AttrType type, std::string doc) {
    AttrSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.doc = std::move(doc);
    return spec;
}

AttrSpec AttrSpec::optional(std::string name, AttrValue default_value, std::string doc) {
    AttrSpec spec;
    spec.name = std::move(name);
    spec.type = attr_value_type(default_value);
    spec.default_value = std::move(default_value);
    spec.doc = std::move(doc);
    return spec;
}

AttrSpec& AttrSpec::at_least(double lo) {
    min = lo;
    min_exclusive = false;
    return *this;
}
AttrSpec& AttrSpec::greater_than(double lo) {
    min = lo;
    min_exclusive = true;
    return *this;
}
AttrSpec& AttrSpec::at_most(double hi) {
    max = hi;
    max_exclusive = false;
    return *this;
}
AttrSpec& AttrSpec::less_than(double hi) {
    max = hi;
    max_exclusive = true;
    return *this;
}
AttrSpec& AttrSpec::one_of(std::vector<std::string> allowed) {
    choices = std::move(allowed);
    return *this;
}
AttrSpec& AttrSpec::length(std::size_t n) { return length_between(n, n); }
AttrSpec& AttrSpec::length_between(std::size_t lo, std::size_t hi) {
    min_length = lo;
    max_length = hi;
    return *this;
}
AttrSpec& AttrSpec::or_type(AttrType t) {
    alt_type = t;
    return *this;
}
AttrSpec& AttrSpec::broadcast() {
    broadcast_scalar = true;
    return *this;
}

namespace {

std::string bound_str(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

}  // namespace

std::string AttrSpec::check(const AttrValue& value) const {
    auto check_number = [&](double v) -> std::string {
        if (!std::isfinite(v)) return "must be a finite number, got " + real_str(v);
        if (min && (min_exclusive ? !(v > *min) : !(v >= *min)))
            return std::string("must be ") + (min_exclusive ? "> " : ">= ") + bound_str(*min) +
                   ", got " + bound_str(v);
        if (max && (max_exclusive ? !(v < *max) : !(v <= *max)))
            return std::string("must be ") + (max_exclusive ? "< " : "<= ") + bound_str(*max) +
                   ", got " + bound_str(v);
        return {};
    };
    auto check_choice = [&](const std::string& s) -> std::string {
        if (choices.empty()) return {};
        for (const std::string& c : choices)
            if (c == s) return {};
        std::string all;
        for (const std::string& c : choices) all += (all.empty() ? "" : ", ") + c;
        return "'" + s + "' is not one of: " + all;
    };
    auto check_length = [&](std::size_t n) -> std::string {
        if (n >= min_length && n <= max_length) return {};
        if (min_length == max_length)
            return "expects a list of " + std::to_string(min_length) + " values, got " +
                   std::to_string(n);
        return "expects a list of " + std::to_string(min_length) + " to " +
               std::to_string(max_length) + " values, got " + std::to_string(n);
    };
    auto check_item = [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>)
            return check_choice(v);
        else if constexpr (std::is_same_v<T, bool>)
            return {};
        else
            return check_number(static_cast<double>(v));
    };
    return std::visit(
        [&](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> ||
                          std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
                return check_item(v);
            } else {
                if (std::string e = check_length(v.size()); !e.empty()) return e;
                for (std::size_t i = 0; i < v.size(); ++i)
                    if (std::string e = check_item(v[i]); !e.empty())
                        return "element " + std::to_string(i) + " " + e;
                return {};
            }
        },
        value);
}

std::string AttrSpec::describe() const {
    std::string out = attr_type_name(type);
    if (alt_type) out += std::string(" or ") + attr_type_name(*alt_type);
    if (!choices.empty()) {
        out += " {";
        for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
        out += "}";
    }
    if (min) out += std::string(min_exclusive ? " > " : " >= ") + bound_str(*min);
    if (max) out += std::string(max_exclusive ? " < " : " <= ") + bound_str(*max);
    out += required() ? ", required" : ", default " + attr_value_str(*default_value);
    return out;
}

const AttrSpec* find_attr(const Schema& schema, const std::string& name) {
    for (const AttrSpec& spec : schema)
        if (spec.name == name) return &spec;
    return nullptr;
}

AttrMap::AttrMap(std::initializer_list<std::pair<std::string, AttrValue>> values) {
    for (const auto& [name, value] : values) set(name, value);
}

AttrMap with_defaults(const Schema& schema, const AttrMap& values) {
    AttrMap attrs;
    for (const AttrSpec& spec : schema)
        if (spec.default_value) attrs.set(spec.name, *spec.default_value);
    for (const auto& [name, value] : values.all()) attrs.set(name, value);
    return attrs;
}

const AttrValue& AttrMap::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::out_of_range("no attribute '" + name + "'");
    return it->second;
}

namespace {

template <typename T>
const T& get_as(const AttrValue& value, const std::string& name, const char* type) {
    if (const T* v = std::get_if<T>(&value)) return *v;
    throw std::invalid_argument("attribute '" + name + "' is not of type " + type);
}

}  // namespace

std::int64_t AttrMap::get_int(const std::string& name) const {
    return get_as<std::int64_t>(get(name), name, "int");
}
double AttrMap::get_real(const std::string& name) const {
    const AttrValue& v = get(name);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return get_as<double>(v, name, "float");
}
bool AttrMap::get_bool(const std::string& name) const {
    return get_as<bool>(get(name), name, "bool");
}
const std::string& AttrMap::get_string(const std::string& name) const {
    return get_as<std::string>(get(name), name, "string");
}
const std::vector<std::int64_t>& AttrMap::get_ints(const std::string& name) const {
    return get_as<std::vector<std::int64_t>>(get(name), name, "list of int");
}
const std::vector<double>& AttrMap::get_reals(const std::string& name) const {
    return get_as<std::vector<double>>(get(name), name, "list of float");
}
const std::vector<std::string>& AttrMap::get_strings(const std::string& name) const {
    return get_as<std::vector<std::string>>(get(name), name, "list of string");
}

}  // namespace opgraph
