// Typed errors thrown by the library, and the process exit code each one maps to.
//
// The library never calls abort() or exit(): it throws one of these. The CLI catches them,
// prints what() and returns exit_code(). Every message names the file it is about (and the
// line:column or byte offset where one is known).
#pragma once

#include <stdexcept>
#include <string>

namespace opgraph {

// Documented process exit codes (README, `opgraph --help`).
enum class ExitCode : int {
    ok = 0,
    internal = 1,            // a bug in opgraph
    usage = 2,               // bad command line
    invalid_graph = 3,       // YAML graph or training section is invalid
    invalid_data = 4,        // data file missing, malformed or inconsistent
    invalid_checkpoint = 5,  // checkpoint unreadable, corrupt or unwritable
    plugin_refused = 6,      // operator plugin could not be loaded
    numerical = 7,           // NaN / Inf
    out_of_memory = 8,       // the program needs more memory than the machine has
    unsupported_cpu = 9,     // the CPU cannot run the precision asked for (bf16 below AVX-512)
};

// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode exit_code() const noexcept { return code_; }

private:
    ExitCode code_;
};

// Command-line misuse (unknown option, missing argument).
class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(ExitCode::usage, message) {}
};

// A data file (IDX, dataset directory) is missing, malformed or inconsistent.
class DataError : public Error {
public:
    explicit DataError(const std::string& message) : Error(ExitCode::invalid_data, message) {}
};

// A checkpoint or weights file is unreadable, corrupt, mismatched or cannot be written.
class CheckpointError : public Error {
public:
    explicit CheckpointError(const std::string& message)
        : Error(ExitCode::invalid_checkpoint, message) {}
};

// A computation produced NaN or Inf (a diverging loss, a node's output under
// --check-numerics).
class NumericalError : public Error {
public:
    explicit NumericalError(const std::string& message) : Error(ExitCode::numerical, message) {}
};

// A program whose memory plan does not fit in the memory available, or whose allocation
// failed: names the need and the availability in GiB and the largest contributors.
class MemoryError : public Error {
public:
    explicit MemoryError(const std::string& message) : Error(ExitCode::out_of_memory, message) {}
};

}  // namespace opgraph
