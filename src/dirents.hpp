// src/dirents.hpp — reading a directory with getdents64, shared by scandir.cpp and walk.cpp.
//
// getdents64 fills a caller buffer with many entries per system call; glibc's readdir does the
// same behind a DIR* (with a 32 KiB buffer and a heap allocation per opendir). Owning the buffer
// lets the walker reuse one for a whole tree.
#pragma once

#include <dirent.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "sys.hpp"

namespace ospp::sys {

inline constexpr std::size_t dirent_buffer_size = 64 * 1024;

// getdents64(2): bytes read into `buf`, 0 at the end of the directory, -1 with errno on error.
// A directory removed while open fails with ENOENT: it was empty when removed, so that is its end,
// as glibc's readdir (and so Python's scandir) takes it.
inline ssize_t read_dirents(int dir_fd, std::byte* buf, std::size_t size) noexcept {
    const ssize_t n = retry([&] { return ::getdents64(dir_fd, buf, size); });
    return n < 0 && errno == ENOENT ? 0 : n;
}

// The record at byte offset `pos` of a buffer filled by read_dirents (records are 8-byte aligned,
// and the buffer comes from operator new, so the cast is to a properly aligned object).
inline const struct ::dirent64* dirent_at(const std::byte* buf, std::size_t pos) noexcept {
    return reinterpret_cast<const struct ::dirent64*>(buf + pos);
}

inline bool is_dot_or_dotdot(const char* name) noexcept {
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

}  // namespace ospp::sys
