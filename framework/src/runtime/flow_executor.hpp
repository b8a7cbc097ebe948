// Internal: runs a fixed set of tasks with dependencies on a oneTBB flow graph, one
// continue_node per task, inside a task_arena of ThreadConfig::inter_op threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/runtime/threads.hpp"

namespace opgraph::detail {

struct FlowTask {
    std::string node;
    std::string op;
    std::string where;   // the node's source location ("file:line:column"), if any
    std::string plugin;  // the plugin of the op, if any
    std::function<void()> body;
    std::vector<std::size_t> after;  // indices of tasks that must finish first
};

class FlowExecutor {
public:
    // Builds the flow graph once. `tasks` must be in an order where `after` points backwards.
    FlowExecutor(std::vector<FlowTask> tasks, const ThreadConfig& threads);
    ~FlowExecutor();
    // Runs every task once. A task that throws cancels the rest; the first error is rethrown
    // (a NumericalError as it is, anything else as an ExecutionError naming the task's node
    // and op), and the graph is reset for the next run.
    void run();
    // Wall time each task's body took, summed over the runs since the last reset, in task
    // order (timing costs two clock reads per task).
    std::vector<double> task_seconds() const;
    std::int64_t runs() const;  // runs since the last reset
    void reset_times();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace opgraph::detail
