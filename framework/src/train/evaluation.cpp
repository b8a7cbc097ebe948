#include "opgraph/train/evaluation.hpp"

#include <algorithm>
#include <stdexcept>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/weights.hpp"
#include "opgraph/train/datasets.hpp"

namespace opgraph {

namespace {

// Fills the program's input and target with samples [first, first + count).
void feed(Program& program, const LossGraph& g, const std::string& input, const Dataset& data,
          std::int64_t first, std::int64_t count, std::int64_t classes) {
    const std::int64_t per_sample = element_count(data.sample_shape);
    program.write(input, std::vector<float>(data.images.begin() + first * per_sample,
                                            data.images.begin() + (first + count) * per_sample));
    if (g.loss.empty()) return;
    std::vector<float> target(static_cast<std::size_t>(g.sparse_target ? count : count * classes));
    for (std::int64_t i = 0; i < count; ++i) {
        const std::int32_t label = data.labels[static_cast<std::size_t>(first + i)];
        if (g.sparse_target)
            target[static_cast<std::size_t>(i)] = static_cast<float>(label);
        else
            target[static_cast<std::size_t>(i * classes + label)] = 1.f;
    }
    program.write(g.target, target);
}

}  // namespace

Evaluator::Evaluator(const Graph& graph, const std::string& loss_op, const OpRegistry& ops,
                     std::int64_t batch_size, const ThreadConfig& threads,
                     ParameterStore* parameters, DType precision, const ActivationRanges* ranges)
    : graph_(loss_op.empty() ? LossGraph{graph, graph.outputs.at(0), {}, {}, false}
                             : with_loss(graph, loss_op, ops)),
      ops_(ops),
      batch_size_(batch_size),
      threads_(threads),
      parameters_(parameters != nullptr ? parameters : &own_parameters_) {
    // The eval pipeline: its loss pass is the with_loss above, then the inference passes.
    PassContext context{ops, loss_op, {}, precision};
    if (precision == DType::s8) {
        if (ranges == nullptr)
            throw std::invalid_argument("int8 evaluation needs the activation ranges");
        context.activation_ranges = ranges;
    }
    graph_.graph = inference_pipeline().run(graph_.graph, context);
    graph_.prediction = graph_.graph.outputs.front();
    main_ = compile(batch_size);
}

std::unique_ptr<Program> Evaluator::compile(std::int64_t batch) const {
    ProgramOptions options;
    options.batch_size = batch;
    options.threads = threads_;
    options.share_buffers = true;
    options.parameters = parameters_;
    return std::make_unique<Program>(graph_.graph, ops_, options);
}

Evaluator::~Evaluator() = default;

void Evaluator::load_weights(const std::filesystem::path& file) {
    opgraph::load_weights(*main_, file);
}

Program& Evaluator::program_for(std::int64_t batch) {
    if (batch == batch_size_) return *main_;
    auto& slot = others_[batch];
    if (!slot) slot = compile(batch);
    return *slot;
}

Metrics Evaluator::evaluate(const Dataset& data) {
    Metrics m;
    const std::string& input = graph_.graph.inputs.front().name;
    const std::int64_t classes = main_->shape(graph_.prediction).back();
    check_fits_model(data, graph_.graph, classes);
    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::int64_t first = 0; first < data.size(); first += batch_size_) {
        const std::int64_t count = std::min(batch_size_, data.size() - first);
        Program& program = program_for(count);
        feed(program, graph_, input, data, first, count, classes);
        program.run();
        if (!graph_.loss.empty())
            loss_sum += double(program.read(graph_.loss).front()) * double(count);
        const std::vector<float> probs = program.read(graph_.prediction);
        for (std::int64_t i = 0; i < count; ++i) {
            const auto row = probs.begin() + i * classes;
            const auto best = std::max_element(row, row + classes) - row;
            correct += best == data.labels[static_cast<std::size_t>(first + i)] ? 1 : 0;
        }
    }
    m.samples = data.size();
    m.loss = m.samples > 0 ? loss_sum / double(m.samples) : 0;
    m.accuracy = m.samples > 0 ? double(correct) / double(m.samples) : 0;
    return m;
}

std::vector<std::vector<float>> Evaluator::predict(const Dataset& data) {
    std::vector<std::vector<float>> out;
    const std::string& input = graph_.graph.inputs.front().name;
    const std::int64_t classes = main_->shape(graph_.prediction).back();
    for (std::int64_t first = 0; first < data.size(); first += batch_size_) {
        const std::int64_t count = std::min(batch_size_, data.size() - first);
        Program& program = program_for(count);
        feed(program, graph_, input, data, first, count, classes);
        program.run();
        const std::vector<float> probs = program.read(graph_.prediction);
        for (std::int64_t i = 0; i < count; ++i)
            out.emplace_back(probs.begin() + i * classes, probs.begin() + (i + 1) * classes);
    }
    return out;
}

}  // namespace opgraph
