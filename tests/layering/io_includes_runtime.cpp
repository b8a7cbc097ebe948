// Compiled with the io layer's include path by tests/layering: must fail, runtime is above io.
#include "opgraph/runtime/program.hpp"
