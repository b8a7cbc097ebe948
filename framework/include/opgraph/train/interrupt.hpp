// Stopping a long run cleanly on SIGINT / SIGTERM: while an InterruptHandler lives, the first
// such signal is only recorded; the Trainer sees it at the next step boundary, writes a
// checkpoint and throws Interrupted, whose exit code is 128 + the signal (130 / 143), as a
// shell reports a process killed by it. A second signal ends the process at once (the
// default action): checkpoint writes are atomic, so nothing on disk is lost.
#pragma once

#include <csignal>
#include <string>

#include "opgraph/core/error.hpp"

namespace opgraph {

class InterruptHandler {
public:
    InterruptHandler();   // installs the handlers (sigaction) for SIGINT and SIGTERM
    ~InterruptHandler();  // restores the previous ones
    InterruptHandler(const InterruptHandler&) = delete;
    InterruptHandler& operator=(const InterruptHandler&) = delete;

private:
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

// The signal recorded since the handler was installed (SIGINT or SIGTERM), 0 if none.
int interrupt_signal();

// The run stopped on a signal after saving its state.
class Interrupted : public Error {
public:
    Interrupted(int signal, const std::string& message)
        : Error(static_cast<ExitCode>(128 + signal), message), signal_(signal) {}
    int signal() const { return signal_; }

private:
    int signal_;
};

}  // namespace opgraph
