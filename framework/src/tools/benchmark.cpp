#include "opgraph/tools/benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>

#include "opgraph/core/error.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/precision_support.hpp"
#include "opgraph/runtime/program.hpp"
#include "opgraph/tools/machine_info.hpp"
#include "opgraph/tools/summary.hpp"
#include "opgraph/train/training_step.hpp"

namespace opgraph {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDefaultBatch = 128;
constexpr int kSyntheticBatches = 2;  // distinct batches the steps alternate between
constexpr double kFlopPerMac = 2;
constexpr double kTrainingPasses = 3;  // forward, backward data, backward weights
constexpr const char* kGradientSums = "(gradient sums)";
constexpr const char* kUpdates = "(optimizer updates)";

// Synthetic data: kSyntheticBatches batches of images in [0, 1] and labels < classes.
struct SyntheticData {
    std::vector<std::vector<float>> images;
    std::vector<std::vector<std::int32_t>> labels;
};

SyntheticData synthetic_data(std::int64_t batch, std::int64_t floats_per_sample,
                             std::int64_t classes, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(classes) - 1);
    SyntheticData data;
    for (int b = 0; b < kSyntheticBatches; ++b) {
        std::vector<float> images(static_cast<std::size_t>(batch * floats_per_sample));
        for (float& x : images) x = pixel(rng);
        std::vector<std::int32_t> labels(static_cast<std::size_t>(batch));
        for (std::int32_t& y : labels) y = label(rng);
        data.images.push_back(std::move(images));
        data.labels.push_back(std::move(labels));
    }
    return data;
}

// What a kernel of the profile is: forward or backward, and the forward node it belongs to.
struct KernelRole {
    std::string kind;
    std::string layer;
};

// Roles of the nodes of a training graph: autodiff appends the backward nodes after the
// forward ones; each carries kForwardAttr, except the adds summing gradients.
std::map<std::string, KernelRole> training_roles(const TrainingGraph& training) {
    std::set<std::string> forward;
    for (const Node& node : training.loss.graph.nodes) forward.insert(node.name);
    std::map<std::string, KernelRole> roles;
    for (const Node& node : training.backward.graph.nodes) {
        if (forward.count(node.name))
            roles[node.name] = {"forward", node.name};
        else if (node.attrs.has(kForwardAttr))
            roles[node.name] = {"backward", node.attrs.get_string(kForwardAttr)};
        else
            roles[node.name] = {"backward", kGradientSums};
    }
    return roles;
}

// Fills the time, arithmetic and profile fields of `report` from the timed steps.
void summarize_steps(BenchReport& report, const std::vector<double>& step_seconds,
                     const std::vector<KernelProfile>& profile, std::int64_t profiled_runs,
                     const std::map<std::string, KernelRole>& roles) {
    const double steps = static_cast<double>(step_seconds.size());
    const double batch = static_cast<double>(report.batch_size);
    report.seconds = std::accumulate(step_seconds.begin(), step_seconds.end(), 0.0);
    report.images_per_second = batch * steps / report.seconds;
    report.ms_per_step = 1e3 * report.seconds / steps;
    report.ms_per_image = report.ms_per_step / batch;
    std::vector<double> sorted = step_seconds;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t mid = sorted.size() / 2;
    const double median =
        sorted.size() % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    report.median_ms_per_step = 1e3 * median;
    report.min_ms_per_step = 1e3 * sorted.front();
    report.max_ms_per_step = 1e3 * sorted.back();

    report.flop_per_step = kFlopPerMac * static_cast<double>(report.macs_per_image) * batch *
                           (report.mode == BenchMode::train ? kTrainingPasses : 1.0);
    report.gflops = report.flop_per_step * steps / report.seconds * 1e-9;

    const double runs = static_cast<double>(std::max<std::int64_t>(profiled_runs, 1));
    std::map<std::string, std::size_t> layer_index;
    const auto layer_row = [&](const std::string& layer, const std::string& op) -> BenchLayer& {
        auto [it, added] = layer_index.emplace(layer, report.layers.size());
        if (added) report.layers.push_back({layer, op, 0, 0});
        return report.layers[it->second];
    };
    for (const KernelProfile& p : profile) {
        BenchKernel k{p.node,
                      p.op,
                      "forward",
                      p.node,
                      p.implementation,
                      1e3 * p.seconds / runs,
                      static_cast<double>(p.reorders) / runs};
        if (p.op == kUpdateOp) {
            k.kind = "update";
            k.layer = kUpdates;
        } else if (auto it = roles.find(p.node); it != roles.end()) {
            k.kind = it->second.kind;
            k.layer = it->second.layer;
        }
        if (k.kind == "forward") {
            layer_row(k.layer, k.op).forward_ms += k.ms_per_step;
        } else {
            // A backward kernel before its layer's forward one cannot happen; sums and updates
            // get rows of their own, after the layers.
            layer_row(k.layer, k.kind == "update" ? kUpdateOp : "add").backward_ms += k.ms_per_step;
        }
        report.kernel_ms_per_step += k.ms_per_step;
        report.reorders_per_step += k.reorders_per_step;
        report.kernels.push_back(std::move(k));
    }
    // Rows of forward nodes first, in execution order; the gradient sums and updates last.
    std::stable_partition(report.layers.begin(), report.layers.end(), [](const BenchLayer& l) {
        return l.layer != kGradientSums && l.layer != kUpdates;
    });
}

// Runs `step(i)` warmup + steps times; returns the wall time of each timed step. `reset` is
// called between warm-up and timed steps (profile counters).
template <class Step, class Reset>
std::vector<double> time_steps(std::int64_t warmup, std::int64_t steps, Step step, Reset reset) {
    for (std::int64_t i = 0; i < warmup; ++i) step(i);
    reset();
    std::vector<double> seconds;
    seconds.reserve(static_cast<std::size_t>(steps));
    for (std::int64_t i = 0; i < steps; ++i) {
        const auto start = Clock::now();
        step(warmup + i);
        seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    return seconds;
}

// The inference graph in `precision`; int8 calibrated (minmax) on the synthetic batches by
// f32 programs bound to po.parameters.
Graph inference_graph(const ModelFile& model, const OpRegistry& ops, const ProgramOptions& po,
                      DType precision, const SyntheticData& data) {
    if (precision != DType::s8)
        return inference_pipeline().run(model.graph, PassContext{ops, {}, {}, precision});
    PassContext context{ops, {}, {}, DType::s8};  // no ranges: the graph to calibrate
    const Graph f32 = inference_pipeline().run(model.graph, context);
    std::vector<float> images;
    for (const std::vector<float>& batch : data.images)
        images.insert(images.end(), batch.begin(), batch.end());
    const ActivationRanges ranges = calibrate(
        f32, ops, po, images.data(), po.batch_size * kSyntheticBatches, CalibrationMethod::minmax);
    context.activation_ranges = &ranges;
    return inference_pipeline().run(model.graph, context);
}

void run_inference(BenchReport& report, const ModelFile& model, const OpRegistry& ops,
                   const BenchOptions& opts, DType precision) {
    ParameterStore parameters;
    ProgramOptions po;
    po.batch_size = report.batch_size;
    po.training = false;
    po.threads = opts.threads;
    po.seed = opts.seed;
    po.parameters = &parameters;
    const Shape& input_shape = model.graph.inputs.at(0).shape;  // batch first
    const SyntheticData data = synthetic_data(
        report.batch_size, element_count(Shape(input_shape.begin() + 1, input_shape.end())), 1,
        opts.seed);
    const Graph graph = inference_graph(model, ops, po, precision, data);
    po.share_buffers = true;
    Program program(graph, ops, po);
    const std::string& input = graph.inputs.at(0).name;
    const std::vector<double> seconds = time_steps(
        opts.warmup, opts.steps,
        [&](std::int64_t i) {
            const std::vector<float>& images =
                data.images[static_cast<std::size_t>(i % kSyntheticBatches)];
            program.write(input, images.data(), images.size());
            program.run();
        },
        [&] { program.reset_profile(); });
    report.threads = program.threads();
    report.program_bytes = program.allocated_bytes();
    summarize_steps(report, seconds, program.profile(), program.profiled_runs(), {});
}

void run_training(BenchReport& report, const ModelFile& model, const OpRegistry& ops,
                  const BenchOptions& opts) {
    if (!model.training)
        throw Error(ExitCode::usage, model.graph.file +
                                         ": bench --mode train needs the file's training section "
                                         "(its loss and optimizer)");
    TrainingConfig config = *model.training;
    config.precision = report.precision;
    TrainingStep step(model.graph, config, ops, report.batch_size, opts.threads, opts.seed, false,
                      opts.optimizers);
    Program& program = step.program();
    const Shape& out = program.shape(model.graph.outputs.at(0));
    const std::int64_t classes = out.back();
    const std::int64_t floats = element_count(program.shape(model.graph.inputs.at(0).name));
    const SyntheticData data =
        synthetic_data(report.batch_size, floats / report.batch_size, classes, opts.seed);
    const double lr = step.optimizer().initial_learning_rate();
    double loss = 0;
    const std::vector<double> seconds = time_steps(
        opts.warmup, opts.steps,
        [&](std::int64_t i) {
            const auto b = static_cast<std::size_t>(i % kSyntheticBatches);
            loss =
                step.run(data.images[b].data(), data.labels[b].data(), report.batch_size, lr).loss;
        },
        [&] { program.reset_profile(); });
    report.last_loss = loss;
    report.threads = program.threads();
    report.program_bytes = program.allocated_bytes();
    summarize_steps(report, seconds, program.profile(), program.profiled_runs(),
                    training_roles(step.graph()));
}

}  // namespace

BenchMode parse_bench_mode(const std::string& text) {
    if (text == "infer") return BenchMode::infer;
    if (text == "train") return BenchMode::train;
    throw std::invalid_argument("unknown benchmark mode '" + text + "' (infer or train)");
}

const char* bench_mode_name(BenchMode mode) { return mode == BenchMode::train ? "train" : "infer"; }

void check_bench_options(const BenchOptions& opts) {
    if (opts.steps < 1) throw std::invalid_argument("--steps must be >= 1");
    if (opts.warmup < 0) throw std::invalid_argument("--warmup must be >= 0");
    if (opts.batch_size < 0) throw std::invalid_argument("--batch-size must be >= 0 (0: default)");
    opts.threads.resolved();  // negative thread counts
}

BenchReport run_benchmark(const ModelFile& model, const OpRegistry& ops, const BenchOptions& opts) {
    check_bench_options(opts);
    BenchReport report;
    report.graph = model.graph.name;
    report.file = model.graph.file;
    report.mode = opts.mode;
    report.batch_size = opts.batch_size > 0 ? opts.batch_size
                        : model.training    ? model.training->batch_size
                                            : kDefaultBatch;
    report.steps = opts.steps;
    report.warmup = opts.warmup;
    const ResolvedPrecision precision = resolve_precision(opts.precision);
    if (precision.dtype == DType::s8 && opts.mode == BenchMode::train)
        throw UsageError(
            "precision int8 is for inference: bench --mode infer (train in f32, "
            "bf16 or auto)");
    report.precision = precision_name(precision.dtype);
    report.precision_note = precision.note;
    report.cpu = cpu_model();
    report.onednn_version = onednn_version();
    report.onednn_isa = onednn_isa();
    report.cores = available_cores();
    report.macs_per_image = summarize(model.graph, ops).macs;

    if (opts.mode == BenchMode::train)
        run_training(report, model, ops, opts);
    else
        run_inference(report, model, ops, opts, precision.dtype);
    // Before the peak: its buffers must not count in the benchmark's peak memory.
    report.max_rss_bytes = max_rss_bytes();

    if (opts.measure_peak) {
        constexpr std::int64_t kPeakSize = 1024;
        const int threads = report.threads.intra_op;
        const bool f32 = precision.dtype == DType::f32;
        report.peak_gflops = f32 ? measure_sgemm_gflops(threads, kPeakSize)
                                 : measure_matmul_gflops(precision.dtype, threads, kPeakSize);
        report.peak_share = report.peak_gflops > 0 ? report.gflops / report.peak_gflops : 0;
        const std::string cube =
            std::to_string(kPeakSize) + "^3 on " + std::to_string(threads) + " OpenMP thread(s)";
        const std::string matmul = precision.dtype == DType::s8 ? "u8 x s8 -> s32" : "bf16";
        report.peak_method = f32 ? "measured sgemm peak: best of repeated dnnl_sgemm " + cube
                                 : "measured " + report.precision + " peak: best of repeated " +
                                       matmul + " oneDNN matmul " + cube;
    } else {
        report.peak_method = "not measured";
    }
    return report;
}

}  // namespace opgraph
