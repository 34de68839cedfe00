// src/sys.hpp — private helpers that give every wrapper in src/ the same shape:
//
//   result<std::size_t> read(fd_ref f, std::span<std::byte> buf) noexcept {
//       ssize_t n = sys::retry([&] { return ::read(f.get(), buf.data(), buf.size()); });
//       if (n < 0) return sys::fail("read");
//       return static_cast<std::size_t>(n);
//   }
//
// Path wrappers first refuse a path with an embedded NUL:
//       if (!path.valid()) return sys::bad_path("open", path);
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "ospp/error.hpp"
#include "ospp/path.hpp"

namespace ospp::sys {

using failure = tl::unexpected<errno_error>;

// Calls f() again while it fails with EINTR (PEP 475). f returns -1 (or another negative value)
// and sets errno on failure, like a system call. Not for close(2), which must never be retried.
template <class F>
inline auto retry(F&& f) noexcept(noexcept(f())) {
    auto r = f();
    while (r < 0 && errno == EINTR) r = f();
    return r;
}

// The same for calls that return the error number instead of setting errno (posix_fallocate,
// posix_fadvise, pthread_*, posix_spawn): retried while they return EINTR.
template <class F>
inline int retry_code(F&& f) noexcept(noexcept(f())) {
    int e = f();
    while (e == EINTR) e = f();
    return e;
}

// For the calls whose -1 is either "no limit" (errno untouched) or a failure (errno set):
// fpathconf, pathconf, sysconf. Runs f() with errno cleared; on `failed` errno holds the error.
struct limit_call {
    bool failed;
    std::optional<long> value;  // empty: no limit
};
template <class F>
inline limit_call call_limit(F&& f) noexcept(noexcept(f())) {
    errno = 0;
    const long r = f();
    if (r != -1) return {false, r};
    return {errno != 0, std::nullopt};
}

// The current errno as a failed result of `call` (a static string).
[[nodiscard]] inline failure fail(const char* call) noexcept {
    return failure(errno_error(errno, call));
}
// The same, naming the path(s) the call was given (copied here, on the failure path only; when
// memory for the copy runs out the error names no path, so none of these throws).
[[nodiscard]] inline failure fail(const char* call, const path_ref& path) noexcept {
    return failure(errno_error(errno, call, path.view()));
}
[[nodiscard]] inline failure fail(const char* call, const path_ref& path, const path_ref& path2) noexcept {
    return failure(errno_error(errno, call, path.view(), path2.view()));
}
// A given error number (for calls that return it, and for checks ospp makes itself).
[[nodiscard]] inline failure fail_with(int code, const char* call) noexcept {
    return failure(errno_error(code, call));
}
[[nodiscard]] inline failure fail_with(int code, const char* call, const path_ref& path) noexcept {
    return failure(errno_error(code, call, path.view()));
}
// A path that held an embedded NUL byte: EINVAL, as Python's "embedded null byte" ValueError.
[[nodiscard]] inline failure bad_path(const char* call, const path_ref& path) noexcept {
    return fail_with(EINVAL, call, path);
}

// ---- edge values (cross-cutting audit) ----
// A byte count that os.read, os.pread, os.urandom and os.getrandom refuse with OverflowError
// (they take a Py_ssize_t): above SSIZE_MAX, which is also the kernel's limit on a count. The
// forms that return a std::string check it first, as EINVAL, the kernel's answer to such a count:
// std::string(n) would throw std::length_error. (Below it, no memory is std::bad_alloc.)
[[nodiscard]] inline bool count_too_large(std::size_t n) noexcept {
    return n > static_cast<std::size_t>(std::numeric_limits<ssize_t>::max());
}

// ---- sandboxes and older kernels (sandbox audit) ----
// Where close_range is missing (Linux < 5.9) or refused (seccomp): calls f(n) for each fd number
// /proc/self/fd lists (not the listing's own), read with getdents64 into a stack buffer, so that
// it is async-signal-safe and allocation-free for a forked child. f may close fds as it goes.
// False when /proc/self/fd cannot be opened (no /proc).
template <class F>
bool for_each_listed_fd(F&& f) noexcept {
    const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return false;
    alignas(8) char buf[4096];
    for (;;) {
        const long got = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[].
            unsigned short reclen;
            std::memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char* name = buf + off + 19;
            off += reclen;
            if (name[0] < '0' || name[0] > '9') continue;
            int n = 0;
            for (const char* c = name; *c != '\0'; ++c) n = n * 10 + (*c - '0');
            if (n != dir) f(n);
        }
    }
    ::close(dir);
    return true;
}

// ---- exec and spawn (spawn differential domain) ----
// What goes between a PATH directory and the file, as Python's os.path.join puts it: nothing after
// "" (the current directory: the bare file name) or after a directory that ends with '/'. Shared by
// exec*p's search (process.cpp) and spawn*p's (spawn.cpp), so that both try the same candidates.
inline std::string_view path_separator(std::string_view dir) noexcept {
    return dir.empty() || dir.back() == '/' ? std::string_view("") : std::string_view("/");
}

}  // namespace ospp::sys
