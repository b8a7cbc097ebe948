#include "opgraph/program.hpp"

#include <map>
#include <stdexcept>

#include "flow_executor.hpp"
#include "opgraph/diagnostic.hpp"
#include "opgraph/gradient.hpp"
#include "opgraph/initializers.hpp"
#include "opgraph/memory_layout.hpp"

namespace opgraph {

namespace {

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
        int producer = -1;  // kernel index, -1 for graph inputs and parameters
    };

    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    std::map<std::string, Value> values;
    std::vector<std::string> params;
    std::vector<std::unique_ptr<Kernel>> kernels;
    std::vector<std::string> kernel_nodes;
    std::vector<std::string> kernel_ops;
    std::unique_ptr<detail::FlowExecutor> executor;
    ThreadConfig threads;
    std::uint64_t step = 0;

    const Value& value(const std::string& text) const {
        ValueRef ref;
        if (!parse_value_ref(text, ref)) throw std::invalid_argument("bad value name '" + text + "'");
        const std::string key = ref.output == 0 ? ref.name : text;
        auto it = values.find(key);
        if (it == values.end()) throw std::invalid_argument("no value '" + text + "' in the program");
        return it->second;
    }

    Value& add_value(const std::string& name, Shape shape, const dnnl::memory::desc& desc,
                     int producer) {
        Value& v = values[name];
        v.shape = std::move(shape);
        v.memory = dnnl::memory(desc, engine);
        v.producer = producer;
        return v;
    }

    void compile_node(const Node& node, const OpRegistry& ops, const ProgramOptions& options,
                      std::vector<detail::FlowTask>& tasks) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) node_error(node, "unknown op '" + node.op + "'");
        if (!def->kernel) node_error(node, "op '" + node.op + "' has no kernel");

        KernelContext ctx{node, engine, options.training, {}, {}, {}, {}, nullptr, &step,
                          options.seed};
        std::vector<dnnl::memory> inputs;
        std::vector<std::size_t> after;
        for (const std::string& in : node.inputs) {
            const Value& v = value(in);
            ctx.input_shapes.push_back(v.shape);
            ctx.input_descs.push_back(v.memory.get_desc());
            inputs.push_back(v.memory);
            if (v.producer >= 0) after.push_back(static_cast<std::size_t>(v.producer));
        }
        if (node.attrs.has(kForwardAttr)) {
            const std::string& forward = node.attrs.get_string(kForwardAttr);
            for (std::size_t k = 0; k < kernel_nodes.size(); ++k)
                if (kernel_nodes[k] == forward) {
                    ctx.forward = kernels[k].get();
                    after.push_back(k);
                }
            if (ctx.forward == nullptr)
                node_error(node, "backward node's forward node '" + forward + "' is not compiled");
        }
        if (def->params) {
            const OpContext op_ctx(node.name, node.attrs, ctx.input_shapes);
            for (const ParamSpec& p : def->params(op_ctx)) {
                const std::string name = param_value_name(node.name, p.name);
                if (!values.count(name)) {
                    Value& v = add_value(name, p.shape, row_major_desc(p.shape), -1);
                    const std::vector<float> init =
                        initialize(p.initializer, p.shape, options.seed, name);
                    std::copy(init.begin(), init.end(),
                              static_cast<float*>(v.memory.get_data_handle()));
                    params.push_back(name);
                }
                ctx.param_shapes.push_back(p.shape);
                inputs.push_back(values.at(name).memory);
            }
        }
        for (const Shape& s : node.output_shapes) ctx.output_shapes.push_back(concrete(s, options.batch_size));

        std::unique_ptr<Kernel> kernel;
        try {
            kernel = def->kernel(ctx);
        } catch (const dnnl::error& e) {
            node_error(node, "oneDNN cannot build op '" + node.op + "': " + e.what());
        } catch (const std::exception& e) {
            node_error(node, "cannot compile op '" + node.op + "': " + e.what());
        }
        const int index = static_cast<int>(kernels.size());
        const auto descs = kernel->output_descs();
        if (descs.size() != ctx.output_shapes.size())
            node_error(node, "kernel of op '" + node.op + "' gives " + std::to_string(descs.size()) +
                                 " outputs, its shape function " +
                                 std::to_string(ctx.output_shapes.size()));
        std::vector<dnnl::memory> outputs;
        for (std::size_t i = 0; i < descs.size(); ++i) {
            const std::string name = i == 0 ? node.name : node.name + ":" + std::to_string(i);
            outputs.push_back(add_value(name, ctx.output_shapes[i], descs[i], index).memory);
        }
        kernel->bind(inputs, outputs);
        Kernel* raw = kernel.get();
        kernels.push_back(std::move(kernel));
        kernel_nodes.push_back(node.name);
        kernel_ops.push_back(node.op);
        auto stream = std::make_shared<dnnl::stream>(engine);
        tasks.push_back({node.name, node.op,
                         [raw, stream] {
                             raw->execute(*stream);
                             stream->wait();
                         },
                         after});
    }
};

Program::Program(const Graph& graph, const OpRegistry& ops, const ProgramOptions& options)
    : impl_(std::make_unique<Impl>()) {
    if (options.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
    impl_->threads = options.threads.resolved();
    for (const GraphInput& input : graph.inputs) {
        const Shape shape = concrete(input.shape, options.batch_size);
        impl_->add_value(input.name, shape, plain_data_desc(shape), -1);
    }
    std::vector<detail::FlowTask> tasks;
    for (const Node& node : graph.nodes) impl_->compile_node(node, ops, options, tasks);
    impl_->executor = std::make_unique<detail::FlowExecutor>(std::move(tasks), impl_->threads);
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

}  // namespace

void Program::write(const std::string& name, const std::vector<float>& data) {
    const Impl::Value& v = impl_->value(name);
    if (static_cast<std::int64_t>(data.size()) != element_count(v.shape))
        throw std::invalid_argument("value '" + name + "' holds " +
                                    std::to_string(element_count(v.shape)) + " floats, not " +
                                    std::to_string(data.size()));
    const dnnl::memory::desc plain = plain_like(v.memory.get_desc(), v.shape);
    dnnl::memory src(plain, impl_->engine, const_cast<float*>(data.data()));
    dnnl::stream stream(impl_->engine);
    dnnl::reorder(src, v.memory).execute(stream, src, const_cast<dnnl::memory&>(v.memory));
    stream.wait();
}

std::vector<float> Program::read(const std::string& name) const {
    const Impl::Value& v = impl_->value(name);
    std::vector<float> out(static_cast<std::size_t>(element_count(v.shape)));
    const dnnl::memory::desc plain = plain_like(v.memory.get_desc(), v.shape);
    dnnl::memory dst(plain, impl_->engine, out.data());
    dnnl::stream stream(impl_->engine);
    dnnl::reorder(v.memory, dst).execute(stream, const_cast<dnnl::memory&>(v.memory), dst);
    stream.wait();
    return out;
}

const std::vector<std::string>& Program::params() const { return impl_->params; }

void Program::run() { impl_->executor->run(); }

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
                       impl_->kernels[i]->implementation(), seconds[i]});
    return out;
}

std::int64_t Program::profiled_runs() const { return impl_->executor->runs(); }

void Program::reset_profile() { impl_->executor->reset_times(); }

}  // namespace opgraph
