// Calibration for post-training int8 quantization: the range each activation takes over a few
// batches of representative data, which the quantize pass (opgraph/passes/quantization.hpp)
// turns into scales.
//
// The minmax method keeps the extremes seen. The percentile method clips them to the given
// percentile of |x|, so that a few outliers do not stretch the scale until the bulk of the
// values gets only a handful of integer levels (as TensorRT's and ONNX Runtime's percentile
// calibrators do). It reads the percentile off a histogram of |x| per value, so its memory does
// not grow with the number of batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "opgraph/passes/quantization.hpp"
#include "opgraph/runtime/program.hpp"

namespace opgraph {

enum class CalibrationMethod { minmax, percentile };

// "minmax" / "percentile"; nullopt otherwise.
std::optional<CalibrationMethod> parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod method);
// Every method's name, in declaration order: {"minmax", "percentile"}.
std::vector<std::string> calibration_method_names();

inline constexpr double kDefaultPercentile = 99.99;

// Collects the range of each named value over the batches a Program runs.
class RangeCollector {
public:
    // The bins of each value's histogram of |x| (percentile method).
    static constexpr std::size_t kBins = 2048;

    // `values` are value names of the programs observed; `percentile` is used by the
    // percentile method only. Throws std::invalid_argument for a percentile outside (0, 100].
    RangeCollector(std::vector<std::string> values, CalibrationMethod method,
                   double percentile = kDefaultPercentile);

    // Reads every value from `program` (after a run) and updates its statistics. Throws
    // std::invalid_argument naming the value when one holds NaN or Inf (or is not in the
    // program), and then leaves every value's statistics as they were.
    void observe(const Program& program);

    // minmax: the smallest and largest element seen. percentile: the same, clipped to +-p
    // where p is the `percentile`-th percentile of |x| over every element seen (min =
    // max(min, -p), max = min(max, p)). Throws std::logic_error before any observe().
    //
    // p is the upper edge of the histogram bin holding the element of rank ceil(percentile /
    // 100 * n) among the n elements seen, sorted by |x| (the nearest-rank percentile): never
    // below the exact percentile, less than one bin width (the histogram's top / kBins) above
    // it. A value of zeros only gives {0, 0}.
    ActivationRanges ranges() const;

private:
    // One value's statistics over the elements seen so far.
    struct Statistics {
        std::uint64_t count = 0;
        float min = 0;
        float max = 0;
        // Histogram of |x| over [0, top] in kBins equal bins, the last one closed (empty for
        // the minmax method). top is the first nonzero batch's largest |x|, doubled as often
        // as a later batch needs; 0 while every element seen is 0 (all of them in bin 0).
        double top = 0;
        std::vector<std::uint64_t> bins;

        void add(const std::vector<float>& data, bool histogram);
        void grow_to(double largest);
        double percentile(double percent) const;
    };

    std::vector<std::string> values_;
    CalibrationMethod method_;
    double percentile_;
    std::vector<Statistics> statistics_;  // one per value, in the order of values_
    bool observed_ = false;
};

// The ranges of every value of `graph` (an f32 inference graph: the inference pipeline
// without ranges) over `count` samples of `images` (row-major, the graph input's sample shape),
// run in batches of options.batch_size by programs bound to options.parameters, which must
// hold the weights. What opgraph quantize and bench --precision int8 calibrate with.
ActivationRanges calibrate(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options,
                           const float* images, std::int64_t count, CalibrationMethod method);

}  // namespace opgraph
