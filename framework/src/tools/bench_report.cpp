#include "opgraph/tools/bench_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "opgraph/tools/summary.hpp"

namespace opgraph {

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
    out << "precision:  " << r.precision_note << "\n";
    out << "threads:    " << r.threads.intra_op << " intra-op (OpenMP, inside each primitive) x "
        << r.threads.inter_op << " inter-op (oneTBB, kernels at once)\n\n";
    out << format(
        "throughput: %.1f images/s, %.3f ms/step (median %.3f, min %.3f, max %.3f), "
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
    out << format(
        "reorders:   %.1f per step (inputs reordered to a primitive's layout inside "
        "kernels)\n",
        r.reorders_per_step);
    out << format(
        "memory:     peak RSS %.1f MiB (whole process); program values %.1f MiB "
        "(inputs, activations, gradients, parameters)\n",
        static_cast<double>(r.max_rss_bytes) / kMebibyte,
        static_cast<double>(r.program_bytes) / kMebibyte);
    if (r.mode == BenchMode::train) out << format("loss:       %.4f (last step)\n", r.last_loss);

    out << "\ntime per layer, ms per step (as caffe time; % of the step):\n";
    out << format("%-28s %-26s %10s %10s %10s %6s\n", "layer", "op", "forward", "backward", "total",
                  "%");
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

    out << "\nkernels in execution order (ms per step, reorders per step, oneDNN "
           "implementation):\n";
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
        {"precision", r.precision},
        {"precision_note", r.precision_note},
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

std::string format_precision_table(const std::vector<BenchReport>& reports) {
    std::ostringstream out;
    if (reports.empty()) return {};
    const BenchReport& first = reports.front();
    out << "precisions: " << first.graph << ", " << bench_mode_name(first.mode) << ", batch "
        << first.batch_size
        << "; peaks: sgemm for f32, bf16 matmul for bf16, u8 x s8 matmul for int8\n";
    out << format("%-10s %12s %10s %10s %10s %8s %8s %9s %8s\n", "precision", "images/s", "ms/step",
                  "GFLOP/s", "peak", "of peak", "in AMX", "reorders", "vs first");
    for (const BenchReport& r : reports) {
        double amx_ms = 0;
        for (const BenchKernel& k : r.kernels)
            if (k.implementation.find("amx") != std::string::npos) amx_ms += k.ms_per_step;
        const double amx = r.kernel_ms_per_step > 0 ? amx_ms / r.kernel_ms_per_step : 0;
        const std::string peak = r.peak_gflops > 0 ? format("%.1f", r.peak_gflops) : "-";
        const std::string share =
            r.peak_gflops > 0 ? format("%.1f %%", kPercent * r.peak_share) : "-";
        out << format("%-10s %12.1f %10.3f %10.2f %10s %8s %6.1f %% %9.1f %7.2fx\n",
                      r.precision.c_str(), r.images_per_second, r.median_ms_per_step, r.gflops,
                      peak.c_str(), share.c_str(), kPercent * amx, r.reorders_per_step,
                      r.images_per_second / first.images_per_second);
    }
    return out.str();
}

}  // namespace opgraph
