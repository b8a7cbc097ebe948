#include "opgraph/tools/quantization.hpp"

#include <algorithm>
#include <cstdio>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/dataset.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/passes/precision.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/weights.hpp"

namespace opgraph {

QuantizeReport quantize_model(const ModelFile& model, const OpRegistry& ops,
                              const QuantizeOptions& options) {
    if (!model.training) {
        Diagnostics missing;
        missing.add({model.graph.file, 0, 0}, {}, "training",
                    "quantize calibrates on the training section's dataset");
        missing.throw_if_any();
    }
    if (options.samples < 1) throw UsageError("--calibration-samples must be >= 1");
    const std::string& loss = model.training->loss;
    const DatasetRegistry builtin = builtin_datasets();
    const DatasetRegistry& datasets = options.datasets != nullptr ? *options.datasets : builtin;
    const Dataset train =
        load_dataset(datasets, model.training->dataset, Split::train, options.data_root);
    QuantizeReport report;
    report.samples = std::min(options.samples, train.size());

    ParameterStore store;
    Evaluator f32(model.graph, loss, ops, options.batch_size, options.threads, &store);
    f32.load_weights(options.weights);
    const Graph graph = inference_pipeline().run(model.graph, PassContext{ops, {}, {}, DType::s8});
    ProgramOptions calibration;
    calibration.batch_size = options.batch_size;
    calibration.threads = options.threads;
    calibration.parameters = &store;
    const ActivationRanges ranges =
        calibrate(graph, ops, calibration, train.images.data(), report.samples, options.method);
    save_quantized_weights(f32.program(), ranges, options.output,
                           {{"graph", model.graph.name},
                            {"calibration_method", calibration_method_name(options.method)},
                            {"calibration_samples", std::to_string(report.samples)}});

    report.ranges = ranges.size();
    Evaluator int8(model.graph, loss, ops, options.batch_size, options.threads, &store, DType::s8,
                   &ranges);
    const Graph& int8_graph = int8.graph();
    for (const Node& node : int8_graph.nodes) {
        const std::optional<DType> in =
            node.inputs.empty() ? std::nullopt : int8_graph.dtype_of(node.inputs[0]);
        if (node.op == kCastOp)
            ++report.casts;
        else if (in && is_quantized(*in))
            ++report.int8_nodes;
    }
    const Dataset test =
        load_dataset(datasets, model.training->dataset, Split::test, options.data_root);
    report.f32 = f32.evaluate(test);
    report.int8 = int8.evaluate(test);
    return report;
}

std::string format_quantize_report(const QuantizeReport& r, const QuantizeOptions& options) {
    char line[256];
    std::string out = "Wrote " + options.output.string() + ": the f32 weights of " +
                      options.weights.string() + " and " + std::to_string(r.ranges) +
                      " activation ranges (" + calibration_method_name(options.method) +
                      " over the first " + std::to_string(r.samples) + " training samples)\n";
    out += "int8: " + std::to_string(r.int8_nodes) +
           " nodes read 8-bit integers; casts between "
           "f32 and integers: " +
           std::to_string(r.casts) + "\n";
    std::snprintf(line, sizeof line,
                  "test set (%lld samples): f32 acc %.4f loss %.4f; int8 acc %.4f loss %.4f; "
                  "change %+.2f points\n",
                  static_cast<long long>(r.f32.samples), r.f32.accuracy, r.f32.loss,
                  r.int8.accuracy, r.int8.loss, 100 * (r.int8.accuracy - r.f32.accuracy));
    return out + line;
}

}  // namespace opgraph
