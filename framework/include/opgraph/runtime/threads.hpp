// Thread configuration: oneDNN parallelises inside each primitive with OpenMP (intra-op);
// oneTBB runs independent kernels side by side (inter-op). Both at full width would run
// cores x cores busy threads, so the default keeps intra_op * inter_op <= cores.
#pragma once

#include <cstdint>

namespace opgraph {

struct ThreadConfig {
    int intra_op = 0;  // OpenMP threads per primitive; 0: cores / inter_op (1 at batch 1)
    int inter_op = 0;  // kernels running at once; 0: 1 (a chain gains nothing from more)

    // Fills in the defaults for this machine and, when given, the batch size the program is
    // compiled for: at batch 1 the default intra-op count is 1, since a primitive's OpenMP
    // fork and join then cost more than the work they split (graphs/mnist.yaml: 0.175 ms per
    // image on 2 threads, 0.064 ms on 1). Throws std::invalid_argument on negatives.
    ThreadConfig resolved(std::int64_t batch_size = 0) const;
};

// Logical cores available to this process (its CPU affinity mask).
int available_cores();

// Sets the calling thread's OpenMP thread count (what oneDNN reads, both when a primitive is
// created, which fixes its work split, and when it runs) for the scope's lifetime, then puts
// the previous count back. Primitives must be created under the count they run with, or their
// results depend on what the creating thread ran before.
class OmpThreadsScope {
public:
    explicit OmpThreadsScope(int threads);
    ~OmpThreadsScope();
    OmpThreadsScope(const OmpThreadsScope&) = delete;
    OmpThreadsScope& operator=(const OmpThreadsScope&) = delete;

private:
    int previous_;
};

}  // namespace opgraph
