#include "opgraph/tools/stages.hpp"

#include <algorithm>
#include <set>

#include "opgraph/core/error.hpp"
#include "opgraph/core/suggest.hpp"
#include "opgraph/passes/pipeline.hpp"

namespace opgraph {

namespace {

constexpr const char* kLoaded = "loaded";

std::vector<std::string> stage_names() {
    std::vector<std::string> names;
    for (const Stage& stage : stages()) names.push_back(stage.name);
    return names;
}

}  // namespace

std::vector<Stage> stages() {
    std::vector<Stage> out = {{kLoaded, {}, "the graph file, validated, shapes inferred"}};
    std::set<std::string> listed;
    for (const Pipeline* pipeline : pipelines()) {
        for (const Pass& pass : pipeline->passes())
            if (listed.insert(pass.name).second)
                out.push_back({pass.name, pipeline->name(), pass.summary});
        out.push_back({pipeline->name(), pipeline->name(), pipeline->summary()});
    }
    return out;
}

std::string format_stages() {
    constexpr std::size_t kNameWidth = 17;
    std::string out;
    for (const Stage& stage : stages()) {
        out +=
            stage.name + std::string(kNameWidth - std::min(kNameWidth - 1, stage.name.size()), ' ');
        if (!stage.pipeline.empty()) out += "[" + stage.pipeline + "] ";
        out += stage.summary + "\n";
    }
    return out;
}

Graph graph_at_stage(const ModelFile& model, const std::string& stage, const OpRegistry& ops,
                     DType precision) {
    if (stage == kLoaded) return model.graph;
    for (const Pipeline* pipeline : pipelines()) {
        const bool whole = pipeline->name() == stage;
        if (!whole && !pipeline->has_pass(stage)) continue;
        bool needs_loss = false;  // the loss pass runs before the stage is reached
        for (const Pass& pass : pipeline->passes()) {
            needs_loss = needs_loss || pass.name == "loss";
            if (pass.name == stage) break;
        }
        if (needs_loss && !model.training)
            throw UsageError(model.graph.file + ": stage '" + stage +
                             "' needs the file's training section (its loss)");
        const PassContext context{
            ops, model.training ? model.training->loss : std::string{}, {}, precision};
        return pipeline->run(model.graph, context, whole ? std::string{} : stage);
    }
    throw UsageError("unknown stage '" + stage + "'" + did_you_mean(stage, stage_names()) +
                     "; --list-stages names them");
}

}  // namespace opgraph
