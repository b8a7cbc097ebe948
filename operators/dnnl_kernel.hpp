// oneDNN helpers shared by the core operators' kernels, in one place: adapting an input to
// the layout a primitive wants, a kernel made of one primitive, the element-wise family,
// and declaring backward ops.
#pragma once

#include <dnnl.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "opgraph/gradient.hpp"
#include "opgraph/kernel.hpp"
#include "opgraph/memory_layout.hpp"
#include "opgraph/op_def.hpp"

namespace opgraph::ops {

// An input as a primitive needs it: the producer's memory itself when the layouts agree,
// otherwise a private buffer refreshed by a reorder at the start of each step (counted:
// executed()).
class InputAdapter {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& wanted,
              const dnnl::engine& engine) {
        given_ = given;
        if (given.get_desc() == wanted) {
            memory_ = given;
            return;
        }
        memory_ = dnnl::memory(wanted, engine);
        reorder_ = dnnl::reorder(given_, memory_);
    }
    void prepare(dnnl::stream& stream) {
        if (!reorder_) return;
        reorder_.execute(stream, given_, memory_);
        ++executed_;
    }
    const dnnl::memory& memory() const { return memory_; }
    bool reorders() const { return static_cast<bool>(reorder_); }
    // Reorders prepare() has executed so far.
    std::int64_t executed() const { return executed_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
    std::int64_t executed_ = 0;
};

// A kernel that runs one primitive after adapting its inputs. Subclasses fill outputs_,
// primitive_ and impl_ in their constructor and args_ in bind().
class PrimitiveKernel : public Kernel {
public:
    std::vector<dnnl::memory::desc> output_descs() const override { return outputs_; }
    void execute(dnnl::stream& stream) override {
        for (InputAdapter& a : adapters_) a.prepare(stream);
        primitive_.execute(stream, args_);
    }
    std::string implementation() const override { return impl_; }
    std::int64_t reorders() const override {
        std::int64_t n = 0;
        for (const InputAdapter& a : adapters_) n += a.executed();
        return n;
    }

protected:
    // Binds `given` to argument `arg`, reordering to `wanted` when needed.
    void bind_input(int arg, const dnnl::memory& given, const dnnl::memory::desc& wanted,
                    const dnnl::engine& engine) {
        adapters_.emplace_back();
        adapters_.back().bind(given, wanted, engine);
        args_[arg] = adapters_.back().memory();
    }

    // Binds inputs as DNNL_ARG_MULTIPLE_SRC + i and the one output as DST (sum, concat).
    void bind_multiple_sources(const std::vector<dnnl::memory>& inputs,
                               const std::vector<dnnl::memory>& outputs) {
        for (std::size_t i = 0; i < inputs.size(); ++i)
            args_[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] = inputs[i];
        args_[DNNL_ARG_DST] = outputs.at(0);
    }

    std::vector<dnnl::memory::desc> outputs_;
    dnnl::primitive primitive_;
    std::unordered_map<int, dnnl::memory> args_;
    std::vector<InputAdapter> adapters_;
    std::string impl_;
};

// dst = f(src) element-wise with oneDNN's eltwise primitive; the output keeps the input's
// layout (blocked layouts flow through). Backward uses dst (the *_use_dst_for_bwd forms).
struct Eltwise {
    dnnl::algorithm forward;   // e.g. eltwise_relu
    dnnl::algorithm backward;  // e.g. eltwise_relu_use_dst_for_bwd
    float alpha = 0.f;
    float beta = 0.f;
};

class EltwiseForwardKernel : public PrimitiveKernel {
public:
    EltwiseForwardKernel(const KernelContext& ctx, const Eltwise& f) : engine_(ctx.engine) {
        const auto prop = ctx.training ? dnnl::prop_kind::forward_training
                                       : dnnl::prop_kind::forward_inference;
        pd_ = dnnl::eltwise_forward::primitive_desc(
            {prop, f.forward, ctx.input_descs.at(0), f.alpha, f.beta}, ctx.engine);
        outputs_ = {pd_.dst_desc()};
        primitive_ = dnnl::eltwise_forward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_SRC, inputs.at(0), pd_.src_desc(), engine_);
        args_[DNNL_ARG_DST] = outputs.at(0);
    }
    const dnnl::eltwise_forward::primitive_desc& pd() const { return pd_; }

private:
    dnnl::engine engine_;
    dnnl::eltwise_forward::primitive_desc pd_;
};

// inputs: diff_dst, dst -> diff_src
class EltwiseBackwardKernel : public PrimitiveKernel {
public:
    EltwiseBackwardKernel(const KernelContext& ctx, const Eltwise& f) : engine_(ctx.engine) {
        const dnnl::memory::desc& dst = ctx.input_descs.at(1);
        const dnnl::eltwise_forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, f.backward, dst, f.alpha, f.beta}, ctx.engine);
        pd_ = dnnl::eltwise_backward::primitive_desc({f.backward, dst, dst, f.alpha, f.beta},
                                                     ctx.engine, hint);
        outputs_ = {pd_.diff_src_desc()};
        primitive_ = dnnl::eltwise_backward(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_input(DNNL_ARG_DIFF_DST, inputs.at(0), pd_.diff_dst_desc(), engine_);
        bind_input(DNNL_ARG_DST, inputs.at(1), pd_.diff_dst_desc(), engine_);
        args_[DNNL_ARG_DIFF_SRC] = outputs.at(0);
    }

private:
    dnnl::engine engine_;
    dnnl::eltwise_backward::primitive_desc pd_;
};

// A backward op declared beside its forward op: the forward op's attributes plus
// "forward", the given inputs, output shape = the shape of input `like`.
inline OpDef backward_op(const OpDef& forward, const std::string& name,
                         std::vector<std::string> inputs, std::size_t like) {
    OpDef def;
    def.name = name;
    def.doc = "gradient of " + forward.name + " (emitted by its gradient rule)";
    def.category = "backward";
    def.inputs = std::move(inputs);
    def.attrs = forward.attrs;
    def.attrs.push_back(AttrSpec::required(kForwardAttr, AttrType::string,
                                           "the forward node differentiated"));
    def.infer_shapes = [like](const OpContext& ctx) {
        return std::vector<Shape>{ctx.input(like)};
    };
    return def;
}

// Gives an element-wise op its kernel, its backward op "<name>_backward" and its rule.
// What a single-input op's backward kernel reads besides diff_dst: the forward input (src)
// or the forward output (dst, e.g. eltwise *_use_dst_for_bwd).
enum class SavedValue { src, dst };

// Gives a single-input op its backward op "<name>_backward" (inputs diff_dst and the saved
// value -> diff_src) with `kernel`, and the gradient rule that emits it.
using KernelFn = std::function<std::unique_ptr<Kernel>(const KernelContext&)>;

inline void add_unary_backward(OpDef& def, SavedValue saved, KernelFn kernel) {
    const std::string backward_name = def.name + "_backward";
    def.gradient = [backward_name, saved](GradientBuilder& b) {
        if (!b.needs_diff_input(0)) return;
        const std::string value = saved == SavedValue::src ? b.input(0) : b.output();
        b.set_diff_input(0, b.emit("backward", backward_name, {b.diff_dst(), value}));
    };
    OpDef backward = backward_op(def, backward_name,
                                 {"diff_dst", saved == SavedValue::src ? "src" : "dst"}, 1);
    backward.kernel = std::move(kernel);
    def.companions.push_back(std::move(backward));
}

inline void add_eltwise_kernels(OpDef& def, std::function<Eltwise(const AttrMap&)> algorithm) {
    def.kernel = [algorithm](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
        return std::make_unique<EltwiseForwardKernel>(ctx, algorithm(ctx.node.attrs));
    };
    add_unary_backward(def, SavedValue::dst,
                       [algorithm](const KernelContext& ctx) -> std::unique_ptr<Kernel> {
                           return std::make_unique<EltwiseBackwardKernel>(
                               ctx, algorithm(ctx.node.attrs));
                       });
}

}  // namespace opgraph::ops
