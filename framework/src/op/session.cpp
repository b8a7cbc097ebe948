#include "opgraph/op/session.hpp"

namespace opgraph {

Session::Session(const SessionOptions& options) {
    std::vector<std::filesystem::path> path;
    if (options.use_default_path) {
        path = plugin_search_path(options.plugin_path);
    } else {
        for (const std::string& entry : options.plugin_path) path.emplace_back(entry);
    }
    plugins_ = load_plugins(registry_, path);
}

}  // namespace opgraph
