#include "opgraph/train/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <iostream>
#include <sstream>

namespace opgraph {

namespace {

constexpr int kBarWidth = 30;  // Keras's
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

bool is_terminal(const std::ostream& out) {
    return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

ProgressBar::ProgressBar(std::ostream& out, std::int64_t total, bool interactive)
    : out_(out),
      total_(total),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

std::string ProgressBar::format_metrics(const NamedMetrics& metrics) {
    std::ostringstream text;
    text.setf(std::ios::fixed);
    text.precision(4);
    for (const auto& [name, value] : metrics) text << " - " << name << ": " << value;
    return text.str();
}

std::string ProgressBar::bar(std::int64_t done) const {
    const std::string count = std::to_string(total_);
    const std::string digits = std::to_string(done);
    const std::string done_text =
        std::string(count.size() - std::min(count.size(), digits.size()), ' ') + digits;
    const int filled = total_ > 0 ? static_cast<int>(kBarWidth * done / total_) : kBarWidth;
    std::string bar(static_cast<std::size_t>(kBarWidth), '.');
    for (int i = 0; i < filled; ++i) bar[static_cast<std::size_t>(i)] = '=';
    if (filled > 0 && filled < kBarWidth) bar[static_cast<std::size_t>(filled - 1)] = '>';
    return done_text + "/" + count + " [" + bar + "]";
}

void ProgressBar::update(std::int64_t done, const NamedMetrics& metrics) {
    if (!interactive_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < kRedrawInterval) return;
    last_draw_ = now;
    const double elapsed = seconds_since(start_);
    const double eta = done > 0 ? elapsed * double(total_ - done) / double(done) : 0;
    out_ << "\r" << bar(done) << " - ETA: " << static_cast<long>(std::lround(eta)) << "s"
         << format_metrics(metrics) << "\x1b[K" << std::flush;
}

void ProgressBar::finish(const NamedMetrics& metrics) {
    const double elapsed = seconds_since(start_);
    const long per_sample_us = total_ > 0 ? std::lround(elapsed * 1e6 / double(total_)) : 0;
    if (interactive_) out_ << "\r";
    out_ << bar(total_) << " - " << std::lround(elapsed) << "s " << per_sample_us << "us/step"
         << format_metrics(metrics) << (interactive_ ? "\x1b[K" : "") << "\n"
         << std::flush;
}

}  // namespace opgraph
