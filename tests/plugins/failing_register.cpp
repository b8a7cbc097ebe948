// A plugin whose registration throws after adding one op: the loader must report the message
// and leave the registry without that op.
#include <opgraph/op/plugin.hpp>
#include <stdexcept>

namespace {
void register_ops(opgraph::OpRegistry& registry) {
    opgraph::OpDef def;
    def.name = "half_registered";
    def.infer_shapes = [](const opgraph::OpContext& ctx) {
        return std::vector<opgraph::Shape>{ctx.input(0)};
    };
    registry.add(def);
    throw std::runtime_error("deliberate failure while registering");
}
}  // namespace

OPGRAPH_PLUGIN("failing", "1.0", register_ops)
