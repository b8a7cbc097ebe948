// libFuzzer target: parse_model() on arbitrary text with the core operators loaded: YAML
// parsing and its limits, the model and training sections, validation and shape inference.
// Accepted outcomes: a ModelFile, or a GraphError.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_input.hpp"
#include "opgraph/core/diagnostic.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training_items.hpp"

namespace {

const opgraph::Session* session = nullptr;
const opgraph::TrainingItemSpecs items = opgraph::TrainingItems{}.specs();

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // $OPGRAPH_FUZZ_PLUGIN_DIR overrides the core plugin directory of the build tree.
    const char* dir = std::getenv("OPGRAPH_FUZZ_PLUGIN_DIR");
    try {
        session = new opgraph::Session(
            opgraph::SessionOptions{{dir != nullptr ? dir : OPGRAPH_CORE_PLUGIN_DIR}, false});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cannot load the core plugin: %s\n", e.what());
        std::abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        opgraph::parse_model(text, "fuzz.yaml", session->ops(), items);
    } catch (const opgraph::GraphError&) {
    } catch (const std::exception& e) {
        opgraph::fuzz::undocumented_exception(e);
    }
    return 0;
}
