// Running the `opgraph` binary from a test as a user would: its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace opgraph::testing {

struct CliRun {
    int code = -1;
    std::string output;  // stdout and stderr
};

// Runs a shell command line, stderr into the output.
inline CliRun run_shell(const std::string& line) {
    const std::string command = line + " 2>&1";
    CliRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) run.output += buffer.data();
    const int status = pclose(pipe);
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

// Runs `opgraph ARGS` (OPGRAPH_BINARY) through the shell.
inline CliRun run_cli(const std::string& args) {
    return run_shell(std::string(OPGRAPH_BINARY) + " " + args);
}

}  // namespace opgraph::testing
