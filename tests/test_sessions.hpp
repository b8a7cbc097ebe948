// Sessions the tests share, created once per test binary: the core plugin alone, and the core
// plugin plus the test fixture plugin (tests/plugins).
#pragma once

#include <string>

#include "opgraph/op/session.hpp"

namespace opgraph::testing {

inline const Session& core_session() {
    static const Session session{SessionOptions{{OPGRAPH_CORE_PLUGIN_DIR}, false}};
    return session;
}

inline const Session& core_and_test_session() {
    static const Session session{SessionOptions{
        {OPGRAPH_CORE_PLUGIN_DIR, std::string(OPGRAPH_TEST_PLUGIN_DIR) + "/test_good_plugin.so"},
        false}};
    return session;
}

}  // namespace opgraph::testing
