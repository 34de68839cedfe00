// src/pidfile_read.hpp — reading a pid file, by one rule for every reader (pidfile::read_pid,
// pidfile::status).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <limits>
#include <optional>
#include <string_view>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp::daemon::detail {

// Decimal digits, then a newline or the end: anything else, or a number no pid_t can hold, is not
// a pid (the fuzzer found "9999999999" once passing as a truncated pid). No sign, no blanks; 0 is
// no pid.
[[nodiscard]] inline std::optional<pid_t> parse_pid(std::string_view text) noexcept {
    long pid = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        pid = pid * 10 + (text[i] - '0');
        if (pid > std::numeric_limits<pid_t>::max()) return std::nullopt;
    }
    if (i == 0 || pid <= 0 || (i < text.size() && text[i] != '\n')) return std::nullopt;
    return static_cast<pid_t>(pid);
}

// Opens the pid file at `path` for reading: without blocking (a FIFO planted at the path would
// wait for a writer, for ever), refusing a symlink (ELOOP) and anything but a regular file
// (EINVAL), as acquire() refuses them. Its fstat goes to `*st` when given. Errors as
// errno_error "pidfile" naming the path.
[[nodiscard]] result<fd> open_for_reading(const path_ref& path, struct ::stat* st = nullptr) noexcept;

// How long a reader that waits for a start to write its pid pauses between two looks.
void pause_between_looks() noexcept;

}  // namespace ospp::daemon::detail
