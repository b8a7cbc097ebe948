#include "opgraph/train/training_step.hpp"

#include <algorithm>
#include <stdexcept>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/passes/pipeline.hpp"
#include "opgraph/runtime/precision_support.hpp"

namespace opgraph {

struct TrainingStep::Impl {
    TrainingGraph training;
    LossGraph& loss_graph = training.loss;
    BackwardGraph& backward = training.backward;
    const OpRegistry& ops;
    ParameterStore parameters;  // shared by `main` and `tail`; holds the optimizer's slots too
    ThreadConfig threads;
    std::uint64_t seed;
    bool check_numerics;
    std::unique_ptr<Optimizer> optimizer;
    std::map<std::string, std::vector<float*>> slot_pointers;  // into `parameters`, per parameter
    std::vector<std::string> trained;
    std::int64_t iteration = 0;
    double learning_rate = 0;  // of the step running; read by the update tasks

    std::int64_t batch = 0;
    std::int64_t classes = 0;
    std::int64_t sample = 0;                // floats per input sample
    std::unique_ptr<Program> main, tail;    // full batches; the one smaller batch count
    std::vector<float> target, prediction;  // per-step buffers, batch-sized

    Impl(const Graph& model, const TrainingConfig& config, const OpRegistry& registry,
         std::int64_t batch_size, const ThreadConfig& t, std::uint64_t s, bool check,
         const OptimizerRegistry* optimizers)
        : training(training_graph(model, config.loss, registry,
                                  resolve_precision(config.precision).dtype)),
          ops(registry),
          threads(t),
          seed(s),
          check_numerics(check),
          optimizer(optimizers != nullptr ? optimizers->make(config.optimizer)
                                          : make_optimizer(config.optimizer)),
          batch(batch_size) {
        if (batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
        main = compile(batch);
        for (const std::string& p : main->params())
            if (backward.param_grads.count(p)) trained.push_back(p);
        for (const std::string& p : trained) {
            std::vector<float*>& pointers = slot_pointers[p];  // empty for plain SGD
            for (const std::string& slot : optimizer->slot_names())
                pointers.push_back(
                    parameters.ensure_state(optimizer_slot_name(slot, p), main->shape(p)).data());
        }
        const Shape& out = main->shape(loss_graph.prediction);
        classes = out.back();
        sample = element_count(main->shape(backward.graph.inputs.front().name)) / batch;
        target.resize(static_cast<std::size_t>(loss_graph.sparse_target ? batch : batch * classes));
        prediction.resize(static_cast<std::size_t>(batch * classes));
    }

    std::unique_ptr<Program> compile(std::int64_t count) {
        ProgramOptions po;
        po.batch_size = count;
        po.training = true;
        po.threads = threads;
        po.seed = seed;
        po.check_numerics = check_numerics;
        po.param_gradients = backward.param_grads;
        po.share_buffers = true;
        po.parameters = &parameters;
        po.optimizer_slots = static_cast<int>(optimizer->slot_names().size());
        po.update = [this](const std::string& param, float* value, const float* gradient,
                           std::size_t n) {
            optimizer->update(value, gradient, n, slot_pointers.at(param), learning_rate,
                              iteration);
        };
        auto program = std::make_unique<Program>(backward.graph, ops, po);
        program->write(backward.loss_grad, {1.f});
        return program;
    }

    // The program for `count` samples (both bind to `parameters`).
    Program& program_for(std::int64_t count) {
        if (count == batch) return *main;
        if (!tail || tail->shape(loss_graph.target).front() != count) tail = compile(count);
        return *tail;
    }

    StepResult run(const float* images, const std::int32_t* labels, std::int64_t count, double lr) {
        if (count < 1 || count > batch)
            throw std::invalid_argument("a step takes 1 to " + std::to_string(batch) +
                                        " samples, not " + std::to_string(count));
        Program& program = program_for(count);
        const auto n = static_cast<std::size_t>(count);
        const std::size_t target_size = loss_graph.sparse_target ? n : n * classes;
        std::fill_n(target.begin(), target_size, 0.f);
        for (std::size_t i = 0; i < n; ++i) {
            if (labels[i] < 0 || labels[i] >= classes)
                throw std::invalid_argument("label " + std::to_string(labels[i]) +
                                            " out of range [0, " + std::to_string(classes) + ")");
            if (loss_graph.sparse_target)
                target[i] = static_cast<float>(labels[i]);
            else
                target[i * classes + labels[i]] = 1.f;
        }
        program.write(backward.graph.inputs.front().name, images, n * sample);
        program.write(loss_graph.target, target.data(), target_size);
        program.set_step(static_cast<std::uint64_t>(iteration));
        learning_rate = lr;
        ++iteration;  // the updates inside run() are step t = iteration
        program.run();

        StepResult result;
        float loss = 0;
        program.read(loss_graph.loss, &loss, 1);
        result.loss = loss;
        program.read(loss_graph.prediction, prediction.data(), n * classes);
        for (std::size_t i = 0; i < n; ++i) {
            const auto row = prediction.begin() + static_cast<std::ptrdiff_t>(i * classes);
            result.correct += (std::max_element(row, row + classes) - row) == labels[i] ? 1 : 0;
        }
        return result;
    }
};

TrainingStep::TrainingStep(const Graph& model, const TrainingConfig& config, const OpRegistry& ops,
                           std::int64_t batch_size, const ThreadConfig& threads, std::uint64_t seed,
                           bool check_numerics, const OptimizerRegistry* optimizers)
    : impl_(std::make_unique<Impl>(model, config, ops, batch_size, threads, seed, check_numerics,
                                   optimizers)) {}

TrainingStep::~TrainingStep() = default;

StepResult TrainingStep::run(const float* images, const std::int32_t* labels, std::int64_t count,
                             double lr) {
    return impl_->run(images, labels, count, lr);
}

std::int64_t TrainingStep::batch_size() const { return impl_->batch; }

Program& TrainingStep::program() { return *impl_->main; }

ParameterStore& TrainingStep::parameters() { return impl_->parameters; }

const Optimizer& TrainingStep::optimizer() const { return *impl_->optimizer; }

std::int64_t TrainingStep::classes() const { return impl_->classes; }
std::int64_t TrainingStep::iteration() const { return impl_->iteration; }

void TrainingStep::set_iteration(std::int64_t iteration) { impl_->iteration = iteration; }

const std::vector<std::string>& TrainingStep::trained_params() const { return impl_->trained; }

const TrainingGraph& TrainingStep::graph() const { return impl_->training; }

}  // namespace opgraph
