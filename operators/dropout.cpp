// dropout: in training, zeroes each element with probability `rate` and scales the others by
// 1 / (1 - rate), as Keras's Dropout (inverted dropout); the identity in inference. Any rank.
//
// Kernel: no oneDNN primitive. The mask is a pure function of (seed, step, element index):
// a counter-based hash (splitmix64 for the per-step key, a 32-bit integer mix per element),
// so a seed and a step give the same mask whatever the threads. A node that saves
// (Node::saves) writes the mask as one byte per element in the input's layout (OpDef::saved
// "mask"), which dropout_backward applies. The loops have no branches and no library calls,
// so the compiler vectorises them (AVX-512 / AVX2 clones); blocks of them run on the
// intra-op OpenMP threads.
// It works on the input's own layout (element index = position in memory, padding included).
// In inference no kernel runs (OpDef::inference_identity): the output is the input's memory.
// In training both directions may run in place (OpDef::in_place): dst over src, diff_src over
// diff_dst, as PyTorch's inplace=True (each is one pass over memory instead of two buffers).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::AttrType;
using opgraph::GradCheckInput;
namespace ops = opgraph::ops;

constexpr std::int64_t kSeedFromSession = -1;

constexpr std::uint64_t kGolden64 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kFnvOffset = 0xCBF29CE484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001B3ull;
constexpr double kTwoTo32 = 4294967296.0;
// Elements hashed with one 64-bit key: indices within a chunk fit 32 bits.
constexpr std::size_t kChunk = std::size_t{1} << 32;
// Elements per parallel work item (64 KiB of floats: large enough to amortise scheduling).
constexpr std::size_t kBlock = 16384;

// splitmix64's output function (Steele, Lea, Flood 2014): a well-mixed 64-bit bijection.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
    x += kGolden64;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A 32-bit integer mix ("lowbias32", C. Wellons): cheap in SIMD (32-bit multiplies).
inline std::uint32_t mix32(std::uint32_t x) {
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

// FNV-1a of the node's name: two dropout nodes drawing from the session seed differ.
std::uint64_t name_hash(const std::string& name) {
    std::uint64_t h = kFnvOffset;
    for (unsigned char c : name) h = (h ^ c) * kFnvPrime;
    return h;
}

// The element types the loops run on: f32, and bf16 held as its 16 bits (widened to f32 for
// the multiply, rounded back to nearest even, as oneDNN rounds).
struct F32 {
    using T = float;
    static float load(float x) { return x; }
    static float store(float x) { return x; }
};
struct Bf16 {
    using T = std::uint16_t;
    static float load(std::uint16_t x) {
        float f;
        const std::uint32_t bits = std::uint32_t{x} << 16;
        __builtin_memcpy(&f, &bits, sizeof f);
        return f;
    }
    static std::uint16_t store(float f) {
        std::uint32_t bits;
        __builtin_memcpy(&bits, &f, sizeof f);
        const std::uint32_t quiet = (bits >> 16) | 0x40u;  // a NaN stays a NaN
        const std::uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
        return static_cast<std::uint16_t>((bits & 0x7FFFFFFFu) > 0x7F800000u ? quiet : rounded);
    }
};

// dst[j] = src[j] * scale where hash(k1, k2, first + j) >= threshold, else 0, for j < n, and
// keep[j] = whether it was kept (when keep is not null). In place (InPlace: src is null and
// dst is read), every element is read before it is written. Selects, not branches: the loops
// vectorise (a NaN stays NaN, as in Keras).
template <class E, bool InPlace>
inline __attribute__((always_inline)) void mask_loop(const typename E::T* __restrict src,
                                                     typename E::T* __restrict dst,
                                                     std::uint8_t* __restrict keep,
                                                     std::size_t first, std::size_t n,
                                                     std::uint32_t k1, std::uint32_t k2,
                                                     std::uint32_t threshold, float scale) {
    const typename E::T* in = InPlace ? dst : src;  // based on dst when in place
    if (keep == nullptr) {
        for (std::size_t j = 0; j < n; ++j) {
            const std::uint32_t h = mix32(mix32(static_cast<std::uint32_t>(first + j) ^ k1) ^ k2);
            dst[j] = E::store(E::load(in[j]) * (h >= threshold ? scale : 0.f));
        }
        return;
    }
    for (std::size_t j = 0; j < n; ++j) {
        const std::uint32_t h = mix32(mix32(static_cast<std::uint32_t>(first + j) ^ k1) ^ k2);
        const std::uint32_t kept = h >= threshold ? 1u : 0u;  // (a bool does not vectorise)
        dst[j] = E::store(E::load(in[j]) * (kept != 0 ? scale : 0.f));
        keep[j] = static_cast<std::uint8_t>(kept);
    }
}

// diff_src[j] = diff_dst[j] * scale where keep[j], else 0, for j < n: the same products as
// the forward's. In place (InPlace: diff_dst is null and diff_src is read) as mask_loop.
template <class E, bool InPlace>
inline __attribute__((always_inline)) void unmask_loop(const typename E::T* __restrict diff_dst,
                                                       const std::uint8_t* __restrict keep,
                                                       typename E::T* __restrict diff_src,
                                                       std::size_t n, float scale) {
    const typename E::T* in = InPlace ? diff_src : diff_dst;  // based on diff_src when in place
    for (std::size_t j = 0; j < n; ++j)
        diff_src[j] = E::store(E::load(in[j]) * (keep[j] != 0 ? scale : 0.f));
}

// mask_loop / unmask_loop over untyped pointers: in place when the data pointers are equal.
template <class E>
inline __attribute__((always_inline)) void mask_typed(const void* src, void* dst,
                                                      std::uint8_t* keep, std::size_t first,
                                                      std::size_t n, std::uint32_t k1,
                                                      std::uint32_t k2, std::uint32_t threshold,
                                                      float scale) {
    auto* out = static_cast<typename E::T*>(dst);
    if (src == dst)
        mask_loop<E, true>(nullptr, out, keep, first, n, k1, k2, threshold, scale);
    else
        mask_loop<E, false>(static_cast<const typename E::T*>(src), out, keep, first, n, k1, k2,
                            threshold, scale);
}
template <class E>
inline __attribute__((always_inline)) void unmask_typed(const void* diff_dst,
                                                        const std::uint8_t* keep, void* diff_src,
                                                        std::size_t n, float scale) {
    auto* out = static_cast<typename E::T*>(diff_src);
    if (diff_dst == diff_src)
        unmask_loop<E, true>(nullptr, keep, out, n, scale);
    else
        unmask_loop<E, false>(static_cast<const typename E::T*>(diff_dst), keep, out, n, scale);
}

// The loops compiled for AVX-512, AVX2 and baseline x86-64, picked when the plugin loads:
// integer hashing and one multiply per element give the same bits on every path. `bf16`
// selects the element type of src / dst; src == dst runs in place.
__attribute__((target_clones("avx512f", "avx2", "default"))) void mask_range(
    bool bf16, const void* src, void* dst, std::uint8_t* keep, std::size_t first, std::size_t n,
    std::uint32_t k1, std::uint32_t k2, std::uint32_t threshold, float scale) {
    if (bf16)
        mask_typed<Bf16>(src, dst, keep, first, n, k1, k2, threshold, scale);
    else
        mask_typed<F32>(src, dst, keep, first, n, k1, k2, threshold, scale);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void unmask_range(
    bool bf16, const void* diff_dst, const std::uint8_t* keep, void* diff_src, std::size_t n,
    float scale) {
    if (bf16)
        unmask_typed<Bf16>(diff_dst, keep, diff_src, n, scale);
    else
        unmask_typed<F32>(diff_dst, keep, diff_src, n, scale);
}

// dst[i] = src[i] * scale where hash(key, i) >= threshold, else 0, for i < count elements of
// `size` bytes (4: f32, 2: bf16) (and keep[i] whether it was kept, when keep is not null),
// split over the calling thread's OpenMP threads (the intra-op count); the result does not
// depend on it.
void apply_mask(std::size_t size, const void* src, void* dst, std::uint8_t* keep, std::size_t count,
                std::uint64_t key, std::uint32_t threshold, float scale) {
    const bool bf16 = size == sizeof(std::uint16_t);
    const auto* in = static_cast<const char*>(src);
    auto* out = static_cast<char*>(dst);
    for (std::size_t begin = 0, chunk = 0; begin < count; begin += kChunk, ++chunk) {
        const std::uint64_t chunk_key = splitmix64(key ^ splitmix64(chunk));
        const auto k1 = static_cast<std::uint32_t>(chunk_key);
        const auto k2 = static_cast<std::uint32_t>(chunk_key >> 32);
        const std::size_t n = std::min(count - begin, kChunk);
        const auto blocks = static_cast<std::int64_t>((n + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static) if (blocks > 1)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::size_t first = static_cast<std::size_t>(b) * kBlock;
            const std::size_t at = begin + first;
            mask_range(bf16, in + at * size, out + at * size, keep == nullptr ? nullptr : keep + at,
                       first, std::min(kBlock, n - first), k1, k2, threshold, scale);
        }
    }
}

// Bytes per element of a dropout kernel's data: f32 or bf16.
std::size_t element_size(const dnnl::memory::desc& desc) {
    const auto type = desc.data_type();
    if (type == dnnl::memory::data_type::f32) return sizeof(float);
    if (type == dnnl::memory::data_type::bf16) return sizeof(std::uint16_t);
    throw std::invalid_argument("dropout runs on f32 or bf16 values");
}

// dropout's scale 1 / (1 - rate).
float dropout_scale(const opgraph::KernelContext& ctx) {
    return static_cast<float>(1.0 / (1.0 - ctx.node.attrs.get_real("rate")));
}

// inputs: src -> dst (src's layout)[, mask: one byte per element, in that layout, saved].
class DropoutForwardKernel : public opgraph::Kernel {
public:
    explicit DropoutForwardKernel(const opgraph::KernelContext& ctx)
        : desc_(ctx.input_descs.at(0)),
          step_(ctx.step),
          saves_(ctx.node.saves),
          scale_(dropout_scale(ctx)) {
        if (!ctx.training)
            throw std::logic_error("dropout has no inference kernel: it is the identity there");
        const double rate = ctx.node.attrs.get_real("rate");
        const std::int64_t seed = ctx.node.attrs.get_int("seed");
        seed_ = seed == kSeedFromSession ? splitmix64(ctx.seed ^ name_hash(ctx.node.name))
                                         : static_cast<std::uint64_t>(seed);
        // Dropped when the 32-bit hash falls below rate * 2^32.
        threshold_ =
            static_cast<std::uint32_t>(std::min(rate * kTwoTo32, static_cast<double>(UINT32_MAX)));
        size_ = element_size(desc_);
        count_ = desc_.get_size() / size_;
    }
    std::vector<dnnl::memory::desc> output_descs() const override {
        if (!saves_) return {desc_};
        return {desc_, ops::with_data_type(desc_, dnnl::memory::data_type::u8)};
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        src_ = inputs.at(0);
        dst_ = outputs.at(0);
        if (saves_) mask_ = outputs.at(1);
    }
    void execute(dnnl::stream&) override {
        apply_mask(size_, src_.get_data_handle(), dst_.get_data_handle(),
                   saves_ ? static_cast<std::uint8_t*>(mask_.get_data_handle()) : nullptr, count_,
                   splitmix64(seed_ ^ splitmix64(*step_)), threshold_, scale_);
    }
    std::string implementation() const override { return "opgraph:dropout_hash"; }

private:
    dnnl::memory::desc desc_;
    const std::uint64_t* step_;
    bool saves_ = false;
    float scale_ = 1.f;
    std::uint64_t seed_ = 0;
    std::uint32_t threshold_ = 0;
    std::size_t size_ = sizeof(float);
    std::size_t count_ = 0;
    dnnl::memory src_;
    dnnl::memory dst_;
    dnnl::memory mask_;
};

// inputs: diff_dst, the forward's mask -> diff_src, in the mask's layout (the forward
// input's): diff_dst brought to it, scaled where the forward kept an element, else 0.
class DropoutBackwardKernel : public opgraph::Kernel {
public:
    explicit DropoutBackwardKernel(const opgraph::KernelContext& ctx)
        : engine_(ctx.engine),
          desc_(ops::with_data_type(ctx.input_descs.at(1), opgraph::dnnl_data_type(ctx.dtype))),
          size_(element_size(desc_)),
          scale_(dropout_scale(ctx)) {}
    std::vector<dnnl::memory::desc> output_descs() const override { return {desc_}; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        diff_dst_.bind(inputs.at(0), desc_, engine_);
        mask_ = inputs.at(1);
        diff_src_ = outputs.at(0);
    }
    void execute(dnnl::stream& stream) override {
        diff_dst_.prepare(stream);
        stream.wait();
        const auto* in = static_cast<const char*>(diff_dst_.memory().get_data_handle());
        const auto* keep = static_cast<const std::uint8_t*>(mask_.get_data_handle());
        auto* out = static_cast<char*>(diff_src_.get_data_handle());
        const bool bf16 = size_ == sizeof(std::uint16_t);
        const std::size_t count = desc_.get_size() / size_;
        const auto blocks = static_cast<std::int64_t>((count + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static) if (blocks > 1)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::size_t first = static_cast<std::size_t>(b) * kBlock;
            unmask_range(bf16, in + first * size_, keep + first, out + first * size_,
                         std::min(kBlock, count - first), scale_);
        }
    }
    std::string implementation() const override { return "opgraph:dropout_mask"; }

private:
    dnnl::engine engine_;
    dnnl::memory::desc desc_;
    std::size_t size_ = sizeof(float);
    float scale_ = 1.f;
    ops::InputAdapter diff_dst_;
    dnnl::memory mask_;
    dnnl::memory diff_src_;
};

}  // namespace

opgraph::OpDef dropout_op() {
    opgraph::OpDef def = ops::elementwise_op(
        "dropout", "randomly zeroes elements in training (Keras Dropout)", "layer",
        {
            AttrSpec::required("rate", AttrType::real, "probability of dropping an element")
                .at_least(0)
                .less_than(1),
            AttrSpec::optional("seed", kSeedFromSession,
                               "random seed; -1: drawn from the session's generator")
                .at_least(kSeedFromSession),
        });
    def.inference_identity = true;
    def.in_place = true;  // dst over src (the loops read each element before writing it)
    def.kernel = ops::make_kernel<DropoutForwardKernel>;
    def.saved = {"mask"};
    def.saved_shapes = [](const opgraph::OpContext& ctx) {
        return std::vector<opgraph::Shape>{ctx.input(0)};
    };
    def.saved_dtypes = [](const opgraph::OpContext&) {  // one byte per element
        return std::vector<opgraph::DType>{opgraph::DType::u8};
    };
    def.gradient = [](opgraph::GradientBuilder& b) {
        if (b.needs_diff_input(0))
            b.set_diff_input(0, b.emit("backward", "dropout_backward", {b.diff_dst(), b.saved(0)}));
    };
    opgraph::OpDef backward = ops::backward_op(def, "dropout_backward", {"diff_dst", "mask"}, 0);
    backward.kernel = ops::make_kernel<DropoutBackwardKernel>;
    backward.in_place = true;  // diff_src over diff_dst
    def.companions.push_back(std::move(backward));
    // The mask is fixed while the step is: the op is linear in src and the check exact.
    const auto rate = [](double value) { return opgraph::AttrMap{{"rate", value}}; };
    def.gradcheck = {
        {"4d rate 0.2", {{2, 3, 3, 4}}, rate(0.2), {GradCheckInput::uniform}},
        {"4d rate 0.5", {{2, 3, 3, 4}}, rate(0.5), {GradCheckInput::uniform}},
        {"2d rate 0.2", {{4, 10}}, rate(0.2), {GradCheckInput::uniform}},
        {"2d rate 0.5", {{4, 10}}, rate(0.5), {GradCheckInput::uniform}},
    };
    return def;
}
