#include "batch_loader.hpp"

#include <algorithm>
#include <stdexcept>

#include "opgraph/op/memory_layout.hpp"

namespace opgraph::detail {

BatchLoader::BatchLoader(const Dataset& data, std::int64_t batch_size) : data_(data) {
    const auto per_sample = static_cast<std::size_t>(element_count(data.sample_shape));
    for (Batch& b : buffers_) {
        b.images.resize(static_cast<std::size_t>(batch_size) * per_sample);
        b.labels.resize(static_cast<std::size_t>(batch_size));
    }
}

BatchLoader::~BatchLoader() { wait(); }

void BatchLoader::wait() {
    if (pending_.valid()) pending_.wait();
}

void BatchLoader::prefetch(const std::vector<std::size_t>& order, std::int64_t first,
                           std::int64_t count) {
    if (pending_.valid()) pending_.get();
    Batch& batch = buffers_[filling_];
    if (count < 0 || static_cast<std::size_t>(count) > batch.labels.size() || first < 0 ||
        static_cast<std::size_t>(first + count) > order.size())
        throw std::invalid_argument("batch out of range");
    batch.count = count;
    pending_ = std::async(std::launch::async, [this, &batch, &order, first, count] {
        const auto per_sample = static_cast<std::ptrdiff_t>(element_count(data_.sample_shape));
        for (std::int64_t i = 0; i < count; ++i) {
            const std::size_t sample = order[static_cast<std::size_t>(first + i)];
            std::copy_n(data_.images.begin() + static_cast<std::ptrdiff_t>(sample) * per_sample,
                        per_sample, batch.images.begin() + i * per_sample);
            batch.labels[static_cast<std::size_t>(i)] = data_.labels[sample];
        }
    });
}

const Batch& BatchLoader::take() {
    if (!pending_.valid()) throw std::logic_error("BatchLoader::take without a prefetch");
    pending_.get();  // rethrows what the gathering threw
    const Batch& ready = buffers_[filling_];
    filling_ = 1 - filling_;
    return ready;
}

}  // namespace opgraph::detail
