#include "opgraph/tools/memory_report.hpp"

#include <sstream>

#include "opgraph/core/format.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/precision_support.hpp"
#include "opgraph/train/optimizer.hpp"

namespace opgraph {

namespace {

constexpr int kLabelWidth = 30;
constexpr int kColumnWidth = 14;

std::string cell(const std::string& text, int width, bool right = true) {
    const std::string pad(text.size() < static_cast<std::size_t>(width) ? width - text.size() : 1,
                          ' ');
    return right ? pad + text : text + pad;
}

}  // namespace

MemoryPlan training_memory_plan(const ModelFile& model, const OpRegistry& ops,
                                const OptimizerRegistry& optimizers, std::int64_t batch_size) {
    // The train pipeline's passes, as TrainingStep runs them (it needs the gradients' names).
    const TrainingGraph training = training_graph(
        model.graph, model.training->loss, ops, resolve_precision(model.training->precision).dtype);
    const BackwardGraph& backward = training.backward;
    MemoryPlanOptions options;
    options.batch_size = batch_size;
    options.training = true;
    options.optimizer_slots =
        static_cast<int>(optimizers.make(model.training->optimizer)->slot_names().size());
    for (const auto& [param, gradient] : backward.param_grads) options.keep.insert(gradient);
    return plan_memory(backward.graph, ops, options);
}

MemoryPlan inference_memory_plan(const ModelFile& model, const OpRegistry& ops,
                                 std::int64_t batch_size) {
    const Graph graph = inference_pipeline().run(model.graph, PassContext{ops, {}, {}});
    MemoryPlanOptions options;
    options.batch_size = batch_size;
    return plan_memory(graph, ops, options);
}

std::string format_memory_plans(const ModelFile& model, const OpRegistry& ops,
                                const OptimizerRegistry& optimizers, std::int64_t batch_size) {
    std::vector<std::pair<std::string, MemoryPlan>> plans;
    if (model.training)
        plans.emplace_back("training", training_memory_plan(model, ops, optimizers, batch_size));
    plans.emplace_back("inference", inference_memory_plan(model, ops, batch_size));
    std::ostringstream out;
    out << cell("Memory plan (batch " + std::to_string(batch_size) + ")", kLabelWidth, false);
    for (const auto& [name, plan] : plans) out << cell(name, kColumnWidth);
    out << "\n";
    const auto row = [&](const std::string& label, auto bytes_of) {
        out << cell("  " + label, kLabelWidth, false);
        for (const auto& [name, plan] : plans) out << cell(bytes_of(plan), kColumnWidth);
        out << "\n";
    };
    row("parameters", [](const MemoryPlan& p) { return bytes_str(p.parameter_bytes); });
    row("optimizer state", [](const MemoryPlan& p) {
        return p.training ? bytes_str(p.optimizer_bytes) : std::string("-");
    });
    row("inputs", [](const MemoryPlan& p) { return bytes_str(p.input_bytes); });
    row("activations (shared buffers)",
        [](const MemoryPlan& p) { return bytes_str(p.activation_bytes); });
    row("  one buffer per value",
        [](const MemoryPlan& p) { return bytes_str(p.unshared_activation_bytes); });
    row("total", [](const MemoryPlan& p) { return bytes_str(p.total()); });
    for (const auto& [name, plan] : plans) {
        out << "Largest in " << name << ":";
        for (std::size_t i = 0; i < plan.largest.size(); ++i)
            out << (i == 0 ? " " : ", ") << plan.largest[i].name << " (" << plan.largest[i].kind
                << ", " << bytes_str(plan.largest[i].bytes) << ")";
        out << "\n";
    }
    out << "Not planned: oneDNN scratchpads, and reordered inputs and inference weights inside "
           "kernels.\n";
    return out.str();
}

}  // namespace opgraph
