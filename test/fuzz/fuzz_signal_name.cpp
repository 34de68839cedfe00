// libFuzzer target: ospp::signal_from_name on arbitrary bytes.
// Invariants: it never crashes; whatever it accepts names a real signal whose name parses back to
// the same signal.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ospp/signal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = ospp::signal_from_name(text);
    if (!parsed) {
        if (parsed.error().code() != EINVAL) __builtin_trap();
        return 0;
    }
    const int n = ospp::to_raw(*parsed);
    if (n < 1 || n > ospp::signal_max()) __builtin_trap();
    const std::string name = ospp::signal_name(*parsed);
    const auto again = ospp::signal_from_name(name);
    if (name.empty() || !again || *again != *parsed) __builtin_trap();
    return 0;
}
