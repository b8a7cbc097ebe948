// test_identity: dst = src (loader and executor test fixture).
#include <opgraph/op/gradient.hpp>

#include "test_kernel_util.hpp"

opgraph::OpDef test_identity_op() {
    opgraph::OpDef def = copy_like_op("test_identity", "returns its input (test fixture)");
    def.kernel = [](const opgraph::KernelContext& ctx) -> std::unique_ptr<opgraph::Kernel> {
        return std::make_unique<CopyKernel>(ctx, nullptr);
    };
    def.gradient = [](opgraph::GradientBuilder& b) { b.set_diff_input(0, b.diff_dst()); };
    def.gradcheck = {{"vector", {{2, 3}}, {}, {}}, {"image", {{1, 2, 2, 3}}, {}, {}}};
    return def;
}
