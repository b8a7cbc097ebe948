#include "opgraph/passes/pipeline.hpp"

#include <algorithm>
#include <stdexcept>

#include "opgraph/passes/activation_fusion.hpp"
#include "opgraph/passes/affine_folding.hpp"
#include "opgraph/passes/autodiff.hpp"
#include "opgraph/passes/inference_identities.hpp"
#include "opgraph/passes/loss_graph.hpp"
#include "opgraph/passes/passes.hpp"
#include "opgraph/passes/precision.hpp"
#include "opgraph/passes/quantization.hpp"
#include "opgraph/passes/residual_fusion.hpp"

namespace opgraph {

Pipeline::Pipeline(std::string name, std::string summary, std::vector<Pass> passes)
    : name_(std::move(name)), summary_(std::move(summary)), passes_(std::move(passes)) {}

bool Pipeline::has_pass(const std::string& pass) const {
    return std::any_of(passes_.begin(), passes_.end(),
                       [&pass](const Pass& p) { return p.name == pass; });
}

Graph Pipeline::run(const Graph& graph, const PassContext& context, const std::string& last) const {
    if (!last.empty() && !has_pass(last))
        throw std::invalid_argument("pipeline '" + name_ + "' has no pass '" + last + "'");
    Graph result = graph;
    for (const Pass& pass : passes_) {
        result = pass.run(result, context);
        if (pass.name == last) break;
    }
    return result;
}

Graph check_graph(const Graph& graph, const OpRegistry& ops, Diagnostics& diagnostics) {
    return infer_shapes(validate_structure(graph, ops, diagnostics), ops, diagnostics);
}

Graph checked_graph(const Graph& graph, const OpRegistry& ops) {
    Diagnostics diagnostics;
    Graph checked = check_graph(graph, ops, diagnostics);
    diagnostics.throw_if_any();
    return checked;
}

namespace {

Pass loss_pass() {
    return {"loss", "the training section's loss attached to the first output",
            [](const Graph& graph, const PassContext& context) {
                if (context.loss_op.empty())
                    throw std::invalid_argument("the loss pass needs a training section's loss");
                return with_loss(graph, context.loss_op, context.ops).graph;
            }};
}

Pass backward_pass() {
    return {
        "backward", "reverse-mode autodiff: the gradient of the loss for every parameter",
        [](const Graph& graph, const PassContext& context) {
            return differentiate(graph, LossGraph{}.loss, context.ops, context.frozen_params).graph;
        }};
}

Pass drop_identities_pass() {
    return {"drop_identities", "ops that are the identity in inference (dropout) removed",
            [](const Graph& graph, const PassContext& context) {
                return drop_inference_identities(graph, context.ops);
            }};
}

Pass fold_affine_pass() {
    return {"fold_affine", "batch norms folded into the neighbouring convolution",
            [](const Graph& graph, const PassContext& context) {
                return fold_affine(graph, context.ops, context.precision);
            }};
}

Pass fuse_residual_adds_pass() {
    return {"fuse_residual_add", "adds moved into the convolution before them as sum post-ops",
            [](const Graph& graph, const PassContext& context) {
                return fuse_residual_adds(graph, context.ops);
            }};
}

Pass fuse_activations_pass() {
    return {"fuse_activations", "activations moved into the layer before them as post-ops",
            [](const Graph& graph, const PassContext& context) {
                return fuse_activations(graph, context.ops);
            }};
}

Pass precision_pass() {
    return {"precision", "each node's element type (bf16 where its op has a kernel) and casts",
            [](const Graph& graph, const PassContext& context) {
                const DType s8_as_f32 =
                    context.precision == DType::s8 ? DType::f32 : context.precision;
                return assign_precision(graph, s8_as_f32, context.ops);
            }};
}

Pass quantize_pass() {
    return {"quantize", "int8 where calibrated ranges are given (opgraph quantize), and casts",
            [](const Graph& graph, const PassContext& context) {
                if (context.activation_ranges == nullptr) return graph;
                if (context.precision != DType::s8)
                    throw std::invalid_argument("the quantize pass's ranges need precision s8");
                return quantize_int8(graph, *context.activation_ranges, context.ops);
            }};
}

}  // namespace

const Pipeline& train_pipeline() {
    static const Pipeline pipeline("train", "the training graph: loss and gradients",
                                   {loss_pass(), precision_pass(), backward_pass()});
    return pipeline;
}

const Pipeline& eval_pipeline() {
    static const Pipeline pipeline(
        "eval", "validation: the loss on the inference graph",
        {loss_pass(), drop_identities_pass(), fold_affine_pass(), fuse_residual_adds_pass(),
         fuse_activations_pass(), precision_pass(), quantize_pass()});
    return pipeline;
}

const Pipeline& inference_pipeline() {
    static const Pipeline pipeline(
        "inference", "what predict and bench --mode infer run",
        {drop_identities_pass(), fold_affine_pass(), fuse_residual_adds_pass(),
         fuse_activations_pass(), precision_pass(), quantize_pass()});
    return pipeline;
}

TrainingGraph training_graph(const Graph& model, const std::string& loss_op, const OpRegistry& ops,
                             DType precision) {
    TrainingGraph out;
    out.loss = with_loss(model, loss_op, ops);
    out.loss.graph = assign_precision(out.loss.graph, precision, ops);
    out.backward = differentiate(out.loss.graph, out.loss.loss, ops);
    return out;
}

std::vector<const Pipeline*> pipelines() {
    return {&train_pipeline(), &inference_pipeline(), &eval_pipeline()};
}

}  // namespace opgraph
