#include "opgraph/op/gradient.hpp"

#include <algorithm>
#include <stdexcept>

namespace opgraph {

std::string param_value_name(const std::string& node, const std::string& param) {
    return node + "/" + param;
}

GradientBuilder::GradientBuilder(const Node& node, std::vector<std::string> diff_dst,
                                 std::vector<bool> needs_diff_input,
                                 std::vector<std::string> params, std::vector<DType> input_dtypes)
    : node_(node),
      diff_dst_(std::move(diff_dst)),
      needs_diff_input_(std::move(needs_diff_input)),
      params_(std::move(params)),
      input_dtypes_(std::move(input_dtypes)),
      diff_inputs_(node.inputs.size()) {}

std::string GradientBuilder::output(std::size_t i) const { return value_name(node_.name, i); }

std::string GradientBuilder::saved(std::size_t i) const {
    if (node_.saves)
        throw std::logic_error("node '" + node_.name + "' already saves: differentiate it once");
    reads_saved_ = true;
    return value_name(node_.name, node_.output_shapes.size() + i);
}

std::string GradientBuilder::param(const std::string& name) const {
    if (std::find(params_.begin(), params_.end(), name) == params_.end())
        throw std::invalid_argument("node '" + node_.name + "' has no parameter '" + name + "'");
    return param_value_name(node_.name, name);
}

bool GradientBuilder::has_param(const std::string& name) const {
    return std::find(params_.begin(), params_.end(), name) != params_.end();
}

std::string GradientBuilder::emit(const std::string& suffix, const std::string& op,
                                  std::vector<std::string> inputs, const AttrMap& extra) {
    Node node;
    node.name = node_.name + "/" + suffix;
    node.op = op;
    node.inputs = std::move(inputs);
    node.input_where.assign(node.inputs.size(), node_.where);
    node.where = node_.where;
    node.attrs = node_.attrs;
    node.attrs.set(kForwardAttr, node_.name);
    node.dtype = node_.dtype;
    node.precision = node_.precision;
    for (const auto& [name, value] : extra.all()) node.attrs.set(name, value);
    emitted_.push_back(std::move(node));
    return emitted_.back().name;
}

void GradientBuilder::set_diff_input(std::size_t i, std::string value) {
    diff_inputs_.at(i) = std::move(value);
}

void GradientBuilder::set_diff_param(const std::string& param, std::string value) {
    diff_params_[this->param(param)] = std::move(value);
}

}  // namespace opgraph
