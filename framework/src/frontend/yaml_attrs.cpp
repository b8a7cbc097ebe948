#include "yaml_attrs.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "opgraph/core/suggest.hpp"

namespace opgraph::detail {

namespace {

double parse_real(const std::string& s) {
    if (s.find("nan") != std::string::npos || s.find("NaN") != std::string::npos ||
        s.find("NAN") != std::string::npos)
        return std::numeric_limits<double>::quiet_NaN();
    if (s.find_first_of("iI") != std::string::npos)
        return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
    return std::strtod(s.c_str(), nullptr);
}

// A scalar converted to `type`, or a reason why not.
struct Converted {
    std::optional<AttrValue> value;
    std::string error;
};

Converted convert_scalar(const YAML::Node& node, AttrType type) {
    const ScalarKind kind = classify(node);
    const std::string got = describe_yaml(node);
    switch (type) {
        case AttrType::integer: {
            if (kind != ScalarKind::integer) return {std::nullopt, "expects an int, got " + got};
            errno = 0;
            const long long v = std::strtoll(node.Scalar().c_str(), nullptr, 10);
            if (errno == ERANGE)
                return {std::nullopt, "integer " + node.Scalar() + " is too large"};
            return {AttrValue{static_cast<std::int64_t>(v)}, {}};
        }
        case AttrType::real:
            if (kind != ScalarKind::integer && kind != ScalarKind::real)
                return {std::nullopt, "expects a float, got " + got};
            return {AttrValue{parse_real(node.Scalar())}, {}};
        case AttrType::boolean:
            if (kind != ScalarKind::boolean)
                return {std::nullopt, "expects true or false, got " + got};
            return {AttrValue{node.Scalar()[0] == 't' || node.Scalar()[0] == 'T'}, {}};
        case AttrType::string:
            if (kind != ScalarKind::string) return {std::nullopt, "expects a string, got " + got};
            return {AttrValue{node.Scalar()}, {}};
        default:
            return {std::nullopt, "internal: not a scalar type"};
    }
}

AttrType element_type(AttrType list) {
    switch (list) {
        case AttrType::int_list:
            return AttrType::integer;
        case AttrType::real_list:
            return AttrType::real;
        default:
            return AttrType::string;
    }
}

bool is_list(AttrType type) {
    return type == AttrType::int_list || type == AttrType::real_list ||
           type == AttrType::string_list;
}

template <typename T>
AttrValue repeat(const AttrValue& item, std::size_t n) {
    return AttrValue{std::vector<T>(n, std::get<T>(item))};
}

Converted convert(const YAML::Node& node, AttrType type, const AttrSpec& spec) {
    if (!is_list(type)) {
        if (!node.IsScalar() && !node.IsNull())
            return {std::nullopt, std::string("expects ") +
                                      (type == AttrType::integer ? "an " : "a ") +
                                      attr_type_name(type) + ", got " + describe_yaml(node)};
        return convert_scalar(node, type);
    }
    const AttrType item_type = element_type(type);
    if (node.IsScalar() && spec.broadcast_scalar) {
        Converted item = convert_scalar(node, item_type);
        if (!item.value)
            return {std::nullopt, "expects a " + std::string(attr_type_name(type)) +
                                      " or a single value, got " + describe_yaml(node)};
        const std::size_t n = spec.max_length != SIZE_MAX ? spec.max_length : spec.min_length;
        switch (type) {
            case AttrType::int_list:
                return {repeat<std::int64_t>(*item.value, n), {}};
            case AttrType::real_list:
                return {repeat<double>(*item.value, n), {}};
            default:
                return {repeat<std::string>(*item.value, n), {}};
        }
    }
    if (!node.IsSequence())
        return {std::nullopt,
                std::string("expects a ") + attr_type_name(type) + ", got " + describe_yaml(node)};
    std::vector<std::int64_t> ints;
    std::vector<double> reals;
    std::vector<std::string> strings;
    std::size_t index = 0;
    for (const YAML::Node& element : node) {
        if (!element.IsScalar())
            return {std::nullopt, "element " + std::to_string(index) + " expects " +
                                      (item_type == AttrType::integer ? "an " : "a ") +
                                      attr_type_name(item_type) + ", got " +
                                      describe_yaml(element)};
        Converted item = convert_scalar(element, item_type);
        if (!item.value)
            return {std::nullopt, "element " + std::to_string(index) + " " + item.error};
        if (type == AttrType::int_list)
            ints.push_back(std::get<std::int64_t>(*item.value));
        else if (type == AttrType::real_list)
            reals.push_back(std::get<double>(*item.value));
        else
            strings.push_back(std::get<std::string>(*item.value));
        ++index;
    }
    if (type == AttrType::int_list) return {AttrValue{ints}, {}};
    if (type == AttrType::real_list) return {AttrValue{reals}, {}};
    return {AttrValue{strings}, {}};
}

// read_attr, with the position diagnostics name.
std::optional<AttrValue> read_attr_at(const YAML::Node& value, const AttrSpec& spec,
                                      const ReadContext& ctx, const SourceLocation& where) {
    Converted result = convert(value, spec.type, spec);
    if (!result.value && spec.alt_type) {
        Converted alt = convert(value, *spec.alt_type, spec);
        if (alt.value) {
            result = alt;
        } else {
            result.error = std::string("expects ") + attr_type_name(spec.type) + " or " +
                           attr_type_name(*spec.alt_type) + ", got " + describe_yaml(value);
        }
    }
    if (!result.value) {
        ctx.diagnostics.add(where, ctx.node, spec.name, result.error);
        return std::nullopt;
    }
    // Range, choices and length apply to the primary type (the alternative is checked by
    // whoever reads it, e.g. a shape function).
    if (attr_value_type(*result.value) == spec.type) {
        if (std::string problem = spec.check(*result.value); !problem.empty()) {
            // "stride: 0" was broadcast to [0, 0]: the user wrote no element 0.
            const std::string element0 = "element 0 ";
            if (is_list(spec.type) && value.IsScalar() && problem.rfind(element0, 0) == 0)
                problem.erase(0, element0.size());
            if (!spec.choices.empty()) {
                if (const auto* s = std::get_if<std::string>(&*result.value)) {
                    problem += did_you_mean(*s, spec.choices);
                } else if (const auto* list =
                               std::get_if<std::vector<std::string>>(&*result.value)) {
                    for (const std::string& item : *list) {
                        if (std::find(spec.choices.begin(), spec.choices.end(), item) ==
                            spec.choices.end()) {
                            problem += did_you_mean(item, spec.choices);
                            break;
                        }
                    }
                }
            }
            ctx.diagnostics.add(where, ctx.node, spec.name, problem);
            return std::nullopt;
        }
    }
    return result.value;
}

}  // namespace

std::optional<AttrValue> read_attr(const YAML::Node& value, const AttrSpec& spec,
                                   const ReadContext& ctx) {
    return read_attr_at(value, spec, ctx, location_of(value, ctx.file));
}

void read_attrs(const YAML::Node& map, const Schema& schema,
                const std::vector<std::string>& reserved, const ReadContext& ctx, AttrMap& out,
                std::map<std::string, SourceLocation>& where) {
    std::vector<std::string> known = reserved;
    for (const AttrSpec& spec : schema) known.push_back(spec.name);
    // Required attributes an unknown key was taken for ("filter: 32" -> filters): the
    // "did you mean" already says what is missing, so it is not reported a second time.
    std::set<std::string> suggested;
    // A key of a nested map is read as "<key>.<sub key>" (a dataset's train: {x: ..., y: ...}).
    const auto has_nested = [&schema](const std::string& prefix) {
        return std::any_of(schema.begin(), schema.end(), [&prefix](const AttrSpec& spec) {
            return spec.name.rfind(prefix + ".", 0) == 0;
        });
    };
    const auto read_map = [&](const YAML::Node& node, const std::string& prefix,
                              const auto& self) -> void {
        for (const auto& kv : node) {
            const std::string key = prefix + scalar_or_empty(kv.first);
            if (prefix.empty() &&
                std::find(reserved.begin(), reserved.end(), key) != reserved.end())
                continue;
            const YAML::Node& value = kv.second;
            const AttrSpec* spec = find_attr(schema, key);
            if (spec == nullptr && value.IsMap() && has_nested(key)) {
                self(value, key + ".", self);
                continue;
            }
            if (spec == nullptr) {
                const std::string match = closest_match(key, known);
                if (!match.empty()) suggested.insert(match);
                ctx.diagnostics.add(location_of(kv.first, ctx.file), ctx.node, key,
                                    "unknown attribute" + did_you_mean(key, known));
                continue;
            }
            // An empty value ("filters:") has the position of whatever follows it, often the
            // next line: point at its key instead.
            where[key] = location_of(value.IsNull() ? kv.first : value, ctx.file);
            if (auto read = read_attr_at(value, *spec, ctx, where[key]))
                out.set(key, std::move(*read));
        }
    };
    read_map(map, "", read_map);
    for (const AttrSpec& spec : schema) {
        if (out.has(spec.name) || where.count(spec.name)) continue;
        if (spec.default_value) {
            out.set(spec.name, *spec.default_value);
        } else if (!suggested.count(spec.name)) {
            ctx.diagnostics.add(location_of(map, ctx.file), ctx.node, spec.name,
                                "missing required attribute (" + spec.describe() + ")");
        }
    }
}

YAML::Node value_or_misspelling(const YAML::Node& map, const std::string& key,
                                const std::vector<std::string>& known) {
    if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    if (const YAML::Node value = map[key]) return value;
    for (const auto& kv : map) {
        const std::string written = scalar_or_empty(kv.first);
        if (std::find(known.begin(), known.end(), written) == known.end() &&
            closest_match(written, known) == key)
            return kv.second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

std::optional<std::string> read_string(const YAML::Node& value, const std::string& key,
                                       const ReadContext& ctx) {
    if (value && value.IsScalar() && classify(value) == ScalarKind::string) return value.Scalar();
    ctx.diagnostics.add(location_of(value, ctx.file), ctx.node, key,
                        "expects a string, got " + describe_yaml(value));
    return std::nullopt;
}

}  // namespace opgraph::detail
