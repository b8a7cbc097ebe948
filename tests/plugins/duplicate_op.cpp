// A plugin that registers an op the core plugin already has.
#include <opgraph/op/plugin.hpp>

namespace {
void register_ops(opgraph::OpRegistry& registry) {
    opgraph::OpDef def;
    def.name = "relu";
    def.infer_shapes = [](const opgraph::OpContext& ctx) {
        return std::vector<opgraph::Shape>{ctx.input(0)};
    };
    registry.add(def);
}
}  // namespace

OPGRAPH_PLUGIN("duplicate", "1.0", register_ops)
