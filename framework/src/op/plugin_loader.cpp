#include "opgraph/op/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "opgraph/build_info.hpp"
#include "opgraph/op/plugin_abi.h"

namespace opgraph {

namespace {

constexpr std::size_t kErrorBufferSize = 1024;

std::string or_empty(const char* s) { return s == nullptr ? std::string{} : std::string{s}; }

std::vector<std::string> split_path_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(':', start), text.size());
        if (end > start) out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// An opened library whose ABI and build have been checked, not yet registered.
struct OpenedPlugin {
    std::shared_ptr<void> library;
    const opgraph_plugin_info* info = nullptr;
};

OpenedPlugin open_plugin(const std::filesystem::path& file) {
    using Kind = PluginError::Kind;
    const std::string where = file.string();
    dlerror();
    // A name without a slash would make dlopen() search the library path: a user's relative
    // path means the file in the working directory.
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(file, ec);
    void* handle = dlopen((ec ? file : absolute).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        throw PluginError(Kind::cannot_open,
                          where + ": cannot open plugin: " + or_empty(dlerror()));
    std::shared_ptr<void> library(handle, [](void* h) { dlclose(h); });

    auto entry =
        reinterpret_cast<opgraph_plugin_entry_fn>(dlsym(handle, OPGRAPH_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr)
        throw PluginError(Kind::not_a_plugin, where + ": not an opgraph plugin (no '" +
                                                  OPGRAPH_PLUGIN_ENTRY_SYMBOL + "' symbol)");
    const opgraph_plugin_info* info = entry();
    if (info == nullptr)
        throw PluginError(Kind::not_a_plugin,
                          where + ": not an opgraph plugin (its entry point returned null)");
    if (info->abi_version != OPGRAPH_PLUGIN_ABI_VERSION)
        throw PluginError(Kind::abi_mismatch, where + ": plugin ABI version " +
                                                  std::to_string(info->abi_version) +
                                                  " does not match this opgraph's ABI version " +
                                                  std::to_string(OPGRAPH_PLUGIN_ABI_VERSION) +
                                                  "; rebuild the plugin against this opgraph");
    const std::string name = or_empty(info->name);
    const std::string framework = or_empty(info->framework_version);
    const std::string cxx_abi = or_empty(info->cxx_abi);
    if (framework != OPGRAPH_VERSION || cxx_abi != OPGRAPH_CXX_ABI)
        throw PluginError(Kind::build_mismatch,
                          where + ": plugin '" + name + "' was built against opgraph " + framework +
                              " (" + cxx_abi + ", " + or_empty(info->compiler) +
                              ") but this is opgraph " + OPGRAPH_VERSION + " (" + OPGRAPH_CXX_ABI +
                              "); rebuild the plugin");
    if (name.empty() || info->register_ops == nullptr)
        throw PluginError(Kind::not_a_plugin,
                          where + ": not an opgraph plugin (no name or register function)");
    return {std::move(library), info};
}

LoadedPlugin register_plugin(OpRegistry& registry, const OpenedPlugin& plugin,
                             const std::filesystem::path& file) {
    const std::string name = plugin.info->name;
    std::array<char, kErrorBufferSize> error{};
    registry.begin_plugin(name, file.string());
    if (plugin.info->register_ops(&registry, error.data(), error.size()) != 0) {
        registry.abort_plugin();
        error.back() = '\0';
        throw PluginError(
            PluginError::Kind::registration_failed,
            file.string() + ": plugin '" + name + "' failed to register: " + error.data());
    }
    registry.commit_plugin(plugin.library);
    return {name, or_empty(plugin.info->version), file, plugin.info->register_training_items,
            plugin.library};
}

}  // namespace

LoadedPlugin load_plugin(OpRegistry& registry, const std::filesystem::path& file) {
    return register_plugin(registry, open_plugin(file), file);
}

std::filesystem::path default_plugin_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&default_plugin_dir), &info) == 0 ||
        info.dli_fname == nullptr)
        return {};
    std::error_code ec;
    std::filesystem::path library = std::filesystem::canonical(info.dli_fname, ec);
    if (ec) library = info.dli_fname;
    return library.parent_path() / "opgraph" / "plugins";
}

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& cli) {
    std::vector<std::filesystem::path> out;
    for (const std::string& entry : cli)
        for (const std::string& dir : split_path_list(entry)) out.emplace_back(dir);
    if (const char* env = std::getenv(kPluginPathEnv))
        for (const std::string& dir : split_path_list(env)) out.emplace_back(dir);
    out.push_back(default_plugin_dir());
    return out;
}

std::vector<LoadedPlugin> load_plugins(OpRegistry& registry,
                                       const std::vector<std::filesystem::path>& path) {
    std::vector<LoadedPlugin> loaded;
    auto load_one = [&](const std::filesystem::path& file) {
        // A plugin shadowed by an earlier entry of the path is skipped, not a duplicate.
        OpenedPlugin plugin = open_plugin(file);
        if (registry.has_plugin(plugin.info->name)) return;
        loaded.push_back(register_plugin(registry, plugin, file));
    };
    for (const std::filesystem::path& entry : path) {
        std::error_code ec;
        if (std::filesystem::is_directory(entry, ec)) {
            std::vector<std::filesystem::path> files;
            for (const auto& item : std::filesystem::directory_iterator(entry, ec))
                if (item.path().extension() == ".so") files.push_back(item.path());
            std::sort(files.begin(), files.end());
            for (const auto& file : files) load_one(file);
        } else if (std::filesystem::exists(entry, ec)) {
            load_one(entry);
        } else if (entry != default_plugin_dir()) {
            throw PluginError(PluginError::Kind::cannot_open,
                              entry.string() + ": plugin path entry does not exist");
        }
    }
    return loaded;
}

}  // namespace opgraph
