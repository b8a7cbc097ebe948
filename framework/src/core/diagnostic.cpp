#include "opgraph/core/diagnostic.hpp"

namespace opgraph {

std::string Diagnostic::format() const {
    std::string out = where.str() + ": error: ";
    if (!node.empty()) out += "node '" + node + "': ";
    if (!attribute.empty()) out += "attribute '" + attribute + "': ";
    return out + message;
}

void Diagnostics::add(Diagnostic diagnostic) { items_.push_back(std::move(diagnostic)); }

void Diagnostics::add(const SourceLocation& where, std::string node, std::string attribute,
                      std::string message) {
    items_.push_back({where, std::move(node), std::move(attribute), std::move(message)});
}

std::string Diagnostics::format() const {
    std::string out;
    for (const Diagnostic& d : items_) out += d.format() + "\n";
    return out;
}

void Diagnostics::throw_if_any() const {
    if (!items_.empty()) throw GraphError(items_);
}

namespace {

std::string join_formatted(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const Diagnostic& d : diagnostics) {
        if (!out.empty()) out += "\n";
        out += d.format();
    }
    return out;
}

}  // namespace

GraphError::GraphError(std::vector<Diagnostic> diagnostics)
    : Error(ExitCode::invalid_graph, join_formatted(diagnostics)),
      diagnostics_(std::move(diagnostics)) {}

}  // namespace opgraph
