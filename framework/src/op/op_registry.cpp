#include "opgraph/op/op_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace opgraph {

void OpRegistry::add(OpDef def) {
    if (def.name.empty()) throw std::invalid_argument("an op was registered without a name");
    if (!def.infer_shapes)
        throw std::invalid_argument("op '" + def.name + "' has no shape function");
    if (def.inputs.empty()) throw std::invalid_argument("op '" + def.name + "' declares no inputs");
    if (auto it = ops_.find(def.name); it != ops_.end()) {
        const auto file = plugin_files_.find(it->second.plugin);
        throw std::invalid_argument("op '" + def.name + "' is already registered by plugin '" +
                                    it->second.plugin + "'" +
                                    (file == plugin_files_.end() ? "" : " (" + file->second + ")"));
    }
    def.plugin = current_plugin_;
    std::vector<OpDef> companions = std::move(def.companions);
    def.companions.clear();
    pending_.push_back(def.name);
    ops_.emplace(def.name, std::move(def));
    for (OpDef& companion : companions) add(std::move(companion));
}

const OpDef* OpRegistry::find(const std::string& name) const {
    auto it = ops_.find(name);
    return it == ops_.end() ? nullptr : &it->second;
}

std::vector<const OpDef*> OpRegistry::all() const {
    std::vector<const OpDef*> out;
    for (const auto& [name, def] : ops_) out.push_back(&def);
    return out;
}

std::vector<std::string> OpRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, def] : ops_) out.push_back(name);
    return out;
}

void OpRegistry::begin_plugin(const std::string& plugin, const std::string& file) {
    current_plugin_ = plugin;
    current_file_ = file;
    pending_.clear();
}

void OpRegistry::commit_plugin(std::shared_ptr<void> library) {
    libraries_.push_back(std::move(library));
    plugins_.push_back(current_plugin_);
    if (!current_file_.empty()) plugin_files_[current_plugin_] = current_file_;
    current_plugin_.clear();
    current_file_.clear();
    pending_.clear();
}

void OpRegistry::abort_plugin() {
    for (const std::string& name : pending_) ops_.erase(name);
    current_plugin_.clear();
    current_file_.clear();
    pending_.clear();
}

bool OpRegistry::has_plugin(const std::string& plugin) const {
    return std::find(plugins_.begin(), plugins_.end(), plugin) != plugins_.end();
}

}  // namespace opgraph
