// A throughput benchmark of one model: warm-up steps, then timed steps on synthetic data
// (images uniform in [0, 1], labels uniform over the classes; no data files), in inference
// mode (the model alone, no loss) or training mode (model + loss + backward + optimizer
// update, TrainingStep). What `opgraph bench` runs and prints.
//
// It reports images/s, time per step, the arithmetic rate achieved against a measured FP32
// peak, the oneDNN implementation of every kernel, a per-kernel and a per-layer profile
// (forward and backward time, as `caffe time`), reorders executed per step, peak memory and
// the thread configuration (a BenchReport; bench_report.hpp prints it, machine_info.hpp holds
// the probes of the machine).
//
// Counting: a forward pass costs 2 FLOP per multiply-add (ModelSummary::macs per sample); a
// training step is counted as 3 forward passes (forward, backward data, backward weights,
// each as many multiply-adds as the forward), batch-norm, element-wise ops, the loss and the
// optimizer update not counted. The peak is measured: the best rate of a 1024^3 dnnl_sgemm
// at the same OpenMP thread count, run after the timed steps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/runtime/threads.hpp"
#include "opgraph/train/optimizer.hpp"

namespace opgraph {

enum class BenchMode { infer, train };

// "infer" / "train" <-> BenchMode; parse throws std::invalid_argument on anything else.
BenchMode parse_bench_mode(const std::string& text);
const char* bench_mode_name(BenchMode mode);

struct BenchOptions {
    BenchMode mode = BenchMode::infer;
    std::int64_t batch_size = 0;  // 0: the file's training batch size, else 128
    std::int64_t steps = 20;      // timed steps, >= 1
    std::int64_t warmup = 3;      // untimed steps first (primitive caches, page faults), >= 0
    ThreadConfig threads;
    std::uint64_t seed = 0;         // parameters, synthetic data, dropout masks
    bool measure_peak = true;       // run the sgemm peak measurement (about a quarter second)
    std::string precision = "f32";  // f32, bf16, auto or int8 (resolve_precision)
    const OptimizerRegistry* optimizers = nullptr;  // train: the optimizer types (null: built-in)
};

// One kernel of the compiled program, timed over the timed steps.
struct BenchKernel {
    std::string node;
    std::string op;
    std::string kind;   // "forward", "backward" (a backward node of autodiff) or "update"
    std::string layer;  // the forward node it belongs to; "(gradient sums)" for autodiff's adds
    std::string implementation;  // oneDNN's impl_info_str, e.g. "jit:avx512_core"
    double ms_per_step = 0;
    double reorders_per_step = 0;
};

// The `caffe time` view: forward and backward time of each forward node (model layer or loss).
struct BenchLayer {
    std::string layer;
    std::string op;
    double forward_ms = 0;   // per step
    double backward_ms = 0;  // per step, its backward nodes summed
};

struct BenchReport {
    std::string graph;  // the model's name
    std::string file;
    BenchMode mode = BenchMode::infer;
    std::int64_t batch_size = 0;
    std::int64_t steps = 0;
    std::int64_t warmup = 0;
    std::string precision = "f32";  // what ran: f32, bf16 or int8
    std::string precision_note;     // why (ResolvedPrecision::note)

    // Machine and libraries.
    std::string cpu;             // /proc/cpuinfo's model name
    std::string onednn_version;  // "2.6.3"
    std::string onednn_isa;      // the CPU ISA oneDNN dispatches to, e.g. "avx512_core"
    ThreadConfig threads;        // resolved: intra-op (OpenMP) and inter-op (oneTBB)
    int cores = 0;               // available_cores()

    // Time. Per-step times are wall time of one whole step, data copy included.
    double seconds = 0;  // all timed steps
    double images_per_second = 0;
    double ms_per_step = 0;  // mean
    double ms_per_image = 0;
    double median_ms_per_step = 0;
    double min_ms_per_step = 0;
    double max_ms_per_step = 0;

    // Arithmetic.
    std::int64_t macs_per_image = 0;  // forward multiply-adds per sample (ModelSummary)
    double flop_per_step = 0;         // 2 * macs * batch, times 3 in training
    double gflops = 0;                // achieved: flop_per_step * steps / seconds
    double peak_gflops = 0;           // measured sgemm peak; 0 when not measured
    double peak_share = 0;            // gflops / peak_gflops; 0 when not measured
    std::string peak_method;

    // Where the time went.
    std::vector<BenchKernel> kernels;  // execution order
    std::vector<BenchLayer> layers;    // forward node order
    double kernel_ms_per_step = 0;     // sum over kernels
    double reorders_per_step = 0;      // sum over kernels (Kernel::reorders())

    // Memory.
    std::int64_t max_rss_bytes = 0;  // getrusage peak resident set, whole process, after the steps
    std::int64_t program_bytes = 0;  // Program::allocated_bytes()

    double last_loss = 0;  // training: the loss of the last step (a sanity check)
};

// Throws std::invalid_argument naming the option when steps < 1, warmup < 0 or batch_size < 0.
void check_bench_options(const BenchOptions& opts);

// Compiles `model` for opts.mode and runs opts.warmup + opts.steps steps. Throws
// std::invalid_argument for bad options, Error(usage) for training a model without a training
// section, GraphError when the model does not compile, ExecutionError when a step fails.
BenchReport run_benchmark(const ModelFile& model, const OpRegistry& ops, const BenchOptions& opts);

}  // namespace opgraph
