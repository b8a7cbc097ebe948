// sigmoid: dst = 1 / (1 + exp(-src)), element-wise, any rank. oneDNN's eltwise_logistic;
// backward from dst: diff_src = diff_dst * dst * (1 - dst).
#include "opgraph/ops/eltwise.hpp"
#include "opgraph/ops/op_families.hpp"

opgraph::OpDef sigmoid_op() {
    namespace ops = opgraph::ops;
    opgraph::OpDef def =
        ops::elementwise_op("sigmoid", "logistic sigmoid: 1 / (1 + exp(-x))", "activation");
    ops::add_eltwise_kernels(def, [](const opgraph::AttrMap&) {
        return ops::Eltwise{dnnl::algorithm::eltwise_logistic,
                            dnnl::algorithm::eltwise_logistic_use_dst_for_bwd};
    });
    opgraph::ops::fusable_as(def, "sigmoid");
    def.gradcheck = {{"4d", {{2, 3, 3, 4}}, {}, {}}, {"2d", {{3, 7}}, {}, {}}};
    return def;
}
