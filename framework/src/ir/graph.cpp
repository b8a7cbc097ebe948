#include "opgraph/ir/graph.hpp"

#include <charconv>

namespace opgraph {

const SourceLocation& Node::location_of(const std::string& attribute) const {
    auto it = attr_where.find(attribute);
    return it == attr_where.end() ? where : it->second;
}

const Node* Graph::find_node(const std::string& name) const {
    for (const Node& n : nodes)
        if (n.name == name) return &n;
    return nullptr;
}

const GraphInput* Graph::find_input(const std::string& name) const {
    for (const GraphInput& in : inputs)
        if (in.name == name) return &in;
    return nullptr;
}

const Shape* Graph::shape_of(const std::string& value) const {
    ValueRef ref;
    if (!parse_value_ref(value, ref)) return nullptr;
    if (const Node* node = find_node(ref.name)) {
        const auto i = static_cast<std::size_t>(ref.output);
        return i < node->output_shapes.size() ? &node->output_shapes[i] : nullptr;
    }
    const GraphInput* input = find_input(ref.name);
    return input != nullptr && ref.output == 0 ? &input->shape : nullptr;
}

float Graph::scale_of(const std::string& value) const {
    ValueRef ref;
    if (!parse_value_ref(value, ref)) return 0;
    const Node* node = find_node(ref.name);
    const auto i = static_cast<std::size_t>(ref.output);
    return node != nullptr && i < node->output_scales.size() ? node->output_scales[i] : 0.f;
}

std::optional<DType> Graph::dtype_of(const std::string& value) const {
    ValueRef ref;
    if (!parse_value_ref(value, ref)) return std::nullopt;
    if (const Node* node = find_node(ref.name)) {
        const auto i = static_cast<std::size_t>(ref.output);
        if (i < node->output_dtypes.size()) return node->output_dtypes[i];
        return std::nullopt;
    }
    if (const GraphInput* input = find_input(ref.name); input != nullptr && ref.output == 0)
        return input->dtype;
    return std::nullopt;
}

std::string value_name(const std::string& node, std::size_t output) {
    return output == 0 ? node : node + ":" + std::to_string(output);
}

bool parse_value_ref(const std::string& text, ValueRef& out) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
        out = {text, 0};
        return !text.empty();
    }
    int index = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, index);
    if (colon == 0 || first == last || ec != std::errc{} || ptr != last || index < 0) return false;
    out = {text.substr(0, colon), index};
    return true;
}

std::string canonical_value(const std::string& text) {
    ValueRef ref;
    if (!parse_value_ref(text, ref)) return text;
    return value_name(ref.name, static_cast<std::size_t>(ref.output));
}

}  // namespace opgraph
