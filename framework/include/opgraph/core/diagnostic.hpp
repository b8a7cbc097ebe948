// Diagnostics: errors found in a user's graph, each tied to a source position, a node and an
// attribute, and the error type that carries a whole list of them.
//
// Loaders and passes do not stop at the first problem: they add a Diagnostic for each
// independent error and throw one GraphError holding all of them at the end.
#pragma once

#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/core/source_location.hpp"

namespace opgraph {

struct Diagnostic {
    SourceLocation where;
    std::string node;       // node (or training item) the error is about; may be empty
    std::string attribute;  // attribute or key the error is about; may be empty
    std::string message;

    // "file:line:column: error: node 'conv1': attribute 'stride': <message>"
    std::string format() const;
};

// An ordered list of diagnostics collected while checking one file.
class Diagnostics {
public:
    void add(Diagnostic diagnostic);
    void add(const SourceLocation& where, std::string node, std::string attribute,
             std::string message);
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    // One formatted diagnostic per line.
    std::string format() const;
    // Throws GraphError holding every diagnostic when there is at least one.
    void throw_if_any() const;

private:
    std::vector<Diagnostic> items_;
};

// A graph file that fails to load, validate or type-check. what() is every diagnostic, one
// per line; diagnostics() gives them one by one.
class GraphError : public Error {
public:
    explicit GraphError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

}  // namespace opgraph
