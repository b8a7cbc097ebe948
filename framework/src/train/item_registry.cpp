#include "opgraph/train/item_registry.hpp"

#include <set>

#include "opgraph/core/suggest.hpp"

namespace opgraph {

AttrMap complete_attrs(const std::string& what, const Schema& schema, const AttrMap& attrs) {
    std::vector<std::string> known;
    for (const AttrSpec& spec : schema) known.push_back(spec.name);
    for (const auto& [name, value] : attrs.all())
        if (find_attr(schema, name) == nullptr)
            throw std::invalid_argument(what + ": unknown attribute '" + name + "'" +
                                        did_you_mean(name, known));
    AttrMap out;
    for (const AttrSpec& spec : schema) {
        const std::string label = what + " attribute '" + spec.name + "'";
        if (!attrs.has(spec.name)) {
            if (spec.required())
                throw std::invalid_argument(label + ": missing required attribute");
            out.set(spec.name, *spec.default_value);
            continue;
        }
        const AttrValue& value = attrs.get(spec.name);
        const AttrType type = attr_value_type(value);
        const bool int_for_real = spec.type == AttrType::real && type == AttrType::integer;
        if (type != spec.type && type != spec.alt_type && !int_for_real)
            throw std::invalid_argument(label + ": expects " + attr_type_name(spec.type) +
                                        ", got " + attr_value_str(value));
        if (std::string problem = spec.check(value); !problem.empty())
            throw std::invalid_argument(label + ": " + problem);
        out.set(spec.name, value);
    }
    return out;
}

std::string unknown_item_type(const std::string& kind, const std::string& type,
                              const std::vector<std::string>& types) {
    std::string hint = did_you_mean(type, types);
    if (hint.empty()) hint = " (types: " + attr_value_str(AttrValue{types}) + ")";
    return "unknown " + kind + " type '" + type + "'" + hint;
}

void check_item_def(const std::string& kind, const std::string& name, const Schema& schema,
                    bool has_factory) {
    if (name.empty()) throw std::invalid_argument(kind + " type without a name");
    const std::string what = kind + " type '" + name + "'";
    if (!has_factory) throw std::invalid_argument(what + " has no factory");
    std::set<std::string> seen;
    for (const AttrSpec& spec : schema) {
        if (!seen.insert(spec.name).second)
            throw std::invalid_argument(what + " declares attribute '" + spec.name + "' twice");
        if (!spec.default_value) continue;
        if (std::string problem = spec.check(*spec.default_value); !problem.empty())
            throw std::invalid_argument(what + " attribute '" + spec.name + "': the default " +
                                        problem);
    }
}

}  // namespace opgraph
