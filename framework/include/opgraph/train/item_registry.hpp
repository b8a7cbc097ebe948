// The registries of the training section's item types: optimizers, schedules and callbacks,
// declared the way ops are. Each type is one ItemDef {name, doc, schema, factory}, written in
// the file of the class it builds (optimizer.cpp, lr_schedule.cpp, callbacks.cpp), and a
// registry is an object its owner fills: builtin_optimizers(), builtin_schedules() and
// builtin_callbacks() build one on demand, and a caller may add its own types to it. There are
// no global registries. The training reader checks items against the registries' specs
// (ItemSpec, opgraph/ir/training_config.hpp).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "opgraph/ir/training_config.hpp"

namespace opgraph {

// One item type: what the reader checks (name, schema, check), what `opgraph ops --kind`
// prints (name, doc, schema) and how the product is built (factory). Extra are the factory's
// arguments besides the item (a callback's CallbackSetup).
template <class Product, class... Extra>
struct ItemDef {
    std::string name;  // as written after `type:`
    std::string doc;   // one line
    Schema schema;
    // Builds the product from an item whose attrs hold every attribute of the schema, each
    // checked against its AttrSpec (ItemRegistry::make completes them).
    std::function<std::unique_ptr<Product>(const ConfigItem&, Extra...)> factory;
    // ItemSpec::check: what the reader checks beyond the schema. Empty: nothing.
    std::function<std::optional<ItemProblem>(const AttrMap&)> check = {};
    bool takes_schedule = false;  // ItemSpec::takes_schedule (callbacks)

    ItemSpec spec() const { return {name, doc, schema, check, takes_schedule}; }
};

// `attrs` completed against `schema`: every attribute of the schema, the item's value or the
// default. `what` names the item in messages ("optimizer 'adam'"). Throws
// std::invalid_argument when a required attribute is missing, a value has the wrong type (an
// int is accepted for a float, as the reader accepts it) or fails its AttrSpec, or attrs
// holds a name the schema does not have.
AttrMap complete_attrs(const std::string& what, const Schema& schema, const AttrMap& attrs);

// "unknown optimizer type 'adamm' (did you mean 'adam'?)", or with the list of the types when
// none is close.
std::string unknown_item_type(const std::string& kind, const std::string& type,
                              const std::vector<std::string>& types);

// Checks a definition before it is added (see ItemRegistry::add). Throws std::invalid_argument.
void check_item_def(const std::string& kind, const std::string& name, const Schema& schema,
                    bool has_factory);

// The types of one kind of item, by name.
template <class Product, class... Extra>
class ItemRegistry {
public:
    using Def = ItemDef<Product, Extra...>;

    // `kind` names the items in messages: optimizer, schedule, callback.
    explicit ItemRegistry(std::string kind) : kind_(std::move(kind)) {}

    // Adds a type. Throws std::invalid_argument on an empty name, a missing factory, a name
    // already registered, two attributes of one name, or a default its own AttrSpec refuses.
    void add(Def def) {
        check_item_def(kind_, def.name, def.schema, static_cast<bool>(def.factory));
        if (defs_.count(def.name) != 0)
            throw std::invalid_argument(kind_ + " type '" + def.name + "' is already registered");
        std::string name = def.name;
        defs_.emplace(std::move(name), std::move(def));
    }

    // find() and all() point into the registry, so they are refused on a temporary
    // (builtin_schedules().find(...) would dangle at the end of the statement).
    const Def* find(const std::string& name) const& {
        const auto it = defs_.find(name);
        return it == defs_.end() ? nullptr : &it->second;
    }
    const Def* find(const std::string& name) const&& = delete;

    // Every type, sorted by name.
    std::vector<const Def*> all() const& {
        std::vector<const Def*> out;
        for (const auto& [name, def] : defs_) out.push_back(&def);
        return out;
    }
    std::vector<const Def*> all() const&& = delete;
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, def] : defs_) out.push_back(name);
        return out;
    }
    // What the training reader and the listing need, sorted by name.
    std::vector<ItemSpec> specs() const {
        std::vector<ItemSpec> out;
        for (const auto& [name, def] : defs_) out.push_back(def.spec());
        return out;
    }
    const std::string& kind() const { return kind_; }

    // The product of item.type's factory, given item.attrs completed by complete_attrs.
    // Throws std::invalid_argument for an unknown type or bad attributes, and whatever the
    // factory throws.
    std::unique_ptr<Product> make(const ConfigItem& item, Extra... extra) const {
        const Def* def = find(item.type);
        if (def == nullptr)
            throw std::invalid_argument(unknown_item_type(kind_, item.type, names()));
        ConfigItem complete = item;
        complete.attrs = complete_attrs(kind_ + " '" + item.type + "'", def->schema, item.attrs);
        return def->factory(complete, std::forward<Extra>(extra)...);
    }

private:
    std::string kind_;
    std::map<std::string, Def> defs_;
};

}  // namespace opgraph
