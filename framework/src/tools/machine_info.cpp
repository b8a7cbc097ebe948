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

double measure_sgemm_gflops(int threads, std::int64_t size, double seconds) {
    const auto n = static_cast<std::size_t>(size);
    std::vector<float> a(n * n, 1.f), b(n * n, 0.5f), c(n * n, 0.f);
    const OmpThreadsScope omp_threads(threads);
    const double flop = kFlopPerMac * static_cast<double>(size) * static_cast<double>(size) *
                        static_cast<double>(size);
    const auto gemm = [&] {
        dnnl::sgemm('N', 'N', size, size, size, 1.f, a.data(), size, b.data(), size, 0.f, c.data(),
                    size);
    };
    gemm();  // warm-up: JIT code generation, page faults
    double best = 0;
    const auto begin = Clock::now();
    for (int repeats = 0; repeats < kMinSgemmRepeats ||
                          std::chrono::duration<double>(Clock::now() - begin).count() < seconds;
         ++repeats) {
        const auto start = Clock::now();
        gemm();
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        best = std::max(best, flop / t * 1e-9);
    }
    return best;
}

}  // namespace opgraph
