// Internal: reading model-file text into a checked YAML document, and what every reader of
// that document needs to know about a node: where it is, how its scalar is typed, and how to
// name it in a message. Converting values to attributes builds on this (yaml_attrs.hpp).
//
// parse_yaml enforces the YamlLimits before and after yaml-cpp sees the text (yaml-cpp
// recurses once per nesting level and keeps duplicate keys silently), so that no input can
// overflow the stack, expand without bound through aliases, or lose a key unnoticed.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/frontend/model_file.hpp"

namespace opgraph::detail {

// The 1-based position of a YAML node in `file`; line and column 0 for a node yaml-cpp gives
// no position (such as the null document of a file of comments).
SourceLocation location_of(const YAML::Node& node, const std::string& file);

// Parses `text`; on any failure adds diagnostics and returns nothing. Refused: a text over
// limits.max_bytes, an empty or comment-only one, nesting deeper than limits.max_depth (found
// by a scan of the text before yaml-cpp parses it), a YAML syntax error (with a hint for a
// tab indent or an unclosed bracket), a document that expands through aliases to more than
// limits.max_expanded_nodes, a quoted string never closed, and a root that is not a mapping.
// Duplicate keys are reported without refusing the document (except in the entries of
// model.layers and model.nodes, which the model loader checks). Returns the root mapping.
std::optional<YAML::Node> parse_yaml(const std::string& text, const std::string& file,
                                     const YamlLimits& limits, Diagnostics& diagnostics);

// How a scalar is typed, by YAML 1.2's core schema (yaml-cpp leaves all scalars as text).
enum class ScalarKind { null, integer, real, boolean, string };

// The kind of `node`: null for a null node; string for any quoted scalar; for a plain one,
// integer ([-+]?[0-9]+), real (decimal or exponent, .inf, .nan), boolean (true / false in
// three casings), else string.
ScalarKind classify(const YAML::Node& node);

// The text of a scalar node (a mapping key, mostly); empty for any other node.
std::string scalar_or_empty(const YAML::Node& node);

// "an int", "a list", "a mapping", "a string 'abc'": what a YAML value is, for messages.
std::string describe_yaml(const YAML::Node& value);

}  // namespace opgraph::detail
