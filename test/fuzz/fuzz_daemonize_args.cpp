// libFuzzer target: ospp-daemonize's command-line parser on arbitrary argument vectors.
// The input is split at NUL bytes into argv[1..]. Invariants: parse_args never crashes; a usage
// error always says something; a parsed start has a command, a umask within 0777, fds >= 0, and
// every -E entry has a name before its '='.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "daemonize_args.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> args{"ospp-daemonize"};
    std::string current;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current += static_cast<char>(data[i]);
        }
    }
    if (!current.empty()) args.push_back(current);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);

    const auto parsed = ospp_daemonize::parse_args(static_cast<int>(args.size()), argv.data());
    if (!parsed) {
        if (parsed.error().message.empty()) __builtin_trap();
        return 0;
    }
    const auto& o = *parsed;
    if (o.action == ospp_daemonize::verb::start && o.command.empty()) __builtin_trap();
    if ((o.umask & ~0777) != 0) __builtin_trap();
    for (int fd : o.keep_fds)
        if (fd < 0) __builtin_trap();
    for (const auto& e : o.env)
        if (e.find('=') == std::string::npos || e.front() == '=') __builtin_trap();
    return 0;
}
