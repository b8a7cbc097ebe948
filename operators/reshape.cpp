// reshape: gives each sample a new shape with the same number of elements, as Keras's
// Reshape: `shape` leaves out the batch dimension; one of its entries may be -1, inferred.
// Elements keep their row-major (channels-last) order: the input reordered to its plain layout
// (nhwc / row-major) straight into the output's buffer, which is those bytes seen in the new
// shape. Backward: the reverse, into the input's plain layout.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/reshape_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::AttrType;
using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr std::int64_t kInferredDim = -1;

std::vector<Shape> reshape_shapes(const OpContext& ctx) {
    const Shape& src = ctx.input(0);
    ops::expect_min_rank(ctx, src, 1, "(batch, ...)");
    const std::vector<std::int64_t>& target = ctx.attrs().get_ints("shape");
    const std::string target_str = opgraph::attr_value_str(target);

    std::int64_t known_product = 1;
    std::size_t inferred_at = target.size();
    for (std::size_t i = 0; i < target.size(); ++i) {
        if (target[i] == kInferredDim) {
            if (inferred_at != target.size()) {
                ctx.fail("shape", "can infer only one dimension (-1), got " + target_str);
            }
            inferred_at = i;
        } else if (target[i] < 1) {
            ctx.fail("shape",
                     "dimensions must be >= 1, or -1 for the one to infer, got " + target_str);
        } else {
            known_product *= target[i];
        }
    }

    Shape dst = {src[ops::kBatchAxis]};
    dst.insert(dst.end(), target.begin(), target.end());
    const std::int64_t elements = ops::dims_product(src, 1, src.size());
    if (elements == opgraph::kDynamicDim) return {dst};  // unknown: cannot check or infer
    const std::string from = "cannot reshape " + opgraph::shape_str(src) + " (" +
                             std::to_string(elements) + " elements per sample) to shape " +
                             target_str;
    if (inferred_at != target.size()) {
        if (elements % known_product != 0) {
            ctx.fail("shape", from + ": " + std::to_string(elements) + " is not a multiple of " +
                                  std::to_string(known_product));
        }
        dst[inferred_at + 1] = elements / known_product;
    } else if (elements != known_product) {
        ctx.fail("shape", from + " (" + std::to_string(known_product) + " elements)");
    }
    return {dst};
}

}  // namespace

opgraph::OpDef reshape_op() {
    opgraph::OpDef def;
    def.name = "reshape";
    def.doc = "reshapes each sample, the batch untouched (Keras Reshape)";
    def.category = "structure";
    def.attrs = {
        AttrSpec::required("shape", AttrType::int_list,
                           "new shape without the batch; one entry may be -1 (inferred)")
            .length_between(1, SIZE_MAX)
            .at_least(kInferredDim),
    };
    def.infer_shapes = reshape_shapes;
    def.dtypes = ops::kF32Bf16AndInt8;
    def.int8 = opgraph::Int8Role::keeps_scale;
    ops::add_reshape_kernels(def);
    const auto shape = [](std::vector<std::int64_t> dims) {
        return opgraph::AttrMap{{"shape", std::move(dims)}};
    };
    def.gradcheck = {
        {"4d to 2d with -1", {{2, 3, 2, 2}}, shape({-1, 4}), {}},
        {"2d to 4d", {{2, 12}}, shape({2, 3, 2}), {}},
        {"4d to 4d with -1", {{2, 2, 3, 4}}, shape({4, -1, 2}), {}},
    };
    return def;
}
