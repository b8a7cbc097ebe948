#include "opgraph/tools/machine_info.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <dnnl.hpp>
#include <fstream>
#include <vector>

#include "opgraph/runtime/precision_support.hpp"
#include "opgraph/runtime/threads.hpp"

namespace opgraph {

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kFlopPerMac = 2;
constexpr int kMinSgemmRepeats = 3;

}  // namespace

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos)
                return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    return "unknown";
}

std::string onednn_version() {
    const dnnl_version_t* v = dnnl::version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch);
}

std::string onednn_isa() {
    std::string name = cpu_isa_name();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name;
}

std::int64_t max_rss_bytes() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    constexpr std::int64_t kBytesPerKilobyte = 1024;  // Linux reports ru_maxrss in KiB
    return static_cast<std::int64_t>(usage.ru_maxrss) * kBytesPerKilobyte;
}

namespace {

// The best rate of `run` (doing `flop` operations) over about `seconds` of repeats, 3 at
// least, after one untimed warm-up (JIT code generation, page faults), in GFLOP/s.
template <class Run>
double best_gflops(const Run& run, double flop, double seconds) {
    run();
    double best = 0;
    const auto begin = Clock::now();
    for (int repeats = 0; repeats < kMinSgemmRepeats ||
                          std::chrono::duration<double>(Clock::now() - begin).count() < seconds;
         ++repeats) {
        const auto start = Clock::now();
        run();
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        best = std::max(best, flop / t * 1e-9);
    }
    return best;
}

double cube_flop(std::int64_t size) {
    const auto n = static_cast<double>(size);
    return kFlopPerMac * n * n * n;
}

}  // namespace

double measure_sgemm_gflops(int threads, std::int64_t size, double seconds) {
    const auto n = static_cast<std::size_t>(size);
    std::vector<float> a(n * n, 1.f), b(n * n, 0.5f), c(n * n, 0.f);
    const OmpThreadsScope omp_threads(threads);
    const auto gemm = [&] {
        dnnl::sgemm('N', 'N', size, size, size, 1.f, a.data(), size, b.data(), size, 0.f, c.data(),
                    size);
    };
    return best_gflops(gemm, cube_flop(size), seconds);
}

double measure_matmul_gflops(DType type, int threads, std::int64_t size, double seconds) {
    using dnnl::memory;
    using dt = memory::data_type;
    const OmpThreadsScope omp_threads(threads);
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    const memory::dims dims = {size, size};
    const bool int8 = type == DType::s8;
    const memory::desc a(dims, int8 ? dt::u8 : dt::bf16, memory::format_tag::ab);
    const memory::desc any(dims, int8 ? dt::s8 : dt::bf16, memory::format_tag::any);
    const memory::desc c(dims, int8 ? dt::s32 : dt::f32, memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd({a, any, c}, engine);
    // Zero-filled operands: the rate does not depend on the values.
    memory src(a, engine), weights(pd.weights_desc(), engine), dst(c, engine);
    for (memory* m : {&src, &weights})
        std::fill_n(static_cast<char*>(m->get_data_handle()), m->get_desc().get_size(), 0);
    const dnnl::matmul matmul(pd);
    dnnl::stream stream(engine);
    const auto run = [&] {
        matmul.execute(stream,
                       {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
        stream.wait();
    };
    return best_gflops(run, cube_flop(size), seconds);
}

}  // namespace opgraph
