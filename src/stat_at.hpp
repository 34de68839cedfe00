// src/stat_at.hpp — the one stat primitive of ospp, shared by stat.cpp, scandir.cpp and walk.cpp.
#pragma once

#include "ospp/stat.hpp"

namespace ospp::sys {

// statx(dir_fd, path, flags) into `out` (fstatat where statx is missing or refused by seccomp).
// Returns 0, or -1 with errno set, like the system call. EINTR is retried.
int stat_at(int dir_fd, const char* path, int flags, stat_result& out) noexcept;

}  // namespace ospp::sys
