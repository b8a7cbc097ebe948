// The memory a program may use, and the check that refuses a memory plan that does not fit
// before anything is allocated.
#pragma once

#include <cstdint>
#include <string>

#include "opgraph/passes/memory_plan.hpp"

namespace opgraph {

// Bytes this process can still allocate: /proc/meminfo's MemAvailable, or less when its
// cgroup's limit (v2 memory.max, v1 memory.limit_in_bytes) leaves less. INT64_MAX when
// neither can be read.
std::int64_t available_memory_bytes();

// Throws MemoryError when plan.total() > available: "<what> needs N GiB (parameters ...,
// optimizer state ..., inputs ..., activations ...) but M GiB is available; largest: ...".
void check_memory_fits(const MemoryPlan& plan, const std::string& what, std::int64_t available);

}  // namespace opgraph
