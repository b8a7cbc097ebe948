// Keras's progress line for one epoch: "60000/60000 [=====>....] - ETA: 19s - loss: ... -
// acc: ..." redrawn in place on a terminal, and when the epoch ends "60000/60000
// [==============================] - 22s 362us/step - loss: ... - acc: ... - val_loss: ...
// - val_acc: ...". When the output is not a terminal only the final line is printed.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace opgraph {

using NamedMetrics = std::vector<std::pair<std::string, double>>;

class ProgressBar {
public:
    ProgressBar(std::ostream& out, std::int64_t total, bool interactive);
    // `done` samples so far; redraws on a terminal at most every kRedrawInterval.
    void update(std::int64_t done, const NamedMetrics& metrics);
    // The final line, with the epoch's time and time per sample.
    void finish(const NamedMetrics& metrics);

    // "- loss: 0.0635 - acc: 0.9820"
    static std::string format_metrics(const NamedMetrics& metrics);

private:
    std::string bar(std::int64_t done) const;

    std::ostream& out_;
    std::int64_t total_;
    bool interactive_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

// True when `out` is std::cout and standard output is a terminal.
bool is_terminal(const std::ostream& out);

}  // namespace opgraph
