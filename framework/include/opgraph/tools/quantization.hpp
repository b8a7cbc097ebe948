// Post-training static quantization, what `opgraph quantize` runs: the activations of a
// trained model calibrated on its first training samples, written with its f32 weights as a
// quantized weights file (opgraph/runtime/weights.hpp), and the test accuracy of the int8
// model against the f32 one (the calibration itself: calibrate(), opgraph/runtime/
// calibration.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/passes/quantization.hpp"
#include "opgraph/runtime/calibration.hpp"
#include "opgraph/runtime/threads.hpp"
#include "opgraph/train/datasets.hpp"
#include "opgraph/train/evaluation.hpp"

namespace opgraph {

struct QuantizeOptions {
    std::filesystem::path weights;  // the trained f32 weights (or a checkpoint)
    std::filesystem::path output;   // the quantized weights file to write
    std::filesystem::path data_root;
    std::int64_t samples = 1024;  // the first training samples calibrate, >= 1
    CalibrationMethod method = CalibrationMethod::minmax;
    std::int64_t batch_size = 128;
    ThreadConfig threads;
    const DatasetRegistry* datasets = nullptr;  // the dataset types; null: the built-in ones
};

struct QuantizeReport {
    std::int64_t samples = 0;    // calibrated on
    std::size_t ranges = 0;      // values calibrated
    std::size_t int8_nodes = 0;  // nodes that read integers
    std::size_t casts = 0;       // conversions between f32 and integers
    Metrics f32, int8;           // on the test set
};

// Calibrates, writes options.output and evaluates both models. Throws GraphError (no
// training section: no data), DataError, CheckpointError, UsageError for samples < 1.
QuantizeReport quantize_model(const ModelFile& model, const OpRegistry& ops,
                              const QuantizeOptions& options);

// What `opgraph quantize` prints: the file written, what was quantized, both accuracies and
// the change.
std::string format_quantize_report(const QuantizeReport& report, const QuantizeOptions& options);

}  // namespace opgraph
