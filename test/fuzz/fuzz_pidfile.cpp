// libFuzzer target: reading a pidfile's contents (ospp::daemon::pidfile::read_pid).
// The input becomes the content of a file in $TMPDIR, made once and rewritten for each input (not
// a memfd read through /proc/self/fd/N: read_pid refuses a symlink, as acquire() does, and that
// path is one). Invariants: read_pid
// never crashes; what it accepts is a positive pid written in decimal at the start of the file,
// (leading zeros allowed) followed by a newline or the end of what it read; anything else is EINVAL.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ospp/pidfile.hpp"

namespace {

std::string g_path;

void remove_file() { ::unlink(g_path.c_str()); }

// The file the inputs are written to, opened read-write; removed when the fuzzer exits.
int input_file() {
    const char* dir = std::getenv("TMPDIR");
    g_path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/fuzz-pidfile-XXXXXX";
    const int f = ::mkostemp(g_path.data(), O_CLOEXEC);
    if (f >= 0) std::atexit(remove_file);
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int file = input_file();
    const std::string& path = g_path;
    if (file < 0 || ::ftruncate(file, 0) != 0) __builtin_trap();
    if (size > 0 && ::pwrite(file, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();

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
