// Training checkpoints: everything a resumed run needs to continue exactly where the last one
// stopped, in one safetensors file that other tools can read.
//
// Tensors: every parameter of the program by its value name ("conv2d/kernel", batch-norm
// statistics included) and every optimizer slot as "optimizer/<slot>/<parameter>"
// (Keras's slot names: m, v, momentum, ...). Metadata: "format" = "opgraph checkpoint",
// "version" = kCheckpointVersion, "graph_hash", and the scalar state (epoch, batch in
// epoch, optimizer step, learning rate, the shuffle generator, the epoch's running metrics,
// the callbacks' state). Every tensor and the metadata carry a CRC-32 (tensor_file.hpp).
//
// A directory holds two: checkpoint.safetensors (the latest) and checkpoint.prev.safetensors
// (the one before). Saving writes a temporary file, fsyncs it, hard-links the current latest
// to .prev, then renames the new file over the latest and fsyncs the directory: at every
// instant both names hold a complete checkpoint (or do not exist yet).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "opgraph/io/tensor_file.hpp"
#include "opgraph/ir/graph.hpp"

namespace opgraph {

// 2: the callbacks' state is keyed by each callback's position in the training section
// ("<index>.<key>"); version 1, still read, did not count the lr_scheduler.
inline constexpr const char* kCheckpointVersion = "2";
inline constexpr const char* kCheckpointVersionBeforeLrCallback = "1";
inline constexpr const char* kCheckpointFormat = "opgraph checkpoint";  // metadata "format"
inline constexpr const char* kOptimizerSlotPrefix = "optimizer/";       // slot tensors' names
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";
inline constexpr const char* kPreviousCheckpointFile = "checkpoint.prev.safetensors";

struct TrainingState {
    std::string version = kCheckpointVersion;  // as read; what save_checkpoint writes
    std::int64_t epoch = 0;                    // epochs completed
    std::int64_t batch = 0;      // batches completed of epoch `epoch` (0: at its start)
    std::int64_t iteration = 0;  // optimizer steps taken
    double learning_rate = 0;    // the rate the next batch uses
    std::string shuffle_state;   // the shuffle generator as of the start of epoch `epoch`
    double loss_sum = 0;         // the running metrics of epoch `epoch` so far
    std::int64_t correct = 0;
    std::int64_t seen = 0;
    std::map<std::string, double> callbacks;  // callback state, "<index>.<key>" (see version)
    std::string graph_hash;
    std::vector<NamedTensor> params;  // value names
    std::vector<NamedTensor> slots;   // "optimizer/<slot>/<parameter>"
};

// Writes `state` as <dir>/checkpoint.safetensors, keeping the previous one as
// checkpoint.prev.safetensors; creates `dir`. Throws CheckpointError naming the file.
void save_checkpoint(const std::filesystem::path& dir, const TrainingState& state);

// Reads and verifies one checkpoint file: format, version, checksums, every scalar present
// and well-formed. Throws CheckpointError naming the file (and the tensor or key).
TrainingState read_checkpoint(const std::filesystem::path& file);

// The newest readable checkpoint of `dir`: the latest, or when it is missing or corrupt the
// previous one (the reason printed to `warnings`). Throws CheckpointError when neither can
// be read, giving both reasons.
TrainingState load_latest_checkpoint(const std::filesystem::path& dir, std::ostream* warnings);

// A fingerprint of a graph's structure: nodes (name, op, inputs, attributes, shapes) and
// inputs, as 16 hex digits (FNV-1a, 64 bit). Equal graphs give equal hashes.
std::string graph_hash(const Graph& graph);

}  // namespace opgraph
