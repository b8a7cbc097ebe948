// Sessions the tests share, created once per test binary: the core plugin alone, and the core
// plugin plus the test fixture plugin (tests/plugins); and the built-in training item types
// model files are read against.
#pragma once

#include <string>

#include "opgraph/ir/training_config.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/train/training_items.hpp"

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

inline const TrainingItemSpecs& training_specs() {
    static const TrainingItemSpecs specs = TrainingItems{}.specs();
    return specs;
}

}  // namespace opgraph::testing
