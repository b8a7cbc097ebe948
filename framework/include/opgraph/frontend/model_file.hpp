// Loading a model file: YAML text -> a checked Graph plus its TrainingConfig.
//
// Everything that can be checked without running is checked here, and every independent
// error is reported at once: YAML syntax, resource limits (nesting, size, alias expansion),
// duplicate keys, unknown ops and attributes (with "did you mean"), types and ranges,
// references, duplicate names, cycles, outputs and shapes. Throws GraphError with every
// diagnostic; never crashes on any input.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/ir/training_config.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct ModelFile {
    Graph graph;                             // validated, topologically sorted, shapes inferred
    std::optional<TrainingConfig> training;  // absent when the file has no training section
};

// Limits that keep hostile files from exhausting the stack or memory.
struct YamlLimits {
    std::size_t max_bytes = 16u << 20;          // file size
    int max_depth = 64;                         // nesting of mappings and sequences
    std::size_t max_expanded_nodes = 1u << 20;  // YAML nodes visited, aliases expanded
};

// Reads `file` against the ops of `ops` and, in its training section, the optimizer, schedule
// and callback types of `items` (the train layer's TrainingItems::specs()).
ModelFile load_model_file(const std::filesystem::path& file, const OpRegistry& ops,
                          const TrainingItemSpecs& items, const YamlLimits& limits = {});
// The same from text; `file` only names it in diagnostics.
ModelFile parse_model(const std::string& text, const std::string& file, const OpRegistry& ops,
                      const TrainingItemSpecs& items, const YamlLimits& limits = {});

}  // namespace opgraph
