#include "opgraph/benchmark.hpp"

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <dnnl.hpp>

#include "opgraph/autodiff.hpp"
#include "opgraph/error.hpp"
#include "opgraph/gradient.hpp"
#include "opgraph/loss_graph.hpp"
#include "opgraph/memory_layout.hpp"
#include "opgraph/program.hpp"
#include "opgraph/summary.hpp"
#include "opgraph/training_step.hpp"

namespace opgraph {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDefaultBatch = 128;
constexpr int kSyntheticBatches = 2;  // distinct batches the steps alternate between
constexpr double kFlopPerMac = 2;
constexpr double kTrainingPasses = 3;  // forward, backward data, backward weights
constexpr int kMinSgemmRepeats = 3;
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

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    return "unknown";
}

std::string isa_name(dnnl::cpu_isa isa) {
    using dnnl::cpu_isa;
    switch (isa) {
        case cpu_isa::sse41: return "sse41";
        case cpu_isa::avx: return "avx";
        case cpu_isa::avx2: return "avx2";
        case cpu_isa::avx2_vnni: return "avx2_vnni";
        case cpu_isa::avx512_mic: return "avx512_mic";
        case cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
        case cpu_isa::avx512_core: return "avx512_core";
        case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case cpu_isa::avx512_core_amx: return "avx512_core_amx";
        default: return "any";
    }
}

std::int64_t max_rss_bytes() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    constexpr std::int64_t kBytesPerKilobyte = 1024;  // Linux reports ru_maxrss in KiB
    return static_cast<std::int64_t>(usage.ru_maxrss) * kBytesPerKilobyte;
}

// What a kernel of the profile is: forward or backward, and the forward node it belongs to.
struct KernelRole {
    std::string kind;
    std::string layer;
};

// Roles of the nodes of a training graph: autodiff appends the backward nodes after the
// forward ones; each carries kForwardAttr, except the adds summing gradients.
std::map<std::string, KernelRole> training_roles(const Graph& model, const TrainingConfig& config,
                                                 const OpRegistry& ops) {
    const LossGraph loss = with_loss(model, config.loss, ops);
    const BackwardGraph backward = differentiate(loss.graph, loss.loss, ops);
    std::set<std::string> forward;
    for (const Node& node : loss.graph.nodes) forward.insert(node.name);
    std::map<std::string, KernelRole> roles;
    for (const Node& node : backward.graph.nodes) {
        if (forward.count(node.name)) roles[node.name] = {"forward", node.name};
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
        BenchKernel k{p.node, p.op, "forward", p.node, p.implementation,
                      1e3 * p.seconds / runs, static_cast<double>(p.reorders) / runs};
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
            layer_row(k.layer, k.kind == "update" ? kUpdateOp : "add").backward_ms +=
                k.ms_per_step;
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

void run_inference(BenchReport& report, const ModelFile& model, const OpRegistry& ops,
                   const BenchOptions& opts) {
    ProgramOptions po;
    po.batch_size = report.batch_size;
    po.training = false;
    po.threads = opts.threads;
    po.seed = opts.seed;
    Program program(model.graph, ops, po);
    const std::string& input = model.graph.inputs.at(0).name;
    const std::int64_t floats = element_count(program.shape(input));
    const SyntheticData data =
        synthetic_data(report.batch_size, floats / report.batch_size, 1, opts.seed);
    const std::vector<double> seconds = time_steps(
        opts.warmup, opts.steps,
        [&](std::int64_t i) {
            const std::vector<float>& images = data.images[static_cast<std::size_t>(i % kSyntheticBatches)];
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
    TrainingStep step(model.graph, *model.training, ops, report.batch_size, opts.threads,
                      opts.seed);
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
            loss = step.run(data.images[b].data(), data.labels[b].data(), report.batch_size, lr)
                       .loss;
        },
        [&] { program.reset_profile(); });
    report.last_loss = loss;
    report.threads = program.threads();
    report.program_bytes = program.allocated_bytes();
    summarize_steps(report, seconds, program.profile(), program.profiled_runs(),
                    training_roles(model.graph, *model.training, ops));
}

}  // namespace

BenchMode parse_bench_mode(const std::string& text) {
    if (text == "infer") return BenchMode::infer;
    if (text == "train") return BenchMode::train;
    throw std::invalid_argument("unknown benchmark mode '" + text + "' (infer or train)");
}

const char* bench_mode_name(BenchMode mode) {
    return mode == BenchMode::train ? "train" : "infer";
}

double measure_sgemm_gflops(int threads, std::int64_t size, double seconds) {
    const auto n = static_cast<std::size_t>(size);
    std::vector<float> a(n * n, 1.f), b(n * n, 0.5f), c(n * n, 0.f);
    const OmpThreadsScope omp_threads(threads);
    const double flop = kFlopPerMac * static_cast<double>(size) * static_cast<double>(size) *
                        static_cast<double>(size);
    const auto gemm = [&] {
        dnnl::sgemm('N', 'N', size, size, size, 1.f, a.data(), size, b.data(), size, 0.f,
                    c.data(), size);
    };
    gemm();  // warm-up: JIT code generation, page faults
    double best = 0;
    const auto begin = Clock::now();
    for (int repeats = 0;
         repeats < kMinSgemmRepeats ||
         std::chrono::duration<double>(Clock::now() - begin).count() < seconds;
         ++repeats) {
        const auto start = Clock::now();
        gemm();
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        best = std::max(best, flop / t * 1e-9);
    }
    return best;
}

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
    report.cpu = cpu_model();
    const dnnl_version_t* v = dnnl::version();
    report.onednn_version =
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    report.onednn_isa = isa_name(dnnl::get_effective_cpu_isa());
    report.cores = available_cores();
    report.macs_per_image = summarize(model.graph, ops).macs;

    if (opts.mode == BenchMode::train)
        run_training(report, model, ops, opts);
    else
        run_inference(report, model, ops, opts);
    // Before the sgemm: its buffers must not count in the benchmark's peak memory.
    report.max_rss_bytes = max_rss_bytes();

    if (opts.measure_peak) {
        constexpr std::int64_t kSgemmSize = 1024;
        report.peak_gflops = measure_sgemm_gflops(report.threads.intra_op, kSgemmSize);
        report.peak_share = report.peak_gflops > 0 ? report.gflops / report.peak_gflops : 0;
        report.peak_method = "measured sgemm peak: best of repeated dnnl_sgemm " +
                             std::to_string(kSgemmSize) + "^3 on " +
                             std::to_string(report.threads.intra_op) + " OpenMP thread(s)";
    } else {
        report.peak_method = "not measured";
    }
    return report;
}

namespace {

// printf into a std::string.
template <class... Args>
std::string format(const char* pattern, Args... args) {
    const int n = std::snprintf(nullptr, 0, pattern, args...);
    std::string out(static_cast<std::size_t>(std::max(n, 0)) + 1, '\0');
    std::snprintf(out.data(), out.size(), pattern, args...);
    out.pop_back();
    return out;
}

constexpr double kMebibyte = 1024.0 * 1024.0;
constexpr double kPercent = 100;

}  // namespace

std::string format_bench_report(const BenchReport& r) {
    std::ostringstream out;
    const double steps_ms = r.ms_per_step > 0 ? r.ms_per_step : 1;
    out << "opgraph bench: " << r.graph << " (" << r.file << "), " << bench_mode_name(r.mode)
        << ", batch " << r.batch_size << ", " << r.steps << " timed steps after " << r.warmup
        << " warm-up, synthetic data\n";
    out << "machine:    " << r.cpu << ", " << r.cores << " cores; oneDNN " << r.onednn_version
        << ", ISA " << r.onednn_isa << "\n";
    out << "threads:    " << r.threads.intra_op << " intra-op (OpenMP, inside each primitive) x "
        << r.threads.inter_op << " inter-op (oneTBB, kernels at once)\n\n";
    out << format("throughput: %.1f images/s, %.3f ms/step (median %.3f, min %.3f, max %.3f), "
                  "%.4f ms/image\n",
                  r.images_per_second, r.ms_per_step, r.median_ms_per_step, r.min_ms_per_step,
                  r.max_ms_per_step, r.ms_per_image);
    out << "arithmetic: " << group_thousands(r.macs_per_image) << " MACs per image forward; "
        << format("%.3f GFLOP per step", r.flop_per_step * 1e-9)
        << (r.mode == BenchMode::train
                ? " (2 FLOP per MAC; training = 3 x forward: forward, backward data, backward "
                  "weights)\n"
                : " (2 FLOP per MAC, forward only)\n");
    if (r.peak_gflops > 0) {
        out << format("achieved:   %.2f GFLOP/s = %.1f %% of %.1f GFLOP/s, the ", r.gflops,
                      kPercent * r.peak_share, r.peak_gflops)
            << r.peak_method << "\n";
    } else {
        out << format("achieved:   %.2f GFLOP/s (peak not measured)\n", r.gflops);
    }
    out << format("reorders:   %.1f per step (inputs reordered to a primitive's layout inside "
                  "kernels)\n",
                  r.reorders_per_step);
    out << format("memory:     peak RSS %.1f MiB (whole process); program values %.1f MiB "
                  "(inputs, activations, gradients, parameters)\n",
                  static_cast<double>(r.max_rss_bytes) / kMebibyte,
                  static_cast<double>(r.program_bytes) / kMebibyte);
    if (r.mode == BenchMode::train) out << format("loss:       %.4f (last step)\n", r.last_loss);

    out << "\ntime per layer, ms per step (as caffe time; % of the step):\n";
    out << format("%-28s %-26s %10s %10s %10s %6s\n", "layer", "op", "forward", "backward",
                  "total", "%");
    double forward = 0, backward = 0;
    for (const BenchLayer& l : r.layers) {
        const double total = l.forward_ms + l.backward_ms;
        forward += l.forward_ms;
        backward += l.backward_ms;
        out << format("%-28s %-26s %10.3f %10.3f %10.3f %6.1f\n", l.layer.c_str(), l.op.c_str(),
                      l.forward_ms, l.backward_ms, total, kPercent * total / steps_ms);
    }
    out << format("%-28s %-26s %10.3f %10.3f %10.3f %6.1f\n", "kernels", "", forward, backward,
                  forward + backward, kPercent * (forward + backward) / steps_ms);
    const double outside = std::max(0.0, r.ms_per_step - r.kernel_ms_per_step);
    out << format("%-28s %-26s %10s %10s %10.3f %6.1f\n", "outside kernels",
                  "(data, updates, scheduling)", "", "", outside, kPercent * outside / steps_ms);

    out << "\nkernels in execution order (ms per step, reorders per step, oneDNN implementation):\n";
    for (const BenchKernel& k : r.kernels)
        out << format("%-36s %-32s %-8s %9.3f %5.1f  ", k.node.c_str(), k.op.c_str(),
                      k.kind.c_str(), k.ms_per_step, k.reorders_per_step)
            << (k.implementation.empty() ? "-" : k.implementation) << "\n";
    return out.str();
}

std::string bench_report_json(const BenchReport& r) {
    nlohmann::json kernels = nlohmann::json::array();
    for (const BenchKernel& k : r.kernels)
        kernels.push_back({{"node", k.node},
                           {"op", k.op},
                           {"kind", k.kind},
                           {"layer", k.layer},
                           {"implementation", k.implementation},
                           {"ms_per_step", k.ms_per_step},
                           {"reorders_per_step", k.reorders_per_step}});
    nlohmann::json layers = nlohmann::json::array();
    for (const BenchLayer& l : r.layers)
        layers.push_back({{"layer", l.layer},
                          {"op", l.op},
                          {"forward_ms", l.forward_ms},
                          {"backward_ms", l.backward_ms}});
    const nlohmann::json j = {
        {"graph", r.graph},
        {"file", r.file},
        {"mode", bench_mode_name(r.mode)},
        {"batch_size", r.batch_size},
        {"steps", r.steps},
        {"warmup", r.warmup},
        {"cpu", r.cpu},
        {"onednn_version", r.onednn_version},
        {"onednn_isa", r.onednn_isa},
        {"threads",
         {{"intra_op", r.threads.intra_op}, {"inter_op", r.threads.inter_op}, {"cores", r.cores}}},
        {"seconds", r.seconds},
        {"images_per_second", r.images_per_second},
        {"ms_per_step", r.ms_per_step},
        {"ms_per_image", r.ms_per_image},
        {"median_ms_per_step", r.median_ms_per_step},
        {"min_ms_per_step", r.min_ms_per_step},
        {"max_ms_per_step", r.max_ms_per_step},
        {"macs_per_image", r.macs_per_image},
        {"flop_per_step", r.flop_per_step},
        {"gflops", r.gflops},
        {"peak_gflops", r.peak_gflops},
        {"peak_share", r.peak_share},
        {"peak_method", r.peak_method},
        {"kernels", kernels},
        {"layers", layers},
        {"kernel_ms_per_step", r.kernel_ms_per_step},
        {"reorders_per_step", r.reorders_per_step},
        {"max_rss_bytes", r.max_rss_bytes},
        {"program_bytes", r.program_bytes},
        {"last_loss", r.last_loss},
    };
    return j.dump();
}

}  // namespace opgraph
