#include "opgraph/runtime/memory_budget.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "opgraph/core/error.hpp"
#include "opgraph/core/format.hpp"

namespace opgraph {

namespace {

constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max();

// The first number in `file`, or -1 ("max", missing, unreadable).
std::int64_t read_number(const char* file) {
    std::ifstream in(file);
    std::int64_t value = -1;
    if (!(in >> value)) return -1;
    return value;
}

std::int64_t mem_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::int64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024;
    return kUnlimited;
}

}  // namespace

std::int64_t available_memory_bytes() {
    std::int64_t available = mem_available();
    // cgroup v2, then v1: the limit less what the group already uses.
    const std::int64_t v2_limit = read_number("/sys/fs/cgroup/memory.max");
    const std::int64_t v2_used = read_number("/sys/fs/cgroup/memory.current");
    if (v2_limit > 0 && v2_used >= 0) available = std::min(available, v2_limit - v2_used);
    const std::int64_t v1_limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    const std::int64_t v1_used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    if (v1_limit > 0 && v1_used >= 0 && v1_limit < (std::int64_t{1} << 60))
        available = std::min(available, v1_limit - v1_used);
    return std::max<std::int64_t>(available, 0);
}

void check_memory_fits(const MemoryPlan& plan, const std::string& what, std::int64_t available) {
    if (plan.total() <= available) return;
    std::ostringstream out;
    out << what << " needs " << gib_str(plan.total()) << " (parameters "
        << gib_str(plan.parameter_bytes);
    if (plan.training) out << ", optimizer state " << gib_str(plan.optimizer_bytes);
    out << ", inputs " << gib_str(plan.input_bytes) << ", activations "
        << gib_str(plan.activation_bytes) << " at batch " << plan.batch_size << ") but "
        << gib_str(available) << " is available; largest:";
    for (std::size_t i = 0; i < plan.largest.size(); ++i)
        out << (i == 0 ? " " : ", ") << "'" << plan.largest[i].name << "' (" << plan.largest[i].kind
            << ") " << gib_str(plan.largest[i].bytes);
    throw MemoryError(out.str());
}

}  // namespace opgraph
