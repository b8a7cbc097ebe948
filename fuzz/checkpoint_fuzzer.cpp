// libFuzzer target: read_checkpoint() (and so read_tensor_file()) on arbitrary bytes.
// Accepted outcomes: a TrainingState whose tensors match their shapes, or a CheckpointError.
#include <cstdint>
#include <cstdlib>

#include "fuzz_input.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/checkpoint.hpp"

namespace {

bool consistent(const opgraph::NamedTensor& t) {
    std::uint64_t count = 1;
    for (const std::int64_t d : t.shape) count *= static_cast<std::uint64_t>(d);
    return count == t.data.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static opgraph::fuzz::MemoryFile file("checkpoint_fuzz_input");
    file.assign(data, size);
    try {
        const opgraph::TrainingState state = opgraph::read_checkpoint(file.path());
        for (const auto* list : {&state.params, &state.slots})
            for (const opgraph::NamedTensor& t : *list)
                if (!consistent(t)) std::abort();
    } catch (const opgraph::CheckpointError&) {
    } catch (const std::exception& e) {
        opgraph::fuzz::undocumented_exception(e);
    }
    return 0;
}
