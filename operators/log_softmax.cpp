// log_softmax: dst = src - log(sum(exp(src))) along `axis` (the last by default, never the
// batch), shape unchanged; the numerically stable log of softmax. oneDNN's logsoftmax_forward
// on the axis as a logical dimension, the output in the input's layout; backward with
// logsoftmax_backward from dst.
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/softmax.hpp"

opgraph::OpDef log_softmax_op() {
    namespace ops = opgraph::ops;
    opgraph::OpDef def =
        ops::normalizing_op("log_softmax", "log of softmax along an axis: x - log(sum(exp(x)))");
    ops::add_softmax_kernels<dnnl::logsoftmax_forward, dnnl::logsoftmax_backward>(def);
    def.gradcheck = {
        {"2d", {{3, 5}}, {}, {}},
        {"4d channels", {{2, 3, 3, 4}}, {}, {}},
        {"4d width", {{2, 3, 3, 4}}, opgraph::AttrMap{{"axis", std::int64_t{-2}}}, {}},
    };
    return def;
}
