// Layout tests of batch_norm, max_pool2d, avg_pool2d, global_avg_pool and dropout: their
// kernels take whatever layout the producer made (here nChw16c with padded channels, as a
// convolution picks on AVX-512) and give, forward and backward, the plain layout's results.
// The kernels are compiled directly (as a Program does), so that the input layout is chosen
// by the test, not by another op.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "op_test_util.hpp"
#include "opgraph/op/memory_layout.hpp"

namespace {

using opgraph::AttrMap;
using opgraph::Shape;
using opgraph::testing::core_session;
using Tag = dnnl::memory::format_tag;
using Ints = std::vector<std::int64_t>;

constexpr std::uint64_t kSeed = 5;

// Forward and backward outputs, plain (IR order, parameters row-major).
struct Results {
    std::vector<std::vector<float>> forward;
    std::vector<std::vector<float>> backward;
    std::string forward_impl;
};

class KernelHarness {
public:
    dnnl::memory make(const dnnl::memory::desc& desc, const Shape& shape,
                      const std::vector<float>& plain) {
        dnnl::memory memory(desc, engine_);
        std::vector<float> copy = plain;
        dnnl::memory source(plain_desc(desc, shape), engine_, copy.data());
        dnnl::reorder(source, memory).execute(stream_, source, memory);
        stream_.wait();
        return memory;
    }
    std::vector<float> read(const dnnl::memory& memory, const Shape& shape) {
        std::vector<float> out(static_cast<std::size_t>(opgraph::element_count(shape)));
        dnnl::memory dst(plain_desc(memory.get_desc(), shape), engine_, out.data());
        dnnl::reorder(memory, dst).execute(stream_, const_cast<dnnl::memory&>(memory), dst);
        stream_.wait();
        return out;
    }

    // Runs `op` forward on src (laid out as `src_tag`) and its backward op on diff_dst (laid
    // out as `diff_tag`), in training. Parameters get `params` (by name) or 0.5 + 0.1 * i.
    Results run(const std::string& op, const Shape& shape, const std::vector<float>& src,
                Tag src_tag, const AttrMap& attrs, Tag diff_tag,
                const std::map<std::string, std::vector<float>>& params = {}) {
        const opgraph::OpRegistry& ops = core_session().ops();
        const opgraph::OpDef& def = *ops.find(op);
        opgraph::Node node;
        node.name = "n";
        node.op = op;
        node.inputs = {"x"};
        node.attrs = opgraph::with_defaults(def.attrs, attrs);
        const std::vector<Shape> in_shapes = {shape};
        const opgraph::OpContext op_ctx(node.name, node.attrs, in_shapes);
        std::vector<Shape> out_shapes = def.infer_shapes(op_ctx);
        // The node saves for backward as in a training graph (OpDef::saved).
        const std::size_t own_outputs = out_shapes.size();
        node.saves = static_cast<bool>(def.saved_shapes);
        if (node.saves)
            for (const Shape& saved : def.saved_shapes(op_ctx)) out_shapes.push_back(saved);

        const dnnl::memory x = make(desc_of(shape, src_tag), shape, src);
        std::vector<dnnl::memory> inputs = {x};
        std::vector<Shape> param_shapes;
        if (def.params) {
            for (const opgraph::ParamSpec& p : def.params(op_ctx)) {
                std::vector<float> values(
                    static_cast<std::size_t>(opgraph::element_count(p.shape)));
                for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5f + 0.1f * i;
                if (params.count(p.name)) values = params.at(p.name);
                inputs.push_back(make(opgraph::row_major_desc(p.shape), p.shape, values));
                param_shapes.push_back(p.shape);
            }
        }
        opgraph::KernelContext ctx{node,         engine_,    true,   in_shapes, {x.get_desc()},
                                   param_shapes, out_shapes, &step_, kSeed,     {}};
        forward_ = def.kernel(ctx);
        std::vector<dnnl::memory> outputs;
        for (const auto& desc : forward_->output_descs()) outputs.emplace_back(desc, engine_);
        forward_->bind(inputs, outputs);
        forward_->execute(stream_);
        stream_.wait();
        Results results;
        results.forward_impl = forward_->implementation();
        results.forward.push_back(read(outputs[0], out_shapes[0]));
        for (std::size_t i = 1; i < inputs.size(); ++i)
            results.forward.push_back(read(inputs[i], param_shapes[i - 1]));

        // Backward: diff_dst = 1 - 0.01 * i in another layout, then src when the op takes it.
        const opgraph::OpDef& bdef = *ops.find(op + "_backward");
        opgraph::Node bnode = node;
        bnode.saves = false;
        bnode.name = "n/backward";
        bnode.op = bdef.name;
        bnode.attrs.set(opgraph::kForwardAttr, std::string("n"));
        std::vector<float> diff(static_cast<std::size_t>(opgraph::element_count(out_shapes[0])));
        for (std::size_t i = 0; i < diff.size(); ++i)
            diff[i] = 1.f - 0.01f * static_cast<float>(i % 150);
        const Shape& dshape = out_shapes[0];
        const dnnl::memory d =
            make(desc_of(dshape, dshape.size() == 4 ? diff_tag : Tag::ab), dshape, diff);
        std::vector<dnnl::memory> binputs = {d};
        std::vector<Shape> bshapes = {dshape};
        std::vector<dnnl::memory::desc> bdescs = {d.get_desc()};
        // Then src, or what the forward saved, as the backward op names them.
        for (std::size_t i = 1; i < bdef.inputs.size(); ++i) {
            const auto saved = std::find(def.saved.begin(), def.saved.end(), bdef.inputs[i]);
            const std::size_t output =
                own_outputs + static_cast<std::size_t>(saved - def.saved.begin());
            const dnnl::memory& m = bdef.inputs[i] == "src" ? x : outputs.at(output);
            binputs.push_back(m);
            bshapes.push_back(bdef.inputs[i] == "src" ? shape : out_shapes.at(output));
            bdescs.push_back(m.get_desc());
        }
        const opgraph::OpContext bop_ctx(bnode.name, bnode.attrs, bshapes);
        const std::vector<Shape> bout_shapes = bdef.infer_shapes(bop_ctx);
        opgraph::KernelContext bctx{bnode, engine_,     true,   bshapes, bdescs,
                                    {},    bout_shapes, &step_, kSeed,   {}};
        backward_ = bdef.kernel(bctx);
        std::vector<dnnl::memory> boutputs;
        for (const auto& desc : backward_->output_descs()) boutputs.emplace_back(desc, engine_);
        backward_->bind(binputs, boutputs);
        backward_->execute(stream_);
        stream_.wait();
        for (std::size_t i = 0; i < boutputs.size(); ++i)
            results.backward.push_back(read(boutputs[i], bout_shapes[i]));
        return results;
    }

private:
    static dnnl::memory::desc desc_of(const Shape& shape, Tag tag) {
        return {opgraph::logical_dims(shape), dnnl::memory::data_type::f32, tag};
    }
    static dnnl::memory::desc plain_desc(const dnnl::memory::desc& own, const Shape& shape) {
        const auto plain = opgraph::plain_data_desc(shape);
        return own.dims() == plain.dims() ? plain : opgraph::row_major_desc(shape);
    }

    dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
    dnnl::stream stream_{engine_};
    std::uint64_t step_ = 3;
    std::unique_ptr<opgraph::Kernel> forward_;
    std::unique_ptr<opgraph::Kernel> backward_;
};

// (2, 5, 6, 20): 20 channels, padded to 32 in nChw16c.
const Shape kShape = {2, 5, 6, 20};

std::vector<float> input_values() {
    std::vector<float> values(static_cast<std::size_t>(opgraph::element_count(kShape)));
    // Distinct values (no max-pool ties), not sorted.
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<float>((i * 7919) % values.size()) * 0.01f - 3.f;
    return values;
}

void expect_same(const Results& blocked, const Results& plain) {
    ASSERT_EQ(blocked.forward.size(), plain.forward.size());
    ASSERT_EQ(blocked.backward.size(), plain.backward.size());
    for (std::size_t i = 0; i < plain.forward.size(); ++i)
        opgraph::testing::expect_near(blocked.forward[i], plain.forward[i], 1e-4f);
    for (std::size_t i = 0; i < plain.backward.size(); ++i)
        opgraph::testing::expect_near(blocked.backward[i], plain.backward[i], 1e-4f);
}

void expect_blocked_like_plain(const std::string& op, const AttrMap& attrs = {}) {
    KernelHarness blocked_harness, plain_harness;
    const auto src = input_values();
    const Results blocked = blocked_harness.run(op, kShape, src, Tag::nChw16c, attrs, Tag::nchw);
    const Results plain = plain_harness.run(op, kShape, src, Tag::nhwc, attrs, Tag::nhwc);
    SCOPED_TRACE(op + " blocked: " + blocked.forward_impl + ", plain: " + plain.forward_impl);
    expect_same(blocked, plain);
}

TEST(BlockedLayouts, BatchNorm) { expect_blocked_like_plain("batch_norm"); }

TEST(BlockedLayouts, MaxPool2d) {
    AttrMap attrs;
    attrs.set("pool", Ints{3, 3});
    attrs.set("stride", Ints{2, 2});
    attrs.set("padding", std::string("same"));
    expect_blocked_like_plain("max_pool2d", attrs);
}

TEST(BlockedLayouts, AvgPool2d) {
    AttrMap attrs;
    attrs.set("padding", std::string("same"));
    expect_blocked_like_plain("avg_pool2d", attrs);
}

TEST(BlockedLayouts, GlobalAvgPool) {
    expect_blocked_like_plain("global_avg_pool");
    AttrMap attrs;
    attrs.set("keepdims", true);
    expect_blocked_like_plain("global_avg_pool", attrs);
}

// The mask follows the layout's element order, so blocked and plain masks differ; but in
// each, kept values are scaled, and the gradient passes exactly where the value was kept,
// diff_dst arriving in another layout than src.
TEST(BlockedLayouts, Dropout) {
    constexpr double kRate = 0.25;
    AttrMap attrs;
    attrs.set("rate", kRate);
    const auto src = input_values();
    for (const Tag tag : {Tag::nChw16c, Tag::nhwc}) {
        KernelHarness harness;
        const Results r = harness.run("dropout", kShape, src, tag, attrs, Tag::nchw);
        const std::vector<float>& dst = r.forward[0];
        const std::vector<float>& diff_src = r.backward[0];
        std::size_t kept = 0;
        for (std::size_t i = 0; i < src.size(); ++i) {
            const float diff = 1.f - 0.01f * static_cast<float>(i % 150);
            if (src[i] == 0.f) continue;
            if (dst[i] == 0.f) {
                EXPECT_EQ(diff_src[i], 0.f) << "element " << i;
                continue;
            }
            ++kept;
            EXPECT_NEAR(dst[i], src[i] / (1 - kRate), 1e-5) << "element " << i;
            EXPECT_NEAR(diff_src[i], diff / (1 - kRate), 1e-5) << "element " << i;
        }
        EXPECT_NEAR(static_cast<double>(kept) / src.size(), 1 - kRate, 0.05);
    }
}

}  // namespace
