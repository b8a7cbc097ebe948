#include "opgraph/runtime/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include "opgraph/op/memory_layout.hpp"

namespace opgraph {

namespace {

constexpr CalibrationMethod kMethods[] = {CalibrationMethod::minmax, CalibrationMethod::percentile};

// Calibrating on NaN or Inf would give scales of NaN, Inf or 0: refused, naming the value.
void require_finite(const std::string& value, const std::vector<float>& data) {
    for (const float x : data)
        if (!std::isfinite(x))
            throw std::invalid_argument("calibration: value '" + value + "' holds NaN or Inf");
}

// The graph's input and every node output: what the quantize pass may ask a range of.
std::vector<std::string> values_of(const Graph& graph) {
    std::vector<std::string> names;
    for (const GraphInput& input : graph.inputs) names.push_back(input.name);
    for (const Node& node : graph.nodes)
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i)
            names.push_back(value_name(node.name, i));
    return names;
}

}  // namespace

std::optional<CalibrationMethod> parse_calibration_method(const std::string& name) {
    for (const CalibrationMethod method : kMethods)
        if (name == calibration_method_name(method)) return method;
    return std::nullopt;
}

const char* calibration_method_name(CalibrationMethod method) {
    return method == CalibrationMethod::minmax ? "minmax" : "percentile";
}

std::vector<std::string> calibration_method_names() {
    std::vector<std::string> names;
    for (const CalibrationMethod method : kMethods)
        names.push_back(calibration_method_name(method));
    return names;
}

RangeCollector::RangeCollector(std::vector<std::string> values, CalibrationMethod method,
                               double percentile)
    : values_(std::move(values)), method_(method), percentile_(percentile) {
    if (!(percentile > 0 && percentile <= 100))
        throw std::invalid_argument("calibration: the percentile must be in (0, 100], not " +
                                    std::to_string(percentile));
    Statistics empty;
    if (method == CalibrationMethod::percentile) empty.bins.assign(kBins, 0);
    statistics_.assign(values_.size(), empty);
}

void RangeCollector::observe(const Program& program) {
    // Updated on a copy, so that a value refused leaves every value as it was.
    std::vector<Statistics> updated = statistics_;
    for (std::size_t i = 0; i < values_.size(); ++i) {
        const std::vector<float> data = program.read(values_[i]);
        require_finite(values_[i], data);
        updated[i].add(data, method_ == CalibrationMethod::percentile);
    }
    statistics_ = std::move(updated);
    observed_ = true;
}

ActivationRanges RangeCollector::ranges() const {
    if (!observed_) throw std::logic_error("calibration: ranges() before any observe()");
    ActivationRanges ranges;
    for (std::size_t i = 0; i < values_.size(); ++i) {
        const Statistics& s = statistics_[i];
        ActivationRange range{s.min, s.max};
        if (method_ == CalibrationMethod::percentile) {
            const auto p = static_cast<float>(s.percentile(percentile_));
            range = {std::max(s.min, -p), std::min(s.max, p)};
        }
        ranges[values_[i]] = range;
    }
    return ranges;
}

void RangeCollector::Statistics::add(const std::vector<float>& data, bool histogram) {
    if (data.empty()) return;
    const auto [low, high] = std::minmax_element(data.begin(), data.end());
    min = count == 0 ? *low : std::min(min, *low);
    max = count == 0 ? *high : std::max(max, *high);
    count += data.size();
    if (!histogram) return;
    grow_to(std::max(std::fabs(*low), std::fabs(*high)));
    // Bin i holds [i, i + 1) * width; top itself goes to the last bin.
    const double width = top / kBins;
    for (const float x : data) {
        const double position = top == 0 ? 0 : std::fabs(x) / width;
        ++bins[std::min(kBins - 1, static_cast<std::size_t>(position))];
    }
}

// Makes the histogram cover [0, largest]. Doubling top merges each pair of adjacent bins into
// one, so that every element seen stays counted in a bin that contains it.
void RangeCollector::Statistics::grow_to(double largest) {
    if (top == 0) {
        // Only zeros were seen: they stay in bin 0 whatever the top.
        top = largest;
        return;
    }
    while (top < largest) {
        for (std::size_t i = 0; i < kBins / 2; ++i) bins[i] = bins[2 * i] + bins[2 * i + 1];
        std::fill(bins.begin() + kBins / 2, bins.end(), 0);
        top *= 2;
    }
}

// The upper edge of the bin holding the element of nearest rank (ranges()). The edges are
// exact: top has a float's 24-bit mantissa, so (bin + 1) * top / kBins needs at most 36 bits.
double RangeCollector::Statistics::percentile(double percent) const {
    const double rank = std::max(1.0, std::ceil(percent * static_cast<double>(count) / 100));
    std::size_t bin = 0;
    for (std::uint64_t seen = bins[0]; static_cast<double>(seen) < rank;) seen += bins[++bin];
    return static_cast<double>(bin + 1) * (top / kBins);
}

ActivationRanges calibrate(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options,
                           const float* images, std::int64_t count, CalibrationMethod method) {
    RangeCollector collector(values_of(graph), method);
    const std::string& input = graph.inputs.at(0).name;
    std::unique_ptr<Program> main, tail;
    for (std::int64_t first = 0; first < count; first += options.batch_size) {
        const std::int64_t batch = std::min(options.batch_size, count - first);
        std::unique_ptr<Program>& program = batch == options.batch_size ? main : tail;
        if (!program) {
            ProgramOptions o = options;
            o.batch_size = batch;
            o.share_buffers = false;  // every value stays readable
            program = std::make_unique<Program>(graph, ops, o);
        }
        const std::int64_t per_sample = element_count(program->shape(input)) / batch;
        program->write(input, images + first * per_sample,
                       static_cast<std::size_t>(batch * per_sample));
        program->run();
        collector.observe(*program);
    }
    return collector.ranges();
}

}  // namespace opgraph
