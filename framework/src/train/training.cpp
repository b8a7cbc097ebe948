#include "opgraph/train/training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

#include "batch_loader.hpp"
#include "opgraph/io/checkpoint.hpp"
#include "opgraph/io/dataset.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/runtime/precision_support.hpp"
#include "opgraph/train/callbacks.hpp"
#include "opgraph/train/evaluation.hpp"
#include "opgraph/train/interrupt.hpp"
#include "opgraph/train/progress.hpp"
#include "opgraph/train/training_items.hpp"
#include "opgraph/train/training_step.hpp"

namespace opgraph {

std::filesystem::path default_checkpoint_dir(const std::filesystem::path& graph_file) {
    return std::filesystem::path("checkpoints") / graph_file.stem();
}

namespace {

std::string generator_state(const std::mt19937_64& generator) {
    std::ostringstream text;
    text << generator;
    return text.str();
}

}  // namespace

struct Trainer::Impl {
    TrainingConfig config;
    TrainOptions options;
    std::string hash;
    std::string graph_file;  // named by errors about the run (a diverging loss)
    Dataset train, test;
    std::unique_ptr<TrainingStep> step;
    std::unique_ptr<Evaluator> evaluator;
    std::vector<std::unique_ptr<Callback>> callbacks;
    std::mt19937_64 shuffle_rng;
    std::vector<std::size_t> order;               // this epoch's sample order (read by `loader`)
    std::unique_ptr<detail::BatchLoader> loader;  // the next batch, gathered in the background

    Impl(const ModelFile& model, const OpRegistry& ops, const TrainOptions& o)
        : config(*model.training),
          options(o),
          hash(graph_hash(model.graph)),
          graph_file(model.graph.file) {
        if (o.epochs) config.epochs = *o.epochs;
        if (o.batch_size) config.batch_size = *o.batch_size;
        if (o.seed) config.seed = *o.seed;
        if (o.precision) config.precision = *o.precision;
        if (config.precision == kPrecisionInt8)
            throw UsageError(
                "precision int8 is for inference (eval, predict, bench): train in f32 or bf16, "
                "then make an int8 model with opgraph quantize");
        const ResolvedPrecision precision = resolve_precision(config.precision);
        config.precision = dtype_name(precision.dtype);
        if (o.out) *o.out << "Precision: " << precision.note << "\n";
        const TrainingItems builtin;  // the item types when the caller gave none
        const TrainingItems& items = o.items != nullptr ? *o.items : builtin;
        // First the program, whose memory plan is checked before anything large is allocated.
        step = std::make_unique<TrainingStep>(model.graph, config, ops, config.batch_size,
                                              options.threads, config.seed, options.check_numerics,
                                              &items.optimizers);
        train = load_dataset(items.datasets, config.dataset, Split::train, o.data_root);
        check_fits_model(train, model.graph, step->classes());
        if (o.train_limit > 0 && o.train_limit < train.size()) {
            train.labels.resize(static_cast<std::size_t>(o.train_limit));
            train.images.resize(
                static_cast<std::size_t>(o.train_limit * element_count(train.sample_shape)));
        }
        if (config.validation != "none") {
            test = load_dataset(items.datasets, config.dataset, Split::test, o.data_root);
            check_splits(train, test);
        }
        callbacks = make_callbacks(config.callbacks, items.callbacks, items.schedules);
        shuffle_rng.seed(config.seed);
        loader = std::make_unique<detail::BatchLoader>(train, config.batch_size);
        if (!test.labels.empty())
            evaluator =
                std::make_unique<Evaluator>(model.graph, config.loss, ops, config.batch_size,
                                            options.threads, &step->parameters(), precision.dtype);
    }

    // --- checkpoints -------------------------------------------------------------------

    TrainingState capture(std::int64_t epoch, std::int64_t batch, double lr,
                          const std::string& shuffle_state, double loss_sum, std::int64_t correct,
                          std::int64_t seen) const {
        TrainingState s;
        s.epoch = epoch;
        s.batch = batch;
        s.iteration = step->iteration();
        s.learning_rate = lr;
        s.shuffle_state = shuffle_state;
        s.loss_sum = loss_sum;
        s.correct = correct;
        s.seen = seen;
        for (std::size_t i = 0; i < callbacks.size(); ++i)
            for (const auto& [key, value] : callbacks[i]->state())
                s.callbacks[std::to_string(i) + "." + key] = value;
        s.graph_hash = hash;
        Program& program = step->program();
        for (const std::string& p : program.params())
            s.params.push_back({p, program.shape(p), program.read(p)});
        const ParameterStore& store = step->parameters();
        for (const std::string& p : step->trained_params())
            for (const std::string& slot : step->optimizer().slot_names()) {
                const ParameterStore::Entry& e = store.at(optimizer_slot_name(slot, p));
                s.slots.push_back({optimizer_slot_name(slot, p), e.shape,
                                   std::vector<float>(e.data(), e.data() + e.size())});
            }
        return s;
    }

    void save(const TrainingState& state) const {
        if (options.checkpoint_dir.empty()) return;
        save_checkpoint(options.checkpoint_dir, state);
    }

    // Puts a checkpoint's tensors and counters back; names every tensor that does not match.
    void restore(const TrainingState& s) {
        const std::filesystem::path file = options.checkpoint_dir / kCheckpointFile;
        Program& program = step->program();
        TensorFile content;
        content.tensors = s.params;
        content.tensors.insert(content.tensors.end(), s.slots.begin(), s.slots.end());
        std::vector<std::pair<std::string, Shape>> expected;
        for (const std::string& p : program.params()) expected.emplace_back(p, program.shape(p));
        const std::vector<std::string> slot_names = step->optimizer().slot_names();
        for (const std::string& p : step->trained_params())
            for (const std::string& slot : slot_names)
                expected.emplace_back(optimizer_slot_name(slot, p), program.shape(p));
        require_tensors(content, expected, file.string() + " (checkpoint)", "tensors");
        for (const std::string& p : program.params()) program.write(p, content.find(p)->data);
        for (const std::string& p : step->trained_params())
            for (const std::string& slot : slot_names) {
                const std::vector<float>& saved = content.find(optimizer_slot_name(slot, p))->data;
                std::copy(saved.begin(), saved.end(),
                          step->parameters().at(optimizer_slot_name(slot, p)).data());
            }
        step->set_iteration(s.iteration);
        std::istringstream rng(s.shuffle_state);
        rng >> shuffle_rng;
        if (!rng)
            throw CheckpointError(file.string() + ": the shuffle generator state is malformed");
        // Version 1 numbered the callbacks without the lr_scheduler (it had no state then).
        std::size_t v1_index = 0;
        for (std::size_t i = 0; i < callbacks.size(); ++i) {
            std::size_t index = i;
            if (s.version == kCheckpointVersionBeforeLrCallback) {
                if (config.callbacks[i].callback.type == "lr_scheduler") {
                    callbacks[i]->restore({});
                    continue;
                }
                index = v1_index++;
            }
            std::map<std::string, double> own;
            const std::string prefix = std::to_string(index) + ".";
            for (const auto& [key, value] : s.callbacks)
                if (key.rfind(prefix, 0) == 0) own[key.substr(prefix.size())] = value;
            callbacks[i]->restore(own);
        }
    }

    // --- the loop ----------------------------------------------------------------------

    std::vector<EpochLog> fit() {
        std::vector<EpochLog> history;
        std::ostream* out = options.out;
        double lr = step->optimizer().initial_learning_rate();
        std::optional<TrainingState> resumed;
        if (options.resume) {
            if (options.checkpoint_dir.empty())
                throw CheckpointError("resume: no checkpoint directory given");
            resumed = load_latest_checkpoint(options.checkpoint_dir, out ? out : &std::cerr);
            if (resumed->graph_hash != hash && out)
                *out << "warning: the graph changed since the checkpoint was written (hash "
                     << resumed->graph_hash << ", now " << hash << ")\n";
        }
        CallbackContext context{step->program(), lr, out, evaluator != nullptr,
                                resumed.has_value()};
        for (const auto& callback : callbacks) callback->on_train_begin(context);
        std::int64_t first_epoch = 0, first_batch = 0;
        double loss_sum = 0;
        std::int64_t correct = 0, seen = 0;
        if (resumed) {
            restore(*resumed);
            first_epoch = resumed->epoch;
            first_batch = resumed->batch;
            lr = resumed->learning_rate;
            loss_sum = resumed->loss_sum;
            correct = resumed->correct;
            seen = resumed->seen;
            if (out)
                *out << "Resuming from " << (options.checkpoint_dir / kCheckpointFile).string()
                     << ": epoch " << first_epoch + 1 << ", batch " << first_batch << ", step "
                     << step->iteration() << "\n";
        }
        loader->wait();
        order.resize(static_cast<std::size_t>(train.size()));
        bool stop = false;
        for (std::int64_t epoch = first_epoch; epoch < config.epochs && !stop; ++epoch) {
            const bool continuing = epoch == first_epoch && first_batch > 0;
            EpochLog log;
            log.epoch = epoch + 1;
            if (out) *out << "Epoch " << log.epoch << "/" << config.epochs << "\n";
            if (!continuing)
                for (const auto& callback : callbacks)
                    callback->on_epoch_begin({log.epoch, step->iteration()}, context);
            const std::string shuffle_state = generator_state(shuffle_rng);
            loader->wait();  // no gathering may read `order` while it is reshuffled
            std::iota(order.begin(), order.end(), 0);
            if (config.shuffle) std::shuffle(order.begin(), order.end(), shuffle_rng);
            if (!continuing) loss_sum = 0, correct = 0, seen = 0;
            const auto start = std::chrono::steady_clock::now();
            ProgressBar bar(out ? *out : std::cout, train.size(), out && options.interactive);
            std::int64_t batch = continuing ? first_batch : 0;
            const auto batch_at = [&](std::int64_t first) {
                if (first < train.size())
                    loader->prefetch(order, first,
                                     std::min(config.batch_size, train.size() - first));
            };
            batch_at(batch * config.batch_size);
            for (std::int64_t first = batch * config.batch_size; first < train.size() && !stop;
                 first += config.batch_size, ++batch) {
                const detail::Batch& data = loader->take();
                const std::int64_t count = data.count;
                batch_at(first + count);  // gathered while this batch trains
                for (const auto& callback : callbacks)
                    callback->on_batch_begin({log.epoch, batch, step->iteration()}, context);
                const StepResult result =
                    step->run(data.images.data(), data.labels.data(), count, lr);
                loss_sum += result.loss * double(count);
                correct += result.correct;
                seen += count;
                if (out)
                    bar.update(seen, {{"loss", loss_sum / double(seen)},
                                      {"acc", double(correct) / double(seen)}});
                const BatchLog batch_log{.epoch = log.epoch,
                                         .batch = batch,
                                         .step = step->iteration(),
                                         .loss = result.loss,
                                         .mean_loss = loss_sum / double(seen),
                                         .mean_accuracy = double(correct) / double(seen)};
                for (const auto& callback : callbacks)
                    stop = callback->on_batch_end(batch_log, context) || stop;
                if (!std::isfinite(result.loss)) diverged(result.loss, epoch, batch + 1);
                const bool last = first + count >= train.size();
                if (last) break;  // the epoch's end is saved after validation
                const int signal = interrupt_signal();
                if (signal != 0 || (options.checkpoint_every > 0 &&
                                    step->iteration() % options.checkpoint_every == 0))
                    save(capture(epoch, batch + 1, lr, shuffle_state, loss_sum, correct, seen));
                if (signal != 0) interrupted(signal, epoch, batch + 1);
            }
            log.learning_rate = lr;
            log.loss = loss_sum / double(seen);
            log.accuracy = double(correct) / double(seen);
            NamedMetrics metrics{{"loss", log.loss}, {"acc", log.accuracy}};
            if (evaluator) {
                const Metrics val = evaluator->evaluate(test);
                log.val_loss = val.loss;
                log.val_accuracy = val.accuracy;
                metrics.push_back({"val_loss", val.loss});
                metrics.push_back({"val_acc", val.accuracy});
            }
            log.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (out) bar.finish(metrics);
            history.push_back(log);
            for (const auto& callback : callbacks)
                stop = callback->on_epoch_end(log, context) || stop;
            save(capture(epoch + 1, 0, lr, generator_state(shuffle_rng), 0, 0, 0));
            if (const int signal = interrupt_signal(); signal != 0)
                interrupted(signal, epoch + 1, 0);
        }
        for (const auto& callback : callbacks) callback->on_train_end(context);
        // The epoch-end checkpoint holds the final weights (restore_best_weights restores
        // before it is saved), and a training checkpoint is a weights file too.
        if (!options.checkpoint_dir.empty() && out && !history.empty())
            *out << "Final weights: " << (options.checkpoint_dir / kCheckpointFile).string()
                 << " (eval and predict take it as --weights)\n";
        return history;
    }

    // The loss of batch `batch` (from 1) of epoch `epoch` (from 0) was not finite: the
    // weights are no longer usable and nothing more is saved.
    [[noreturn]] void diverged(double loss, std::int64_t epoch, std::int64_t batch) const {
        std::string message = graph_file + ": epoch " + std::to_string(epoch + 1) + ", batch " +
                              std::to_string(batch) + ": the loss is " +
                              (std::isnan(loss) ? "nan" : "infinite") + "; training stopped";
        const std::filesystem::path latest = options.checkpoint_dir / kCheckpointFile;
        if (!options.checkpoint_dir.empty() && std::filesystem::exists(latest))
            message += " (the last good checkpoint, " + latest.string() + ", is kept)";
        throw NumericalError(message);
    }

    [[noreturn]] void interrupted(int signal, std::int64_t epoch, std::int64_t batch) const {
        std::string message = std::string(signal == SIGINT ? "SIGINT" : "SIGTERM") +
                              " received: stopped at epoch " + std::to_string(epoch + 1) +
                              ", batch " + std::to_string(batch);
        if (options.checkpoint_dir.empty())
            message += "; no checkpoint directory, nothing saved";
        else
            message += "; checkpoint saved to " +
                       (options.checkpoint_dir / kCheckpointFile).string() +
                       " (continue with --resume)";
        throw Interrupted(signal, message);
    }
};

Trainer::Trainer(const ModelFile& model, const OpRegistry& ops, const TrainOptions& options) {
    if (!model.training) {
        Diagnostics d;
        d.add({model.graph.file, 0, 0}, {}, "training", "the file has no training section");
        d.throw_if_any();
    }
    impl_ = std::make_unique<Impl>(model, ops, options);
}

Trainer::~Trainer() = default;

std::vector<EpochLog> Trainer::fit() { return impl_->fit(); }

}  // namespace opgraph
