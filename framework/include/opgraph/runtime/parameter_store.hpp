// The one store of a model's parameters: every weight and batch-norm statistic, and the
// optimizer's state of the trained ones, owned once as plain row-major floats. Programs bind their
// parameter memories to these floats (ProgramOptions::parameters) instead of allocating their own,
// so the training program, the program of a smaller last batch and the validation and inference
// programs share one copy and never copy weights between them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opgraph/core/shape.hpp"
#include "opgraph/op/op_def.hpp"

namespace opgraph {

class ParameterStore {
public:
    struct Entry {
        Shape shape;
        bool trainable = true;
        bool optimizer_state = false;  // an optimizer's slot (ensure_state), not of the model
        float* data() const { return data_.get(); }
        std::size_t size() const { return size_; }

    private:
        friend class ParameterStore;
        struct Free {
            void operator()(float* p) const { std::free(p); }
        };
        std::unique_ptr<float, Free> data_;  // 64-byte aligned, as oneDNN allocates
        std::size_t size_ = 0;
    };

    ParameterStore() = default;
    ParameterStore(const ParameterStore&) = delete;
    ParameterStore& operator=(const ParameterStore&) = delete;

    // The entry `name` of a parameter declared by `spec`: created and initialised from
    // spec.initializer and `seed` the first time (initialize()), else the existing one.
    // Throws std::invalid_argument when it exists with another shape, or on an unknown
    // initialiser; std::bad_alloc when memory runs out.
    Entry& ensure(const std::string& name, const ParamSpec& spec, std::uint64_t seed);
    // The entry `name` of optimizer state of `shape` (optimizer_slot_name()): created filled
    // with zeros the first time, else the existing one. Throws as ensure().
    Entry& ensure_state(const std::string& name, const Shape& shape);
    bool has(const std::string& name) const { return entries_.count(name) > 0; }
    // Throws std::out_of_range for an unknown name.
    const Entry& at(const std::string& name) const { return entries_.at(name); }
    // Names in the order they were created.
    const std::vector<std::string>& names() const { return names_; }
    // Bytes of every entry.
    std::int64_t bytes() const;

    // A counter that whoever writes parameters in place bumps (an optimizer step, loaded
    // weights), so that programs refresh what they derived from them (reordered weights,
    // folded batch norms) before their next step.
    std::uint64_t version() const { return version_; }
    void touch() { ++version_; }

private:
    // The existing entry `name` (checked against `shape`), or a new one holding `values`
    // (zeros when null), with `optimizer_state` set.
    Entry& find_or_add(const std::string& name, const Shape& shape,
                       const std::vector<float>* values, bool optimizer_state);

    std::map<std::string, Entry> entries_;
    std::vector<std::string> names_;
    std::uint64_t version_ = 0;
};

}  // namespace opgraph
