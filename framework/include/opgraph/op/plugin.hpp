// What a plugin author includes: OPGRAPH_PLUGIN(name, version, fn) defines the plugin's C
// entry point around `void fn(opgraph::OpRegistry&)`, turning any exception thrown while
// registering into an error message so that none crosses the C boundary. A plugin that also
// adds optimizers, schedules or callbacks uses OPGRAPH_PLUGIN_WITH_TRAINING_ITEMS
// (opgraph/train/plugin_items.hpp) instead.
#pragma once

#include <cstring>
#include <exception>

#include "opgraph/build_info.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/op/plugin_abi.h"

namespace opgraph::detail {

inline void copy_message(const char* message, char* out, std::size_t size) {
    if (out == nullptr || size == 0) return;
    std::strncpy(out, message, size - 1);
    out[size - 1] = '\0';
}

// Calls Register(*static_cast<Target*>(target)), an exception becoming a message.
template <class Target, void (*Register)(Target&)>
int register_trampoline(void* target, char* error, std::size_t error_size) noexcept {
    try {
        Register(*static_cast<Target*>(target));
        return 0;
    } catch (const std::exception& e) {
        copy_message(e.what(), error, error_size);
    } catch (...) {
        copy_message("unknown exception", error, error_size);
    }
    return 1;
}

}  // namespace opgraph::detail

// The entry point; ITEMS_TRAMPOLINE is null or a register_trampoline over TrainingItems.
#define OPGRAPH_PLUGIN_ENTRY(NAME, VERSION, REGISTER_FN, ITEMS_TRAMPOLINE)               \
    extern "C" __attribute__((visibility("default"))) const opgraph_plugin_info*         \
    opgraph_plugin_entry(void) {                                                         \
        static const opgraph_plugin_info info = {                                        \
            OPGRAPH_PLUGIN_ABI_VERSION,                                                  \
            NAME,                                                                        \
            VERSION,                                                                     \
            OPGRAPH_VERSION,                                                             \
            OPGRAPH_CXX_ABI,                                                             \
            OPGRAPH_COMPILER,                                                            \
            &::opgraph::detail::register_trampoline<::opgraph::OpRegistry, REGISTER_FN>, \
            ITEMS_TRAMPOLINE};                                                           \
        return &info;                                                                    \
    }

#define OPGRAPH_PLUGIN(NAME, VERSION, REGISTER_FN) \
    OPGRAPH_PLUGIN_ENTRY(NAME, VERSION, REGISTER_FN, nullptr)
