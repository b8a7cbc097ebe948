// Compiled with the io layer's include path by tests/layering: must build, ir is below io.
#include "opgraph/ir/graph.hpp"

int main() { return opgraph::Graph{}.nodes.empty() ? 0 : 1; }
