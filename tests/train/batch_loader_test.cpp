// BatchLoader: the Trainer's background gathering of the next mini-batch. The batch taken is
// the samples of the order asked for, and it stays intact while the next one is gathered.
#include "train/batch_loader.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

opgraph::Dataset numbered(std::int64_t count) {
    opgraph::Dataset d;
    d.sample_shape = {1, 2, 1};  // two pixels per sample: 10 * i and 10 * i + 1
    d.classes = 10;
    for (std::int64_t i = 0; i < count; ++i) {
        d.images.push_back(10.f * float(i));
        d.images.push_back(10.f * float(i) + 1.f);
        d.labels.push_back(static_cast<std::int32_t>(i));
    }
    return d;
}

TEST(BatchLoader, GathersTheOrderAskedForWhileTheTakenBatchStaysIntact) {
    const opgraph::Dataset data = numbered(5);
    const std::vector<std::size_t> order = {4, 2, 0, 1, 3};
    opgraph::detail::BatchLoader loader(data, 3);
    loader.prefetch(order, 0, 3);
    const opgraph::detail::Batch& first = loader.take();
    loader.prefetch(order, 3, 2);  // the last, smaller batch, gathered in the background
    ASSERT_EQ(first.count, 3);
    EXPECT_EQ(first.labels, (std::vector<std::int32_t>{4, 2, 0}));
    EXPECT_EQ(first.images, (std::vector<float>{40, 41, 20, 21, 0, 1}));
    const opgraph::detail::Batch& second = loader.take();
    ASSERT_EQ(second.count, 2);
    EXPECT_EQ(second.labels[0], 1);
    EXPECT_EQ(second.labels[1], 3);
    EXPECT_EQ(second.images[2], 30.f);
}

TEST(BatchLoader, RefusesBatchesOutsideTheOrderOrBuffers) {
    const opgraph::Dataset data = numbered(5);
    const std::vector<std::size_t> order = {0, 1, 2, 3, 4};
    opgraph::detail::BatchLoader loader(data, 2);
    EXPECT_THROW(loader.prefetch(order, 0, 3), std::invalid_argument);  // > batch size
    EXPECT_THROW(loader.prefetch(order, 4, 2), std::invalid_argument);  // past the order
    EXPECT_THROW(loader.take(), std::logic_error);                      // nothing prefetched
}

}  // namespace
