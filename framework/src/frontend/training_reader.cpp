#include "training_reader.hpp"

#include <optional>
#include <string>
#include <vector>

#include "opgraph/core/suggest.hpp"

namespace opgraph::detail {

namespace {

// The keys of the training section that are not scalar settings.
std::vector<std::string> item_keys() {
    return {"dataset", "optimizer", "loss", "metrics", "callbacks"};
}

// The keys `schema` and `reserved` accept.
std::vector<std::string> known_keys(const Schema& schema, std::vector<std::string> reserved) {
    for (const AttrSpec& spec : schema) reserved.push_back(spec.name);
    return reserved;
}

// Runs the type's own check (ItemSpec::check) once every attribute passed the schema. A
// problem inside the written value (a parse error in an expression) points at its column;
// a quoted scalar's position is its opening quote. (Escapes before the error and block
// scalars, rare in an expression, would still shift the column.)
void check_item(const ItemSpec& spec, const ConfigItem& item, const YAML::Node& node,
                const ReadContext& ctx) {
    if (!spec.check) return;
    for (const AttrSpec& attr : spec.schema)
        if (!item.attrs.has(attr.name)) return;
    const std::optional<ItemProblem> problem = spec.check(item.attrs);
    if (!problem) return;
    const auto written = item.attr_where.find(problem->attribute);
    SourceLocation where = written == item.attr_where.end() ? item.where : written->second;
    if (problem->position) {
        const YAML::Node value =
            node.IsMap() ? node[problem->attribute] : YAML::Node(YAML::NodeType::Undefined);
        const int quote = value && value.Tag() == "!" ? 1 : 0;
        where.column += quote + static_cast<int>(*problem->position);
    }
    ctx.diagnostics.add(where, ctx.node, problem->attribute, problem->message);
}

// An item written either as its type alone ("adam") or as a mapping with `type` and its
// attributes. `label` names it in diagnostics ("optimizer", "callbacks[2]"), `kind` in
// messages ("unknown callback type").
std::optional<ConfigItem> read_item(const YAML::Node& node, const std::string& label,
                                    const std::string& kind, const std::vector<ItemSpec>& specs,
                                    const std::vector<std::string>& reserved,
                                    const ReadContext& parent) {
    const ReadContext ctx{parent.file, label, parent.diagnostics};
    ConfigItem item;
    item.where = location_of(node, ctx.file);
    // Never assign to a YAML::Node: yaml-cpp's operator= writes into the referenced node.
    const YAML::Node type_node = node.IsMap() ? node["type"] : node;
    if (node.IsMap()) {
        if (!type_node) {
            ctx.diagnostics.add(item.where, label, "type",
                                "missing required attribute (one of " +
                                    attr_value_str(AttrValue{item_names(specs)}) + ")");
            return std::nullopt;
        }
    }
    auto type = read_string(type_node, "type", ctx);
    if (!type) return std::nullopt;
    const ItemSpec* spec = find_item_spec(specs, *type);
    if (spec == nullptr) {
        ctx.diagnostics.add(
            location_of(type_node, ctx.file), label, "type",
            "unknown " + kind + " type '" + *type + "'" + did_you_mean(*type, item_names(specs)));
        return std::nullopt;
    }
    item.type = *type;
    std::vector<std::string> skip = reserved;
    skip.push_back("type");
    // A scalar item has no keys to read: every attribute takes its default.
    read_attrs(node, spec->schema, skip, ctx, item.attrs, item.attr_where);
    check_item(*spec, item, node, ctx);
    return item;
}

// Why a callback of another type may not have a schedule: "only an lr_scheduler callback
// takes a schedule".
std::string only_schedule_takers(const std::vector<ItemSpec>& callbacks) {
    std::string names;
    for (const std::string& name : item_names(callbacks))
        if (find_item_spec(callbacks, name)->takes_schedule)
            names += (names.empty() ? "" : " or ") + name;
    if (names.empty()) return "no callback takes a schedule";
    return "only an " + names + " callback takes a schedule";
}

void read_callbacks(const YAML::Node& node, const TrainingItemSpecs& items, TrainingConfig& config,
                    const ReadContext& ctx) {
    if (!node.IsSequence()) {
        ctx.diagnostics.add(location_of(node, ctx.file), "training", "callbacks",
                            "expects a list of callbacks, got " + describe_yaml(node));
        return;
    }
    std::size_t index = 0;
    for (const YAML::Node& entry : node) {
        const std::string label = "callbacks[" + std::to_string(index++) + "]";
        std::optional<ConfigItem> callback =
            read_item(entry, label, "callback", items.callbacks, {"schedule"}, ctx);
        if (!callback) continue;
        const ItemSpec& spec = *find_item_spec(items.callbacks, callback->type);
        CallbackConfig config_entry{*callback, std::nullopt};
        // Undefined for an entry given by its type alone ("- terminate_on_nan"); a
        // default-constructed YAML::Node would be defined (null) and taken for a schedule.
        const YAML::Node schedule =
            value_or_misspelling(entry, "schedule", known_keys(spec.schema, {"type", "schedule"}));
        if (spec.takes_schedule) {
            if (!schedule) {
                ctx.diagnostics.add(callback->where, label, "schedule",
                                    "missing required attribute (one of " +
                                        attr_value_str(AttrValue{item_names(items.schedules)}) +
                                        ")");
                continue;
            }
            config_entry.schedule =
                read_item(schedule, label + ".schedule", "schedule", items.schedules, {}, ctx);
            if (!config_entry.schedule) continue;
        } else if (schedule) {
            ctx.diagnostics.add(location_of(schedule, ctx.file), label, "schedule",
                                only_schedule_takers(items.callbacks));
        }
        config.callbacks.push_back(std::move(config_entry));
    }
}

void read_loss(const YAML::Node& node, const OpRegistry& ops, TrainingConfig& config,
               const ReadContext& ctx) {
    const auto loss = read_string(node, "loss", ctx);
    if (!loss) return;
    std::vector<std::string> losses;
    for (const OpDef* def : ops.all())
        if (def->category == "loss") losses.push_back(def->name);
    const OpDef* def = ops.find(*loss);
    if (def == nullptr || def->category != "loss") {
        std::string hint = did_you_mean(*loss, losses);
        if (hint.empty()) hint = " (losses: " + attr_value_str(AttrValue{losses}) + ")";
        ctx.diagnostics.add(location_of(node, ctx.file), "training", "loss",
                            "unknown loss '" + *loss + "'" + hint);
        return;
    }
    config.loss = *loss;
    config.loss_where = location_of(node, ctx.file);
}

}  // namespace

TrainingConfig read_training(const YAML::Node& section, const OpRegistry& ops,
                             const TrainingItemSpecs& items, const ReadContext& parent) {
    const ReadContext ctx{parent.file, "training", parent.diagnostics};
    TrainingConfig config;
    config.where = location_of(section, ctx.file);
    if (!section.IsMap()) {
        ctx.diagnostics.add(config.where, "training", {},
                            "expects a mapping, got " + describe_yaml(section));
        return config;
    }
    const Schema schema = training_schema();
    AttrMap attrs;
    std::map<std::string, SourceLocation> where;
    read_attrs(section, schema, item_keys(), ctx, attrs, where);
    if (attrs.has("batch_size")) config.batch_size = attrs.get_int("batch_size");
    if (attrs.has("epochs")) config.epochs = attrs.get_int("epochs");
    if (attrs.has("seed")) config.seed = static_cast<std::uint64_t>(attrs.get_int("seed"));
    if (attrs.has("shuffle")) config.shuffle = attrs.get_bool("shuffle");
    if (attrs.has("validation")) config.validation = attrs.get_string("validation");
    if (attrs.has("precision")) config.precision = attrs.get_string("precision");

    const std::vector<std::string> known = known_keys(schema, item_keys());
    auto optional = [&](const char* key) { return value_or_misspelling(section, key, known); };
    auto required = [&](const char* key) -> YAML::Node {
        const YAML::Node node = optional(key);
        if (!node) ctx.diagnostics.add(config.where, "training", key, "missing required attribute");
        return node;
    };
    if (const YAML::Node node = required("dataset"))
        if (auto item = read_item(node, "dataset", "dataset", items.datasets, {}, ctx))
            config.dataset = *item;
    if (const YAML::Node node = required("optimizer"))
        if (auto item = read_item(node, "optimizer", "optimizer", items.optimizers, {}, ctx))
            config.optimizer = *item;
    if (const YAML::Node node = required("loss")) read_loss(node, ops, config, ctx);
    if (const YAML::Node node = optional("metrics")) {
        AttrSpec spec = AttrSpec::required("metrics", AttrType::string_list).one_of(metric_names());
        spec.broadcast_scalar = true;
        spec.min_length = 1;
        if (auto value = read_attr(node, spec, ctx))
            config.metrics = std::get<std::vector<std::string>>(*value);
    }
    if (const YAML::Node node = optional("callbacks")) read_callbacks(node, items, config, ctx);
    return config;
}

}  // namespace opgraph::detail
