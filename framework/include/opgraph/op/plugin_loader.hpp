// Loading operator plugins (shared libraries) into a registry, and where to find them.
//
// A plugin is opened with RTLD_NOW | RTLD_LOCAL; its ABI version and framework build are
// checked before its register function runs. Each failure is a distinct PluginError kind
// whose message names the file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

class PluginError : public Error {
public:
    enum class Kind {
        cannot_open,          // dlopen failed: missing file, not ELF, unresolved symbol
        not_a_plugin,         // no opgraph_plugin_entry symbol, or it returned null
        abi_mismatch,         // plugin ABI version differs from the framework's
        build_mismatch,       // built against another opgraph version or C++ ABI
        registration_failed,  // the register function reported an error
    };
    PluginError(Kind kind, const std::string& message)
        : Error(ExitCode::plugin_refused, message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

struct LoadedPlugin {
    std::string name;
    std::string version;
    std::filesystem::path file;
    // The plugin's register_training_items (opgraph_plugin_info), or null; `library` keeps
    // the plugin loaded while this is held.
    int (*register_training_items)(void* items, char* error, std::size_t error_size) = nullptr;
    std::shared_ptr<void> library;
};

// Loads one plugin into `registry`. Throws PluginError; on failure the registry is as before.
LoadedPlugin load_plugin(OpRegistry& registry, const std::filesystem::path& file);

// Environment variable holding extra plugin directories, ':'-separated.
inline constexpr const char* kPluginPathEnv = "OPGRAPH_PLUGIN_PATH";

// <directory of libopgraph_framework.so>/opgraph/plugins: relocatable with the install tree.
std::filesystem::path default_plugin_dir();

// The directories (or single plugin files) to load from, in order: `cli` (each entry may be
// ':'-separated), then $OPGRAPH_PLUGIN_PATH, then default_plugin_dir().
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& cli);

// Loads every *.so in each directory of `path` (files are loaded as given). A plugin whose
// name is already loaded is skipped, so earlier entries shadow later ones. Throws
// PluginError on the first plugin refused.
std::vector<LoadedPlugin> load_plugins(OpRegistry& registry,
                                       const std::vector<std::filesystem::path>& path);

}  // namespace opgraph
