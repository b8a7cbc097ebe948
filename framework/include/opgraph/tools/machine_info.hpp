// Probes of the machine and the libraries a benchmark runs on, for its report: the CPU, the
// oneDNN build and ISA, the process's peak memory, and measured FP32 (dnnl_sgemm) and bf16
// (matmul) peaks.
#pragma once

#include <cstdint>
#include <string>

#include "opgraph/core/dtype.hpp"

namespace opgraph {

// The "model name" of the first CPU in /proc/cpuinfo; "unknown" when there is none.
std::string cpu_model();

// The version of the oneDNN library loaded, "major.minor.patch" (e.g. "2.6.3").
std::string onednn_version();

// The CPU ISA oneDNN dispatches to (dnnl::get_effective_cpu_isa), e.g. "avx512_core"; "any"
// for an ISA without a name here.
std::string onednn_isa();

// The peak resident set of the whole process so far (getrusage), in bytes; 0 when it cannot
// be read.
std::int64_t max_rss_bytes();

// The best FP32 rate of dnnl_sgemm (m = n = k = `size`) on `threads` OpenMP threads over
// about `seconds` of repeats (3 at least, after one untimed warm-up), in GFLOP/s. The OpenMP
// thread count is restored on return.
double measure_sgemm_gflops(int threads, std::int64_t size = 1024, double seconds = 0.25);

// The same for a oneDNN matmul of `type` (weights in the layout it picks, reordered once):
// bf16 x bf16 -> f32, the bf16 peak (AMX or AVX512-BF16 where the CPU has them), or for s8
// u8 x s8 -> s32, the int8 peak (AMX or VNNI where the CPU has them), in GOP/s. Throws
// dnnl::error where oneDNN has no such matmul.
double measure_matmul_gflops(DType type, int threads, std::int64_t size = 1024,
                             double seconds = 0.25);

}  // namespace opgraph
