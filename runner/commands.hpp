// The `opgraph` subcommands. Each parses its own options and calls the framework; none
// holds logic of its own. Each returns the process exit code or throws an opgraph::Error.
#pragma once

#include <string>
#include <vector>

namespace opgraph::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand's name

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const Args& args);
};

const std::vector<Command>& commands();

// `opgraph bench` (bench_command.cpp).
int bench(const Args& args);

}  // namespace opgraph::cli
