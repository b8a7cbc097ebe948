// A plugin adding an optimizer type, sign_sgd (param -= learning_rate * sign(grad)), and a
// dataset type, half_plane (points (a, b), class 1 where a > b), beside no ops; built a second time
// with OPGRAPH_TEST_DUPLICATE_ITEM, it registers "adam" again, which training_items() must refuse
// naming the plugin.
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

// `count` points on a fixed grid-like sequence, class 1 where a > b; the test split is shifted.
std::unique_ptr<opgraph::Dataset> half_plane(const opgraph::ConfigItem& config,
                                             opgraph::Split split, const std::filesystem::path&) {
    const std::int64_t count = config.attrs.get_int("count");
    const float shift = split == opgraph::Split::train ? 0.f : 0.37f;
    auto data = std::make_unique<opgraph::Dataset>();
    data->name = "half_plane";
    data->sample_shape = {2};
    data->classes = 2;
    for (std::int64_t i = 0; i < count; ++i) {
        const float a = static_cast<float>((i * 37) % 101) / 50.f - 1.f + shift;
        const float b = static_cast<float>((i * 59) % 103) / 51.f - 1.f;
        data->images.insert(data->images.end(), {a, b});
        data->labels.push_back(a > b ? 1 : 0);
    }
    return data;
}

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
    items.datasets.add({"half_plane",
                        "test: 2-D points, class 1 where a > b",
                        {opgraph::AttrSpec::optional("count", std::int64_t{256}).at_least(1)},
                        half_plane});
}

}  // namespace

OPGRAPH_PLUGIN_WITH_TRAINING_ITEMS("test_items", "1.0", register_ops, register_items)
