// libFuzzer target: read_idx() on arbitrary bytes (raw or gzip IDX), with the default limits.
// Accepted outcomes: an IdxArray consistent with its header, or a DataError.
#include <cstdint>
#include <cstdlib>

#include "fuzz_input.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static opgraph::fuzz::MemoryFile file("idx_fuzz_input");
    file.assign(data, size);
    try {
        const opgraph::IdxArray array = opgraph::read_idx(file.path());
        const auto expected =
            static_cast<std::uint64_t>(array.count()) * opgraph::idx_element_size(array.type);
        if (array.dims.empty() || array.bytes.size() != expected) std::abort();
    } catch (const opgraph::DataError&) {
    } catch (const std::exception& e) {
        opgraph::fuzz::undocumented_exception(e);
    }
    return 0;
}
