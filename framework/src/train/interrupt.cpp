#include "opgraph/train/interrupt.hpp"

namespace opgraph {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void record_signal(int signal) { g_signal = signal; }

}  // namespace

InterruptHandler::InterruptHandler() {
    g_signal = 0;
    struct sigaction action {};
    action.sa_handler = record_signal;
    action.sa_flags = SA_RESETHAND;  // a second signal takes the default action
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
}

InterruptHandler::~InterruptHandler() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
}

int interrupt_signal() { return g_signal; }

}  // namespace opgraph
