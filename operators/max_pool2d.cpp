// max_pool2d: the maximum over a pool window slid over the height and width of a
// (batch, height, width, channels) input, as Keras's MaxPooling2D. Padding never wins.
// Kernel: oneDNN pooling_max on the input's own layout (output in the same layout); in
// training the forward keeps oneDNN's workspace (where each maximum came from) and the
// backward op max_pool2d_backward routes each gradient to its maximum through it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/pooling.hpp"
#include "opgraph/ops/window2d.hpp"

namespace {

namespace ops = opgraph::ops;
using Ints = std::vector<std::int64_t>;

std::unique_ptr<opgraph::Kernel> max_pool2d_kernel(const opgraph::KernelContext& ctx) {
    const ops::PoolWindow window = ops::pool2d_window(ctx, dnnl::algorithm::pooling_max);
    const dnnl::memory::desc dst(opgraph::logical_dims(ctx.output_shapes.at(0)),
                                 opgraph::dnnl_data_type(ctx.dtype), dnnl::memory::format_tag::any);
    return std::make_unique<ops::PoolForwardKernel>(ctx, window, dst);
}

}  // namespace

opgraph::OpDef max_pool2d_op() {
    // Comparisons only: macs stays empty (0).
    opgraph::OpDef def = ops::pool2d_op(
        "max_pool2d", "2-D max pooling of (batch, height, width, channels) (Keras MaxPooling2D)");
    def.kernel = max_pool2d_kernel;
    ops::add_pool_backward(def, true);
    // Distinct inputs: no two values of a window within the perturbation of each other.
    const auto distinct = opgraph::GradCheckInput::distinct;
    def.gradcheck = {
        {"2x2 stride 2", {{2, 4, 4, 3}}, {}, {distinct}},
        {"3x3 stride 1 same",
         {{1, 5, 5, 2}},
         opgraph::AttrMap{{"pool", Ints{3, 3}},
                          {"stride", Ints{1, 1}},
                          {"padding", std::string(ops::kPaddingSame)}},
         {distinct}},
        {"3x3 stride 2 overlapping",
         {{1, 7, 7, 2}},
         opgraph::AttrMap{{"pool", Ints{3, 3}}, {"stride", Ints{2, 2}}},
         {distinct}},
        {"2x3 explicit padding",
         {{1, 5, 6, 2}},
         opgraph::AttrMap{{"pool", Ints{2, 3}}, {"padding", Ints{1, 1}}},
         {distinct}},
    };
    return def;
}
