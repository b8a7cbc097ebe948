#include "opgraph/runtime/program.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include "flow_executor.hpp"
#include "numerics_check.hpp"
#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/format.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/passes/memory_plan.hpp"
#include "opgraph/runtime/memory_budget.hpp"
#include "opgraph/runtime/parameter_store.hpp"

namespace opgraph {

namespace {

constexpr const char* kUpdateImplementation = "opgraph:optimizer";  // profile() of updates

Shape concrete(Shape shape, std::int64_t batch) {
    for (std::int64_t& d : shape)
        if (d == kDynamicDim) d = batch;
    return shape;
}

[[noreturn]] void node_error(const Node& node, const std::string& message) {
    Diagnostics diagnostics;
    diagnostics.add(node.where, node.name, {}, message);
    throw GraphError(diagnostics.items());
}

}  // namespace

struct Program::Impl {
    struct Value {
        Shape shape;
        dnnl::memory memory;
        int producer = -1;    // kernel index, -1 for graph inputs and parameters
        float scale = 0;      // of a quantized value (Node::output_scales)
        bool shared = false;  // in a buffer of the memory plan (ProgramOptions::share_buffers)
    };
    // A kernel's bind() waits until the memory plan has given every value its buffer.
    struct PendingBind {
        Kernel* kernel;
        std::vector<dnnl::memory> inputs, outputs;
    };
    struct FreeBuffer {
        void operator()(void* p) const { std::free(p); }
    };

    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    std::map<std::string, Value> values;
    std::vector<std::string> params;
    std::vector<std::unique_ptr<Kernel>> kernels;
    std::vector<std::string> kernel_nodes;
    std::vector<std::string> kernel_ops;
    std::map<std::string, int> param_owner;  // parameter -> the kernel that declared it
    std::vector<std::string> updated;        // parameters with an update task, task order
    std::unique_ptr<detail::FlowExecutor> executor;
    std::vector<std::int64_t> reorders_at_reset;  // Kernel::reorders() at reset_profile()
    ThreadConfig threads;
    std::uint64_t step = 0;
    ParameterStore own_parameters;
    ParameterStore* store = &own_parameters;  // ProgramOptions::parameters, else our own
    bool constants_stale = true;      // a parameter was written since Kernel::prepare_constants
    std::uint64_t store_version = 0;  // store->version() at the last prepare_constants
    bool defer_storage = false;       // share_buffers: node outputs get storage after compiling
    std::vector<PendingBind> pending;
    std::vector<std::vector<std::string>> kernel_reads;  // per kernel: the values it reads
    // Outputs an in-place op (OpDef::in_place) may write over one of its inputs: output ->
    // input.
    std::map<std::string, std::string> overwrites;
    std::vector<std::unique_ptr<void, FreeBuffer>> buffers;
    std::int64_t buffer_bytes = 0;

    // The key of a value reference in `values`: "n" for "n" and "n:0", else the text.
    static std::string key_of(const std::string& text) {
        ValueRef ref;
        if (!parse_value_ref(text, ref))
            throw std::invalid_argument("bad value name '" + text + "'");
        return canonical_value(text);
    }

    const Value& value(const std::string& text) const {
        auto it = values.find(key_of(text));
        if (it == values.end())
            throw std::invalid_argument("no value '" + text + "' in the program");
        return it->second;
    }

    // value(text), refusing one whose buffer other values reuse within a step.
    const Value& readable(const std::string& text) const {
        const Value& v = value(text);
        if (v.shared)
            throw std::invalid_argument(
                "value '" + text +
                "' shares its buffer with other values (share_buffers): only "
                "graph inputs, outputs, parameters and gradients are kept after a step");
        return v;
    }

    Value& add_value(const std::string& name, Shape shape, const dnnl::memory::desc& desc,
                     int producer) {
        Value& v = values[name];
        v.shape = std::move(shape);
        v.shared = defer_storage && producer >= 0;
        v.memory =
            v.shared ? dnnl::memory(desc, engine, DNNL_MEMORY_NONE) : dnnl::memory(desc, engine);
        v.producer = producer;
        return v;
    }

    // The parameters of `node` (ParamSpec order) given its concrete input shapes, created and
    // initialised the first time they are asked for.
    std::vector<dnnl::memory> node_params(const Node& node, const OpDef& def,
                                          const std::vector<Shape>& input_shapes,
                                          const ProgramOptions& options,
                                          std::vector<Shape>* shapes = nullptr) {
        std::vector<dnnl::memory> memories;
        if (!def.params) return memories;
        const OpContext op_ctx(node.name, node.attrs, input_shapes);
        for (const ParamSpec& p : def.params(op_ctx)) {
            const std::string name = param_value_name(node.name, p.name);
            if (!values.count(name)) {
                // Bound to the store's floats: created and initialised there the first time.
                const ParameterStore::Entry& entry = store->ensure(name, p, options.seed);
                Value& v = values[name];
                v.shape = p.shape;
                v.memory = dnnl::memory(row_major_desc(p.shape), engine, entry.data());
                params.push_back(name);
                param_owner[name] = static_cast<int>(kernels.size());
            }
            if (shapes != nullptr) shapes->push_back(p.shape);
            memories.push_back(values.at(name).memory);
        }
        return memories;
    }

    const OpDef& op_of(const Node& node, const OpRegistry& ops) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) node_error(node, "unknown op '" + node.op + "'");
        return *def;
    }

    void compile_node(const Node& node, const OpRegistry& ops, const ProgramOptions& options,
                      std::vector<detail::FlowTask>& tasks) {
        const OpDef& def = op_of(node, ops);
        if (!def.kernel) node_error(node, "op '" + node.op + "' has no kernel");
        if (!options.training && def.inference_identity && node.inputs.size() == 1)
            node_error(node, "op '" + node.op +
                                 "' is the identity in inference: run the "
                                 "inference pipeline (its drop_identities pass) before compiling");
        KernelContext ctx{node, engine, options.training, {}, {},        {},
                          {},   &step,  options.seed,     {}, node.dtype};
        std::vector<dnnl::memory> inputs;
        std::vector<std::size_t> after;
        for (const std::string& in : node.inputs) {
            const Value& v = value(in);
            ctx.input_shapes.push_back(v.shape);
            ctx.input_descs.push_back(v.memory.get_desc());
            ctx.input_scales.push_back(v.scale);
            inputs.push_back(v.memory);
            if (v.producer >= 0) after.push_back(static_cast<std::size_t>(v.producer));
        }
        const int index = static_cast<int>(kernels.size());
        // Data outputs of type u8 / s8 hold quantized values; saved ones (masks, workspaces)
        // do not.
        const std::size_t data_outputs =
            node.output_shapes.size() - (node.saves ? def.saved.size() : 0);
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i) {
            ctx.output_shapes.push_back(concrete(node.output_shapes[i], options.batch_size));
            const float scale = i < node.output_scales.size() ? node.output_scales[i] : 0.f;
            if (i < data_outputs && is_quantized(node.output_dtypes.at(i)) && !(scale > 0))
                node_error(node, "output " + std::to_string(i) + " is of type " +
                                     dtype_name(node.output_dtypes[i]) +
                                     " but has no quantization scale (the quantize pass sets it)");
            ctx.output_scales.push_back(scale);
        }
        // Parameters in node order: an input-side folded node's come before the node's own.
        const auto folded_params = [&](const FoldedNode& folded) {
            const Shape& channels_of = folded.side == AffineSide::input ? ctx.input_shapes.front()
                                                                        : ctx.output_shapes.front();
            return node_params(folded.node, op_of(folded.node, ops), {channels_of}, options);
        };
        for (const FoldedNode& folded : node.folded)
            if (folded.side == AffineSide::input) folded_params(folded);
        for (const dnnl::memory& p :
             node_params(node, def, ctx.input_shapes, options, &ctx.param_shapes))
            inputs.push_back(p);
        for (const FoldedNode& folded : node.folded) {
            const std::vector<dnnl::memory> affine_params = folded_params(folded);
            inputs.insert(inputs.end(), affine_params.begin(), affine_params.end());
            ctx.absorbed.push_back({folded.node.name, folded.side, folded.node.attrs,
                                    affine_params.size(),
                                    op_of(folded.node, ops).inference_affine});
        }
        std::unique_ptr<Kernel> kernel;
        try {
            kernel = def.kernel(ctx);
        } catch (const dnnl::error& e) {
            if (e.status == dnnl_out_of_memory) throw;  // reported with the memory plan
            node_error(node, "oneDNN cannot build op '" + node.op + "': " + e.what());
        } catch (const std::exception& e) {
            node_error(node, "cannot compile op '" + node.op + "': " + e.what());
        }
        const auto descs = kernel->output_descs();
        if (descs.size() != ctx.output_shapes.size())
            node_error(node, "kernel of op '" + node.op + "' gives " +
                                 std::to_string(descs.size()) + " outputs, its shape function " +
                                 std::to_string(ctx.output_shapes.size()));
        for (std::size_t i = 0; i < descs.size() && i < node.output_dtypes.size(); ++i)
            if (descs[i].data_type() != dnnl_data_type(node.output_dtypes[i]))
                node_error(node, "kernel of op '" + node.op + "' gives output " +
                                     std::to_string(i) + " another element type than the " +
                                     dtype_name(node.output_dtypes[i]) + " the graph says");
        std::vector<dnnl::memory> outputs;
        std::vector<std::pair<std::string, Value>> produced;  // name -> value, output order
        for (std::size_t i = 0; i < descs.size(); ++i) {
            const std::string name = value_name(node.name, i);
            Value& v = add_value(name, ctx.output_shapes[i], descs[i], index);
            v.scale = ctx.output_scales[i];
            produced.emplace_back(name, v);
            outputs.push_back(produced.back().second.memory);
        }
        std::vector<std::string> read;
        for (const std::string& in : node.inputs) read.push_back(key_of(in));
        if (const int k = def.overwritable_input(read);
            k >= 0 && descs.front() == ctx.input_descs[static_cast<std::size_t>(k)])
            overwrites[value_name(node.name, 0)] = read[static_cast<std::size_t>(k)];
        Kernel* raw = kernel.get();
        if (defer_storage)
            pending.push_back({raw, std::move(inputs), std::move(outputs)});
        else
            raw->bind(inputs, outputs);
        kernel_reads.push_back(node.inputs);
        kernels.push_back(std::move(kernel));
        kernel_nodes.push_back(node.name);
        kernel_ops.push_back(node.op);
        auto stream = std::make_shared<dnnl::stream>(engine);
        std::function<void()> body = [raw, stream] {
            raw->execute(*stream);
            stream->wait();
        };
        if (options.check_numerics) {
            body = [run = std::move(body), node, checked = std::move(produced)] {
                run();
                for (const auto& [name, v] : checked)
                    detail::check_finite(node, name, v.shape, v.memory);
            };
        }
        tasks.push_back({node.name, node.op, node.where.str(), def.plugin, std::move(body), after});
    }

    void compile(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options) {
        if (options.parameters != nullptr) store = options.parameters;
        threads = options.threads.resolved(options.batch_size);
        const OmpThreadsScope omp_threads(threads.intra_op);  // primitives built for it
        for (const GraphInput& input : graph.inputs) {
            const Shape shape = concrete(input.shape, options.batch_size);
            add_value(input.name, shape, plain_data_desc(shape, input.dtype), -1);
        }
        defer_storage = options.share_buffers;
        std::vector<detail::FlowTask> tasks;
        for (const Node& node : graph.nodes) compile_node(node, ops, options, tasks);
        if (defer_storage) give_buffers(graph, options, tasks);
        if (options.update)
            for (const auto& [param, gradient] : options.param_gradients)
                add_update(param, gradient, options.update, tasks);
        executor = std::make_unique<detail::FlowExecutor>(std::move(tasks), threads);
        reorders_at_reset.assign(kernels.size(), 0);
    }

    // share_buffers: gives every node output storage, sharing buffers between values the
    // task graph orders apart (share_buffers() of the memory plan, with the real sizes of
    // the layouts the kernels chose), then binds the kernels.
    void give_buffers(const Graph& graph, const ProgramOptions& options,
                      const std::vector<detail::FlowTask>& tasks) {
        std::set<std::string> kept;  // read after a step: outputs and the optimizer's gradients
        for (const std::string& out : graph.outputs) kept.insert(key_of(out));
        for (const auto& [param, gradient] : options.param_gradients) kept.insert(key_of(gradient));
        std::vector<PlannedValue> planned;
        std::vector<Value*> of;
        std::map<std::string, std::size_t> index;
        for (auto& [name, v] : values) {
            if (!v.shared) continue;
            index[name] = planned.size();
            planned.push_back({static_cast<std::int64_t>(v.memory.get_desc().get_size()),
                               v.producer,
                               {},
                               kept.count(name) > 0});
            of.push_back(&v);
        }
        for (std::size_t k = 0; k < kernel_reads.size(); ++k)
            for (const std::string& read : kernel_reads[k])
                if (const auto it = index.find(key_of(read)); it != index.end())
                    planned[it->second].readers.push_back(static_cast<int>(k));
        for (const auto& [output, input] : overwrites)
            if (index.count(output) && index.count(input))
                planned[index[output]].overwrites = static_cast<int>(index[input]);
        std::vector<std::vector<std::size_t>> after;
        for (const detail::FlowTask& task : tasks) after.push_back(task.after);
        const BufferAssignment assignment = share_buffers(planned, after);
        const auto allocate = [this](std::int64_t bytes) {
            constexpr std::size_t kAlignment = 64;
            const std::size_t size =
                (static_cast<std::size_t>(std::max<std::int64_t>(bytes, 1)) + kAlignment - 1) /
                kAlignment * kAlignment;
            void* p = std::aligned_alloc(kAlignment, size);
            if (p == nullptr) throw std::bad_alloc();
            buffers.emplace_back(p);
            buffer_bytes += static_cast<std::int64_t>(size);
            return p;
        };
        std::vector<void*> shared;
        for (const std::int64_t bytes : assignment.buffer_bytes) shared.push_back(allocate(bytes));
        for (std::size_t i = 0; i < planned.size(); ++i) {
            const int buffer = assignment.buffer_of[i];
            of[i]->memory.set_data_handle(buffer < 0 ? allocate(planned[i].bytes)
                                                     : shared[static_cast<std::size_t>(buffer)]);
            of[i]->shared = buffer >= 0;
        }
        for (PendingBind& p : pending) p.kernel->bind(p.inputs, p.outputs);
        pending.clear();
    }

    // The update task of `param`: after its gradient's producer and after the kernel of the
    // node declaring it, the only one that reads it (backward kernels read what it saved).
    void add_update(const std::string& param, const std::string& gradient,
                    const ParamUpdate& update, std::vector<detail::FlowTask>& tasks) {
        const auto owner = param_owner.find(param);
        if (owner == param_owner.end())
            throw std::invalid_argument("no parameter '" + param + "' to update");
        const Value& p = values.at(param);
        const Value& g = value(gradient);
        if (g.shape != p.shape || g.memory.get_desc() != row_major_desc(g.shape))
            throw std::invalid_argument("gradient '" + gradient + "' of '" + param +
                                        "' is not row-major over the parameter's shape");
        std::vector<std::size_t> after;
        if (g.producer >= 0) after.push_back(static_cast<std::size_t>(g.producer));
        after.push_back(static_cast<std::size_t>(owner->second));
        float* value = static_cast<float*>(p.memory.get_data_handle());
        const float* grad = static_cast<const float*>(g.memory.get_data_handle());
        const auto count = static_cast<std::size_t>(element_count(p.shape));
        tasks.push_back(
            {param, kUpdateOp, {}, {}, [=] { update(param, value, grad, count); }, after});
        updated.push_back(param);
    }
};

Program::Program(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options)
    : impl_(std::make_unique<Impl>()) {
    if (options.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
    if (options.training)
        for (const Node& node : graph.nodes)
            if (!node.folded.empty())
                node_error(node,
                           "a training program cannot run folded nodes (fold_affine is "
                           "an inference pass)");
    // Nothing is allocated before the memory plan is known to fit.
    MemoryPlanOptions plan_options{
        options.batch_size, options.training, options.optimizer_slots, {}, {}};
    if (options.parameters != nullptr)
        plan_options.existing_params.insert(options.parameters->names().begin(),
                                            options.parameters->names().end());
    for (const auto& [param, gradient] : options.param_gradients)
        plan_options.keep.insert(gradient);
    const MemoryPlan plan = plan_memory(graph, ops, plan_options);
    const std::int64_t available =
        options.memory_limit > 0 ? options.memory_limit : available_memory_bytes();
    const std::string what = (graph.file.empty() ? std::string{} : graph.file + ": ") + "the " +
                             (options.training ? "training" : "inference") + " program";
    check_memory_fits(plan, what, available);
    try {
        impl_->compile(graph, ops, options);
    } catch (const std::bad_alloc&) {
        throw MemoryError(what + ": allocating its memory failed (planned " +
                          gib_str(plan.total()) + ", " + gib_str(available) + " available)");
    } catch (const dnnl::error& e) {
        if (e.status != dnnl_out_of_memory) throw;
        throw MemoryError(what + ": oneDNN could not allocate its memory (planned " +
                          gib_str(plan.total()) + ", " + gib_str(available) + " available)");
    }
}

Program::~Program() = default;

bool Program::has_value(const std::string& name) const {
    try {
        impl_->value(name);
        return true;
    } catch (const std::invalid_argument&) {
        return false;
    }
}

const Shape& Program::shape(const std::string& name) const { return impl_->value(name).shape; }

const dnnl::memory& Program::memory(const std::string& name) const {
    return impl_->value(name).memory;
}

namespace {

// The plain layout a value is read and written in: parameters and their gradients are
// row-major over their shape (and were declared so); data values are nhwc / row-major over
// oneDNN's logical dims, whatever layout their producer chose.
dnnl::memory::desc plain_like(const dnnl::memory::desc& own, const Shape& shape) {
    const dnnl::memory::desc row_major = row_major_desc(shape);
    return own == row_major ? row_major : plain_data_desc(shape);
}

// Copies between a value and `count` floats in the plain layout: a memcpy when the value is
// stored plainly (no primitive created), else a reorder.
void copy_plain(const Shape& shape, const dnnl::memory& own, float* plain_data, std::size_t count,
                bool into_value, const std::string& name) {
    if (static_cast<std::int64_t>(count) != element_count(shape))
        throw std::invalid_argument("value '" + name + "' holds " +
                                    std::to_string(element_count(shape)) + " floats, not " +
                                    std::to_string(count));
    const dnnl::memory::desc plain = plain_like(own.get_desc(), shape);
    auto* data = static_cast<float*>(own.get_data_handle());
    if (own.get_desc() == plain) {
        if (into_value)
            std::copy_n(plain_data, count, data);
        else
            std::copy_n(data, count, plain_data);
        return;
    }
    dnnl::memory other(plain, own.get_engine(), plain_data);
    dnnl::memory value = own;
    dnnl::stream stream(own.get_engine());
    if (into_value)
        dnnl::reorder(other, value).execute(stream, other, value);
    else
        dnnl::reorder(value, other).execute(stream, value, other);
    stream.wait();
}

}  // namespace

void Program::write(const std::string& name, const float* data, std::size_t count) {
    const Impl::Value& v = impl_->readable(name);
    copy_plain(v.shape, v.memory, const_cast<float*>(data), count, true, name);
    if (impl_->param_owner.count(name)) impl_->store->touch();  // every program sharing it
}

void Program::read(const std::string& name, float* out, std::size_t count) const {
    const Impl::Value& v = impl_->readable(name);
    copy_plain(v.shape, v.memory, out, count, false, name);
}

void Program::write(const std::string& name, const std::vector<float>& data) {
    write(name, data.data(), data.size());
}

std::vector<float> Program::read(const std::string& name) const {
    std::vector<float> out(static_cast<std::size_t>(element_count(shape(name))));
    read(name, out.data(), out.size());
    return out;
}

const std::vector<std::string>& Program::params() const { return impl_->params; }

void Program::run() {
    if (impl_->store->version() != impl_->store_version) impl_->constants_stale = true;
    if (impl_->constants_stale) {
        dnnl::stream stream(impl_->engine);
        for (const auto& kernel : impl_->kernels) kernel->prepare_constants(stream);
        stream.wait();
        impl_->constants_stale = false;
        impl_->store_version = impl_->store->version();
    }
    impl_->executor->run();
    if (!impl_->updated.empty()) {
        // The step's updates changed parameters in place: programs sharing the store refresh
        // their constants; this one's kernels read them through per-step snapshots.
        impl_->store->touch();
        impl_->store_version = impl_->store->version();
    }
}

void Program::set_step(std::uint64_t step) { impl_->step = step; }

std::uint64_t Program::step() const { return impl_->step; }

const ThreadConfig& Program::threads() const { return impl_->threads; }

std::vector<std::string> Program::implementations() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < impl_->kernels.size(); ++i)
        out.push_back(impl_->kernel_nodes[i] + ": " + impl_->kernels[i]->implementation());
    return out;
}

std::vector<KernelProfile> Program::profile() const {
    const std::vector<double> seconds = impl_->executor->task_seconds();
    std::vector<KernelProfile> out;
    for (std::size_t i = 0; i < impl_->kernels.size(); ++i)
        out.push_back({impl_->kernel_nodes[i], impl_->kernel_ops[i],
                       impl_->kernels[i]->implementation(), seconds[i],
                       impl_->kernels[i]->reorders() - impl_->reorders_at_reset[i]});
    // Update tasks follow the kernels' tasks.
    for (std::size_t j = 0; j < impl_->updated.size(); ++j)
        out.push_back({impl_->updated[j], kUpdateOp, kUpdateImplementation,
                       seconds[impl_->kernels.size() + j], 0});
    return out;
}

std::int64_t Program::profiled_runs() const { return impl_->executor->runs(); }

void Program::reset_profile() {
    impl_->executor->reset_times();
    for (std::size_t i = 0; i < impl_->kernels.size(); ++i)
        impl_->reorders_at_reset[i] = impl_->kernels[i]->reorders();
}

std::int64_t Program::allocated_bytes() const {
    std::int64_t bytes = impl_->buffer_bytes;
    for (const auto& [name, value] : impl_->values)
        if (value.producer < 0 || !impl_->defer_storage)
            bytes += static_cast<std::int64_t>(value.memory.get_desc().get_size());
    return bytes;
}

}  // namespace opgraph
