// relu: dst = max(src, 0), element-wise, any rank; backward from dst.
#include "opgraph/ops/eltwise.hpp"
#include "opgraph/ops/op_families.hpp"

opgraph::OpDef relu_op() {
    opgraph::OpDef def =
        opgraph::ops::elementwise_op("relu", "rectified linear unit: max(x, 0)", "activation");
    opgraph::ops::add_eltwise_kernels(def, [](const opgraph::AttrMap&) {
        return opgraph::ops::Eltwise{dnnl::algorithm::eltwise_relu,
                                     dnnl::algorithm::eltwise_relu_use_dst_for_bwd};
    });
    opgraph::ops::fusable_as(def, "relu");
    def.gradcheck = {{"4d", {{2, 3, 3, 4}}, {}, {opgraph::GradCheckInput::away_from_zero}},
                     {"2d", {{3, 7}}, {}, {opgraph::GradCheckInput::away_from_zero}}};
    return def;
}
