// A plugin adding an optimizer type, sign_sgd (param -= learning_rate * sign(grad)), beside
// no ops; built a second time with OPGRAPH_TEST_DUPLICATE_ITEM, it registers "adam" again,
// which training_items() must refuse naming the plugin.
#include <memory>
#include <opgraph/train/plugin_items.hpp>

namespace {

class SignSgd : public opgraph::Optimizer {
public:
    explicit SignSgd(const opgraph::ConfigItem& config)
        : Optimizer("sign_sgd", config.attrs.get_real("learning_rate")) {}
    std::vector<std::string> slot_names() const override { return {}; }
    void update(float* param, const float* grad, std::size_t n, const std::vector<float*>&,
                double lr, std::int64_t) const override {
        const auto step = static_cast<float>(lr);
        for (std::size_t i = 0; i < n; ++i)
            param[i] -= grad[i] > 0 ? step : grad[i] < 0 ? -step : 0.f;
    }
};

void register_ops(opgraph::OpRegistry&) {}

void register_items(opgraph::TrainingItems& items) {
#ifdef OPGRAPH_TEST_DUPLICATE_ITEM
    const char* name = "adam";
#else
    const char* name = "sign_sgd";
#endif
    items.optimizers.add(
        {name,
         "test: param -= learning_rate * sign(grad)",
         {opgraph::AttrSpec::optional("learning_rate", 0.01, "step size").greater_than(0)},
         [](const opgraph::ConfigItem& config) { return std::make_unique<SignSgd>(config); }});
}

}  // namespace

OPGRAPH_PLUGIN_WITH_TRAINING_ITEMS("test_items", "1.0", register_ops, register_items)
