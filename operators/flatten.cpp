// flatten: (N, d1, ..., dk) -> (N, d1 * ... * dk), as Keras's Flatten; (N) -> (N, 1). The
// product is None when any di is unknown. Elements keep their channels-last order: the input
// reordered to its plain layout (nhwc / row-major) straight into the output's buffer, which
// is those bytes seen as (N, features). Backward: the reverse, into the input's plain layout.
#include <vector>

#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/reshape_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;

std::vector<Shape> flatten_shapes(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_min_rank(ctx, src, 1, "(batch, ...)");
    return {{src[ops::kBatchAxis], ops::dims_product(src, 1, src.size())}};
}

}  // namespace

opgraph::OpDef flatten_op() {
    opgraph::OpDef def;
    def.name = "flatten";
    def.doc = "flattens each sample: (N, d1, ..., dk) -> (N, d1 * ... * dk) (Keras Flatten)";
    def.category = "structure";
    def.infer_shapes = flatten_shapes;
    def.dtypes = ops::kF32Bf16AndInt8;
    def.int8 = opgraph::Int8Role::keeps_scale;
    ops::add_reshape_kernels(def);
    def.gradcheck = {
        {"4d", {{2, 3, 3, 2}}, {}, {}},
        {"3d", {{2, 3, 4}}, {}, {}},
        {"2d", {{3, 5}}, {}, {}},
    };
    return def;
}
