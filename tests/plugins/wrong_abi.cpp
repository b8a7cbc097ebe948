// A plugin built for a future ABI version: must be refused before anything else is read.
#include <opgraph/op/plugin_abi.h>

namespace {
constexpr unsigned kFutureAbi = 999;
int never_called(void*, char*, size_t) { return 0; }
const opgraph_plugin_info kInfo = {kFutureAbi, "future", "9.9", "9.9.9", "?", "?", never_called};
}  // namespace

extern "C" __attribute__((visibility("default"))) const opgraph_plugin_info*
opgraph_plugin_entry() {
    return &kInfo;
}
