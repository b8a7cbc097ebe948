// A plugin of the right ABI version built against another opgraph release.
#include <opgraph/op/plugin_abi.h>

#include <opgraph/build_info.hpp>

namespace {
int never_called(void*, char*, size_t) { return 0; }
const opgraph_plugin_info kInfo = {
    OPGRAPH_PLUGIN_ABI_VERSION, "old",       "0.0.1", "0.0.1", OPGRAPH_CXX_ABI,
    OPGRAPH_COMPILER,           never_called};
}  // namespace

extern "C" __attribute__((visibility("default"))) const opgraph_plugin_info*
opgraph_plugin_entry() {
    return &kInfo;
}
