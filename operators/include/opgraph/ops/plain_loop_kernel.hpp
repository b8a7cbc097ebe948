// A kernel written as plain C++ loops over plain-layout floats, without oneDNN primitives
// (the losses; swish in examples/plugin): inputs arriving in another layout are reordered
// first, outputs are plain, and a subclass only writes compute().
#pragma once

#include <cstddef>
#include <dnnl.hpp>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/kernel.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/memory_adapters.hpp"

namespace opgraph::ops {

// Every data input is reordered to its plain layout (plain_data_desc: nhwc for images,
// row-major otherwise) when it comes in another (InputAdapter); every output is plain (a
// scalar is a 1-element memory). Subclasses implement compute() over input() / output() and
// must not allocate there.
class PlainLoopKernel : public Kernel {
public:
    PlainLoopKernel(const KernelContext& ctx, const std::vector<Shape>& output_shapes)
        : engine_(ctx.engine), input_shapes_(ctx.input_shapes) {
        for (const Shape& shape : output_shapes) outputs_.push_back(plain_data_desc(shape));
    }
    std::vector<dnnl::memory::desc> output_descs() const override { return outputs_; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        adapters_.resize(input_shapes_.size());
        for (std::size_t i = 0; i < input_shapes_.size(); ++i) {
            adapters_[i].bind(inputs.at(i), plain_data_desc(input_shapes_[i]), engine_);
            inputs_.push_back(static_cast<const float*>(adapters_[i].memory().get_data_handle()));
        }
        for (const dnnl::memory& out : outputs)
            output_ptrs_.push_back(static_cast<float*>(out.get_data_handle()));
    }
    void execute(dnnl::stream& stream) override {
        bool reordered = false;
        for (InputAdapter& a : adapters_) {
            a.prepare(stream);
            reordered = reordered || a.reorders();
        }
        if (reordered) stream.wait();
        compute();
    }
    std::string implementation() const override { return "plain C++ loops"; }

protected:
    virtual void compute() = 0;
    // Input i and output i, plain row-major in IR order (channels last).
    const float* input(std::size_t i) const { return inputs_[i]; }
    float* output(std::size_t i = 0) const { return output_ptrs_[i]; }
    // The concrete shape of input i (element_count() gives its length).
    const Shape& input_shape(std::size_t i) const { return input_shapes_.at(i); }

private:
    dnnl::engine engine_;
    std::vector<Shape> input_shapes_;
    std::vector<dnnl::memory::desc> outputs_;
    std::vector<InputAdapter> adapters_;
    std::vector<const float*> inputs_;
    std::vector<float*> output_ptrs_;
};

}  // namespace opgraph::ops
