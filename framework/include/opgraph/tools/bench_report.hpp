// The report of a benchmark run (BenchReport, from run_benchmark) as `opgraph bench` prints
// it: text for people, or one JSON object with --json.
#pragma once

#include <string>

#include "opgraph/tools/benchmark.hpp"

namespace opgraph {

// The report for people: a header, throughput, arithmetic, memory, then the per-layer and
// per-kernel tables.
std::string format_bench_report(const BenchReport& report);

// The same as one JSON object (keys as the BenchReport fields; kernels and layers as arrays
// of objects; threads as {intra_op, inter_op, cores}), one line.
std::string bench_report_json(const BenchReport& report);

}  // namespace opgraph
