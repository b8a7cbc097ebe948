// The memory plan pass: the bytes a Program of a graph needs, worked out from the graph alone
// before anything is allocated, and the buffer sharing behind it. A value whose last use
// happens-before another value's producer (in the task graph, so that it holds however the
// flow graph schedules the tasks) may hand its buffer on to it.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"

namespace opgraph {

// One value of a program, as buffer sharing sees it.
struct PlannedValue {
    std::int64_t bytes = 0;
    int producer = -1;         // the task writing it; -1: written from outside (graph inputs)
    std::vector<int> readers;  // the tasks reading it
    bool persistent = false;   // never shared: inputs, outputs, parameters, gradients
    // The value (an input of its producer, OpDef::in_place) it may be written over: it takes
    // that value's buffer when its producer is the last task using it. -1: none.
    int overwrites = -1;
};

// Which shared buffer each value lives in.
struct BufferAssignment {
    std::vector<int> buffer_of;              // per value; -1 for persistent ones
    std::vector<std::int64_t> buffer_bytes;  // per buffer: its largest tenant
    std::int64_t bytes() const;              // all buffers together
};

// Assigns buffers to the non-persistent values, visited in producer order. A value takes the
// buffer of the value it overwrites when that value still lives there and every other task
// using it happens-before its producer (in place); else a buffer whose current tenant's
// producer and readers all happen-before its producer (`after[t]` lists the tasks task t
// waits for, pointing backwards): the smallest such buffer large enough, else the largest
// one, grown. Throws std::invalid_argument on a non-persistent
// value without a producer or an `after` that points forwards.
BufferAssignment share_buffers(const std::vector<PlannedValue>& values,
                               const std::vector<std::vector<std::size_t>>& after);

// One line of a plan's "largest contributors".
struct MemoryUse {
    std::string name;  // "conv2d/kernel", "conv2d" (its output)
    std::string kind;  // "parameter", "optimizer state", "input", "activation"
    std::int64_t bytes = 0;
};

struct MemoryPlan {
    std::int64_t batch_size = 0;
    bool training = false;
    std::int64_t parameter_bytes = 0;            // parameters and batch-norm statistics
    std::int64_t optimizer_bytes = 0;            // optimizer slots of the trainable parameters
    std::int64_t input_bytes = 0;                // graph inputs (data, targets)
    std::int64_t activation_bytes = 0;           // node outputs, buffers shared
    std::int64_t unshared_activation_bytes = 0;  // node outputs, one buffer each
    std::vector<MemoryUse> largest;              // the largest single contributors, largest first
    std::int64_t total() const {
        return parameter_bytes + optimizer_bytes + input_bytes + activation_bytes;
    }
};

struct MemoryPlanOptions {
    std::int64_t batch_size = 1;
    bool training = false;
    int optimizer_slots = 0;  // float arrays per trainable parameter (Adam: 2)
    // Values that must keep their own buffer besides the graph's inputs and outputs (the
    // gradients the optimizer reads).
    std::set<std::string> keep;
    // Parameters already allocated elsewhere (a shared parameter store): not counted again.
    std::set<std::string> existing_params;
};

// Plans `graph` (shapes inferred) as a Program compiled for options.batch_size would hold
// it, every value as f32 in its plain layout (blocked layouts can pad channels a little; a
// saved workspace or mask takes fewer bytes). What forward saves for backward (OpDef::saved)
// is in it as values; kernel-private buffers (oneDNN scratchpads, inputs reordered into a
// primitive's layout, inference weights) are not. Throws GraphError naming the node whose op is
// unknown.
MemoryPlan plan_memory(const Graph& graph, const OpRegistry& ops, const MemoryPlanOptions& options);

}  // namespace opgraph
