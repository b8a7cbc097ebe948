// The report of a benchmark run (BenchReport, from run_benchmark) as `opgraph bench` prints
// it: text for people, or one JSON object with --json.
#pragma once

#include <string>
#include <vector>

#include "opgraph/tools/benchmark.hpp"

namespace opgraph {

// The report for people: a header, throughput, arithmetic, memory, then the per-layer and
// per-kernel tables.
std::string format_bench_report(const BenchReport& report);

// The same as one JSON object (keys as the BenchReport fields; kernels and layers as arrays
// of objects; threads as {intra_op, inter_op, cores}), one line.
std::string bench_report_json(const BenchReport& report);

// One table over runs of the same graph in several precisions (`bench --precision f32,bf16`):
// per run its throughput, its rate against the peak of its own precision, the share of kernel
// time in AMX kernels and the speed-up over the first run.
std::string format_precision_table(const std::vector<BenchReport>& reports);

}  // namespace opgraph
