// Operator attributes: their typed values and the schema that declares them.
//
// An AttrSpec names one attribute, its type, its default (none = required) and its valid
// values (numeric range, allowed strings, list length). A Schema is the ordered list of an
// op's (or an optimizer's, or a callback's) AttrSpecs. YAML values are converted and checked
// against the schema by the model loader; passes and kernels then read typed values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace opgraph {

enum class AttrType { integer, real, boolean, string, int_list, real_list, string_list };

// "int", "float", "bool", "string", "list of int", ...
const char* attr_type_name(AttrType type);

using AttrValue = std::variant<std::int64_t, double, bool, std::string, std::vector<std::int64_t>,
                               std::vector<double>, std::vector<std::string>>;

AttrType attr_value_type(const AttrValue& value);

// A value as it would be written in YAML: 3, 0.5, true, same, [3, 3].
std::string attr_value_str(const AttrValue& value);

struct AttrSpec {
    std::string name;
    AttrType type = AttrType::integer;
    // A second type the attribute also accepts (e.g. padding: "same" or [1, 1]).
    std::optional<AttrType> alt_type;
    std::optional<AttrValue> default_value;  // absent: the attribute is required
    std::string doc;
    std::optional<double> min;  // inclusive bound on numbers and on each list element
    std::optional<double> max;  // inclusive
    bool min_exclusive = false;
    bool max_exclusive = false;
    std::vector<std::string> choices;  // allowed strings (string and string_list types)
    std::size_t min_length = 0;        // list length bounds
    std::size_t max_length = SIZE_MAX;
    // A list attribute given a single value repeats it to max_length (or min_length when
    // max_length is unbounded): kernel: 3 -> [3, 3].
    bool broadcast_scalar = false;

    bool required() const { return !default_value.has_value(); }

    // Builders: AttrSpec::optional("stride", 1).at_least(1)
    static AttrSpec required(std::string name, AttrType type, std::string doc = {});
    static AttrSpec optional(std::string name, AttrValue default_value, std::string doc = {});
    AttrSpec& at_least(double lo);
    AttrSpec& greater_than(double lo);
    AttrSpec& at_most(double hi);
    AttrSpec& less_than(double hi);
    AttrSpec& one_of(std::vector<std::string> allowed);
    AttrSpec& length(std::size_t n);
    AttrSpec& length_between(std::size_t lo, std::size_t hi);
    AttrSpec& or_type(AttrType type);
    AttrSpec& broadcast();

    // Empty when value satisfies range, choices and length; else why not ("must be >= 1").
    std::string check(const AttrValue& value) const;
    // "int >= 1, default 1"
    std::string describe() const;
};

using Schema = std::vector<AttrSpec>;

const AttrSpec* find_attr(const Schema& schema, const std::string& name);

// Attribute values of one node, every schema default filled in.
class AttrMap {
public:
    AttrMap() = default;
    // AttrMap{{"filters", 3}, {"padding", "same"}}: each value set in order (a name given
    // twice keeps the last).
    AttrMap(std::initializer_list<std::pair<std::string, AttrValue>> values);

    void set(const std::string& name, AttrValue value) { values_[name] = std::move(value); }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    const AttrValue& get(const std::string& name) const;  // throws std::out_of_range
    std::int64_t get_int(const std::string& name) const;
    double get_real(const std::string& name) const;  // an int value converts
    bool get_bool(const std::string& name) const;
    const std::string& get_string(const std::string& name) const;
    const std::vector<std::int64_t>& get_ints(const std::string& name) const;
    const std::vector<double>& get_reals(const std::string& name) const;
    const std::vector<std::string>& get_strings(const std::string& name) const;
    const std::map<std::string, AttrValue>& all() const { return values_; }

private:
    std::map<std::string, AttrValue> values_;
};

// `values` over the defaults of `schema`: every attribute of the schema that has a default,
// then every entry of `values` on top (names the schema lacks, such as "forward", included).
AttrMap with_defaults(const Schema& schema, const AttrMap& values);

}  // namespace opgraph
