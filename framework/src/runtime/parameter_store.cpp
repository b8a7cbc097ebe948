#include "opgraph/runtime/parameter_store.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>

#include "opgraph/runtime/initializers.hpp"

namespace opgraph {

ParameterStore::Entry& ParameterStore::ensure(const std::string& name, const ParamSpec& spec,
                                              std::uint64_t seed) {
    if (const auto it = entries_.find(name); it != entries_.end()) {
        if (it->second.shape != spec.shape)
            throw std::invalid_argument("parameter '" + name + "' is " +
                                        shape_str(it->second.shape) + " in the store, not " +
                                        shape_str(spec.shape));
        return it->second;
    }
    const std::vector<float> init = initialize(spec.initializer, spec.shape, seed, name);
    constexpr std::size_t kAlignment = 64;
    const std::size_t bytes =
        (std::max<std::size_t>(init.size(), 1) * sizeof(float) + kAlignment - 1) / kAlignment *
        kAlignment;
    auto* data = static_cast<float*>(std::aligned_alloc(kAlignment, bytes));
    if (data == nullptr) throw std::bad_alloc();
    std::copy(init.begin(), init.end(), data);
    Entry& entry = entries_[name];
    entry.shape = spec.shape;
    entry.trainable = spec.trainable;
    entry.data_.reset(data);
    entry.size_ = init.size();
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
