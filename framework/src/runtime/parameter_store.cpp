#include "opgraph/runtime/parameter_store.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>

#include "opgraph/op/memory_layout.hpp"
#include "opgraph/runtime/initializers.hpp"

namespace opgraph {

ParameterStore::Entry& ParameterStore::ensure(const std::string& name, const ParamSpec& spec,
                                              std::uint64_t seed) {
    if (entries_.count(name)) return find_or_add(name, spec.shape, nullptr, false);
    const std::vector<float> init = initialize(spec.initializer, spec.shape, seed, name);
    Entry& entry = find_or_add(name, spec.shape, &init, false);
    entry.trainable = spec.trainable;
    return entry;
}

ParameterStore::Entry& ParameterStore::ensure_state(const std::string& name, const Shape& shape) {
    Entry& entry = find_or_add(name, shape, nullptr, true);
    entry.trainable = false;
    return entry;
}

ParameterStore::Entry& ParameterStore::find_or_add(const std::string& name, const Shape& shape,
                                                   const std::vector<float>* values,
                                                   bool optimizer_state) {
    if (const auto it = entries_.find(name); it != entries_.end()) {
        if (it->second.shape != shape)
            throw std::invalid_argument("parameter '" + name + "' is " +
                                        shape_str(it->second.shape) + " in the store, not " +
                                        shape_str(shape));
        return it->second;
    }
    const auto count = static_cast<std::size_t>(element_count(shape));
    constexpr std::size_t kAlignment = 64;
    const std::size_t bytes = (std::max<std::size_t>(count, 1) * sizeof(float) + kAlignment - 1) /
                              kAlignment * kAlignment;
    auto* data = static_cast<float*>(std::aligned_alloc(kAlignment, bytes));
    if (data == nullptr) throw std::bad_alloc();
    if (values != nullptr)
        std::copy(values->begin(), values->end(), data);
    else
        std::fill(data, data + count, 0.f);
    Entry& entry = entries_[name];
    entry.shape = shape;
    entry.optimizer_state = optimizer_state;
    entry.data_.reset(data);
    entry.size_ = count;
    names_.push_back(name);
    return entry;
}

std::int64_t ParameterStore::bytes() const {
    std::int64_t total = 0;
    for (const auto& [name, entry] : entries_)
        total += static_cast<std::int64_t>(entry.size() * sizeof(float));
    return total;
}

}  // namespace opgraph
