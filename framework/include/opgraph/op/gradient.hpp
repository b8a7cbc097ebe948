// Gradient rules: how an op's backward pass is written as graph nodes.
//
// Reverse-mode autodiff calls a forward node's gradient rule once, with the names of the
// gradients flowing into its outputs. The rule emits backward nodes (ordinary ops, usually
// declared in the same file as the forward op) and says which value holds the gradient of
// each input and parameter. Emitted nodes are named "<node>/<suffix>", carry the forward
// node's attributes plus "forward" = the forward node's name, and run on the same executor.
// What the forward kernel keeps for them (OpDef::saved) they take as inputs (saved()); a
// backward kernel shares nothing else with the forward node's kernel.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"

namespace opgraph {

// Attribute every backward node carries: the name of the node it differentiates.
inline constexpr const char* kForwardAttr = "forward";

// The value name of a node's parameter: "conv1/kernel".
std::string param_value_name(const std::string& node, const std::string& param);

class GradientBuilder {
public:
    // `input_dtypes`: the element type of each of the node's inputs (f32 when left out).
    GradientBuilder(const Node& node, std::vector<std::string> diff_dst,
                    std::vector<bool> needs_diff_input, std::vector<std::string> params,
                    std::vector<DType> input_dtypes = {});

    const Node& node() const { return node_; }
    // Forward values: the node's inputs, its outputs ("n", "n:1") and parameters ("n/kernel").
    const std::string& input(std::size_t i) const { return node_.inputs.at(i); }
    DType input_dtype(std::size_t i) const {
        return i < input_dtypes_.size() ? input_dtypes_[i] : DType::f32;
    }
    std::string output(std::size_t i = 0) const;
    std::string param(const std::string& name) const;  // throws for a parameter not trained
    // True when `name` is a trainable parameter whose gradient is wanted (frozen ones are not).
    bool has_param(const std::string& name) const;
    // The value holding what the forward kernel saved, number i of its op's OpDef::saved
    // ("n:k" after the node's own outputs). Reading one makes the forward node save them all.
    std::string saved(std::size_t i) const;
    bool reads_saved() const { return reads_saved_; }
    // The gradient flowing into output i.
    const std::string& diff_dst(std::size_t i = 0) const { return diff_dst_.at(i); }
    // False when nothing upstream needs input i's gradient (a graph input, frozen path).
    bool needs_diff_input(std::size_t i) const { return needs_diff_input_.at(i); }

    // Adds node "<node>/<suffix>" applying `op` to `inputs`, with the forward node's
    // attributes and dtype, "forward", and `extra` on top. Returns its name (its first output's
    // value).
    std::string emit(const std::string& suffix, const std::string& op,
                     std::vector<std::string> inputs, const AttrMap& extra = {});
    void set_diff_input(std::size_t i, std::string value);
    void set_diff_param(const std::string& param, std::string value);

    const std::vector<Node>& emitted() const { return emitted_; }
    const std::vector<std::string>& diff_inputs() const { return diff_inputs_; }
    const std::map<std::string, std::string>& diff_params() const { return diff_params_; }

private:
    const Node& node_;
    std::vector<std::string> diff_dst_;
    std::vector<bool> needs_diff_input_;
    std::vector<std::string> params_;
    std::vector<DType> input_dtypes_;
    std::vector<Node> emitted_;
    std::vector<std::string> diff_inputs_;  // empty string: no gradient
    std::map<std::string, std::string> diff_params_;
    mutable bool reads_saved_ = false;
};

}  // namespace opgraph
