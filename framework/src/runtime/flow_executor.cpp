#include "flow_executor.hpp"

#include <omp.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <utility>

#include "opgraph/runtime/program.hpp"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace opgraph::detail {

namespace flow = oneapi::tbb::flow;

namespace {

// ThreadSanitizer sees no synchronisation inside libtbb (not instrumented): the task queues
// and the wait are invisible to it. These tell it the edges the flow graph guarantees -- run()
// before every task, a task before the tasks after it -- and nothing more, so that races
// between tasks that may run at once are still reported. They compile to nothing otherwise.
void tsan_release([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
    __tsan_release(const_cast<void*>(sync));
#endif
}

void tsan_acquire([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(const_cast<void*>(sync));
#endif
}

}  // namespace

struct FlowExecutor::Impl {
    std::vector<FlowTask> tasks;
    ThreadConfig threads;
    oneapi::tbb::task_arena arena;
    std::unique_ptr<flow::graph> graph;
    std::unique_ptr<flow::broadcast_node<flow::continue_msg>> start;
    std::vector<std::unique_ptr<flow::continue_node<flow::continue_msg>>> nodes;
    std::mutex error_mutex;
    std::exception_ptr error;     // the first failure of the running step
    std::vector<double> seconds;  // per task, summed over runs (each task writes only its own)
    std::int64_t runs = 0;

    Impl(std::vector<FlowTask> t, const ThreadConfig& config)
        : tasks(std::move(t)),
          threads(config.resolved()),
          arena(threads.inter_op),
          seconds(tasks.size(), 0.0) {
        arena.execute([&] { build(); });
    }

    void build() {
        graph = std::make_unique<flow::graph>();
        start = std::make_unique<flow::broadcast_node<flow::continue_msg>>(*graph);
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            nodes.push_back(std::make_unique<flow::continue_node<flow::continue_msg>>(
                *graph, [this, i](const flow::continue_msg&) {
                    execute(i);
                    return flow::continue_msg{};
                }));
            if (tasks[i].after.empty()) flow::make_edge(*start, *nodes.back());
            for (std::size_t dep : tasks[i].after) flow::make_edge(*nodes[dep], *nodes.back());
        }
    }

    void execute(std::size_t i) {
        tsan_acquire(&threads);  // released by run()
        for (std::size_t dep : tasks[i].after) tsan_acquire(&tasks[dep]);
        struct Done {  // however the task ends
            const void* sync;
            ~Done() { tsan_release(sync); }
        } done{&tasks[i]};
        {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (error) return;  // an earlier task failed: skip the rest of this step
        }
        // oneDNN's OpenMP runtime reads the calling thread's setting.
        omp_set_num_threads(threads.intra_op);
        try {
            const auto start = std::chrono::steady_clock::now();
            tasks[i].body();
            seconds[i] +=
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } catch (const NumericalError&) {
            fail(std::current_exception());  // already names the node: passed on as it is
        } catch (const std::exception& e) {
            const FlowTask& t = tasks[i];
            fail(
                std::make_exception_ptr(ExecutionError(t.node, t.op, e.what(), t.where, t.plugin)));
        }
    }

    // Waits until every task has finished. Under ThreadSanitizer, also shows it the
    // happens-before edge the wait gives: every task releases the graph's wait counter when it
    // finishes, but the wait that acquires it runs inside libtbb, which is not instrumented, so
    // TSan would report each access of a task against the caller's next one (freeing the
    // graph, the next step) as a race. An instrumented read-modify-write of that counter
    // acquires those releases; reserve_wait() then release_wait() leave it as it was.
    void wait_for_all() {
        graph->wait_for_all();
#if defined(__SANITIZE_THREAD__)
        graph->reserve_wait();
        graph->release_wait();
#endif
    }

    void fail(std::exception_ptr failure) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::move(failure);
        graph->cancel();  // stop scheduling the rest; run() resets the graph
    }
};

FlowExecutor::FlowExecutor(std::vector<FlowTask> tasks, const ThreadConfig& threads)
    : impl_(std::make_unique<Impl>(std::move(tasks), threads)) {}

FlowExecutor::~FlowExecutor() {
    if (impl_) impl_->arena.execute([&] { impl_->wait_for_all(); });
}

void FlowExecutor::run() {
    impl_->error = nullptr;
    ++impl_->runs;
    tsan_release(&impl_->threads);
    impl_->arena.execute([&] {
        impl_->start->try_put(flow::continue_msg{});
        impl_->wait_for_all();
    });
    if (impl_->error) {
        std::exception_ptr failure = std::exchange(impl_->error, nullptr);
        impl_->arena.execute([&] { impl_->graph->reset(); });
        std::rethrow_exception(failure);
    }
}

std::vector<double> FlowExecutor::task_seconds() const { return impl_->seconds; }

std::int64_t FlowExecutor::runs() const { return impl_->runs; }

void FlowExecutor::reset_times() {
    impl_->seconds.assign(impl_->tasks.size(), 0.0);
    impl_->runs = 0;
}

}  // namespace opgraph::detail
