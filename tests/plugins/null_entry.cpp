// An entry point that returns no plugin description.
#include <opgraph/op/plugin_abi.h>

extern "C" __attribute__((visibility("default"))) const opgraph_plugin_info*
opgraph_plugin_entry() {
    return nullptr;
}
