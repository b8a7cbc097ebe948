// The set of operators a session knows, filled by plugins. An object owned by a Session,
// never a global. Keeps the plugins' libraries loaded for as long as their ops are in it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph {

class OpRegistry {
public:
    OpRegistry() = default;
    OpRegistry(const OpRegistry&) = delete;
    OpRegistry& operator=(const OpRegistry&) = delete;

    // Adds an op; stamps it with the plugin being registered. Throws std::invalid_argument
    // on an empty name, a missing shape function, or a name already registered (naming
    // both plugins).
    void add(OpDef def);
    const OpDef* find(const std::string& name) const;
    // Every op, sorted by name.
    std::vector<const OpDef*> all() const;
    std::vector<std::string> names() const;

    // Used by the plugin loader around a plugin's register function.
    void begin_plugin(const std::string& plugin, const std::string& file = {});
    void commit_plugin(std::shared_ptr<void> library);  // keeps the library loaded
    void abort_plugin();                                // drops the ops added since begin
    bool has_plugin(const std::string& plugin) const;

private:
    std::vector<std::shared_ptr<void>> libraries_;  // declared first: outlives ops_
    std::map<std::string, OpDef> ops_;
    std::vector<std::string> plugins_;
    std::map<std::string, std::string> plugin_files_;  // plugin -> its library, when loaded
    std::string current_plugin_;
    std::string current_file_;
    std::vector<std::string> pending_;
};

}  // namespace opgraph
