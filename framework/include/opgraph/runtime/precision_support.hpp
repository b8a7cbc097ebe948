// What the CPU offers for each precision, and the precision a run asks for made concrete.
//
// oneDNN's bf16 kernels run natively with AVX512-BF16 or AMX, emulated (correct, slower than
// f32) on AVX-512 without them, and not at all below AVX-512 (a bf16 convolution cannot be
// built there). `ONEDNN_MAX_CPU_ISA` caps what oneDNN uses, and so what is resolved here.
#pragma once

#include <string>

#include "opgraph/core/dtype.hpp"
#include "opgraph/core/error.hpp"

namespace opgraph {

// The ISA oneDNN dispatches to, as ONEDNN_MAX_CPU_ISA spells it ("AVX2", "AVX512_CORE_AMX").
std::string cpu_isa_name();

// A precision request (f32, bf16, auto or int8; opgraph/ir/training_config.hpp) made
// concrete.
struct ResolvedPrecision {
    DType dtype = DType::f32;  // s8 for int8 (quantized inference)
    // One line for the user: what runs and why ("bf16 (auto: AMX, AVX512_CORE_AMX)").
    std::string note;
};

// The CPU cannot run the precision asked for.
class UnsupportedCpuError : public Error {
public:
    explicit UnsupportedCpuError(const std::string& message)
        : Error(ExitCode::unsupported_cpu, message) {}
};

// f32 -> f32; auto -> bf16 where oneDNN runs it natively (AVX512-BF16 or AMX), else f32 with
// the reason; bf16 -> bf16 where oneDNN has bf16 kernels (natively, or emulated on AVX-512,
// which the note says), else UnsupportedCpuError naming the missing ISA; int8 -> s8 on every
// x86-64 oneDNN runs on, the note naming the engine (AMX, VNNI, or AVX2 / AVX-512 without
// VNNI, where 8-bit products go through 16-bit pairs). Throws UsageError for another request.
ResolvedPrecision resolve_precision(const std::string& requested);

// The precision a dtype stands for in messages and reports: "int8" for s8, else its name.
const char* precision_name(DType dtype);

}  // namespace opgraph
