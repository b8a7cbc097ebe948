#include "opgraph/core/format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace opgraph {

namespace {

// Python's repr switches to scientific notation outside [1e-4, 1e16).
constexpr double kMinPositional = 1e-4;
constexpr double kMaxPositional = 1e16;
// The reference schedules return round(lr, 10).
constexpr int kPrintedDecimals = 10;

// Python's repr of a finite double: shortest round-trip digits, positional or scientific.
std::string python_repr(double value) {
    // Shortest round-trip digits as d[.ddd]e±XX.
    char buffer[64];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    std::string out;
    if (text.front() == '-') {
        out = "-";
        text.remove_prefix(1);
    }
    const std::size_t e_pos = text.find('e');
    std::string digits;
    for (char c : text.substr(0, e_pos))
        if (c != '.') digits += c;
    std::string_view exponent_text = text.substr(e_pos + 1);
    const bool negative_exponent = exponent_text.front() == '-';
    if (exponent_text.front() == '-' || exponent_text.front() == '+')
        exponent_text.remove_prefix(1);
    int exponent = 0;
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
    if (negative_exponent) exponent = -exponent;

    const double magnitude = std::fabs(value);
    if (value == 0 || (magnitude >= kMinPositional && magnitude < kMaxPositional)) {
        if (exponent < 0)
            return out + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
        const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
        if (digits.size() <= integer_digits)
            return out + digits + std::string(integer_digits - digits.size(), '0') + ".0";
        return out + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
        out += '.';
        out.append(digits, 1, std::string::npos);
    }
    const std::string exponent_digits = std::to_string(std::abs(exponent));
    out += negative_exponent ? "e-" : "e+";
    if (exponent_digits.size() < 2) out += "0";
    return out + exponent_digits;
}

}  // namespace

std::string python_float_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char text[64];
    const auto result =
        std::to_chars(text, text + sizeof text, value, std::chars_format::scientific);
    const std::string scientific(text, result.ptr);  // "-1.2345e-05", shortest round trip
    const std::size_t e = scientific.find('e');
    std::string mantissa = scientific.substr(0, e);
    const int exponent = std::stoi(scientific.substr(e + 1));
    std::string sign;
    if (mantissa.front() == '-') {
        sign = "-";
        mantissa.erase(0, 1);
    }
    std::string digits = mantissa;
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    if (exponent < -4 || exponent >= 16) {
        char exp_text[16];
        std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+',
                      exponent < 0 ? -exponent : exponent);
        return sign + mantissa + exp_text;
    }
    if (exponent < 0)
        return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const std::size_t integer_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= integer_digits)
        return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
    return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string keras_float_str(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    // Rounded to kPrintedDecimals places from the exact binary value, then read back: what
    // Python's round(value, 10) returns. 400 characters hold any double in fixed notation.
    char buffer[400];
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, value,
                                       std::chars_format::fixed, kPrintedDecimals);
    double rounded = value;
    std::from_chars(buffer, written.ptr, rounded);
    if (rounded == 0 && value != 0) return python_repr(value);
    return python_repr(std::copysign(rounded, value));
}

std::string bytes_str(std::int64_t bytes) {
    constexpr double kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
    const auto b = static_cast<double>(bytes);
    char text[48];
    if (b < kKiB)
        std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
    else if (b < kMiB)
        std::snprintf(text, sizeof text, "%.1f KiB", b / kKiB);
    else if (b < kGiB)
        std::snprintf(text, sizeof text, "%.2f MiB", b / kMiB);
    else
        return gib_str(bytes);
    return text;
}

std::string gib_str(std::int64_t bytes) {
    char text[48];
    std::snprintf(text, sizeof text, "%.2f GiB",
                  static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
    return text;
}

}  // namespace opgraph
