#include "opgraph/tools/op_listing.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "opgraph/core/suggest.hpp"

namespace opgraph {

namespace {

void describe_attrs(const Schema& attrs, std::ostringstream& out) {
    if (attrs.empty()) out << "    attributes: none\n";
    for (const AttrSpec& spec : attrs) {
        out << "    " << spec.name << ": " << spec.describe();
        if (!spec.doc.empty()) out << "  -- " << spec.doc;
        out << "\n";
    }
}

void describe_op(const OpDef& def, std::ostringstream& out) {
    out << def.name << "  [" << def.category << ", plugin '" << def.plugin << "']\n";
    if (!def.doc.empty()) out << "    " << def.doc << "\n";
    out << "    inputs: ";
    const std::size_t required = def.inputs.size() - def.optional_inputs;
    for (std::size_t i = 0; i < def.inputs.size(); ++i)
        out << (i ? ", " : "") << def.inputs[i] << (i >= required ? " (optional)" : "");
    if (def.variadic_min > 0) out << " (" << def.variadic_min << " or more)";
    out << "\n    computes in: ";
    for (std::size_t i = 0; i < def.dtypes.size(); ++i)
        out << (i ? ", " : "") << dtype_name(def.dtypes[i]);
    out << "\n";
    if (!def.saved.empty()) {
        out << "    saves for backward (training): ";
        for (std::size_t i = 0; i < def.saved.size(); ++i) out << (i ? ", " : "") << def.saved[i];
        out << "\n";
    }
    describe_attrs(def.attrs, out);
}

void describe_item(const std::string& kind, const ItemSpec& spec, std::ostringstream& out) {
    out << spec.name << "  [" << kind << "]\n";
    if (!spec.doc.empty()) out << "    " << spec.doc << "\n";
    describe_attrs(spec.schema, out);
    if (spec.takes_schedule)
        out << "    schedule: schedule item, required  -- one of `opgraph ops --kind schedule`\n";
}

}  // namespace

std::string format_op_listing(const OpRegistry& ops, const std::string& op) {
    std::ostringstream out;
    if (!op.empty()) {
        const OpDef* def = ops.find(op);
        if (def == nullptr)
            throw std::invalid_argument("unknown op '" + op + "'" + did_you_mean(op, ops.names()));
        describe_op(*def, out);
        return out.str();
    }
    const auto all = ops.all();
    out << all.size() << " operators\n\n";
    for (const OpDef* def : all) {
        describe_op(*def, out);
        out << "\n";
    }
    return out.str();
}

std::string format_item_listing(const std::string& kind, const std::vector<ItemSpec>& specs,
                                const std::string& name) {
    std::ostringstream out;
    if (!name.empty()) {
        const ItemSpec* spec = find_item_spec(specs, name);
        if (spec == nullptr)
            throw std::invalid_argument("unknown " + kind + " '" + name + "'" +
                                        did_you_mean(name, item_names(specs)));
        describe_item(kind, *spec, out);
        return out.str();
    }
    std::vector<const ItemSpec*> sorted;
    for (const ItemSpec& spec : specs) sorted.push_back(&spec);
    std::sort(sorted.begin(), sorted.end(),
              [](const ItemSpec* a, const ItemSpec* b) { return a->name < b->name; });
    out << sorted.size() << " " << kind << (sorted.size() == 1 ? "" : "s") << "\n\n";
    for (const ItemSpec* spec : sorted) {
        describe_item(kind, *spec, out);
        out << "\n";
    }
    return out.str();
}

std::string format_item_listing(const TrainingItems& items, const std::string& kind,
                                const std::string& name) {
    if (kind == items.optimizers.kind())
        return format_item_listing(kind, items.optimizers.specs(), name);
    if (kind == items.schedules.kind())
        return format_item_listing(kind, items.schedules.specs(), name);
    if (kind == items.callbacks.kind())
        return format_item_listing(kind, items.callbacks.specs(), name);
    if (kind == items.datasets.kind())
        return format_item_listing(kind, items.datasets.specs(), name);
    const std::vector<std::string> kinds = {"op", items.optimizers.kind(), items.schedules.kind(),
                                            items.callbacks.kind(), items.datasets.kind()};
    std::string hint = did_you_mean(kind, kinds);
    if (hint.empty()) hint = " (kinds: " + attr_value_str(AttrValue{kinds}) + ")";
    throw std::invalid_argument("unknown kind '" + kind + "'" + hint);
}

}  // namespace opgraph
