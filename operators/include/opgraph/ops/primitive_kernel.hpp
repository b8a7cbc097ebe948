// Kernels made of one oneDNN primitive. PrimitiveKernel adapts the inputs to the layouts the
// primitive wants and runs it; PrimitiveKernelWithParams also binds parameters (snapshots in
// training, cached constants in inference) and outputs the primitive writes in a layout of its
// own. A subclass creates its primitive descriptor in the constructor and binds in bind().
#pragma once

#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "opgraph/op/kernel.hpp"
#include "opgraph/ops/memory_adapters.hpp"

namespace opgraph::ops {

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

// A PrimitiveKernel whose parameters go through snapshots refreshed before the primitive
// (training) or constants refreshed only when parameters change (inference) (bind_param), and
// whose outputs may need a reorder after it (bind_output): the kernels of conv2d and dense.
class PrimitiveKernelWithParams : public PrimitiveKernel {
public:
    void execute(dnnl::stream& stream) override {
        for (ParamSnapshot& s : snapshots_) s.prepare(stream);
        PrimitiveKernel::execute(stream);
        for (OutputAdapter& a : output_adapters_) a.finish(stream);
    }
    void prepare_constants(dnnl::stream& stream) override {
        for (InputAdapter& a : constants_) a.prepare(stream);
    }

protected:
    // Binds parameter argument `arg` to `given` in the layout `wanted`: when `training`,
    // through a ParamSnapshot refreshed at every step, into `saved` when the node saves it
    // for backward (an output of descriptor `wanted`); otherwise through a constant refreshed
    // by prepare_constants() (reordered only when the layouts differ).
    void bind_param(int arg, const dnnl::memory& given, const dnnl::memory::desc& wanted,
                    const dnnl::engine& engine, bool training,
                    const dnnl::memory& saved = dnnl::memory()) {
        if (!training) {
            constants_.emplace_back();
            constants_.back().bind(given, wanted, engine);
            args_[arg] = constants_.back().memory();
            return;
        }
        snapshots_.emplace_back();
        if (saved)
            snapshots_.back().bind_into(given, saved);
        else
            snapshots_.back().bind(given, wanted, engine);
        args_[arg] = snapshots_.back().memory();
    }

    // Binds argument `arg` to `given`, through a buffer in `produced` when they differ.
    void bind_output(int arg, const dnnl::memory& given, const dnnl::memory::desc& produced,
                     const dnnl::engine& engine) {
        output_adapters_.emplace_back();
        output_adapters_.back().bind(given, produced, engine);
        args_[arg] = output_adapters_.back().memory();
    }

private:
    std::vector<ParamSnapshot> snapshots_;
    std::vector<InputAdapter> constants_;
    std::vector<OutputAdapter> output_adapters_;
};

}  // namespace opgraph::ops
