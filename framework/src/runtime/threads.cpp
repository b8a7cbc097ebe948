#include "opgraph/runtime/threads.hpp"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace opgraph {

int available_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1u, std::thread::hardware_concurrency());
}

ThreadConfig ThreadConfig::resolved(std::int64_t batch_size) const {
    if (intra_op < 0 || inter_op < 0)
        throw std::invalid_argument("thread counts must be >= 0 (0 picks the default)");
    ThreadConfig out = *this;
    if (out.inter_op == 0) out.inter_op = 1;
    if (out.intra_op == 0)
        out.intra_op = batch_size == 1 ? 1 : std::max(1, available_cores() / out.inter_op);
    return out;
}

OmpThreadsScope::OmpThreadsScope(int threads) : previous_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
}

OmpThreadsScope::~OmpThreadsScope() { omp_set_num_threads(previous_); }

}  // namespace opgraph
