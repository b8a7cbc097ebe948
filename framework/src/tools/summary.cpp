#include "opgraph/tools/summary.hpp"

#include <iomanip>
#include <sstream>

#include "opgraph/core/format.hpp"

namespace opgraph {

namespace {

constexpr std::int64_t kBytesPerFloat = 4;
constexpr int kLayerWidth = 29;
constexpr int kShapeWidth = 26;
constexpr int kTypeWidth = 6;
constexpr int kParamWidth = 12;
constexpr int kMacWidth = 14;
constexpr int kMemWidth = 12;
constexpr int kTableWidth =
    kLayerWidth + kShapeWidth + kTypeWidth + kParamWidth + kMacWidth + kMemWidth;
constexpr int kConnectedWidth = 24;

std::string cell(std::string text, int width) {
    if (static_cast<int>(text.size()) >= width) text = text.substr(0, width - 1);
    return text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string group_thousands(std::int64_t value) {
    const std::string digits = std::to_string(value < 0 ? -value : value);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return value < 0 ? "-" + out : out;
}

ModelSummary summarize(const Graph& graph, const OpRegistry& ops) {
    ModelSummary summary;
    summary.name = graph.name;
    for (const GraphInput& input : graph.inputs)
        summary.activation_bytes += elements_per_sample(input.shape) * dtype_size(input.dtype);
    std::map<std::string, std::vector<Shape>> values;
    for (const GraphInput& input : graph.inputs) values[input.name] = {input.shape};
    for (const Node& node : graph.nodes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) continue;
        std::vector<Shape> inputs;
        for (const std::string& text : node.inputs) {
            ValueRef ref;
            parse_value_ref(text, ref);
            inputs.push_back(values.at(ref.name).at(static_cast<std::size_t>(ref.output)));
        }
        values[node.name] = node.output_shapes;
        const OpContext ctx(node.name, node.attrs, inputs);
        SummaryRow row{node.name, node.op, node.output_shapes.at(0),
                       node.output_dtypes.empty() ? DType::f32 : node.output_dtypes.front(),
                       node.inputs};
        const std::string previous = summary.rows.empty()
                                         ? (graph.inputs.empty() ? "" : graph.inputs[0].name)
                                         : summary.rows.back().layer;
        summary.sequential =
            summary.sequential && node.inputs.size() == 1 && node.inputs[0] == previous;
        if (def->params) {
            for (const ParamSpec& p : def->params(ctx)) {
                std::int64_t count = 1;
                for (std::int64_t d : p.shape) count *= d;
                row.params += count;
                if (p.trainable) row.trainable_params += count;
            }
        }
        if (def->macs) row.macs = def->macs(ctx, node.output_shapes);
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i)
            row.activation_bytes +=
                elements_per_sample(node.output_shapes[i]) *
                dtype_size(i < node.output_dtypes.size() ? node.output_dtypes[i] : DType::f32);
        summary.total_params += row.params;
        summary.trainable_params += row.trainable_params;
        summary.macs += row.macs;
        summary.activation_bytes += row.activation_bytes;
        summary.rows.push_back(std::move(row));
    }
    return summary;
}

std::string format_summary(const ModelSummary& summary) {
    const int width = kTableWidth + (summary.sequential ? 0 : kConnectedWidth);
    const std::string rule(width, '_');
    const std::string double_rule(width, '=');
    auto connected = [&](const SummaryRow& row) {
        std::string text;
        for (const std::string& in : row.inputs) text += (text.empty() ? "" : ", ") + in;
        return summary.sequential ? std::string{} : text;
    };
    std::ostringstream out;
    out << "Model: \"" << summary.name << "\"\n" << rule << "\n";
    out << cell("Layer (type)", kLayerWidth) << cell("Output Shape", kShapeWidth)
        << cell("Type", kTypeWidth) << cell("Param #", kParamWidth) << cell("MACs", kMacWidth)
        << (summary.sequential ? "Act. memory" : cell("Act. memory", kMemWidth) + "Connected to")
        << "\n";
    out << double_rule << "\n";
    for (std::size_t i = 0; i < summary.rows.size(); ++i) {
        const SummaryRow& row = summary.rows[i];
        out << cell(row.layer + " (" + row.op + ")", kLayerWidth)
            << cell(shape_str(row.output_shape), kShapeWidth)
            << cell(dtype_name(row.dtype), kTypeWidth)
            << cell(std::to_string(row.params), kParamWidth)
            << cell(group_thousands(row.macs), kMacWidth)
            << (summary.sequential
                    ? bytes_str(row.activation_bytes)
                    : cell(bytes_str(row.activation_bytes), kMemWidth) + connected(row))
            << "\n";
        out << (i + 1 == summary.rows.size() ? double_rule : rule) << "\n";
    }
    out << "Total params: " << group_thousands(summary.total_params) << "\n";
    out << "Trainable params: " << group_thousands(summary.trainable_params) << "\n";
    out << "Non-trainable params: "
        << group_thousands(summary.total_params - summary.trainable_params) << "\n";
    out << rule << "\n";
    out << "Forward MACs per sample: " << group_thousands(summary.macs) << "\n";
    out << "Activation memory per sample: " << bytes_str(summary.activation_bytes)
        << " (inputs and every layer output, at their types)\n";
    out << "Parameter memory: " << bytes_str(summary.total_params * kBytesPerFloat) << "\n";
    return out.str();
}

}  // namespace opgraph
