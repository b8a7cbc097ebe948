#include "opgraph/core/suggest.hpp"

#include <gtest/gtest.h>

namespace {

const std::vector<std::string> kOps = {"relu",    "leaky_relu",  "conv2d",     "dense",
                                       "softmax", "log_softmax", "max_pool2d", "avg_pool2d"};

TEST(Suggest, TranspositionIsOneEdit) { EXPECT_EQ(opgraph::closest_match("rleu", kOps), "relu"); }

TEST(Suggest, MissingAndWrongLetters) {
    EXPECT_EQ(opgraph::closest_match("conv2", kOps), "conv2d");
    EXPECT_EQ(opgraph::closest_match("softmx", kOps), "softmax");
    EXPECT_EQ(opgraph::closest_match("maxpool2d", kOps), "max_pool2d");
    EXPECT_EQ(opgraph::closest_match("Dense", kOps), "dense");
}

TEST(Suggest, NothingForUnrelatedWords) {
    EXPECT_EQ(opgraph::closest_match("transformer", kOps), "");
    EXPECT_EQ(opgraph::closest_match("", kOps), "");
    EXPECT_EQ(opgraph::did_you_mean("zzz", kOps), "");
}

TEST(Suggest, DidYouMeanPhrase) {
    EXPECT_EQ(opgraph::did_you_mean("rleu", kOps), " (did you mean 'relu'?)");
}

}  // namespace
