#include "yaml_parse.hpp"

#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_map>

namespace opgraph::detail {

namespace {

// ---- A light scan of the text before yaml-cpp (which recurses per level) sees it.

struct TextPosition {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

struct TextScan {
    std::optional<TextPosition> too_deep;    // where the nesting first exceeds max_depth
    std::optional<TextPosition> open_quote;  // a quoted scalar still open where the scan stopped
    std::vector<TextPosition> open_flows;    // '[' and '{' still open where the scan stopped
};

// Text is matched by hand, not with std::regex: libstdc++'s matcher recurses once per
// character and overflows the stack on a line or scalar of some 100,000 characters.
bool is_yaml_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip_digits(std::string_view s, std::size_t pos) {
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    return pos;
}

// Whether `row` opens a block scalar: a '|' or '>' at the start of the row or after ':', '-'
// or '?' and blanks, then only indentation / chomping indicators, blanks and a comment.
bool is_block_scalar_header(std::string_view row) {
    for (std::size_t pos = 0; pos < row.size(); ++pos) {
        if (row[pos] != '|' && row[pos] != '>') continue;
        std::size_t blanks = pos;
        while (blanks > 0 && is_yaml_space(row[blanks - 1])) --blanks;
        const bool after_indicator =
            blanks < pos && blanks > 0 &&
            (row[blanks - 1] == ':' || row[blanks - 1] == '-' || row[blanks - 1] == '?');
        if (pos != 0 && !after_indicator) continue;
        std::size_t rest = pos + 1;
        while (rest < row.size() && (is_digit(row[rest]) || row[rest] == '-' || row[rest] == '+'))
            ++rest;
        while (rest < row.size() && is_yaml_space(row[rest])) ++rest;
        if (rest == row.size() ||
            (row[rest] == '#' && row.find('\r', rest) == std::string_view::npos))
            return true;
    }
    return false;
}

// Whether a quote at row[pos] opens a quoted scalar rather than being part of a plain one
// (as in "rock 'n roll"): it must start the line's content or follow an indicator, an anchor
// or a tag. `previous` is the last non-blank character before it, `token` the first character
// of the word before it.
bool opens_quote(std::string_view row, std::size_t pos, std::size_t content, bool in_flow,
                 char previous, char token) {
    if (pos == content) return true;
    const bool after_blank = row[pos - 1] == ' ' || row[pos - 1] == '\t';
    if (in_flow && (previous == '[' || previous == '{' || previous == ',' || previous == ':'))
        return true;
    if (after_blank && (previous == ':' || previous == '-' || previous == '?')) return true;
    return after_blank && (token == '&' || token == '!');
}

// An upper estimate of the nesting depth on each line: open block levels (by indentation and
// by compact "- - -" or "? ? ?" entries, each of which starts a level at its content's column)
// and open flow brackets. Stops at the first place the depth exceeds max_depth, or at `stop`
// (a position yaml-cpp complained about), or at the end of the text.
TextScan scan_text(const std::string& text, int max_depth,
                   TextPosition stop = {std::numeric_limits<int>::max(), 0}) {
    TextScan scan;
    std::vector<std::size_t> indents;
    int flow = 0;
    char quote = 0;
    // The indentation of the line that opened a block scalar (| or >), npos outside one.
    std::size_t block_scalar_indent = std::string_view::npos;
    std::size_t line_start = 0;
    for (int line = 1; line_start < text.size() && line <= stop.line; ++line) {
        std::size_t line_end = text.find('\n', line_start);
        if (line_end == std::string::npos) line_end = text.size();
        std::string_view row(text.data() + line_start, line_end - line_start);
        line_start = line_end + 1;
        if (line == stop.line && stop.column > 0)
            row = row.substr(0, std::min(row.size(), static_cast<std::size_t>(stop.column - 1)));

        const std::size_t indent = row.find_first_not_of(' ');
        const bool blank =
            indent == std::string_view::npos || row[indent] == '#' || row[indent] == '\r';
        if (quote == 0) {
            if (block_scalar_indent != std::string_view::npos) {
                if (blank || indent > block_scalar_indent) continue;
                block_scalar_indent = std::string_view::npos;
            }
            if (blank) continue;
        }
        std::size_t pos = indent == std::string_view::npos ? row.size() : indent;
        auto too_deep = [&](int depth, std::size_t at) {
            if (depth <= max_depth) return false;
            scan.too_deep = TextPosition{line, static_cast<int>(at) + 1};
            return true;
        };
        if (flow == 0 && quote == 0) {
            while (!indents.empty() && indents.back() > indent) indents.pop_back();
            if (indents.empty() || indents.back() < indent) indents.push_back(indent);
            if (too_deep(static_cast<int>(indents.size()), indent)) return scan;
            while (pos + 1 < row.size() && (row[pos] == '-' || row[pos] == '?') &&
                   row[pos + 1] == ' ') {
                const std::size_t indicator = pos;
                pos = row.find_first_not_of(' ', pos + 1);
                if (pos == std::string_view::npos) pos = row.size();
                indents.push_back(pos);
                if (too_deep(static_cast<int>(indents.size()), indicator)) return scan;
            }
        }
        const std::size_t content = pos;
        char previous = 0;  // the last non-blank character before pos on this line
        char token = 0;     // the first character of the word before the current one
        char word = 0;      // the first character of the current word
        for (; pos < row.size(); ++pos) {
            const char c = row[pos];
            const bool blank_char = c == ' ' || c == '\t';
            if (!blank_char && (pos == content || row[pos - 1] == ' ' || row[pos - 1] == '\t')) {
                token = word;
                word = c;
            }
            if (quote == '"') {
                if (c == '\\')
                    ++pos;
                else if (c == '"')
                    quote = 0;
            } else if (quote == '\'') {
                if (c == '\'' && pos + 1 < row.size() && row[pos + 1] == '\'')
                    ++pos;  // ''
                else if (c == '\'')
                    quote = 0;
            } else if ((c == '"' || c == '\'') &&
                       opens_quote(row, pos, content, flow > 0, previous, token)) {
                quote = c;
                scan.open_quote = TextPosition{line, static_cast<int>(pos) + 1};
            } else if (c == '#' && (pos == 0 || row[pos - 1] == ' ' || row[pos - 1] == '\t')) {
                break;
            } else if (c == '[' || c == '{') {
                scan.open_flows.push_back({line, static_cast<int>(pos) + 1});
                if (too_deep(++flow + static_cast<int>(indents.size()), pos)) return scan;
            } else if ((c == ']' || c == '}') && flow > 0) {
                --flow;
                scan.open_flows.pop_back();
            }
            if (!blank_char) previous = c;
        }
        if (flow == 0 && quote == 0 && row.find_first_of("|>") != std::string_view::npos &&
            is_block_scalar_header(row))
            block_scalar_indent = indent;
    }
    if (quote == 0) scan.open_quote.reset();
    return scan;
}

// ---- After parsing: duplicate keys and alias expansion, without recursion.

// The label the loader gives the mapping or list reached through `key` from one labelled
// `parent`: "model", "optimizer", "callbacks[1].schedule", so that a duplicate key is reported
// under the same name as every other error about that item.
//
// Through aliases an item can lie as deep as the expansion limit (an anchor used inside
// itself: "d: &d [*d, *d]"), and a label that grew with each level made the walk take memory
// and time quadratic in that depth. A label stops growing at kMaxLabelBytes, ending in "...".
constexpr std::size_t kMaxLabelBytes = 128;

std::string extend_label(const std::string& parent, const std::string& part) {
    if (parent.size() >= kMaxLabelBytes) return parent;  // already cut, ends in "..."
    std::string label = parent + part.substr(0, kMaxLabelBytes);
    if (label.size() >= kMaxLabelBytes) {
        label.resize(kMaxLabelBytes);
        label += "...";
    }
    return label;
}

std::string child_label(const std::string& parent, const std::string& key) {
    if (parent.empty() || parent == "training") return extend_label({}, key);
    return extend_label(parent, "." + key);
}

// The entries of model.layers and model.nodes are read by the model loader, which names each
// node (explicitly or Keras-style) and reports their duplicate keys itself. Any top-level key
// counts as the model here: the loader also reads a misspelt one ("modle:") as the model.
bool is_node_list(const std::string& label) {
    const std::size_t dot = label.find('.');
    if (dot == std::string::npos || label.find_first_of(".[", dot + 1) != std::string::npos)
        return false;
    const std::string key = label.substr(dot + 1);
    return label.find('[') == std::string::npos && (key == "layers" || key == "nodes");
}

// Walks the document once, aliases expanded, with an explicit stack: reports duplicate keys
// and refuses a document that expands to more than max_expanded_nodes. Returns false when
// it refused the document.
bool check_document(const YAML::Node& root, const std::string& file, const YamlLimits& limits,
                    Diagnostics& diagnostics) {
    struct Item {
        YAML::Node node;
        std::string label;                  // see child_label
        bool node_entry = false;            // an entry of model.layers or model.nodes
        std::optional<YAML::Node> top_key;  // the top-level key it lies under, for messages
    };
    std::vector<Item> stack{{root, {}, false, std::nullopt}};
    std::size_t visited = 1;
    std::set<std::pair<int, int>> reported;
    // Counts one more node visited; false (and a diagnostic) once the document has expanded
    // too far. The node's own position is the anchor's, possibly far from the alias that made
    // the document explode: the diagnostic names the top-level key it lies under instead.
    auto visit = [&](const std::optional<YAML::Node>& top_key) {
        if (++visited <= limits.max_expanded_nodes) return true;
        const bool top = top_key && top_key->IsScalar();
        diagnostics.add(top ? location_of(*top_key, file) : location_of(root, file), {},
                        top ? top_key->Scalar() : std::string{},
                        "the document expands to more than " +
                            std::to_string(limits.max_expanded_nodes) +
                            " YAML nodes through aliases; refusing it (an alias bomb?)");
        return false;
    };
    // Scalars are counted without being stacked: they need no label, and are most nodes.
    auto push = [&](const YAML::Node& node, auto&& label, bool node_entry,
                    const std::optional<YAML::Node>& top_key) {
        if (!visit(top_key)) return false;
        if (node.IsMap() || node.IsSequence())
            stack.push_back({node, label(), node_entry, top_key});
        return true;
    };
    while (!stack.empty()) {
        const Item item = std::move(stack.back());
        stack.pop_back();
        if (item.node.IsSequence()) {
            std::size_t index = 0;
            const bool node_entries = is_node_list(item.label);
            for (const YAML::Node& child : item.node) {
                auto label = [&] {
                    return extend_label(item.label, "[" + std::to_string(index) + "]");
                };
                if (!push(child, label, node_entries, item.top_key)) return false;
                ++index;
            }
        } else if (item.node.IsMap()) {
            std::unordered_map<std::string, YAML::Mark> seen;
            for (const auto& kv : item.node) {
                const std::string key = scalar_or_empty(kv.first);
                const YAML::Mark mark = kv.first.Mark();
                auto [it, fresh] = seen.emplace(key, mark);
                if (!fresh && !item.node_entry &&
                    reported.insert({mark.line, mark.column}).second) {
                    diagnostics.add(location_of(kv.first, file), item.label, key,
                                    "duplicate key (first written at line " +
                                        std::to_string(it->second.line + 1) + ", column " +
                                        std::to_string(it->second.column + 1) + ")");
                }
                auto label = [&] { return child_label(item.label, key); };
                if (!push(kv.second, label, false, item.top_key ? item.top_key : kv.first))
                    return false;
            }
        }
    }
    return true;
}

// What to add to a yaml-cpp syntax error: its messages name neither a tab used for
// indentation nor the bracket a "flow not found" error is about.
std::string syntax_hint(const std::string& text, const YAML::ParserException& e,
                        const YamlLimits& limits) {
    std::size_t start = 0;
    for (int line = 0; line < e.mark.line && start != std::string::npos; ++line) {
        start = text.find('\n', start);
        if (start != std::string::npos) ++start;
    }
    if (start != std::string::npos) {
        const std::size_t content = text.find_first_not_of(" \t", start);
        const std::size_t end = content == std::string::npos ? text.size() : content;
        if (text.find('\t', start) < end)
            return " (this line is indented with a tab; YAML indents with spaces only)";
    }
    if (e.msg.find("flow") != std::string::npos) {
        const TextScan scan =
            scan_text(text, limits.max_depth, {e.mark.line + 1, e.mark.column + 1});
        if (!scan.open_flows.empty()) {
            const TextPosition open = scan.open_flows.back();
            return " (the bracket opened at line " + std::to_string(open.line) + ", column " +
                   std::to_string(open.column) + " is not closed)";
        }
    }
    return {};
}

// Whether a quoted (non-plain) scalar, key or value, starts at `at`.
bool has_quoted_scalar_at(const YAML::Node& root, TextPosition at) {
    std::vector<YAML::Node> stack{root};
    while (!stack.empty()) {
        const YAML::Node node = stack.back();
        stack.pop_back();
        if (node.IsScalar()) {
            const YAML::Mark mark = node.Mark();
            if (node.Tag() == "!" && mark.line + 1 == at.line && mark.column + 1 == at.column)
                return true;
        } else if (node.IsSequence()) {
            for (const YAML::Node& child : node) stack.push_back(child);
        } else if (node.IsMap()) {
            for (const auto& kv : node) {
                stack.push_back(kv.first);
                stack.push_back(kv.second);
            }
        }
    }
    return false;
}

// ---- Scalars.

// [-+]?[0-9]+
bool is_integer_text(std::string_view s) {
    const std::size_t digits = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    return digits < s.size() && skip_digits(s, digits) == s.size();
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
bool is_real_text(std::string_view s) {
    if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
    const std::size_t start = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    const std::string_view unsigned_part = s.substr(start);
    if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") return true;
    std::size_t pos = skip_digits(s, start);
    if (pos > start) {
        if (pos < s.size() && s[pos] == '.') pos = skip_digits(s, pos + 1);
    } else {
        if (pos == s.size() || s[pos] != '.') return false;
        pos = skip_digits(s, pos + 1);
        if (pos == start + 1) return false;  // a lone '.'
    }
    if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
        std::size_t exponent = pos + 1;
        if (exponent < s.size() && (s[exponent] == '-' || s[exponent] == '+')) ++exponent;
        pos = skip_digits(s, exponent);
        if (pos == exponent) return false;
    }
    return pos == s.size();
}

}  // namespace

std::string scalar_or_empty(const YAML::Node& node) {
    return node.IsScalar() ? node.Scalar() : std::string{};
}

ScalarKind classify(const YAML::Node& node) {
    if (node.IsNull()) return ScalarKind::null;
    if (node.Tag() == "!") return ScalarKind::string;  // quoted
    const std::string& s = node.Scalar();
    if (is_integer_text(s)) return ScalarKind::integer;
    if (is_real_text(s)) return ScalarKind::real;
    if (s == "true" || s == "false" || s == "True" || s == "False" || s == "TRUE" || s == "FALSE")
        return ScalarKind::boolean;
    return ScalarKind::string;
}

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0) return {file, 0, 0};
    return {file, mark.line + 1, mark.column + 1};
}

std::string describe_yaml(const YAML::Node& value) {
    if (!value || value.IsNull()) return "nothing (null)";
    if (value.IsSequence()) return "a list";
    if (value.IsMap()) return "a mapping";
    switch (classify(value)) {
        case ScalarKind::integer:
            return "int " + value.Scalar();
        case ScalarKind::real:
            return "float " + value.Scalar();
        case ScalarKind::boolean:
            return "bool " + value.Scalar();
        default:
            return "string '" + value.Scalar() + "'";
    }
}

std::optional<YAML::Node> parse_yaml(const std::string& text, const std::string& file,
                                     const YamlLimits& limits, Diagnostics& diagnostics) {
    if (text.size() > limits.max_bytes) {
        diagnostics.add({file, 0, 0}, {}, {},
                        "file is " + std::to_string(text.size()) + " bytes, over the limit of " +
                            std::to_string(limits.max_bytes));
        return std::nullopt;
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        diagnostics.add({file, 1, 1}, {}, {}, "file is empty: expected a 'model' section");
        return std::nullopt;
    }
    const TextScan scan = scan_text(text, limits.max_depth);
    if (scan.too_deep) {
        diagnostics.add({file, scan.too_deep->line, scan.too_deep->column}, {}, {},
                        "nesting deeper than " + std::to_string(limits.max_depth) +
                            " levels; refusing the file");
        return std::nullopt;
    }
    std::optional<YAML::Node> parsed;
    try {
        parsed = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp's own guard, for nesting the scan above underestimated.
        diagnostics.add({file, e.mark.line + 1, e.mark.column + 1}, {}, {},
                        "nesting deeper than " + std::to_string(limits.max_depth) +
                            " levels; refusing the file");
        return std::nullopt;
    } catch (const YAML::ParserException& e) {
        diagnostics.add({file, e.mark.line + 1, e.mark.column + 1}, {}, {},
                        "YAML syntax error: " + e.msg + syntax_hint(text, e, limits));
        return std::nullopt;
    } catch (const YAML::Exception& e) {
        diagnostics.add({file, 0, 0}, {}, {}, std::string("YAML error: ") + e.what());
        return std::nullopt;
    }
    const YAML::Node& root = *parsed;
    if (!check_document(root, file, limits, diagnostics)) return std::nullopt;
    // yaml-cpp 0.7 accepts a quoted scalar left open at the end of the file and swallows the
    // rest of the file into it, which would surface as confusing errors about missing keys.
    if (scan.open_quote && has_quoted_scalar_at(root, *scan.open_quote)) {
        diagnostics.add({file, scan.open_quote->line, scan.open_quote->column}, {}, {},
                        "YAML syntax error: this quoted string is never closed");
        return std::nullopt;
    }
    if (root.IsNull()) {
        diagnostics.add({file, 1, 1}, {}, {},
                        "file has no content (only comments or document markers): expected "
                        "a 'model' section");
        return std::nullopt;
    }
    if (!root.IsMap()) {
        diagnostics.add(location_of(root, file), {}, {},
                        "expected a mapping with a 'model' section, got " + describe_yaml(root));
        return std::nullopt;
    }
    return root;
}

}  // namespace opgraph::detail
