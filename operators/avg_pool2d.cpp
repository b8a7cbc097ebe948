// avg_pool2d: the mean over a pool window slid over the height and width of a
// (batch, height, width, channels) input, as Keras's AveragePooling2D. By default padded
// positions are left out of the mean (TensorFlow's and Keras's behaviour).
// Kernel: oneDNN pooling_avg_exclude_padding (pooling_avg_include_padding with
// count_include_pad) on the input's own layout; avg_pool2d_backward spreads each gradient
// evenly over its window with pooling_backward.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/pooling.hpp"
#include "opgraph/ops/window2d.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;
using Ints = std::vector<std::int64_t>;

// One multiply-add per output element per pool position.
std::int64_t avg_pool2d_macs(const OpContext& ctx, const std::vector<Shape>& outputs) {
    const ops::IntPair pool = ops::read_pair(ctx, "pool");
    const Shape& dst = outputs.at(0);
    return ops::cost_product(
        {dst[ops::kHeightAxis], dst[ops::kWidthAxis], dst[ops::kChannelAxis], pool[0], pool[1]});
}

std::unique_ptr<opgraph::Kernel> avg_pool2d_kernel(const opgraph::KernelContext& ctx) {
    const auto algorithm = ctx.node.attrs.get_bool("count_include_pad")
                               ? dnnl::algorithm::pooling_avg_include_padding
                               : dnnl::algorithm::pooling_avg_exclude_padding;
    const ops::PoolWindow window = ops::pool2d_window(ctx, algorithm);
    const dnnl::memory::desc dst(opgraph::logical_dims(ctx.output_shapes.at(0)),
                                 opgraph::dnnl_data_type(ctx.dtype), dnnl::memory::format_tag::any);
    return std::make_unique<ops::PoolForwardKernel>(ctx, window, dst);
}

}  // namespace

opgraph::OpDef avg_pool2d_op() {
    opgraph::OpDef def = ops::pool2d_op(
        "avg_pool2d",
        "2-D average pooling of (batch, height, width, channels) (Keras AveragePooling2D)",
        {AttrSpec::optional("count_include_pad", false,
                            "count padded positions in the mean's divisor")});
    def.macs = avg_pool2d_macs;
    def.kernel = avg_pool2d_kernel;
    ops::add_pool_backward(def, false);
    const std::string same = ops::kPaddingSame;
    def.gradcheck = {
        {"2x2 stride 2", {{2, 4, 4, 3}}, {}, {}},
        {"3x3 stride 1 same",
         {{1, 5, 5, 2}},
         opgraph::AttrMap{{"pool", Ints{3, 3}}, {"stride", Ints{1, 1}}, {"padding", same}},
         {}},
        {"3x3 stride 2 same, padding counted",
         {{1, 6, 6, 2}},
         opgraph::AttrMap{{"pool", Ints{3, 3}},
                          {"stride", Ints{2, 2}},
                          {"padding", same},
                          {"count_include_pad", true}},
         {}},
        {"2x2 explicit padding", {{1, 4, 5, 2}}, opgraph::AttrMap{{"padding", Ints{1, 1}}}, {}},
    };
    return def;
}
