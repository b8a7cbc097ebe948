// `opgraph`: dispatches to a subcommand and turns errors into a message and an exit code.
#include <iostream>

#include "commands.hpp"
#include "opgraph/build_info.hpp"
#include "opgraph/core/diagnostic.hpp"
#include "opgraph/core/error.hpp"

namespace {

void print_help(std::ostream& out) {
    out << "usage: opgraph COMMAND [options]   (opgraph COMMAND --help for its options)\n\n"
           "commands:\n";
    for (const auto& c : opgraph::cli::commands())
        out << "  " << c.name << std::string(10 - std::string(c.name).size(), ' ') << c.summary
            << "\n";
    out << "\nexit codes:\n"
           "  0 success\n"
           "  1 internal error (a bug in opgraph or in the plugin of the op named)\n"
           "  2 usage error\n"
           "  3 invalid graph\n"
           "  4 invalid data\n"
           "  5 invalid or unwritable checkpoint\n"
           "  6 plugin refused\n"
           "  7 numerical failure (NaN or Inf)\n"
           "  8 out of memory (the program's memory plan does not fit, or allocating it failed)\n"
           "  130 / 143 interrupted (SIGINT / SIGTERM) after a clean checkpoint\n"
           "\nenvironment:\n"
           "  OPGRAPH_PLUGIN_PATH   extra plugin directories, ':'-separated\n";
}

int run(int argc, char** argv) {
    if (argc < 2) {
        print_help(std::cerr);
        return static_cast<int>(opgraph::ExitCode::usage);
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_help(std::cout);
        return 0;
    }
    if (name == "--version") {
        std::cout << "opgraph " << OPGRAPH_VERSION << " (" << OPGRAPH_COMPILER << ")\n";
        return 0;
    }
    for (const auto& command : opgraph::cli::commands())
        if (name == command.name) return command.run({argv + 2, argv + argc});
    throw opgraph::UsageError("unknown command '" + name + "' (opgraph --help lists them)");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const opgraph::GraphError& e) {
        std::cerr << e.what() << "\n"
                  << e.diagnostics().size() << (e.diagnostics().size() == 1 ? " error" : " errors")
                  << "\n";
        return static_cast<int>(e.exit_code());
    } catch (const opgraph::Error& e) {
        std::cerr << "opgraph: error: " << e.what() << "\n";
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        std::cerr << "opgraph: internal error: " << e.what() << "\n";
        return static_cast<int>(opgraph::ExitCode::internal);
    }
}
