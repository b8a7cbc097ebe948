// concat: joins two or more inputs along `axis` (the last by default, never the batch), as
// Keras's Concatenate; every other dimension must agree. oneDNN's concat primitive on the axis
// as a logical dimension (an image's channels are oneDNN's dimension 1), the inputs as they
// come, the output layout oneDNN's choice. Backward (concat_backward): each input's slice of
// diff_dst, a submemory view, reordered into that input's gradient in the input's layout.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "opgraph/ir/graph.hpp"
#include "opgraph/op/memory_layout.hpp"
#include "opgraph/ops/backward_op.hpp"
#include "opgraph/ops/kernel_functions.hpp"
#include "opgraph/ops/logical_axis.hpp"
#include "opgraph/ops/memory_adapters.hpp"
#include "opgraph/ops/op_families.hpp"
#include "opgraph/ops/primitive_kernel.hpp"
#include "opgraph/ops/shape_helpers.hpp"

namespace {

using opgraph::AttrSpec;
using opgraph::OpContext;
using opgraph::Shape;
namespace ops = opgraph::ops;

constexpr std::size_t kMinInputs = 2;

std::vector<Shape> concat_shapes(const OpContext& ctx) {
    const std::vector<Shape>& inputs = ctx.inputs();
    const Shape& first = inputs.at(0);
    const std::size_t axis = ops::sample_axis(ctx, "axis", first);
    Shape dst = first;
    for (std::size_t i = 1; i < inputs.size(); ++i) {
        const Shape& other = inputs[i];
        const std::string pair = "inputs 0 and " + std::to_string(i);
        if (other.size() != first.size()) {
            ctx.fail("", pair + " have different ranks: " + opgraph::shape_str(first) + " and " +
                             opgraph::shape_str(other));
        }
        for (std::size_t d = 0; d < first.size(); ++d) {
            if (d != axis && other[d] != first[d]) {
                ctx.fail("", pair + " differ outside the concatenation axis " +
                                 std::to_string(axis) + ": " + opgraph::shape_str(first) + " and " +
                                 opgraph::shape_str(other));
            }
        }
        const bool unknown =
            dst[axis] == opgraph::kDynamicDim || other[axis] == opgraph::kDynamicDim;
        dst[axis] = unknown ? opgraph::kDynamicDim : dst[axis] + other[axis];
    }
    return {dst};
}

// dst = the inputs joined along the axis, with one concat primitive.
class ConcatKernel : public ops::PrimitiveKernel {
public:
    explicit ConcatKernel(const opgraph::KernelContext& ctx) {
        pd_ =
            dnnl::concat::primitive_desc(ops::logical_axis_attr(ctx), ctx.input_descs, ctx.engine);
        outputs_ = {pd_.dst_desc()};
        primitive_ = dnnl::concat(pd_);
        impl_ = pd_.impl_info_str();
    }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        bind_multiple_sources(inputs, outputs);
    }

private:
    dnnl::concat::primitive_desc pd_;
};

// inputs: diff_dst, then the forward inputs (for their shapes and layouts) -> one diff_src per
// forward input, in that input's layout. Each is a reorder from a submemory view of diff_dst;
// a diff_dst whose blocked layout cannot be cut at the slice boundaries is first made plain.
class ConcatBackwardKernel : public opgraph::Kernel {
public:
    explicit ConcatBackwardKernel(const opgraph::KernelContext& ctx) : engine_(ctx.engine) {
        for (std::size_t i = 1; i < ctx.input_descs.size(); ++i)
            outputs_.push_back(ctx.input_descs[i]);
        if (!plan(ctx, ctx.input_descs.at(0)) &&
            !plan(ctx, opgraph::plain_data_desc(ctx.input_shapes.at(0), ctx.dtype))) {
            throw std::runtime_error("cannot slice the gradient of concat");
        }
    }
    std::vector<dnnl::memory::desc> output_descs() const override { return outputs_; }
    void bind(const std::vector<dnnl::memory>& inputs,
              const std::vector<dnnl::memory>& outputs) override {
        diff_dst_.bind(inputs.at(0), source_, engine_);
        void* handle = diff_dst_.memory().get_data_handle();
        for (std::size_t i = 0; i < slices_.size(); ++i) {
            pieces_.emplace_back(slices_[i], engine_, handle);
            diff_srcs_.push_back(outputs.at(i));
            reorders_.emplace_back(reorder_pds_[i]);
        }
    }
    void execute(dnnl::stream& stream) override {
        diff_dst_.prepare(stream);
        for (std::size_t i = 0; i < reorders_.size(); ++i)
            reorders_[i].execute(stream, pieces_[i], diff_srcs_[i]);
    }
    std::string implementation() const override {
        return reorder_pds_.empty() ? std::string() : reorder_pds_.front().impl_info_str();
    }

private:
    // Slices `source` (diff_dst's layout) at the forward inputs' offsets along the axis; false
    // when oneDNN cannot view or reorder a slice of that layout.
    bool plan(const opgraph::KernelContext& ctx, const dnnl::memory::desc& source) {
        const int axis = ops::logical_axis_attr(ctx);
        std::vector<dnnl::memory::desc> slices;
        std::vector<dnnl::reorder::primitive_desc> pds;
        std::int64_t offset = 0;
        for (std::size_t i = 1; i < ctx.input_shapes.size(); ++i) {
            const dnnl::memory::dims dims = opgraph::logical_dims(ctx.input_shapes[i]);
            dnnl::memory::dims offsets(dims.size(), 0);
            offsets[static_cast<std::size_t>(axis)] = offset;
            offset += dims[static_cast<std::size_t>(axis)];
            const dnnl::memory::desc slice = source.submemory_desc(dims, offsets, true);
            if (slice.is_zero()) return false;
            dnnl::reorder::primitive_desc pd(ctx.engine, slice, ctx.engine, outputs_[i - 1],
                                             dnnl::primitive_attr(), true);
            if (!pd) return false;
            slices.push_back(slice);
            pds.push_back(pd);
        }
        source_ = source;
        slices_ = std::move(slices);
        reorder_pds_ = std::move(pds);
        return true;
    }

    dnnl::engine engine_;
    std::vector<dnnl::memory::desc> outputs_;
    dnnl::memory::desc source_;
    std::vector<dnnl::memory::desc> slices_;
    std::vector<dnnl::reorder::primitive_desc> reorder_pds_;
    ops::InputAdapter diff_dst_;
    std::vector<dnnl::memory> pieces_;
    std::vector<dnnl::memory> diff_srcs_;
    std::vector<dnnl::reorder> reorders_;
};

void concat_gradient(opgraph::GradientBuilder& b) {
    const std::size_t n = b.node().inputs.size();
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) any = any || b.needs_diff_input(i);
    if (!any) return;
    std::vector<std::string> inputs = {b.diff_dst()};
    for (std::size_t i = 0; i < n; ++i) inputs.push_back(b.input(i));
    const std::string backward = b.emit("backward", "concat_backward", inputs);
    for (std::size_t i = 0; i < n; ++i) {
        if (b.needs_diff_input(i)) b.set_diff_input(i, opgraph::value_name(backward, i));
    }
}

// concat_backward: diff_dst then the n forward inputs -> n gradients shaped like them.
opgraph::OpDef concat_backward_op(const opgraph::OpDef& forward) {
    opgraph::OpDef def = ops::backward_op(forward, "concat_backward", {"diff_dst"}, 0);
    def.doc += "; inputs: diff_dst, then the forward inputs";
    def.variadic_min = 1 + kMinInputs;
    def.infer_shapes = [](const OpContext& ctx) {
        return std::vector<Shape>(ctx.inputs().begin() + 1, ctx.inputs().end());
    };
    def.kernel = ops::make_kernel<ConcatBackwardKernel>;
    return def;
}

}  // namespace

opgraph::OpDef concat_op() {
    opgraph::OpDef def;
    def.name = "concat";
    def.doc = "concatenates two or more inputs along an axis (Keras Concatenate)";
    def.category = "structure";
    def.inputs = {"src"};
    def.variadic_min = kMinInputs;
    def.attrs = {
        AttrSpec::optional("axis", ops::kLastAxis, "axis to join along (not the batch)"),
    };
    def.infer_shapes = concat_shapes;
    def.dtypes = ops::kF32AndBf16;
    def.kernel = ops::make_kernel<ConcatKernel>;
    def.gradient = concat_gradient;
    def.companions.push_back(concat_backward_op(def));
    const auto axis = [](std::int64_t a) { return opgraph::AttrMap{{"axis", a}}; };
    def.gradcheck = {
        {"2d two inputs", {{3, 2}, {3, 4}}, {}, {}},
        {"4d channels two inputs", {{2, 3, 3, 2}, {2, 3, 3, 3}}, {}, {}},
        {"4d channels three inputs", {{2, 2, 3, 1}, {2, 2, 3, 3}, {2, 2, 3, 2}}, {}, {}},
        {"4d height three inputs", {{2, 1, 3, 2}, {2, 2, 3, 2}, {2, 3, 3, 2}}, axis(1), {}},
        {"4d width two inputs", {{2, 3, 2, 2}, {2, 3, 1, 2}}, axis(-2), {}},
    };
    return def;
}
