// test_wrong_gradient: dst = src, with a gradient rule that is wrong on purpose (diff_src =
// diff_dst + 1), to show that the shared gradient check catches a bad rule. test_identity
// carries the right rule for contrast.
#include <opgraph/op/gradient.hpp>

#include "test_kernel_util.hpp"

namespace {

// dst = src + 1
class PlusOneKernel : public CopyKernel {
public:
    explicit PlusOneKernel(const opgraph::KernelContext& ctx) : CopyKernel(ctx, nullptr) {}
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        CopyKernel::bind(inputs, outputs);
        dst_ = outputs.at(0);
    }
    void execute(dnnl::stream& stream) override {
        CopyKernel::execute(stream);
        stream.wait();
        auto* data = static_cast<float*>(dst_.get_data_handle());
        for (std::size_t i = 0; i < dst_.get_desc().get_size() / sizeof(float); ++i) data[i] += 1;
    }

private:
    dnnl::memory dst_;
};

}  // namespace

opgraph::OpDef test_wrong_gradient_op() {
    opgraph::OpDef def = copy_like_op("test_wrong_gradient", "copies; its gradient is wrong");
    def.kernel = [](const opgraph::KernelContext& ctx) -> std::unique_ptr<opgraph::Kernel> {
        return std::make_unique<CopyKernel>(ctx, nullptr);
    };
    def.gradient = [](opgraph::GradientBuilder& b) {
        b.set_diff_input(0, b.emit("backward", "test_wrong_gradient_backward", {b.diff_dst()}));
    };
    def.gradcheck = {{"vector", {{2, 3}}, {}, {}}};
    opgraph::OpDef backward = copy_like_op("test_wrong_gradient_backward", "diff_dst + 1");
    backward.attrs = {
        opgraph::AttrSpec::required(opgraph::kForwardAttr, opgraph::AttrType::string)};
    backward.kernel = [](const opgraph::KernelContext& ctx) -> std::unique_ptr<opgraph::Kernel> {
        return std::make_unique<PlusOneKernel>(ctx);
    };
    def.companions.push_back(backward);
    return def;
}
