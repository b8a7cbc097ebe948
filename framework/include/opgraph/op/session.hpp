// A session: the operator registry and the plugins loaded into it. What every command
// starts from.
#pragma once

#include <string>
#include <vector>

#include "opgraph/op/op_registry.hpp"
#include "opgraph/op/plugin_loader.hpp"

namespace opgraph {

struct SessionOptions {
    std::vector<std::string> plugin_path;  // extra directories or files (--plugin-path)
    bool use_default_path = true;          // also $OPGRAPH_PLUGIN_PATH and the install dir
};

class Session {
public:
    // Loads the plugins; throws PluginError.
    explicit Session(const SessionOptions& options = {});
    const OpRegistry& ops() const { return registry_; }
    OpRegistry& ops() { return registry_; }
    const std::vector<LoadedPlugin>& plugins() const { return plugins_; }

private:
    OpRegistry registry_;
    std::vector<LoadedPlugin> plugins_;
};

}  // namespace opgraph
