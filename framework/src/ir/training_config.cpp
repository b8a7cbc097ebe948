#include "opgraph/ir/training_config.hpp"

#include <algorithm>

namespace opgraph {

const ItemSpec* find_item_spec(const std::vector<ItemSpec>& specs, const std::string& name) {
    for (const ItemSpec& spec : specs)
        if (spec.name == name) return &spec;
    return nullptr;
}

std::vector<std::string> item_names(const std::vector<ItemSpec>& specs) {
    std::vector<std::string> names;
    for (const ItemSpec& spec : specs) names.push_back(spec.name);
    std::sort(names.begin(), names.end());
    return names;
}

Schema training_schema() {
    return {
        AttrSpec::optional("batch_size", std::int64_t{32}).at_least(1).at_most(1 << 20),
        AttrSpec::optional("epochs", std::int64_t{1}).at_least(1).at_most(1000000),
        AttrSpec::optional("seed", std::int64_t{0}).at_least(0),
        AttrSpec::optional("shuffle", true),
        AttrSpec::optional("validation", std::string("test"),
                           "data evaluated after each epoch: the dataset's test split or none")
            .one_of({"test", "none"}),
        AttrSpec::optional("precision", std::string(kPrecisionF32),
                           "what layers compute in: f32, bf16 (mixed, f32 master weights) or "
                           "auto (bf16 where the CPU has AVX512-BF16 or AMX)")
            .one_of(precision_names()),
    };
}

std::vector<std::string> metric_names() { return {"accuracy", "acc"}; }

std::vector<std::string> precision_names() {
    return {kPrecisionF32, kPrecisionBf16, kPrecisionAuto};
}

}  // namespace opgraph
