// Numbers as people read them: byte counts, and floats as Python and Keras print them (for
// logs, CSV files and file names that must match what tf.keras writes).
#pragma once

#include <cstdint>
#include <string>

namespace opgraph {

// Python's repr of a float: shortest round-trip digits, positional when 1e-4 <= |x| < 1e16
// (at least one fractional digit, "1.0"), scientific otherwise ("1e-05", "2.5e+20"); "nan",
// "inf", "-inf".
std::string python_float_repr(double value);

// How Keras prints a learning rate in "LearningRateScheduler setting learning rate to X.",
// as in the reference logs: Keras prints Python's repr of the float the schedule function
// returned, and the reference schedules return round(lr, 10). So: the value rounded to 10
// decimal places (correctly, from its exact binary value, as Python's round), then its
// shortest round-trip form as a double. Positional when 1e-4 <= |x| < 1e16 or x is 0, with at
// least one fractional digit ("1.0"); scientific otherwise, the point dropped after a single
// digit and the exponent of two digits at least ("1e-05", "2.5e+20"); "nan", "inf", "-inf".
// A nonzero value that would round to 0 prints unrounded ("1.5e-11"), never as "0.0".
// E.g. 0.003 -> "0.003", 0.003/(1+0.319) -> "0.0022744503", 0.003/(1+0.319*10) ->
// "0.0007159905". (Not float32's shortest form: that gives "0.0022744504" and differs from
// the reference log at 6 of its 18 epochs.)
std::string keras_float_str(double value);

// "512 B", "57.0 KiB", "1.50 MiB", "2.25 GiB" (binary units).
std::string bytes_str(std::int64_t bytes);
// Always in GiB with two decimals: "37.25 GiB".
std::string gib_str(std::int64_t bytes);

}  // namespace opgraph
