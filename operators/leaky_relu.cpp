// leaky_relu: dst = src for src >= 0, alpha * src below, element-wise, any rank (Keras
// LeakyReLU, whose alpha defaults to 0.3). oneDNN's eltwise_relu with alpha; backward from dst
// (alpha >= 0 keeps dst's sign that of src).
#include "opgraph/ops/eltwise.hpp"
#include "opgraph/ops/op_families.hpp"

namespace {

using opgraph::GradCheckInput;

constexpr double kCheckAlpha = 0.1;

}  // namespace

opgraph::OpDef leaky_relu_op() {
    namespace ops = opgraph::ops;
    opgraph::OpDef def = ops::elementwise_op(
        "leaky_relu", "leaky rectified linear unit: x if x >= 0 else alpha * x", "activation",
        {opgraph::AttrSpec::optional("alpha", ops::kDefaultLeakyReluAlpha,
                                     "slope for negative inputs")
             .at_least(0)});
    ops::add_eltwise_kernels(def, [](const opgraph::AttrMap& attrs) {
        const auto alpha = static_cast<float>(attrs.get_real("alpha"));
        return ops::Eltwise{dnnl::algorithm::eltwise_relu,
                            dnnl::algorithm::eltwise_relu_use_dst_for_bwd, alpha};
    });
    opgraph::ops::fusable_as(def, "leaky_relu");
    def.gradcheck = {
        {"4d", {{2, 3, 3, 4}}, {}, {GradCheckInput::away_from_zero}},
        {"2d alpha 0.1",
         {{3, 7}},
         opgraph::AttrMap{{"alpha", kCheckAlpha}},
         {GradCheckInput::away_from_zero}},
    };
    return def;
}
