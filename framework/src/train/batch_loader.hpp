// Internal: gathers the samples of the next mini-batch on a worker thread while the current
// batch trains (the Trainer's data pipeline). Two buffers: the one being trained on and the
// one being filled.
#pragma once

#include <cstdint>
#include <future>
#include <vector>

#include "opgraph/io/dataset.hpp"

namespace opgraph::detail {

struct Batch {
    std::vector<float> images;         // count samples, row-major
    std::vector<std::int32_t> labels;  // count class indices
    std::int64_t count = 0;
};

class BatchLoader {
public:
    // Buffers for batches of up to `batch_size` samples of `data` (which must outlive this).
    BatchLoader(const Dataset& data, std::int64_t batch_size);
    ~BatchLoader();  // waits for a gathering still running

    // Starts gathering data[order[first]], ..., data[order[first + count - 1]] in the
    // background; `order` must stay alive and unchanged until take(). Waits for a previous
    // prefetch that was not taken.
    void prefetch(const std::vector<std::size_t>& order, std::int64_t first, std::int64_t count);
    // The prefetched batch, once gathered; valid until the next take().
    const Batch& take();
    // Waits for a gathering still running (its batch is dropped unless taken later).
    void wait();

private:
    const Dataset& data_;
    Batch buffers_[2];
    int filling_ = 0;  // the buffer prefetch() fills; the other one was taken last
    std::future<void> pending_;
};

}  // namespace opgraph::detail
