// Running one op's kernel directly on inputs in chosen oneDNN layouts (blocked ones such as a
// convolution produces), for value tests of the paths a graph input (always plain) never takes.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <string>
#include <vector>

#include "op_test_util.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph::testing {

struct KernelRun {
    std::vector<std::vector<float>> outputs;  // plain, IR order
    std::vector<dnnl::memory::desc> output_descs;
};

// Runs the kernel of `op` (a forward or backward op) once, input i in layout tags[i]
// (format_tag::undef or a missing entry: the plain layout), with no forward kernel. Output
// shapes come from the op's shape function.
inline KernelRun run_kernel_in_layouts(const std::string& op,
                                       const std::vector<TensorValue>& inputs,
                                       const std::vector<dnnl::memory::format_tag>& tags,
                                       const AttrMap& attrs = {}, bool training = true) {
    const OpDef* def = core_session().ops().find(op);
    EXPECT_NE(def, nullptr) << op;
    Node node;
    node.name = "n";
    node.op = op;
    node.attrs = with_defaults(def->attrs, attrs);
    std::vector<Shape> shapes;
    for (const TensorValue& input : inputs) shapes.push_back(input.shape);
    node.output_shapes = def->infer_shapes(OpContext(node.name, node.attrs, shapes));

    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const std::uint64_t step = 0;
    KernelContext ctx{node, engine, training, shapes, {}, {}, node.output_shapes, &step, 0, {}};
    std::vector<dnnl::memory> input_memories;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto tag = i < tags.size() ? tags[i] : dnnl::memory::format_tag::undef;
        const dnnl::memory::desc plain = plain_data_desc(inputs[i].shape);
        const dnnl::memory::desc desc = tag == dnnl::memory::format_tag::undef
                                            ? plain
                                            : dnnl::memory::desc(logical_dims(inputs[i].shape),
                                                                 dnnl::memory::data_type::f32, tag);
        ctx.input_descs.push_back(desc);
        dnnl::memory given(plain, engine, const_cast<float*>(inputs[i].data.data()));
        input_memories.emplace_back(desc, engine);
        dnnl::reorder(given, input_memories.back()).execute(stream, given, input_memories.back());
    }
    const auto kernel = def->kernel(ctx);
    KernelRun run;
    run.output_descs = kernel->output_descs();
    std::vector<dnnl::memory> output_memories;
    for (const dnnl::memory::desc& desc : run.output_descs)
        output_memories.emplace_back(desc, engine);
    kernel->bind(input_memories, output_memories);
    kernel->execute(stream);
    stream.wait();
    for (std::size_t i = 0; i < output_memories.size(); ++i) {
        std::vector<float> out(static_cast<std::size_t>(element_count(node.output_shapes[i])));
        dnnl::memory plain(plain_data_desc(node.output_shapes[i]), engine, out.data());
        dnnl::reorder(output_memories[i], plain).execute(stream, output_memories[i], plain);
        stream.wait();
        run.outputs.push_back(std::move(out));
    }
    return run;
}

}  // namespace opgraph::testing
