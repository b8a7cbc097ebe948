#include "opgraph/frontend/model_file.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "opgraph/core/suggest.hpp"
#include "opgraph/passes/passes.hpp"
#include "training_reader.hpp"
#include "yaml_attrs.hpp"
#include "yaml_parse.hpp"

namespace opgraph {

namespace {

using detail::describe_yaml;
using detail::location_of;
using detail::ReadContext;
using detail::value_or_misspelling;

const std::vector<std::string> kTopKeys = {"model", "training"};
const std::vector<std::string> kModelKeys = {"name", "inputs", "layers", "nodes", "outputs"};
const std::vector<std::string> kNodeKeys = {"name", "op", "inputs", "precision"};

// Stands for the graph input when the model's `inputs:` is missing or unusable (reported), so
// that the nodes reading it are not reported again. The parentheses keep it from colliding
// with a name anyone would write.
const std::string kMissingInput = "(missing input)";

// The model as read, and the graph inputs that only stand in for ones that did not load
// (reported): they keep references to those inputs from being reported again as dangling,
// and are removed before shape inference so that the nodes reading them are skipped as
// downstream of a failure.
struct ModelRead {
    Graph graph;
    std::set<std::string> stand_ins;
};
// oneDNN tensors have at most 12 dimensions, one of which is the batch.
constexpr std::size_t kMaxInputRank = 11;

std::string key_of(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : std::string{}; }

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                const std::string& owner, const ReadContext& ctx) {
    for (const auto& kv : map) {
        const std::string key = key_of(kv.first);
        if (!contains(allowed, key))
            ctx.diagnostics.add(location_of(kv.first, ctx.file), owner, key,
                                "unknown key" + did_you_mean(key, allowed));
    }
}

// Whether `text` can name a value: non-empty, and without the ':' of "name:index".
bool is_value_name(const std::string& text) {
    return !text.empty() && text.find(':') == std::string::npos;
}

// A node or input name: a non-empty string without ':', which no reference could reach.
std::optional<std::string> read_name(const YAML::Node& value, const std::string& key,
                                     const ReadContext& ctx) {
    auto name = detail::read_string(value, key, ctx);
    if (name && !is_value_name(*name)) {
        ctx.diagnostics.add(location_of(value, ctx.file), ctx.node, key,
                            name->empty() ? std::string("expects a name, got ''")
                                          : "'" + *name +
                                                "' cannot name a value: ':' separates "
                                                "a name from an output index (name:1)");
        return std::nullopt;
    }
    return name;
}

// Reads `inputs:` of the model. Returns false when it gives no usable input at all. An input
// whose shape is invalid is kept as a stand-in.
bool read_inputs(const YAML::Node& node, ModelRead& model, const ReadContext& ctx) {
    Graph& graph = model.graph;
    if (!node.IsMap() || node.size() == 0) {
        ctx.diagnostics.add(location_of(node, ctx.file), "model", "inputs",
                            "expects a mapping of input name to shape, e.g. {image: [28, 28, 1]}"
                            ", got " +
                                describe_yaml(node));
        return false;
    }
    AttrSpec shape_spec = AttrSpec::required("shape", AttrType::int_list).at_least(1);
    shape_spec.length_between(1, kMaxInputRank);
    std::set<std::string> seen;
    for (const auto& kv : node) {
        auto name = read_name(kv.first, "inputs", ctx);
        // A name given twice is a duplicate key, reported with the document's others.
        if (!name || !seen.insert(*name).second) continue;
        GraphInput input{*name, {kDynamicDim}, location_of(kv.first, ctx.file)};
        const ReadContext input_ctx{ctx.file, *name, ctx.diagnostics};
        if (kv.second.IsNull()) {
            ctx.diagnostics.add(input.where, *name, "shape",
                                "expects a shape such as [28, 28, 1], got nothing (null)");
            model.stand_ins.insert(*name);
        } else if (auto dims = detail::read_attr(kv.second, shape_spec, input_ctx)) {
            for (std::int64_t d : std::get<std::vector<std::int64_t>>(*dims))
                input.shape.push_back(d);
        } else {
            model.stand_ins.insert(*name);
        }
        graph.inputs.push_back(std::move(input));
    }
    return !graph.inputs.empty();
}

// Reads `inputs:` of a general-form node: one name or a list of names.
void read_node_inputs(const YAML::Node& value, Node& node, const ReadContext& ctx) {
    auto add = [&](const YAML::Node& item) {
        if (auto ref = detail::read_string(item, "inputs", ctx)) {
            node.inputs.push_back(*ref);
            node.input_where.push_back(location_of(item, ctx.file));
        }
    };
    if (value.IsSequence()) {
        for (const YAML::Node& item : value) add(item);
    } else {
        add(value);
    }
}

// Keras-style automatic names: conv2d, conv2d_1, conv2d_2, ... skipping names in use.
std::string auto_name(const std::string& op, std::map<std::string, int>& counters,
                      const std::set<std::string>& taken) {
    for (;;) {
        const int n = counters[op]++;
        std::string name = n == 0 ? op : op + "_" + std::to_string(n);
        if (!taken.count(name)) return name;
    }
}

// Duplicate keys of a node entry, reported here rather than with the document's other
// duplicates because only here is the node's name (perhaps an automatic one) known.
void report_duplicate_keys(const YAML::Node& entry, const ReadContext& ctx) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : entry) {
        auto [it, fresh] = seen.emplace(key_of(kv.first), kv.first.Mark());
        if (!fresh)
            ctx.diagnostics.add(location_of(kv.first, ctx.file), ctx.node, it->first,
                                "duplicate key (first written at line " +
                                    std::to_string(it->second.line + 1) + ", column " +
                                    std::to_string(it->second.column + 1) + ")");
    }
}

// A node's `precision:` (f32 or bf16): the element type it computes in whatever the
// training section or the command line asks for (the precision pass keeps it).
void read_precision(const YAML::Node& value, Node& node, const ReadContext& ctx) {
    const auto text = detail::read_string(value, "precision", ctx);
    if (!text) return;
    const std::optional<DType> type = parse_dtype(*text);
    node.attr_where["precision"] = location_of(value, ctx.file);
    if (type != DType::f32 && type != DType::bf16) {
        ctx.diagnostics.add(location_of(value, ctx.file), node.name, "precision",
                            "must be f32 or bf16, got '" + *text + "'");
        return;
    }
    node.precision = type;
    node.dtype = *type;
}

// One entry of `layers:` (sequential, input = previous) or `nodes:` (explicit inputs).
std::optional<Node> read_node(const YAML::Node& entry, bool sequential, const OpRegistry& ops,
                              const std::string& default_name, const ReadContext& ctx) {
    Node node;
    node.where = location_of(entry, ctx.file);
    if (!entry.IsMap()) {
        ctx.diagnostics.add(
            node.where, default_name, {},
            "expects a node mapping such as {op: relu}, got " + describe_yaml(entry));
        return std::nullopt;
    }
    const YAML::Node op = entry["op"];
    const OpDef* def = op && op.IsScalar() ? ops.find(op.Scalar()) : nullptr;
    // Misspelt reserved keys are recognised only when the op is known: otherwise any of its
    // attributes could pass for one.
    std::vector<std::string> known = kNodeKeys;
    if (def != nullptr)
        for (const AttrSpec& spec : def->attrs) known.push_back(spec.name);
    auto reserved = [&](const std::string& key) {
        return def != nullptr ? value_or_misspelling(entry, key, known) : entry[key];
    };

    node.name = default_name;
    if (const YAML::Node name = reserved("name")) {
        if (auto n = read_name(name, "name", {ctx.file, default_name, ctx.diagnostics}))
            node.name = *n;
    } else if (!sequential) {
        ctx.diagnostics.add(node.where, default_name, "name", "missing required attribute");
    }
    const ReadContext node_ctx{ctx.file, node.name, ctx.diagnostics};
    report_duplicate_keys(entry, node_ctx);
    if (sequential) {
        if (const YAML::Node inputs = entry["inputs"])
            ctx.diagnostics.add(location_of(inputs, ctx.file), node.name, "inputs",
                                "a layer in 'layers' takes the previous layer's output; "
                                "use 'nodes' to give inputs explicitly");
    } else if (const YAML::Node inputs = reserved("inputs")) {
        read_node_inputs(inputs, node, node_ctx);
    } else if (def == nullptr) {
        // With a known op, validate_structure reports the missing inputs with its arity.
        ctx.diagnostics.add(node.where, node.name, "inputs", "missing required attribute");
    }
    if (!op) {
        ctx.diagnostics.add(node.where, node.name, "op", "missing required attribute");
        return node;
    }
    auto op_name = detail::read_string(op, "op", node_ctx);
    if (!op_name) return node;
    node.op = *op_name;
    if (def == nullptr) {
        ctx.diagnostics.add(location_of(op, ctx.file), node.name, "op",
                            "unknown op '" + node.op + "'" + did_you_mean(node.op, ops.names()));
        return node;
    }
    detail::read_attrs(entry, def->attrs, kNodeKeys, node_ctx, node.attrs, node.attr_where);
    if (const YAML::Node precision = reserved("precision"))
        read_precision(precision, node, node_ctx);
    return node;
}

// Reads `layers:` or `nodes:`. `previous` is the input of the first sequential layer.
void read_nodes(const YAML::Node& list, bool sequential, const OpRegistry& ops,
                std::string previous, Graph& graph, const ReadContext& ctx) {
    const char* key = sequential ? "layers" : "nodes";
    if (!list.IsSequence() || list.size() == 0) {
        ctx.diagnostics.add(location_of(list, ctx.file), "model", key,
                            "expects a non-empty list of nodes, got " + describe_yaml(list));
        return;
    }
    std::set<std::string> taken;
    for (const YAML::Node& entry : list)
        if (entry.IsMap() && entry["name"] && entry["name"].IsScalar())
            taken.insert(entry["name"].Scalar());
    std::map<std::string, int> counters;
    std::size_t index = 0;
    for (const YAML::Node& entry : list) {
        std::string default_name;
        if (sequential) {
            // Named after the op as Keras does, even an unknown one ("rleu") as long as the
            // name can be referred to: the layer after it refers to it.
            const YAML::Node op = entry.IsMap() ? entry["op"] : YAML::Node();
            const bool usable = op && op.IsScalar() && is_value_name(op.Scalar());
            default_name = auto_name(usable ? op.Scalar() : "layer", counters, taken);
        } else {
            default_name = std::string(key) + "[" + std::to_string(index) + "]";
        }
        ++index;
        std::optional<Node> node = read_node(entry, sequential, ops, default_name, ctx);
        if (!node) continue;
        if (sequential) {
            node->inputs = {previous};
            node->input_where = {node->where};
        }
        previous = node->name;
        graph.nodes.push_back(std::move(*node));
    }
}

void read_outputs(const YAML::Node& node, Graph& graph, const ReadContext& ctx) {
    auto add = [&](const YAML::Node& item) {
        if (auto name = detail::read_string(item, "outputs", ctx)) {
            graph.outputs.push_back(*name);
            graph.output_where.push_back(location_of(item, ctx.file));
        }
    };
    if (node.IsSequence()) {
        for (const YAML::Node& item : node) add(item);
    } else {
        add(node);
    }
}

// Nodes whose value no other node reads, in file order: the candidate outputs.
std::vector<std::string> sinks(const Graph& graph) {
    std::set<std::string> read;
    for (const Node& node : graph.nodes) {
        for (const std::string& text : node.inputs) {
            ValueRef ref;
            if (parse_value_ref(text, ref)) read.insert(ref.name);
        }
    }
    std::vector<std::string> out;
    for (const Node& node : graph.nodes)
        if (!node.name.empty() && !read.count(node.name)) out.push_back(node.name);
    return out;
}

// With the model's inputs missing, every name the nodes read that no node defines stands
// for an input: defining them keeps those references from being reported one by one.
void add_missing_inputs(ModelRead& model, const SourceLocation& where) {
    std::set<std::string> defined;
    for (const Node& node : model.graph.nodes) defined.insert(node.name);
    for (const Node& node : model.graph.nodes) {
        for (const std::string& text : node.inputs) {
            ValueRef ref;
            if (parse_value_ref(text, ref) && defined.insert(ref.name).second) {
                model.graph.inputs.push_back({ref.name, {kDynamicDim}, where});
                model.stand_ins.insert(ref.name);
            }
        }
    }
}

ModelRead read_model(const YAML::Node& model, const SourceLocation& key_where,
                     const OpRegistry& ops, const ReadContext& parent) {
    const ReadContext ctx{parent.file, "model", parent.diagnostics};
    ModelRead read;
    Graph& graph = read.graph;
    graph.file = ctx.file;
    if (!model.IsMap()) {
        // An empty section's position is whatever follows it: point at its key.
        ctx.diagnostics.add(
            model.IsNull() ? key_where : location_of(model, ctx.file), "model", {},
            "expects a mapping with inputs and layers (or nodes), got " + describe_yaml(model));
        return read;
    }
    const SourceLocation where = location_of(model, ctx.file);
    check_keys(model, kModelKeys, "model", ctx);
    graph.name = "model";
    if (const YAML::Node name = value_or_misspelling(model, "name", kModelKeys))
        if (auto n = detail::read_string(name, "name", ctx)) graph.name = *n;
    bool have_inputs = false;
    if (const YAML::Node inputs = value_or_misspelling(model, "inputs", kModelKeys))
        have_inputs = read_inputs(inputs, read, ctx);
    else
        ctx.diagnostics.add(where, "model", "inputs",
                            "missing required attribute, e.g. inputs: {image: [28, 28, 1]}");
    const YAML::Node layers = value_or_misspelling(model, "layers", kModelKeys);
    const YAML::Node nodes = value_or_misspelling(model, "nodes", kModelKeys);
    const YAML::Node outputs = value_or_misspelling(model, "outputs", kModelKeys);
    if (layers && nodes) {
        ctx.diagnostics.add(location_of(nodes, ctx.file), "model", "nodes",
                            "give either 'layers' (sequential) or 'nodes' (explicit inputs), "
                            "not both");
    } else if (layers) {
        if (graph.inputs.size() > 1)
            ctx.diagnostics.add(location_of(layers, ctx.file), "model", "layers",
                                "a sequential model takes exactly one input; use 'nodes' for "
                                "several");
        read_nodes(layers, true, ops, have_inputs ? graph.inputs.front().name : kMissingInput,
                   graph, ctx);
        if (!have_inputs) {
            graph.inputs.push_back({kMissingInput, {kDynamicDim}, where});
            read.stand_ins.insert(kMissingInput);
        }
        if (!outputs && !graph.nodes.empty()) {
            graph.outputs = {graph.nodes.back().name};
            graph.output_where = {graph.nodes.back().where};
        }
    } else if (nodes) {
        read_nodes(nodes, false, ops, {}, graph, ctx);
        if (!have_inputs) add_missing_inputs(read, where);
        if (!outputs && !graph.nodes.empty())
            ctx.diagnostics.add(where, "model", "outputs",
                                "missing required attribute: a graph given as 'nodes' names "
                                "its outputs, e.g. outputs: " +
                                    attr_value_str(AttrValue{sinks(graph)}));
    } else {
        ctx.diagnostics.add(where, "model", {}, "has neither 'layers' nor 'nodes'");
    }
    if (outputs) {
        read_outputs(outputs, graph, ctx);
        if (outputs.IsSequence() && outputs.size() == 0)
            ctx.diagnostics.add(location_of(outputs, ctx.file), "model", "outputs",
                                "expects at least one output, e.g. outputs: " +
                                    attr_value_str(AttrValue{sinks(graph)}));
    }
    // With no outputs read (reported above), the nodes nothing reads stand in for them, so
    // that the rest of the graph is still checked and its lack of outputs not reported again.
    if (graph.outputs.empty() && !graph.nodes.empty()) {
        graph.outputs = sinks(graph);
        if (graph.outputs.empty()) graph.outputs = {graph.nodes.back().name};
        graph.output_where.assign(graph.outputs.size(), where);
    }
    return read;
}

// The key under which `value` sits in `map` (for its position), or nothing.
std::optional<YAML::Node> key_node(const YAML::Node& map, const YAML::Node& value) {
    for (const auto& kv : map)
        if (kv.second.is(value)) return kv.first;
    return std::nullopt;
}

}  // namespace

ModelFile parse_model(const std::string& text, const std::string& file, const OpRegistry& ops,
                      const TrainingItemSpecs& items, const YamlLimits& limits) {
    Diagnostics diagnostics;
    const std::optional<YAML::Node> root = detail::parse_yaml(text, file, limits, diagnostics);
    if (!root) throw GraphError(diagnostics.items());
    const ReadContext ctx{file, {}, diagnostics};
    check_keys(*root, kTopKeys, {}, ctx);
    ModelFile result;
    ModelRead read;
    if (const YAML::Node model = value_or_misspelling(*root, "model", kTopKeys)) {
        const auto key = key_node(*root, model);
        read =
            read_model(model, key ? location_of(*key, file) : SourceLocation{file, 1, 1}, ops, ctx);
    } else {
        diagnostics.add({file, 1, 1}, {}, "model", "missing the 'model' section");
    }
    if (const YAML::Node training = value_or_misspelling(*root, "training", kTopKeys))
        result.training = detail::read_training(training, ops, items, ctx);
    read.graph.file = file;
    result.graph = validate_structure(read.graph, ops, diagnostics);
    std::erase_if(result.graph.inputs,
                  [&](const GraphInput& input) { return read.stand_ins.count(input.name) != 0; });
    result.graph = infer_shapes(result.graph, ops, diagnostics);
    if (!diagnostics.empty()) {
        // Each part of the loader reports in its own pass; the user reads the file top down.
        std::vector<Diagnostic> sorted = diagnostics.items();
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const Diagnostic& a, const Diagnostic& b) {
                             return std::pair(a.where.line, a.where.column) <
                                    std::pair(b.where.line, b.where.column);
                         });
        throw GraphError(std::move(sorted));
    }
    return result;
}

namespace {

[[noreturn]] void file_error(const std::string& file, const std::string& message) {
    Diagnostics diagnostics;
    diagnostics.add(SourceLocation{file, 0, 0}, {}, {}, message);
    throw GraphError(diagnostics.items());
}

}  // namespace

ModelFile load_model_file(const std::filesystem::path& file, const OpRegistry& ops,
                          const TrainingItemSpecs& items, const YamlLimits& limits) {
    const std::string name = file.string();
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        file_error(name, "is a directory, not a model file");
    std::ifstream in(file, std::ios::binary);
    if (!in) file_error(name, "cannot open the model file");
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limits.max_bytes)
            file_error(name,
                       "file is over the limit of " + std::to_string(limits.max_bytes) + " bytes");
    }
    return parse_model(text, name, ops, items, limits);
}

}  // namespace opgraph
