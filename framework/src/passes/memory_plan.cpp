#include "opgraph/passes/memory_plan.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "opgraph/core/diagnostic.hpp"
#include "opgraph/op/gradient.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph {

namespace {

constexpr std::int64_t kFloatBytes = 4;  // parameters and optimizer state: f32
constexpr std::size_t kLargestShown = 5;

// ancestors[t][a]: task a happens-before task t.
std::vector<std::vector<bool>> ancestors_of(const std::vector<std::vector<std::size_t>>& after) {
    std::vector<std::vector<bool>> ancestors(after.size(), std::vector<bool>(after.size(), false));
    for (std::size_t t = 0; t < after.size(); ++t)
        for (const std::size_t a : after[t]) {
            if (a >= t) throw std::invalid_argument("task dependencies must point backwards");
            for (std::size_t i = 0; i < a; ++i)
                if (ancestors[a][i]) ancestors[t][i] = true;
            ancestors[t][a] = true;
        }
    return ancestors;
}

// Elements of `shape` at `batch`, saturating at 2^60 (an exabyte of floats: refused anyway).
std::int64_t concrete_elements(const Shape& shape, std::int64_t batch) {
    constexpr std::int64_t kSaturated = std::int64_t{1} << 60;
    std::int64_t n = 1;
    for (const std::int64_t d : shape)
        if (__builtin_mul_overflow(n, d == kDynamicDim ? batch : d, &n) || n > kSaturated)
            return kSaturated;
    return n;
}

// The buffer value v may take in place: that of the value it overwrites, when that value is
// still its tenant and every task using it but v's producer happens-before v's producer
// (`before`). -1: none.
int in_place_buffer(const std::vector<PlannedValue>& values, std::size_t v,
                    const std::vector<int>& buffer_of, const std::vector<std::size_t>& tenant,
                    const std::vector<std::vector<int>>& tenant_tasks,
                    const std::vector<bool>& before) {
    const PlannedValue& value = values[v];
    if (value.overwrites < 0) return -1;
    const auto u = static_cast<std::size_t>(value.overwrites);
    const int b = buffer_of.at(u);
    if (b < 0 || tenant[static_cast<std::size_t>(b)] != u) return -1;
    const std::vector<int>& tasks = tenant_tasks[static_cast<std::size_t>(b)];
    const bool last_use = std::all_of(tasks.begin(), tasks.end(), [&](int task) {
        return task == value.producer || before[static_cast<std::size_t>(task)];
    });
    return last_use ? b : -1;
}

}  // namespace

std::int64_t BufferAssignment::bytes() const {
    std::int64_t total = 0;
    for (const std::int64_t b : buffer_bytes) total += b;
    return total;
}

BufferAssignment share_buffers(const std::vector<PlannedValue>& values,
                               const std::vector<std::vector<std::size_t>>& after) {
    const std::vector<std::vector<bool>> ancestors = ancestors_of(after);
    std::vector<std::size_t> order;
    for (std::size_t v = 0; v < values.size(); ++v) {
        if (values[v].persistent) continue;
        if (values[v].producer < 0 || values[v].producer >= static_cast<int>(after.size()))
            throw std::invalid_argument("a shared value needs a producing task");
        order.push_back(v);
    }
    std::stable_sort(order.begin(), order.end(), [&values](std::size_t a, std::size_t b) {
        return values[a].producer < values[b].producer;
    });
    BufferAssignment out;
    out.buffer_of.assign(values.size(), -1);
    std::vector<std::vector<int>> tenant_tasks;  // per buffer: its current tenant's tasks
    std::vector<std::size_t> tenant;             // per buffer: its current tenant
    for (const std::size_t v : order) {
        const PlannedValue& value = values[v];
        const auto& before = ancestors[static_cast<std::size_t>(value.producer)];
        const int in_place =
            in_place_buffer(values, v, out.buffer_of, tenant, tenant_tasks, before);
        int best = in_place;
        for (std::size_t b = 0; in_place < 0 && b < tenant_tasks.size(); ++b) {
            const bool free =
                std::all_of(tenant_tasks[b].begin(), tenant_tasks[b].end(),
                            [&before](int task) { return before[static_cast<std::size_t>(task)]; });
            if (!free) continue;
            const std::int64_t size = out.buffer_bytes[b];
            if (best < 0) {
                best = static_cast<int>(b);
                continue;
            }
            const std::int64_t best_size = out.buffer_bytes[static_cast<std::size_t>(best)];
            const bool fits = size >= value.bytes, best_fits = best_size >= value.bytes;
            if ((fits && (!best_fits || size < best_size)) ||
                (!fits && !best_fits && size > best_size))
                best = static_cast<int>(b);
        }
        if (best < 0) {
            best = static_cast<int>(tenant_tasks.size());
            tenant_tasks.emplace_back();
            tenant.push_back(v);
            out.buffer_bytes.push_back(0);
        }
        tenant[static_cast<std::size_t>(best)] = v;
        auto& size = out.buffer_bytes[static_cast<std::size_t>(best)];
        size = std::max(size, value.bytes);
        std::vector<int>& tasks = tenant_tasks[static_cast<std::size_t>(best)];
        tasks = value.readers;
        tasks.push_back(value.producer);
        out.buffer_of[v] = best;
    }
    return out;
}

MemoryPlan plan_memory(const Graph& graph, const OpRegistry& ops,
                       const MemoryPlanOptions& options) {
    MemoryPlan plan;
    plan.batch_size = options.batch_size;
    plan.training = options.training;
    std::vector<MemoryUse> uses;
    std::map<std::string, std::size_t> index_of;  // value name -> index in `values`
    std::map<std::string, Shape> shape_of;
    std::vector<PlannedValue> values;
    std::vector<std::string> names;
    for (const GraphInput& input : graph.inputs) {
        const std::int64_t bytes =
            concrete_elements(input.shape, options.batch_size) * dtype_size(input.dtype);
        plan.input_bytes += bytes;
        uses.push_back({input.name, "input", bytes});
        shape_of[input.name] = input.shape;
    }
    std::set<std::string> params_seen;
    const auto add_params = [&](const Node& node, const std::vector<Shape>& input_shapes) {
        const OpDef* def = ops.find(node.op);
        if (def == nullptr) {
            Diagnostics diagnostics;
            diagnostics.add(node.where, node.name, {}, "unknown op '" + node.op + "'");
            diagnostics.throw_if_any();
        }
        if (!def->params) return;
        for (const ParamSpec& p : def->params(OpContext(node.name, node.attrs, input_shapes))) {
            const std::string name = param_value_name(node.name, p.name);
            if (!params_seen.insert(name).second || options.existing_params.count(name)) continue;
            const std::int64_t bytes = concrete_elements(p.shape, 1) * kFloatBytes;
            plan.parameter_bytes += bytes;
            uses.push_back({name, "parameter", bytes});
            if (options.training && p.trainable && options.optimizer_slots > 0) {
                plan.optimizer_bytes += bytes * options.optimizer_slots;
                uses.push_back({name, "optimizer state", bytes * options.optimizer_slots});
            }
        }
    };
    std::set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());
    std::vector<std::vector<std::size_t>> after(graph.nodes.size());
    std::map<std::string, std::size_t> task_of;  // node name -> task index
    for (std::size_t t = 0; t < graph.nodes.size(); ++t) {
        const Node& node = graph.nodes[t];
        task_of[node.name] = t;
        std::vector<Shape> input_shapes;
        for (const std::string& in : node.inputs) {
            const auto shape = shape_of.find(canonical_value(in));
            input_shapes.push_back(shape != shape_of.end() ? shape->second : Shape{});
            ValueRef ref;
            if (parse_value_ref(in, ref) && task_of.count(ref.name))
                after[t].push_back(task_of[ref.name]);
        }
        for (const FoldedNode& folded : node.folded)
            if (folded.side == AffineSide::input) add_params(folded.node, {input_shapes.front()});
        add_params(node, input_shapes);
        for (const FoldedNode& folded : node.folded)
            if (folded.side != AffineSide::input)
                add_params(folded.node, {node.output_shapes.front()});
        for (const std::string& in : node.inputs)
            if (const auto it = index_of.find(canonical_value(in)); it != index_of.end())
                values[it->second].readers.push_back(static_cast<int>(t));
        const OpDef* def = ops.find(node.op);
        std::vector<std::string> read;
        for (const std::string& in : node.inputs) read.push_back(canonical_value(in));
        const int k = def != nullptr ? def->overwritable_input(read) : -1;
        const auto overwritten =
            k >= 0 ? index_of.find(read[static_cast<std::size_t>(k)]) : index_of.end();
        for (std::size_t i = 0; i < node.output_shapes.size(); ++i) {
            const std::string name = value_name(node.name, i);
            PlannedValue value;
            const DType type = i < node.output_dtypes.size() ? node.output_dtypes[i] : DType::f32;
            value.bytes =
                concrete_elements(node.output_shapes[i], options.batch_size) * dtype_size(type);
            value.producer = static_cast<int>(t);
            value.persistent = outputs.count(name) || options.keep.count(name);
            if (i == 0 && overwritten != index_of.end() &&
                shape_of[overwritten->first] == node.output_shapes[0])
                value.overwrites = static_cast<int>(overwritten->second);
            index_of[name] = values.size();
            shape_of[name] = node.output_shapes[i];
            names.push_back(name);
            values.push_back(std::move(value));
        }
    }
    for (auto& a : after) {
        std::sort(a.begin(), a.end());
        a.erase(std::unique(a.begin(), a.end()), a.end());
    }
    const BufferAssignment shared = share_buffers(values, after);
    plan.activation_bytes = shared.bytes();
    for (std::size_t v = 0; v < values.size(); ++v) {
        plan.unshared_activation_bytes += values[v].bytes;
        if (values[v].persistent) plan.activation_bytes += values[v].bytes;
        uses.push_back({names[v], "activation", values[v].bytes});
    }
    std::stable_sort(uses.begin(), uses.end(),
                     [](const MemoryUse& a, const MemoryUse& b) { return a.bytes > b.bytes; });
    uses.resize(std::min(uses.size(), kLargestShown));
    plan.largest = std::move(uses);
    return plan;
}

}  // namespace opgraph
