// libFuzzer target: reading a pidfile's contents (ospp::daemon::pidfile::read_pid).
// The input becomes the content of a memfd read through /proc/self/fd/N. Invariants: read_pid
// never crashes; what it accepts is a positive pid written in decimal at the start of the file,
// (leading zeros allowed) followed by a newline or the end of what it read; anything else is EINVAL.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ospp/pidfile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int memfd = ::memfd_create("fuzz-pidfile", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(memfd);
    if (memfd < 0 || ::ftruncate(memfd, 0) != 0) __builtin_trap();
    if (size > 0 && ::pwrite(memfd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();

    const auto pid = ospp::daemon::pidfile::read_pid(path);
    if (!pid) {
        if (pid.error().code() != EINVAL) __builtin_trap();
        return 0;
    }
    if (*pid <= 0) __builtin_trap();
    const std::string digits = std::to_string(*pid);
    std::string text(reinterpret_cast<const char*>(data), size);
    text.erase(0, text.find_first_not_of('0'));  // leading zeros are accepted, as Python's int() does
    if (text.compare(0, digits.size(), digits) != 0) __builtin_trap();
    return 0;
}
