// A model_checkpoint filepath: literal text and Python format fields, filled as Keras fills
// them with str.format. Fields: {epoch} (from 1) and {loss}, {acc}, {val_loss}, {val_acc}, each
// with an optional printf-like spec: type "d" for epoch ({epoch:02d}), "f", "e", "E", "g" or
// "G" for the others ({val_acc:.4f}), preceded only by digits, '.', '+', '-' or ' '. {{ and
// }} are literal braces.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace opgraph {

struct ConfigItem;
class Diagnostics;

class PathTemplate {
public:
    // Parses `text`, the filepath of the callback `item` (named `label` in diagnostics). Adds
    // a diagnostic to `diagnostics`, at the item's filepath attribute, for each unknown field
    // name or unsupported spec; a single '}' or an unclosed '{' adds one and ends the parse.
    // Does not throw for a bad field; after any diagnostic, format()'s result is unspecified.
    PathTemplate(const std::string& text, const ConfigItem& item, const std::string& label,
                 Diagnostics& diagnostics);

    // The path for `epoch` and the metric `values` (keyed loss, acc, val_loss, val_acc): the
    // epoch as an integer, a metric without a spec as Python's repr (python_float_repr), with
    // a spec as printf formats it; a metric missing from `values` formats as NaN.
    std::string format(std::int64_t epoch, const std::map<std::string, double>& values) const;

private:
    struct Part {
        std::string literal;  // text before the field
        std::string name;
        std::string spec;
    };
    std::vector<Part> parts_;
    std::string tail_;
};

}  // namespace opgraph
