// The activation-range calibrator: minmax keeps the extremes over every batch, percentile clips
// outliers to within one histogram bin of the exact percentile (also after the histogram grew
// for a larger batch), zeros give a zero range, NaN and Inf are refused naming the value.
#include "opgraph/runtime/calibration.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "test_sessions.hpp"

namespace {

using opgraph::ActivationRange;
using opgraph::CalibrationMethod;
using opgraph::RangeCollector;

const opgraph::OpRegistry& ops() { return opgraph::testing::core_session().ops(); }

// A program computing r = relu(x) for an input x of `size` elements, at batch size 1.
struct Relu {
    explicit Relu(int size)
        : program(opgraph::parse_model("model:\n  inputs: {x: [" + std::to_string(size) +
                                           "]}\n  layers: [{name: r, op: relu}]\n",
                                       "calibration_test.yaml", ops(),
                                       opgraph::testing::training_specs())
                      .graph,
                  ops(), {}) {}

    // Runs the program on `x` and lets every collector observe it.
    void run(const std::vector<float>& x, std::initializer_list<RangeCollector*> collectors) {
        program.write("x", x);
        program.run();
        for (RangeCollector* collector : collectors) collector->observe(program);
    }

    opgraph::Program program;
};

std::vector<float> uniform(std::size_t size, unsigned seed, float scale) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> distribution(-scale, scale);
    std::vector<float> data(size);
    for (float& x : data) x = distribution(engine);
    return data;
}

std::vector<float> relu(std::vector<float> data) {
    for (float& x : data) x = std::max(x, 0.f);
    return data;
}

// The nearest-rank percentile of |x|, by sorting: the element of rank ceil(percent / 100 * n).
float exact_percentile(std::vector<float> data, double percent) {
    for (float& x : data) x = std::fabs(x);
    std::sort(data.begin(), data.end());
    const auto rank = static_cast<std::size_t>(std::ceil(percent * data.size() / 100));
    return data[rank - 1];
}

float largest_magnitude(const std::vector<float>& data) {
    float largest = 0;
    for (const float x : data) largest = std::max(largest, std::fabs(x));
    return largest;
}

void expect_range(const ActivationRange& range, float min, float max) {
    EXPECT_EQ(range.min, min);
    EXPECT_EQ(range.max, max);
}

// p, the clipping bound, lies in [exact, exact + width) (RangeCollector::ranges()).
void expect_clipped_at(const ActivationRange& range, float exact, float width) {
    EXPECT_GE(range.max, exact);
    EXPECT_LT(range.max, exact + width);
}

TEST(Calibration, MinmaxKeepsTheExtremesAcrossBatches) {
    Relu net(4);
    RangeCollector collector({"x", "r"}, CalibrationMethod::minmax);
    net.run({-1, 2, 0.5f, 3}, {&collector});
    expect_range(collector.ranges().at("x"), -1, 3);
    expect_range(collector.ranges().at("r"), 0, 3);
    // A batch of a smaller range does not shrink it.
    net.run({-0.5f, 1, 0, 0.25f}, {&collector});
    expect_range(collector.ranges().at("x"), -1, 3);
    expect_range(collector.ranges().at("r"), 0, 3);
    // A batch of a larger range grows it.
    net.run({-4, 0, 1, 5}, {&collector});
    expect_range(collector.ranges().at("x"), -4, 5);
    expect_range(collector.ranges().at("r"), 0, 5);
}

TEST(Calibration, PercentileIsTheUpperEdgeOfTheBinOfTheNearestRank) {
    Relu net(4);
    RangeCollector collector({"x"}, CalibrationMethod::percentile, 50);
    net.run({-4, -3, 1, 2}, {&collector});
    // |x| sorted is 1 2 3 4: rank 2 is 2, in bin [1024, 1025) * 4 / 2048 of the histogram over
    // [0, 4]. The minimum is clipped to -p, the maximum (2 < p) is not.
    const float p = 1025 * 4.f / 2048;
    expect_range(collector.ranges().at("x"), -p, 2);
}

TEST(Calibration, PercentileClipsAFewOutliers) {
    const std::size_t size = 10000;
    Relu net(size);
    std::vector<float> x = uniform(size, 1, 1);
    for (const std::size_t i : {10, 2000, 4000}) x[i] = 50;
    for (const std::size_t i : {6000, 8000}) x[i] = -50;
    // Rank 9990 of 10000 (99.9 %): below the 5 outliers.
    const double percent = 99.9;
    RangeCollector percentile({"x", "r"}, CalibrationMethod::percentile, percent);
    RangeCollector minmax({"x", "r"}, CalibrationMethod::minmax);
    net.run(x, {&percentile, &minmax});

    expect_range(minmax.ranges().at("x"), -50, 50);
    const float width = 50.f / RangeCollector::kBins;
    const ActivationRange clipped_x = percentile.ranges().at("x");
    expect_clipped_at(clipped_x, exact_percentile(x, percent), width);
    EXPECT_EQ(clipped_x.min, -clipped_x.max);
    const ActivationRange clipped_r = percentile.ranges().at("r");
    expect_clipped_at(clipped_r, exact_percentile(relu(x), percent), width);
    EXPECT_EQ(clipped_r.min, 0);
}

TEST(Calibration, TheHistogramGrowsForALaterBatch1000TimesLarger) {
    const std::size_t size = 10000;
    Relu net(size);
    const std::vector<float> first = uniform(size, 2, 1);
    const std::vector<float> second = uniform(size, 3, 1000);
    RangeCollector tail({"x"}, CalibrationMethod::percentile, 99.9);
    RangeCollector median({"x"}, CalibrationMethod::percentile, 50);
    net.run(first, {&tail, &median});
    net.run(second, {&tail, &median});

    std::vector<float> both = first;
    both.insert(both.end(), second.begin(), second.end());
    // The top was the first batch's largest |x| (just below 1), doubled 10 times to cover the
    // second's (just below 1000).
    const float top = largest_magnitude(first) * 1024;
    ASSERT_GE(top, largest_magnitude(second));
    const float width = top / RangeCollector::kBins;
    expect_clipped_at(tail.ranges().at("x"), exact_percentile(both, 99.9), width);
    // The median is one of the first batch's elements: they are still counted after the merges.
    expect_clipped_at(median.ranges().at("x"), exact_percentile(both, 50), width);
}

TEST(Calibration, AValueOfZerosGivesAZeroRange) {
    Relu net(4);
    RangeCollector minmax({"x", "r"}, CalibrationMethod::minmax);
    RangeCollector percentile({"x", "r"}, CalibrationMethod::percentile);
    net.run({0, 0, 0, 0}, {&minmax, &percentile});
    net.run({-1, -2, -3, 0}, {&minmax, &percentile});  // r is zeros again
    for (const RangeCollector* collector : {&minmax, &percentile}) {
        expect_range(collector->ranges().at("r"), 0, 0);
        EXPECT_EQ(collector->ranges().at("x").min, -3);
        EXPECT_EQ(collector->ranges().at("x").max, 0);
    }
}

TEST(Calibration, ZerosSeenBeforeTheFirstNonzeroBatchStayCounted) {
    Relu net(4);
    RangeCollector collector({"r"}, CalibrationMethod::percentile, 50);
    net.run({-1, -2, -3, -4}, {&collector});
    net.run({1, 2, 3, 4}, {&collector});
    // r was 0 0 0 0 1 2 3 4: rank 4 is a zero, in bin 0 of the histogram over [0, 4].
    expect_range(collector.ranges().at("r"), 0, 4.f / 2048);
}

TEST(Calibration, NaNOrInfIsRefusedNamingTheValueAndChangesNothing) {
    Relu net(4);
    RangeCollector collector({"x", "r"}, CalibrationMethod::percentile);
    net.run({1, -2, 3, 0}, {&collector});
    const float nan = std::numeric_limits<float>::quiet_NaN();
    try {
        net.run({1, nan, 0, 0}, {&collector});
        FAIL() << "NaN was calibrated on";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "calibration: value 'x' holds NaN or Inf");
    }
    expect_range(collector.ranges().at("x"), -2, 3);
    expect_range(collector.ranges().at("r"), 0, 3);

    RangeCollector relu_only({"r"}, CalibrationMethod::minmax);
    const float inf = std::numeric_limits<float>::infinity();
    try {
        net.run({1, inf, 0, 0}, {&relu_only});
        FAIL() << "Inf was calibrated on";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "calibration: value 'r' holds NaN or Inf");
    }
}

TEST(Calibration, RangesBeforeAnyObservationAreRefused) {
    const RangeCollector collector({"x"}, CalibrationMethod::minmax);
    EXPECT_THROW(collector.ranges(), std::logic_error);
}

TEST(Calibration, APercentileOutsideZeroToHundredIsRefused) {
    EXPECT_THROW(RangeCollector({"x"}, CalibrationMethod::percentile, 0), std::invalid_argument);
    EXPECT_THROW(RangeCollector({"x"}, CalibrationMethod::percentile, 100.5),
                 std::invalid_argument);
    EXPECT_NO_THROW(RangeCollector({"x"}, CalibrationMethod::percentile, 100));
}

TEST(Calibration, MethodNamesRoundTrip) {
    EXPECT_EQ(opgraph::calibration_method_names(),
              (std::vector<std::string>{"minmax", "percentile"}));
    for (const std::string& name : opgraph::calibration_method_names()) {
        const std::optional<CalibrationMethod> method = opgraph::parse_calibration_method(name);
        ASSERT_TRUE(method.has_value()) << name;
        EXPECT_EQ(opgraph::calibration_method_name(*method), name);
    }
    EXPECT_EQ(opgraph::parse_calibration_method("entropy"), std::nullopt);
}

}  // namespace
