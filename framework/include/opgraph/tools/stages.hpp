// The graph at any stage of the pass pipelines (opgraph/passes/pipeline.hpp): what
// `opgraph dot --stage S` draws and `opgraph summary --stage S` tabulates.
#pragma once

#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

struct Stage {
    std::string name;      // "loaded", a pass ("fold_affine") or a pipeline ("inference")
    std::string pipeline;  // the pipeline it is run in; empty for "loaded"
    std::string summary;   // one line
};

// "loaded", then each pipeline's passes followed by the pipeline's own name (its last stage);
// a pass shared by two pipelines is listed once, under the first.
std::vector<Stage> stages();
// One line per stage: name, [pipeline], summary.
std::string format_stages();

// The graph after `stage`: the loaded graph for "loaded"; else the first pipeline that has
// that pass, or the pipeline of that name, run from the loaded graph up to it. Throws
// UsageError for an unknown stage (naming the nearest) or a stage that needs a training
// section the file does not have; GraphError when a pass rejects the graph. The precision
// pass runs with `precision`.
Graph graph_at_stage(const ModelFile& model, const std::string& stage, const OpRegistry& ops,
                     DType precision = DType::f32);

}  // namespace opgraph
