// tanh: dst = tanh(src), element-wise, any rank. oneDNN's eltwise_tanh; backward from dst:
// diff_src = diff_dst * (1 - dst^2).
#include "opgraph/ops/eltwise.hpp"
#include "opgraph/ops/op_families.hpp"

opgraph::OpDef tanh_op() {
    namespace ops = opgraph::ops;
    opgraph::OpDef def = ops::elementwise_op("tanh", "hyperbolic tangent", "activation");
    ops::add_eltwise_kernels(def, [](const opgraph::AttrMap&) {
        return ops::Eltwise{dnnl::algorithm::eltwise_tanh,
                            dnnl::algorithm::eltwise_tanh_use_dst_for_bwd};
    });
    opgraph::ops::fusable_as(def, "tanh");
    def.gradcheck = {{"4d", {{2, 3, 3, 4}}, {}, {}}, {"2d", {{3, 7}}, {}, {}}};
    return def;
}
