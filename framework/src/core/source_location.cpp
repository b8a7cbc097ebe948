#include "opgraph/core/source_location.hpp"

namespace opgraph {

std::string SourceLocation::str() const {
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace opgraph
