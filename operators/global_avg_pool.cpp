// global_avg_pool: the mean over height and width of a (batch, height, width, channels)
// input, as Keras's GlobalAveragePooling2D: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with
// keepdims.
// Kernel: oneDNN average pooling with an H x W window into a (N, C, 1, 1) dst in the input's
// layout. A (N, C, 1, 1) nhwc dst is byte for byte the (N, C) row-major output and is written
// in place; a blocked one is reordered into it (N * C floats). global_avg_pool_backward
// spreads each gradient evenly over H x W with pooling_backward.
#include <cstdint>
#include <memory>
#include <vector>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/costs.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/pooling.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;

std::vector<Shape> global_avg_pool_shapes(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_image(ctx, src);
    const std::int64_t batch = src[ops::kBatchAxis];
    const std::int64_t channels = src[ops::kChannelAxis];
    if (ctx.attrs().get_bool("keepdims")) return {{batch, 1, 1, channels}};
    return {{batch, channels}};
}

std::unique_ptr<opgraph::Kernel> global_avg_pool_kernel(const opgraph::KernelContext& ctx) {
    const Shape& src = ctx.input_shapes.at(0);
    const std::int64_t height = src[ops::kHeightAxis];
    const std::int64_t width = src[ops::kWidthAxis];
    const ops::PoolWindow window{
        dnnl::algorithm::pooling_avg_exclude_padding, {height, width}, {1, 1}, {0, 0}, {0, 0}};
    const dnnl::memory::desc dst({src[ops::kBatchAxis], src[ops::kChannelAxis], 1, 1},
                                 opgraph::dnnl_data_type(ctx.dtype), dnnl::memory::format_tag::any);
    return std::make_unique<ops::PoolForwardKernel>(
        ctx, window, dst, opgraph::plain_data_desc(ctx.output_shapes.at(0), ctx.dtype));
}

}  // namespace

opgraph::OpDef global_avg_pool_op() {
    opgraph::OpDef def;
    def.name = "global_avg_pool";
    def.doc = "mean over height and width: (N, H, W, C) -> (N, C) (Keras GlobalAveragePooling2D)";
    def.category = "layer";
    def.attrs = {AttrSpec::optional("keepdims", false, "keep height and width as 1: (N, 1, 1, C)")};
    def.infer_shapes = global_avg_pool_shapes;
    def.dtypes = ops::kF32Bf16AndInt8;
    def.int8 = opgraph::Int8Role::keeps_scale;
    def.macs = ops::one_mac_per_input_element;  // the sum over height and width
    def.kernel = global_avg_pool_kernel;
    ops::add_pool_backward(def, false);
    def.gradcheck = {
        {"(N, C)", {{2, 3, 3, 4}}, {}, {}},
        {"keepdims", {{2, 3, 4, 5}}, opgraph::AttrMap{{"keepdims", true}}, {}},
        {"1x1 input", {{3, 1, 1, 4}}, {}, {}},
    };
    return def;
}
