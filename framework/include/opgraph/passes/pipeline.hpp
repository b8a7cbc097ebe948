// Named graph rewrites (passes) and the pipelines that chain them. Every rewrite between the
// loaded graph and what a Program compiles is a Pass of one of the pipelines declared here,
// so that `opgraph dot --stage S` can show the graph after any of them.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/dtype.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/passes/autodiff.hpp"
#include "opgraph/passes/loss_graph.hpp"
#include "opgraph/passes/quantization.hpp"

namespace opgraph {

// What a pass may read besides the graph.
struct PassContext {
    const OpRegistry& ops;
    std::string loss_op;                  // "loss": the training section's loss op
    std::set<std::string> frozen_params;  // "backward": parameters given no gradient
    // f32, bf16 ("precision": passes/precision.hpp) or s8: int8 inference, for which
    // "fold_affine" folds nothing into the weights' input channels and "quantize" quantizes
    // from activation_ranges; without them, s8 gives the f32 graph int8 calibration runs on.
    DType precision = DType::f32;
    // "quantize": int8 inference from these ranges (passes/quantization.hpp); null: none.
    const ActivationRanges* activation_ranges = nullptr;
};

// One rewrite: a pure function of the graph. Throws GraphError naming the node on a graph it
// cannot rewrite; returns a graph in topological order with shapes inferred.
struct Pass {
    std::string name;     // the stage name, e.g. "fold_affine"
    std::string summary;  // one line for `opgraph dot --list-stages`
    std::function<Graph(const Graph&, const PassContext&)> run;
};

// An ordered list of passes under a name ("train", "eval", "inference").
class Pipeline {
public:
    Pipeline(std::string name, std::string summary, std::vector<Pass> passes);
    const std::string& name() const { return name_; }
    const std::string& summary() const { return summary_; }
    const std::vector<Pass>& passes() const { return passes_; }
    bool has_pass(const std::string& pass) const;
    // Runs the passes in order, stopping after the one named `last` (all of them when
    // empty). Throws std::invalid_argument when `last` is not a pass of this pipeline.
    Graph run(const Graph& graph, const PassContext& context, const std::string& last = {}) const;

private:
    std::string name_;
    std::string summary_;
    std::vector<Pass> passes_;
};

// The check every built or rewritten graph goes through: validate_structure, then
// infer_shapes. Adds each problem to `diagnostics`; the graph it returns is topologically
// ordered with shapes inferred where they could be.
Graph check_graph(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics);
// The same for a graph a pass built, which must be valid: throws GraphError with every problem.
Graph checked_graph(const Graph& graph, const OpRegistry& ops);

// The pipelines, defined once (pipelines.cpp) and used by every caller:
//   train:     loss, precision, backward                        (TrainingStep, bench --mode train)
//   eval:      loss, drop_identities, fold_affine, fuse_activations, precision, quantize
//              (Evaluator with a loss)
//   inference: drop_identities, fold_affine, fuse_activations, precision, quantize
//              (predict, bench --mode infer)
const Pipeline& train_pipeline();
const Pipeline& eval_pipeline();
const Pipeline& inference_pipeline();
// All three: train, inference, eval.
std::vector<const Pipeline*> pipelines();

// The train pipeline's passes for the callers that need what the passes named besides the
// graph (TrainingStep, bench --mode train, the training memory plan): the loss graph after
// the precision pass (its prediction, target and loss values) and the backward graph (the
// gradient of each parameter).
struct TrainingGraph {
    LossGraph loss;
    BackwardGraph backward;
};
TrainingGraph training_graph(const Graph& model, const std::string& loss_op, const OpRegistry& ops,
                             DType precision = DType::f32);

}  // namespace opgraph
