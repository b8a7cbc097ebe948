// A copy kernel for the test plugin's ops: dst = src in the source's layout, with a hook that
// runs first (to wait, count or fail on purpose).
#pragma once

#include <functional>
#include <opgraph/op/kernel.hpp>
#include <opgraph/op/op_def.hpp>

class CopyKernel : public opgraph::Kernel {
public:
    CopyKernel(const opgraph::KernelContext& ctx, std::function<void()> before)
        : desc_(ctx.input_descs.at(0)), before_(std::move(before)) {}
    std::vector<dnnl::memory::desc> output_descs() const override { return {desc_}; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        src_ = inputs.at(0);
        dst_ = outputs.at(0);
        copy_ = dnnl::reorder(src_, dst_);
    }
    void execute(dnnl::stream& stream) override {
        if (before_) before_();
        copy_.execute(stream, src_, dst_);
    }

private:
    dnnl::memory::desc desc_;
    std::function<void()> before_;
    dnnl::memory src_, dst_;
    dnnl::reorder copy_;
};

inline opgraph::OpDef copy_like_op(const char* name, const char* doc) {
    opgraph::OpDef def;
    def.name = name;
    def.doc = doc;
    def.category = "structure";
    def.infer_shapes = [](const opgraph::OpContext& ctx) {
        return std::vector<opgraph::Shape>{ctx.input(0)};
    };
    return def;
}
