// A position in a source file (a YAML graph): file name plus 1-based line and column.
#pragma once

#include <string>

namespace opgraph {

struct SourceLocation {
    std::string file;
    int line = 0;    // 1-based; 0 when unknown
    int column = 0;  // 1-based; 0 when unknown

    // "file:line:column", "file" when the position is unknown.
    std::string str() const;
};

}  // namespace opgraph
