// The quantize pass: int8 inference from calibrated activation ranges, as PyTorch's FX
// post-training static quantization and ONNX Runtime's QDQ models.
//
// A quantized value holds integers q of type u8 (values never below 0, e.g. after a ReLU) or
// s8 with one scale per tensor: real = scale * q (symmetric, no zero point). Weights are s8
// with one scale per output channel, computed by the kernel from the (batch-norm folded) f32
// weights when it prepares its constants, so that the file keeps f32 weights.
//
// Nodes whose op rescales (OpDef::int8 = Int8Role::rescales: conv2d, dense) read an integer
// input and write u8 or s8 when a reader computes on integers too, f32 otherwise (the
// requantization is the primitive's output scale, its activation a post-op). Nodes of an op
// that passes scales through (Int8Role::keeps_scale: pooling, flatten, reshape) compute on
// integers when their input is an integer value and their output feeds integer nodes. A cast
// goes wherever a reader needs another type: "<value>/to_u8" (or to_s8) with the value's scale
// before the first integer layer, "<value>/to_f32" before softmax, a residual add or any op
// without integer kernels.
#pragma once

#include <map>
#include <string>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// The range a value took over the calibration data (after clipping outliers, with the
// percentile method): min <= max.
struct ActivationRange {
    float min = 0;
    float max = 0;
};

// Value name ("conv2d_1", "image") -> its range, for the values of the f32 inference graph
// (the inference pipeline's graph before this pass).
using ActivationRanges = std::map<std::string, ActivationRange>;

// The quantized type of a value of range `range` (u8 when min >= 0, else s8) and its scale
// (max / 255, or max(|min|, |max|) / 127; 1 for a range of zeros).
struct Quantization {
    DType type = DType::u8;
    float scale = 1;
};
Quantization quantization_of(const ActivationRange& range);

// Gives the nodes described above integer types, their outputs' scales (Node::output_scales)
// and the casts. Nodes pinned with `precision:`, nodes not of type f32, and nodes whose input
// has no range stay as they are. Returns the graph with shapes and types inferred; throws
// GraphError when that fails.
Graph quantize_int8(const Graph& graph, const ActivationRanges& ranges, const OpRegistry& ops);

}  // namespace opgraph
