#include "opgraph/tools/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/suggest.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/program.hpp"

namespace opgraph {

namespace {

std::int64_t count_of(const Shape& shape) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
}

std::vector<float> draw(GradCheckInput kind, const Shape& shape, std::int64_t classes,
                        std::mt19937_64& rng) {
    const std::size_t n = static_cast<std::size_t>(count_of(shape));
    const std::size_t row = shape.empty() ? 1 : static_cast<std::size_t>(shape.back());
    std::vector<float> out(n);
    std::uniform_real_distribution<float> unit(-1.f, 1.f), mag(0.2f, 1.f);
    switch (kind) {
        case GradCheckInput::uniform:
            for (float& v : out) v = unit(rng);
            break;
        case GradCheckInput::away_from_zero:
            for (float& v : out) v = mag(rng) * (unit(rng) < 0 ? -1.f : 1.f);
            break;
        case GradCheckInput::positive:
            for (float& v : out) v = mag(rng);
            break;
        case GradCheckInput::distinct: {
            // Values 0.1 apart (10x the default epsilon), shuffled.
            for (std::size_t i = 0; i < n; ++i)
                out[i] = (static_cast<float>(i) - static_cast<float>(n) / 2) * 0.1f;
            std::shuffle(out.begin(), out.end(), rng);
            break;
        }
        case GradCheckInput::probabilities:
            for (std::size_t r = 0; r < n; r += row) {
                float sum = 0;
                for (std::size_t i = r; i < r + row; ++i) sum += out[i] = mag(rng);
                for (std::size_t i = r; i < r + row; ++i) out[i] /= sum;
            }
            break;
        case GradCheckInput::one_hot: {
            std::uniform_int_distribution<std::size_t> pick(0, row - 1);
            for (std::size_t r = 0; r < n; r += row) out[r + pick(rng)] = 1.f;
            break;
        }
        case GradCheckInput::class_indices: {
            std::uniform_int_distribution<std::int64_t> pick(
                0, std::max<std::int64_t>(0, classes - 1));
            for (float& v : out) v = static_cast<float>(pick(rng));
            break;
        }
    }
    return out;
}

// The graph of one case: inputs src0.., the op node "op", output gradients diff0.. as
// inputs, then the backward nodes. Returns the values to check (input or param -> gradient).
struct CaseGraph {
    Graph graph;
    std::vector<std::pair<std::string, std::string>> checked;  // value, its gradient
    std::vector<std::string> outputs;                          // forward outputs
};

CaseGraph build_case(const OpRegistry& ops, const OpDef& def, const GradCheckCase& c) {
    CaseGraph out;
    Graph& g = out.graph;
    g.name = def.name + " gradcheck " + c.label;
    g.file = "<gradcheck " + def.name + " " + c.label + ">";
    Node node;
    node.name = "op";
    node.op = def.name;
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
        const std::string name = "src" + std::to_string(i);
        g.inputs.push_back({name, c.inputs[i], {}});
        node.inputs.push_back(name);
        node.input_where.push_back({});
    }
    for (const AttrSpec& spec : def.attrs)
        if (spec.default_value) node.attrs.set(spec.name, *spec.default_value);
    for (const auto& [name, value] : c.attrs.all()) node.attrs.set(name, value);
    g.nodes.push_back(node);
    g.outputs = {"op"};
    g.output_where = {{}};
    Diagnostics diagnostics;
    g = check_graph(g, ops, diagnostics);
    diagnostics.throw_if_any();

    const Node& forward = g.nodes.front();
    std::vector<std::string> diff_dst;
    for (std::size_t i = 0; i < forward.output_shapes.size(); ++i) {
        const std::string name = "diff" + std::to_string(i);
        g.inputs.push_back({name, forward.output_shapes[i], {}});
        diff_dst.push_back(name);
        out.outputs.push_back(i == 0 ? "op" : "op:" + std::to_string(i));
    }
    std::vector<bool> needs(c.inputs.size(), true);
    for (std::size_t i = 0; i < c.kinds.size() && i < needs.size(); ++i)
        if (c.kinds[i] == GradCheckInput::class_indices || c.kinds[i] == GradCheckInput::one_hot)
            needs[i] = false;
    std::vector<std::string> params;
    if (def.params) {
        const OpContext ctx(forward.name, forward.attrs, c.inputs);
        for (const ParamSpec& p : def.params(ctx))
            if (p.trainable) params.push_back(p.name);
    }
    GradientBuilder builder(forward, diff_dst, needs, params);
    def.gradient(builder);
    for (std::size_t i = 0; i < needs.size(); ++i)
        if (needs[i] && !builder.diff_inputs()[i].empty())
            out.checked.emplace_back(forward.inputs[i], builder.diff_inputs()[i]);
    for (const std::string& p : params) {
        auto it = builder.diff_params().find(param_value_name(forward.name, p));
        if (it == builder.diff_params().end())
            throw std::runtime_error("the gradient rule gives no gradient for parameter '" + p +
                                     "'");
        out.checked.emplace_back(it->first, it->second);
    }
    if (out.checked.empty()) throw std::runtime_error("the gradient rule gives no gradient at all");
    g.nodes.front().saves = builder.reads_saved();
    for (const Node& n : builder.emitted()) g.nodes.push_back(n);
    for (const auto& [value, grad] : out.checked) {
        g.outputs.push_back(grad);
        g.output_where.push_back({});
    }
    g = check_graph(g, ops, diagnostics);
    diagnostics.throw_if_any();
    return out;
}

GradCheckResult run_case(const OpRegistry& ops, const OpDef& def, const GradCheckCase& c,
                         const GradCheckOptions& options) {
    GradCheckResult result{def.name, c.label, false, 0, 0, {}};
    const double tolerance = c.tolerance > 0 ? c.tolerance : options.tolerance;
    std::mt19937_64 rng(options.seed);
    CaseGraph cg = build_case(ops, def, c);
    ProgramOptions program_options;
    program_options.training = true;
    program_options.seed = options.seed;
    // Tensors here are tiny: threads would only add synchronisation (and, with several
    // checks running side by side, oversubscribe the cores).
    program_options.threads.inter_op = 1;
    program_options.threads.intra_op = 1;
    Program program(cg.graph, ops, program_options);

    const std::int64_t classes = c.inputs.empty() || c.inputs[0].empty() ? 1 : c.inputs[0].back();
    for (std::size_t i = 0; i < c.inputs.size(); ++i) {
        const GradCheckInput kind = i < c.kinds.size() ? c.kinds[i] : GradCheckInput::uniform;
        program.write("src" + std::to_string(i), draw(kind, c.inputs[i], classes, rng));
    }
    // Parameters: keep the initialiser's values but move them off exact zeros / ones so that
    // every path (bias, beta, gamma) is exercised with generic values.
    for (const std::string& p : program.params()) {
        std::vector<float> values = program.read(p);
        std::uniform_real_distribution<float> jitter(-0.5f, 0.5f);
        for (float& v : values) v += jitter(rng);
        program.write(p, values);
    }
    std::vector<std::vector<float>> projections;
    for (std::size_t i = 0; i < cg.outputs.size(); ++i) {
        std::vector<float> r =
            draw(GradCheckInput::uniform, program.shape("diff" + std::to_string(i)), 1, rng);
        program.write("diff" + std::to_string(i), r);
        projections.push_back(std::move(r));
    }
    auto loss = [&]() {
        program.run();
        double sum = 0;
        for (std::size_t i = 0; i < cg.outputs.size(); ++i) {
            const std::vector<float> y = program.read(cg.outputs[i]);
            for (std::size_t k = 0; k < y.size(); ++k) sum += double(y[k]) * projections[i][k];
        }
        return sum;
    };
    loss();
    std::vector<std::vector<float>> analytic;
    for (const auto& [value, grad] : cg.checked) analytic.push_back(program.read(grad));

    std::ostringstream worst_detail;
    for (std::size_t v = 0; v < cg.checked.size(); ++v) {
        const std::string& name = cg.checked[v].first;
        std::vector<float> x = program.read(name);
        std::vector<std::size_t> indices(x.size());
        std::iota(indices.begin(), indices.end(), 0);
        if (indices.size() > options.max_elements) {
            std::shuffle(indices.begin(), indices.end(), rng);
            indices.resize(options.max_elements);
        }
        std::vector<double> numeric(indices.size());
        double scale = 0;  // the tensor's largest gradient: errors are relative to it at least
        for (std::size_t j = 0; j < indices.size(); ++j) {
            const std::size_t k = indices[j];
            const float original = x[k];
            x[k] = original + static_cast<float>(options.epsilon);
            program.write(name, x);
            const double plus = loss();
            x[k] = original - static_cast<float>(options.epsilon);
            program.write(name, x);
            const double minus = loss();
            x[k] = original;
            program.write(name, x);
            numeric[j] = (plus - minus) / (2 * options.epsilon);
            scale = std::max({scale, std::abs(numeric[j]), std::abs(double(analytic[v][k]))});
        }
        // An element's error is relative to its own size, but never to less than a tenth of
        // the tensor's largest gradient (tiny gradients are all noise), nor to less than
        // kNoiseFloor (float32 differences of the loss).
        constexpr double kNoiseFloor = 1e-4;
        const double floor = std::max(kNoiseFloor, 0.1 * scale);
        for (std::size_t j = 0; j < indices.size(); ++j) {
            const std::size_t k = indices[j];
            const double a = analytic[v][k];
            const double error =
                std::abs(a - numeric[j]) / std::max({floor, std::abs(a), std::abs(numeric[j])});
            ++result.checked;
            if (error >= result.worst) {
                result.worst = error;
                worst_detail.str("");
                worst_detail << name << "[" << k << "]: analytic " << a << ", numeric "
                             << numeric[j];
            }
        }
    }
    result.passed = result.worst <= tolerance;
    result.detail = worst_detail.str() + " (tolerance " + std::to_string(tolerance) + ")";
    return result;
}

}  // namespace

std::vector<std::string> differentiable_ops(const OpRegistry& ops) {
    std::vector<std::string> out;
    for (const OpDef* def : ops.all())
        if (def->gradient) out.push_back(def->name);
    return out;
}

std::vector<GradCheckResult> check_gradients(const OpRegistry& ops, const std::string& op,
                                             const GradCheckOptions& options) {
    const OpDef* def = ops.find(op);
    if (def == nullptr)
        throw std::invalid_argument("unknown op '" + op + "'" + did_you_mean(op, ops.names()));
    if (!def->gradient) throw std::invalid_argument("op '" + op + "' has no gradient rule");
    if (def->gradcheck.empty())
        throw std::invalid_argument("op '" + op + "' declares no gradient-check cases");
    std::vector<GradCheckResult> results;
    for (const GradCheckCase& c : def->gradcheck) {
        try {
            results.push_back(run_case(ops, *def, c, options));
        } catch (const std::exception& e) {
            results.push_back({def->name, c.label, false, 0, 0, e.what()});
        }
    }
    return results;
}

}  // namespace opgraph
