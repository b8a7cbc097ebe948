// The training section of a model file as data: dataset, batch size, epochs, optimizer, loss,
// metrics and callbacks. Each item (a dataset, an optimizer, a callback, a schedule) names a
// type, and its attributes are checked against that type's ItemSpec as an op's attributes are
// against its OpDef. The specs of optimizers, schedules and callbacks are declared beside
// their classes, in the train layer's registries (opgraph/train/item_registry.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "opgraph/core/attribute.hpp"
#include "opgraph/core/source_location.hpp"

namespace opgraph {

// One configured thing: an optimizer, a dataset, a callback or a schedule.
struct ConfigItem {
    std::string type;  // adam, mnist, lr_scheduler, inverse_time, ...
    AttrMap attrs;     // every schema attribute, defaults filled
    SourceLocation where;
    std::map<std::string, SourceLocation> attr_where;
};

struct CallbackConfig {
    ConfigItem callback;
    std::optional<ConfigItem> schedule;  // for a callback whose spec takes_schedule
};

struct TrainingConfig {
    ConfigItem dataset;
    std::int64_t batch_size = 32;
    std::int64_t epochs = 1;
    std::uint64_t seed = 0;
    bool shuffle = true;
    std::string validation = "test";  // test or none
    std::string precision = "f32";    // f32, bf16 or auto (precision_names())
    ConfigItem optimizer;
    std::string loss;  // a registered op of category "loss"
    SourceLocation loss_where;
    std::vector<std::string> metrics;
    std::vector<CallbackConfig> callbacks;
    SourceLocation where;
};

// What an item type's own check finds wrong in values that each passed their AttrSpec.
struct ItemProblem {
    std::string attribute;  // the attribute it is about
    std::string message;
    // Where in the attribute's written text the problem is (0: its first character), when
    // it is inside it (a parse error in an expression).
    std::optional<std::size_t> position;
};

// One type of training item: what the training reader checks an item of that type against
// and `opgraph ops --kind` lists.
struct ItemSpec {
    std::string name;  // as written after `type:`: adam, inverse_time, early_stopping
    std::string doc;   // one line
    Schema schema;
    // Checks what no single AttrSpec can (an expression that must compile); called with
    // every attribute of the schema present and valid. Empty: nothing more to check.
    std::function<std::optional<ItemProblem>(const AttrMap&)> check;
    // A callback whose item holds a schedule item under the key `schedule` (lr_scheduler).
    bool takes_schedule = false;
};

// The types of each kind of item a training section may name.
struct TrainingItemSpecs {
    std::vector<ItemSpec> optimizers;
    std::vector<ItemSpec> schedules;
    std::vector<ItemSpec> callbacks;
    std::vector<ItemSpec> datasets;
};

// The spec named `name`, or null.
const ItemSpec* find_item_spec(const std::vector<ItemSpec>& specs, const std::string& name);
// The specs' names, sorted.
std::vector<std::string> item_names(const std::vector<ItemSpec>& specs);

// The keys of the training section itself (batch_size, epochs, ...), scalars only.
Schema training_schema();
std::vector<std::string> metric_names();
// The precisions a training section, `--precision` of train / eval / predict / bench and a
// layer's `precision:` may ask for: f32, bf16, and (not per layer) auto.
inline constexpr const char* kPrecisionF32 = "f32";
inline constexpr const char* kPrecisionBf16 = "bf16";
inline constexpr const char* kPrecisionAuto = "auto";
// Inference only (eval, predict, bench): weights and activations quantized to 8 bits from a
// file `opgraph quantize` wrote (opgraph/passes/quantization.hpp).
inline constexpr const char* kPrecisionInt8 = "int8";
std::vector<std::string> precision_names();

}  // namespace opgraph
