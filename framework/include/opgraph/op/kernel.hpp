// Kernels: what an op compiles to for one concrete graph (batch size fixed).
//
// Compile once, execute many. An op's `kernel` function builds a Kernel from a KernelContext:
// it creates its oneDNN primitive descriptors there (choosing output layouts, format_tag::any
// where that helps), and reports each output's memory descriptor. The Program then allocates
// every value and calls bind() once with the memories; execute() runs one step and must not
// allocate. A kernel that needs another layout for an input (e.g. blocked weights) owns the
// reorder and its buffer.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"

namespace opgraph {

class Kernel {
public:
    virtual ~Kernel() = default;
    // Memory descriptor of each output, known from construction on.
    virtual std::vector<dnnl::memory::desc> output_descs() const = 0;
    // Called once. `inputs` are the data inputs then the node's parameters (ParamSpec order);
    // `outputs` one per output, allocated with output_descs().
    virtual void bind(const std::vector<dnnl::memory>& inputs,
                      const std::vector<dnnl::memory>& outputs) = 0;
    // One step. Throws on failure; the executor names the node.
    virtual void execute(dnnl::stream& stream) = 0;
    // Inference only: called before the first step and again before the next step whenever a
    // parameter was written (Program::write). Kernels of an inference Program transform their
    // parameters here, once (a reorder to a blocked layout, a folded batch norm), instead of
    // at every step. Training kernels must not cache parameters: optimizers update them.
    virtual void prepare_constants(dnnl::stream& /*stream*/) {}
    // The oneDNN implementation(s) chosen, e.g. "jit:avx512_core" (for benchmarks).
    virtual std::string implementation() const { return {}; }
    // Reorders this kernel has executed inside execute() since it was built (inputs adapted to
    // the layout its primitive wants), for benchmarks. 0 for kernels that do not count them.
    virtual std::int64_t reorders() const { return 0; }
};

// A per-channel affine map over the last axis, y = x * scale + shift, as a node computes it in
// inference (batch norm on its moving statistics). Fills `scale` and `shift` (`channels`
// floats each) from the node's attributes and its parameters' current values (ParamSpec
// order, row-major).
using ChannelAffineFn =
    std::function<void(const AttrMap& attrs, const std::vector<const float*>& params,
                       std::int64_t channels, float* scale, float* shift)>;

// A per-channel affine node folded into the node being compiled (OpDef::absorbs_affine): an
// inference Program runs no kernel for it; this kernel applies it. Its parameters follow the
// node's own in bind()'s inputs (those of an input-side node first).
struct AbsorbedAffine {
    std::string node;  // the folded node, e.g. "batch_norm_1"
    AffineSide side = AffineSide::output;
    AttrMap attrs;            // the folded node's attributes
    std::size_t params = 0;   // how many of bind()'s inputs are its parameters
    ChannelAffineFn compute;  // its OpDef::inference_affine
};

// What an op's kernel function sees.
struct KernelContext {
    const Node& node;
    const dnnl::engine& engine;
    bool training = false;            // forward_training vs forward_inference primitives
    std::vector<Shape> input_shapes;  // concrete; data inputs only
    std::vector<dnnl::memory::desc> input_descs;  // data inputs, as their producers made them
    std::vector<Shape> param_shapes;              // the node's parameters (ParamSpec order)
    std::vector<Shape> output_shapes;             // concrete
    // The training step counter (Program::set_step), for kernels whose randomness must be a
    // function of (seed, step, element) only, such as dropout. Never null.
    const std::uint64_t* step = nullptr;
    std::uint64_t seed = 0;  // the program's seed (ProgramOptions::seed)
    // Inference: the affine nodes folded into this one (OpDef::absorbs_affine), at most one
    // per side, the input side first.
    std::vector<AbsorbedAffine> absorbed;
    // The element type the node computes in (Node::dtype): that of the descriptors its
    // kernel creates for its data outputs (parameters stay f32 and are converted).
    DType dtype = DType::f32;
    // Quantized graphs: the scale of each data input and each output of type u8 or s8
    // (real = scale * stored integer; opgraph/passes/quantization.hpp), 0 for the others.
    std::vector<float> input_scales = {};
    std::vector<float> output_scales = {};
};

}  // namespace opgraph
