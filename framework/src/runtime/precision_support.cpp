#include "opgraph/runtime/precision_support.hpp"

#include <dnnl.hpp>

#include "opgraph/ir/training_config.hpp"

namespace opgraph {

std::string cpu_isa_name() {
    using dnnl::cpu_isa;
    switch (dnnl::get_effective_cpu_isa()) {
        case cpu_isa::sse41:
            return "SSE41";
        case cpu_isa::avx:
            return "AVX";
        case cpu_isa::avx2:
            return "AVX2";
        case cpu_isa::avx2_vnni:
            return "AVX2_VNNI";
        case cpu_isa::avx512_mic:
            return "AVX512_MIC";
        case cpu_isa::avx512_mic_4ops:
            return "AVX512_MIC_4OPS";
        case cpu_isa::avx512_core:
            return "AVX512_CORE";
        case cpu_isa::avx512_core_vnni:
            return "AVX512_CORE_VNNI";
        case cpu_isa::avx512_core_bf16:
            return "AVX512_CORE_BF16";
        case cpu_isa::avx512_core_amx:
            return "AVX512_CORE_AMX";
        default:
            return "ALL";
    }
}

const char* precision_name(DType dtype) {
    return dtype == DType::s8 ? kPrecisionInt8 : dtype_name(dtype);
}

namespace {

ResolvedPrecision resolve_int8(dnnl::cpu_isa isa, const std::string& name) {
    using dnnl::cpu_isa;
    const char* engine = isa == cpu_isa::avx512_core_amx ? "AMX"
                         : isa == cpu_isa::avx512_core_vnni || isa == cpu_isa::avx512_core_bf16 ||
                                 isa == cpu_isa::avx2_vnni
                             ? "VNNI"
                             : nullptr;
    if (engine != nullptr)
        return {DType::s8, std::string("int8 (") + engine + ", oneDNN ISA " + name + ")"};
    return {DType::s8, "int8 on " + name +
                           " without VNNI or AMX (8-bit products summed in 16-bit pairs: a peak "
                           "well below VNNI's)"};
}

}  // namespace

ResolvedPrecision resolve_precision(const std::string& requested) {
    if (requested == kPrecisionF32) return {DType::f32, "f32"};
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    const std::string name = cpu_isa_name();
    if (requested == kPrecisionInt8) return resolve_int8(isa, name);
    if (requested != kPrecisionBf16 && requested != kPrecisionAuto)
        throw UsageError("unknown precision '" + requested + "' (f32, bf16, auto or int8)");
    const bool native =
        isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
    const std::string engine = isa == dnnl::cpu_isa::avx512_core_amx ? "AMX" : "AVX512-BF16";
    if (requested == kPrecisionAuto) {
        if (native) return {DType::bf16, "bf16 (auto: " + engine + ", oneDNN ISA " + name + ")"};
        return {DType::f32, "f32 (auto: oneDNN ISA " + name +
                                " has neither AVX512-BF16 nor AMX, where bf16 would be slower)"};
    }
    if (native) return {DType::bf16, "bf16 (" + engine + ", oneDNN ISA " + name + ")"};
    const bool avx512 = isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni;
    if (avx512)
        return {DType::bf16, "bf16, emulated on " + name +
                                 " (no AVX512-BF16 or AMX): expect it slower than f32"};
    throw UnsupportedCpuError(
        "precision bf16 needs AVX512_CORE at least (AVX512_CORE_BF16 or "
        "AVX512_CORE_AMX to be fast); oneDNN's ISA here is " +
        name + ", which has no bf16 kernels: use --precision f32 or auto");
}

}  // namespace opgraph
