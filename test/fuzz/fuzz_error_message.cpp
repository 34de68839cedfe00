// libFuzzer target: errno_error messages and path quoting on arbitrary paths.
// Invariants: a quoted path is one line of printable ASCII between matching quotes, so no file
// name can forge a log line; the message ends with the quoted path(s); path_ref refuses exactly
// the inputs with a NUL byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ospp/error.hpp"
#include "ospp/path.hpp"

namespace {
void check_quoted(const std::string& q) {
    if (q.size() < 2 || q.front() != q.back() || (q.front() != '\'' && q.front() != '"')) __builtin_trap();
    for (char c : q)
        if (c < 0x20 || c > 0x7e) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t cut = all.find('\x01');
    const std::string_view a = all.substr(0, cut);
    const std::string_view b = cut == std::string_view::npos ? std::string_view() : all.substr(cut + 1);

    check_quoted(ospp::quote_path(a));
    const ospp::errno_error e(ENOENT, "rename", a, b);
    const std::string expected_tail = ospp::quote_path(a) + " -> " + ospp::quote_path(b);
    const std::string m = e.message();
    if (m.size() < expected_tail.size() || m.compare(m.size() - expected_tail.size(), expected_tail.size(), expected_tail) != 0)
        __builtin_trap();
    if (e.path() != a || e.path2() != b) __builtin_trap();
    const ospp::errno_error copy = e;
    if (copy.message() != m) __builtin_trap();

    const ospp::path_ref p(a);
    if (p.valid() != (a.find('\0') == std::string_view::npos)) __builtin_trap();
    if (p.view() != a || p.c_str()[a.size()] != '\0') __builtin_trap();
    return 0;
}
