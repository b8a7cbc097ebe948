// Internal: reading the values of a parsed document (parse_yaml) into typed attributes,
// checked against a schema (an op's attributes, a training item's settings), and reading the
// keys that may be misspelt.
//
// Bad input is reported, not thrown: each problem is added to ctx.diagnostics with its
// position in ctx.file, the node or item (ctx.node) and the key, and reading carries on.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/diagnostic.hpp"
#include "yaml_parse.hpp"

namespace opgraph::detail {

// Who the values being read belong to, for diagnostics.
struct ReadContext {
    const std::string& file;
    std::string node;  // node or item name
    Diagnostics& diagnostics;
};

// Converts `value` to the spec's type (or its alternative) and checks its range, choices and
// length. On failure adds a diagnostic and returns nothing.
std::optional<AttrValue> read_attr(const YAML::Node& value, const AttrSpec& spec,
                                   const ReadContext& ctx);

// Reads every key of `map` except `reserved` as an attribute of `schema`: unknown keys (with
// a "did you mean" over schema and reserved names), missing required ones (unless a
// misspelling of it was written, which is reported once as unknown), bad values. Fills
// `out` with every schema attribute (defaults included) and `where` with written positions.
// A schema attribute named "a.b" is written as key b of a map under key a.
void read_attrs(const YAML::Node& map, const Schema& schema,
                const std::vector<std::string>& reserved, const ReadContext& ctx, AttrMap& out,
                std::map<std::string, SourceLocation>& where);

// The value of `key` in `map`; when the map lacks it, the value of an unknown key that is a
// plausible misspelling of it ("ouputs: [probs]", "optimiser: adam"). The misspelling is
// reported as an unknown key; reading through it keeps one typo from also being reported
// as a missing key and as every reference that fails for want of it.
YAML::Node value_or_misspelling(const YAML::Node& map, const std::string& key,
                                const std::vector<std::string>& known);

// A plain or quoted scalar as text; nothing (and a diagnostic) for anything else.
std::optional<std::string> read_string(const YAML::Node& value, const std::string& key,
                                       const ReadContext& ctx);

}  // namespace opgraph::detail
