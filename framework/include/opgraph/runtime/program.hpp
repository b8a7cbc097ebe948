// A Program: a graph compiled for one batch size. Every kernel's primitives and every
// value's memory are created here, once; run() executes one step on a oneTBB flow graph
// (one flow-graph node per kernel, edges for data dependencies, independent branches in
// parallel up to ThreadConfig::inter_op).
#pragma once

#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/ir/graph.hpp"
#include "opgraph/op/op_registry.hpp"
#include "opgraph/runtime/parameter_store.hpp"
#include "opgraph/runtime/threads.hpp"

namespace opgraph {

// A kernel failed while running: a bug in opgraph or in the op's plugin. Names where the node
// is written (when known), the node, the op and its plugin; the Program remains usable.
class ExecutionError : public Error {
public:
    ExecutionError(std::string node, std::string op, const std::string& message,
                   const std::string& where = {}, const std::string& plugin = {})
        : Error(ExitCode::internal,
                (where.empty() ? "" : where + ": ") + "node '" + node + "' (op '" + op + "'" +
                    (plugin.empty() ? "" : " of plugin '" + plugin + "'") + ") failed: " + message),
          node_(std::move(node)),
          op_(std::move(op)) {}
    const std::string& node() const { return node_; }
    const std::string& op() const { return op_; }

private:
    std::string node_;
    std::string op_;
};

// Where one kernel's time went (Program::profile).
struct KernelProfile {
    std::string node;
    std::string op;
    std::string implementation;  // Kernel::implementation(), e.g. "jit:avx512_core"
    double seconds = 0;          // wall time summed over the runs since the last reset
    std::int64_t reorders = 0;   // reorders it executed over those runs (Kernel::reorders())
};

// An in-place update of one parameter from its gradient (an optimizer step): the parameter's
// name, its floats and its gradient's floats (both row-major over the parameter's shape) and
// their count. Called on the flow graph; updates of different parameters may run at once.
using ParamUpdate = std::function<void(const std::string& param, float* value,
                                       const float* gradient, std::size_t count)>;

// The op name under which update tasks appear in Program::profile() and execution errors.
inline constexpr const char* kUpdateOp = "update";

struct ProgramOptions {
    std::int64_t batch_size = 1;
    bool training = false;
    ThreadConfig threads;
    std::uint64_t seed = 0;  // parameter initialisation
    // Parameter -> its gradient value (BackwardGraph::param_grads). With `update` set, each
    // step runs update() for every such parameter as a task of the flow graph, as soon as
    // the gradient is complete and no kernel of the step still reads the parameter.
    std::map<std::string, std::string> param_gradients;
    ParamUpdate update;
    // After every kernel, check its outputs for NaN / Inf and throw NumericalError naming the
    // node, its source location, the output's shape and the first bad element's index.
    bool check_numerics = false;
    // Node outputs whose lifetimes do not overlap in the task graph share buffers (the memory
    // plan, opgraph/passes/memory_plan.hpp); afterwards only graph inputs, graph outputs,
    // parameters and the gradients in `param_gradients` can be read or written.
    bool share_buffers = false;
    // Float arrays per trainable parameter the caller allocates for the optimizer (Adam: 2),
    // counted by the memory check.
    int optimizer_slots = 0;
    // Bytes the program may use; 0: what the machine has available (available_memory_bytes).
    std::int64_t memory_limit = 0;
    // The store the parameters live in, shared with other programs (created and initialised
    // there when absent); null: the program keeps a store of its own. It must outlive the
    // program. A write() of a parameter, or ParameterStore::touch() after writing its floats
    // directly, makes every program bound to it refresh its constants before its next step.
    ParameterStore* parameters = nullptr;
};

class Program {
public:
    // Compiles `graph` (shapes inferred; backward nodes included if any) as it is: inference
    // rewrites are passes the caller runs first (inference_pipeline). Parameters are
    // initialised from their initialisers and `options.seed`. Before allocating anything,
    // refuses with MemoryError a graph whose memory plan exceeds the memory available (and
    // reports a failed allocation the same way). Throws GraphError naming the node when an op
    // has no kernel or rejects its configuration, or a folded node is compiled for training.
    Program(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options);
    ~Program();
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;

    // Values: graph inputs, node outputs ("n", "n:1") and parameters ("n/kernel").
    bool has_value(const std::string& name) const;
    const Shape& shape(const std::string& name) const;  // concrete, IR order
    const dnnl::memory& memory(const std::string& name) const;
    // Copies floats in or out in the plain layout (IR order, row-major), reordering from or
    // to the value's own layout (a plain copy when it is the plain one). Throws
    // std::invalid_argument on an unknown name or a wrong count.
    void write(const std::string& name, const float* data, std::size_t count);
    void read(const std::string& name, float* out, std::size_t count) const;
    void write(const std::string& name, const std::vector<float>& data);
    std::vector<float> read(const std::string& name) const;
    // Parameter value names, in node order.
    const std::vector<std::string>& params() const;

    // One step. Throws ExecutionError naming the failing node; the next run() starts clean.
    // A step with parameter updates touches the parameter store (ParameterStore::touch).
    void run();
    // The step counter kernels see (dropout masks depend on it); run() does not change it.
    void set_step(std::uint64_t step);
    std::uint64_t step() const;

    const ThreadConfig& threads() const;
    // "node: implementation" for every kernel (e.g. "conv2d: jit:avx512_core").
    std::vector<std::string> implementations() const;
    // Per-kernel wall time since construction or reset_profile(), in execution order, then
    // one entry per parameter update task (op "update", node = the parameter), and the number
    // of run() calls it covers.
    std::vector<KernelProfile> profile() const;
    std::int64_t profiled_runs() const;
    void reset_profile();
    // Bytes of the values the program allocated (graph inputs, node outputs, parameters; the
    // shared buffers once each); buffers private to kernels (workspaces, reorder targets) are
    // not included.
    std::int64_t allocated_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace opgraph
