// softmax: dst = exp(src) / sum(exp(src)) along `axis` (the last by default, never the
// batch), shape unchanged. oneDNN's softmax_forward on the axis as a logical dimension (an
// image's channels-last axis -1 is oneDNN's dimension 1), the output in the input's layout;
// backward with softmax_backward from dst.
#include "opgraph/ops/softmax.hpp"

#include "opgraph/ops/op_families.hpp"

opgraph::OpDef softmax_op() {
    namespace ops = opgraph::ops;
    using opgraph::GradCheckInput;
    opgraph::OpDef def =
        ops::normalizing_op("softmax", "softmax along an axis: exp(x) / sum(exp(x))");
    ops::add_softmax_kernels<dnnl::softmax_forward, dnnl::softmax_backward>(def);
    def.gradcheck = {
        {"2d", {{3, 5}}, {}, {}},
        {"4d channels", {{2, 3, 3, 4}}, {}, {}},
        {"4d height", {{2, 3, 3, 4}}, opgraph::AttrMap{{"axis", std::int64_t{1}}}, {}},
        {"3d axis 1", {{2, 4, 3}}, opgraph::AttrMap{{"axis", std::int64_t{1}}}, {}},
    };
    return def;
}
