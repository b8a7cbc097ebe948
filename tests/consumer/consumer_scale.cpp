// An out-of-tree op: multiplies its input by a constant attribute.
#include <opgraph/op/op_def.hpp>

opgraph::OpDef consumer_scale_op() {
    opgraph::OpDef def;
    def.name = "consumer_scale";
    def.doc = "dst = factor * src";
    def.category = "activation";
    def.attrs = {opgraph::AttrSpec::optional("factor", 2.0)};
    def.infer_shapes = [](const opgraph::OpContext& ctx) {
        return std::vector<opgraph::Shape>{ctx.input(0)};
    };
    return def;
}
