// Between the memories a Program gives a kernel and the ones its computation wants: an input
// reordered into the layout a primitive (or a plain loop) reads, an output written in the
// primitive's layout and reordered into the graph's, a parameter snapshot for training, the
// same bytes seen through another descriptor, and a descriptor that lets the primitive choose.
// Each reorder is created in bind() and runs inside execute(); none allocates there.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <stdexcept>
#include <string>

namespace opgraph::ops {

// An input as a primitive needs it: the producer's memory itself when the layouts agree,
// otherwise a private buffer refreshed by a reorder at the start of each step (counted:
// executed()).
class InputAdapter {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& wanted,
              const dnnl::engine& engine) {
        given_ = given;
        if (given.get_desc() == wanted) {
            memory_ = given;
            return;
        }
        memory_ = dnnl::memory(wanted, engine);
        reorder_ = dnnl::reorder(given_, memory_);
    }
    void prepare(dnnl::stream& stream) {
        if (!reorder_) return;
        reorder_.execute(stream, given_, memory_);
        ++executed_;
    }
    const dnnl::memory& memory() const { return memory_; }
    bool reorders() const { return static_cast<bool>(reorder_); }
    // Reorders prepare() has executed so far.
    std::int64_t executed() const { return executed_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
    std::int64_t executed_ = 0;
};

// An output a primitive writes: the graph's memory itself when the layouts agree, otherwise
// a private buffer in the primitive's layout copied into the graph's memory by a reorder at
// the end of each step.
class OutputAdapter {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& produced,
              const dnnl::engine& engine) {
        given_ = given;
        if (given.get_desc() == produced) {
            memory_ = given;
            return;
        }
        memory_ = dnnl::memory(produced, engine);
        reorder_ = dnnl::reorder(memory_, given_);
    }
    void finish(dnnl::stream& stream) {
        if (reorder_) reorder_.execute(stream, memory_, given_);
    }
    const dnnl::memory& memory() const { return memory_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
};

// A parameter as a training forward primitive reads it: always a copy (in the primitive's
// layout), refreshed by a reorder at the start of each step. The copy is a value the node
// saves for its backward nodes (OpDef::saved), so they see the values the forward step used
// even when an optimizer has already updated the parameter (updates may overlap the rest of
// backward); a node that saves nothing keeps it private.
class ParamSnapshot {
public:
    void bind(const dnnl::memory& given, const dnnl::memory::desc& wanted,
              const dnnl::engine& engine) {
        bind_into(given, dnnl::memory(wanted, engine));
    }
    // The copy is `target` (a saved output), in its layout.
    void bind_into(const dnnl::memory& given, const dnnl::memory& target) {
        given_ = given;
        memory_ = target;
        reorder_ = dnnl::reorder(given_, memory_);
    }
    void prepare(dnnl::stream& stream) {
        if (reorder_) reorder_.execute(stream, given_, memory_);
    }
    const dnnl::memory& memory() const { return memory_; }

private:
    dnnl::memory given_;
    dnnl::memory memory_;
    dnnl::reorder reorder_;
};

// `memory`'s bytes seen through `desc`: the memory itself when its descriptor already is
// `desc`, otherwise a new memory over the same data handle (a parameter as oneDNN weights, an
// (N, ..., F) value as (rows, F), (N, C) row-major as (N, C, 1, 1) nhwc). Throws
// std::invalid_argument when the two descriptors span different sizes.
inline dnnl::memory view_as(const dnnl::memory& memory, const dnnl::memory::desc& desc,
                            const dnnl::engine& engine) {
    if (memory.get_desc() == desc) return memory;
    if (memory.get_desc().get_size() != desc.get_size())
        throw std::invalid_argument("cannot view a memory of " +
                                    std::to_string(memory.get_desc().get_size()) +
                                    " bytes as one of " + std::to_string(desc.get_size()));
    return dnnl::memory(desc, engine, memory.get_data_handle());
}

// `desc`'s layout (dims, blocking, strides in elements) for elements of type `type`: a
// mask saved in the layout of the values it masks.
inline dnnl::memory::desc with_data_type(const dnnl::memory::desc& desc,
                                         dnnl::memory::data_type type) {
    dnnl::memory::desc out = desc;
    out.data.data_type = static_cast<dnnl_data_type_t>(type);
    return out;
}

// A descriptor with format_tag::any: the primitive picks the layout.
inline dnnl::memory::desc any_desc(const dnnl::memory::dims& dims,
                                   dnnl::memory::data_type type = dnnl::memory::data_type::f32) {
    return {dims, type, dnnl::memory::format_tag::any};
}

}  // namespace opgraph::ops
