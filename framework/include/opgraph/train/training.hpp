// The training loop, as Keras's fit: epochs of shuffled mini-batches (the last one smaller
// when the data does not divide; the indices reshuffled from 0..n-1 each epoch), a
// TrainingStep per batch (forward, backward and optimizer updates on one flow graph), the
// learning-rate scheduler callback, validation on the test set after
// each epoch, Keras's progress output, and the other callbacks of the training section
// (callbacks.hpp: checkpoint, early stopping, CSV logger, terminate on NaN, reduce LR on
// plateau), which may stop training early or change the learning rate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/runtime/threads.hpp"

namespace opgraph {

struct TrainingItems;  // opgraph/train/training_items.hpp

struct TrainOptions {
    // Overrides of the training section (absent: the file's values).
    std::optional<std::int64_t> epochs;
    std::optional<std::int64_t> batch_size;
    std::optional<std::uint64_t> seed;
    // f32, bf16 or auto (resolve_precision; the run prints what it chose).
    std::optional<std::string> precision;
    std::int64_t train_limit = 0;  // use only the first N training samples (0: all)
    ThreadConfig threads;
    std::filesystem::path data_root = "data";
    std::ostream* out = nullptr;  // progress and logs; null: silent
    bool interactive = false;     // redraw the progress bar in place (a terminal)
    // Training checkpoints (checkpoint.hpp) go to this directory (empty: none): after every
    // epoch, every `checkpoint_every` optimizer steps when > 0, and when a SIGINT / SIGTERM
    // is recorded (interrupt.hpp; the run then throws Interrupted at that step boundary).
    std::filesystem::path checkpoint_dir;
    std::int64_t checkpoint_every = 0;
    // Continue from the newest checkpoint of checkpoint_dir: weights, optimizer state, epoch
    // and batch, learning rate, shuffle order, running metrics and callback state, so that
    // with the same seed and threads the result equals an uninterrupted run's, bit for bit.
    bool resume = false;
    // Check every kernel's outputs for NaN / Inf (ProgramOptions::check_numerics): the run
    // stops with NumericalError at the first node producing one.
    bool check_numerics = false;
    // The optimizer, schedule and callback types the model file was read against (a
    // session's training_items(), plugins' types included); null: the built-in ones.
    const TrainingItems* items = nullptr;
};

// Where `opgraph train` keeps checkpoints unless told: checkpoints/<graph file's stem>.
std::filesystem::path default_checkpoint_dir(const std::filesystem::path& graph_file);

struct EpochLog {
    std::int64_t epoch = 0;  // from 1
    double learning_rate = 0;
    double loss = 0, accuracy = 0;          // running means over the epoch's batches
    double val_loss = 0, val_accuracy = 0;  // on the test set (0 when validation: none)
    double seconds = 0;
};

class Trainer {
public:
    // Builds the training graph (model + loss + autodiff) and compiles it; loads the data;
    // builds the callbacks. Throws GraphError, DataError.
    Trainer(const ModelFile& model, const OpRegistry& ops, const TrainOptions& options);
    ~Trainer();

    // Runs every epoch (from the checkpoint's position when resuming), or until a callback
    // stops training; returns the per-epoch history of this run (an epoch stopped by a bad
    // batch is included). Throws CheckpointError when a checkpoint cannot be read, does not
    // match the graph, or a file cannot be written; Interrupted after saving on a signal;
    // NumericalError as soon as a batch's loss is NaN or infinite (after the callbacks saw
    // it), writing nothing more: the last checkpoint stays the last good one.
    std::vector<EpochLog> fit();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace opgraph
