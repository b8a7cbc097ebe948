// Loads the installed core plugin plus the one given on the command line, prints the op count.
#include <iostream>
#include <opgraph/op/session.hpp>

int main(int argc, char** argv) {
    opgraph::SessionOptions options;
    for (int i = 1; i < argc; ++i) options.plugin_path.push_back(argv[i]);
    const opgraph::Session session(options);
    std::cout << "ops: " << session.ops().all().size() << "\n";
    return session.ops().find("consumer_scale") && session.ops().find("conv2d") ? 0 : 1;
}
