#include "opgraph/tools/quantization.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/dataset.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/passes/precision.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/weights.hpp"

namespace opgraph {

namespace {

// The graph's input and every node output: what the quantize pass may ask a range of.
std::vector<std::string> values_of(const Graph& graph) {
    std::vector<std::string> names;
    for (const GraphInput& input : graph.inputs) names.push_back(input.name);
    for (const Node& node : graph.nodes)
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i)
            names.push_back(value_name(node.name, i));
    return names;
}

}  // namespace

ActivationRanges calibrate(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options,
                           const float* images, std::int64_t count, CalibrationMethod method) {
    RangeCollector collector(values_of(graph), method);
    const std::string& input = graph.inputs.at(0).name;
    std::unique_ptr<Program> main, tail;
    for (std::int64_t first = 0; first < count; first += options.batch_size) {
        const std::int64_t batch = std::min(options.batch_size, count - first);
        std::unique_ptr<Program>& program = batch == options.batch_size ? main : tail;
        if (!program) {
            ProgramOptions o = options;
            o.batch_size = batch;
            o.share_buffers = false;  // every value stays readable
            program = std::make_unique<Program>(graph, ops, o);
        }
        const std::int64_t per_sample = element_count(program->shape(input)) / batch;
        program->write(input, images + first * per_sample,
                       static_cast<std::size_t>(batch * per_sample));
        program->run();
        collector.observe(*program);
    }
    return collector.ranges();
}

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
    const Dataset train = load_dataset(model.training->dataset, Split::train, options.data_root);
    QuantizeReport report;
    report.samples = std::min(options.samples, train.size());

    ParameterStore store;
    Evaluator f32(model.graph, loss, ops, options.batch_size, options.threads, &store);
    f32.load_weights(options.weights);
    const Graph graph = inference_pipeline().run(model.graph, PassContext{ops, {}, {}, DType::f32});
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
    PassContext quantized{ops, {}, {}, DType::f32};
    quantized.activation_ranges = &ranges;
    const Graph int8_graph = inference_pipeline().run(model.graph, quantized);
    for (const Node& node : int8_graph.nodes) {
        const std::optional<DType> in =
            node.inputs.empty() ? std::nullopt : int8_graph.dtype_of(node.inputs[0]);
        if (node.op == kCastOp)
            ++report.casts;
        else if (in && is_quantized(*in))
            ++report.int8_nodes;
    }
    Evaluator int8(model.graph, loss, ops, options.batch_size, options.threads, &store, DType::s8,
                   &ranges);
    const Dataset test = load_dataset(model.training->dataset, Split::test, options.data_root);
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
