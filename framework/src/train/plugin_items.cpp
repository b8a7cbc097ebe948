#include "opgraph/train/plugin_items.hpp"

#include <array>

namespace opgraph {

TrainingItems training_items(const Session& session) {
    constexpr std::size_t kErrorBufferSize = 1024;
    TrainingItems items;
    for (const LoadedPlugin& plugin : session.plugins()) {
        if (plugin.register_training_items == nullptr) continue;
        std::array<char, kErrorBufferSize> error{};
        if (plugin.register_training_items(&items, error.data(), error.size()) != 0) {
            error.back() = '\0';
            throw PluginError(PluginError::Kind::registration_failed,
                              plugin.file.string() + ": plugin '" + plugin.name +
                                  "' failed to register its training items: " + error.data());
        }
    }
    return items;
}

}  // namespace opgraph
