// ospp/fd.hpp — file descriptor ownership: `fd` owns, `fd_ref` borrows.
//
//   Python                                   C++
//   fd = os.open("f", os.O_RDONLY)           ospp::fd f = ospp::open("f", ospp::open_flags::rdonly).value();
//   os.read(fd, 10)                          ospp::read(f, 10)          // fd converts to fd_ref
//   os.close(fd)                             f.close()  or  ospp::close(std::move(f))  // a result<void>: check it
//   with suppress(OSError): os.close(fd)     f.reset()  // errors ignored, as the destructor does
//   os.write(1, b"hi")                       ospp::write(ospp::stdout_fd, "hi")
//
// `fd` is to `fd_ref` what std::string is to std::string_view (Android's unique_fd/borrowed_fd).
// A raw int never becomes an owner by accident: both constructors from int are explicit.
#pragma once

#include <fcntl.h>  // AT_FDCWD

#include "ospp/error.hpp"

namespace ospp {

// A borrowed file descriptor: does not close. What ospp functions take.
class fd_ref {
public:
    constexpr fd_ref() noexcept = default;
    constexpr explicit fd_ref(int raw) noexcept : fd_(raw) {}
    // The raw descriptor number (-1 when empty).
    [[nodiscard]] constexpr int get() const noexcept { return fd_; }
    friend constexpr bool operator==(fd_ref, fd_ref) noexcept = default;

private:
    int fd_ = -1;
};

inline constexpr fd_ref stdin_fd{0};
inline constexpr fd_ref stdout_fd{1};
inline constexpr fd_ref stderr_fd{2};
// Python's dir_fd=None: paths are resolved against the working directory (AT_FDCWD).
inline constexpr fd_ref cwd_fd{AT_FDCWD};

// An owned file descriptor: move-only, closed by the destructor (errors ignored, errno kept).
// There is deliberately no operator bool and no operator int: use valid() and get().
class fd {
public:
    constexpr fd() noexcept = default;
    // Takes ownership of `raw` (which may be -1 for "none").
    constexpr explicit fd(int raw) noexcept : fd_(raw) {}
    fd(fd&& other) noexcept : fd_(other.release()) {}
    fd& operator=(fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    fd(const fd&) = delete;
    fd& operator=(const fd&) = delete;
    ~fd() { reset(); }

    // The raw descriptor number (-1 when empty); ownership stays here.
    [[nodiscard]] constexpr int get() const noexcept { return fd_; }
    [[nodiscard]] constexpr bool valid() const noexcept { return fd_ >= 0; }
    // Borrows; an fd converts to fd_ref wherever a function takes one.
    constexpr operator fd_ref() const noexcept { return fd_ref{fd_}; }  // NOLINT(google-explicit-constructor)

    // Gives up ownership and returns the raw number; the caller must close it.
    [[nodiscard]] constexpr int release() noexcept {
        int raw = fd_;
        fd_ = -1;
        return raw;
    }
    // Closes the owned descriptor (if any, ignoring errors, preserving errno) and owns `raw`.
    void reset(int raw = -1) noexcept;
    // Closes now and reports close(2)'s error (EBADF, EIO, ENOSPC...). The fd is released even on
    // error: close is never retried, because after EINTR the number may already be reused.
    // Closing an empty owner (already closed, moved from) does nothing and succeeds.
    [[nodiscard]] result<void> close() noexcept;

private:
    int fd_ = -1;
};

// Python's os.close(fd). Consumes an owned fd, or closes a borrowed raw number you own.
// Errors: EBADF, EIO, ENOSPC (EINTR is reported, never retried). An empty owner: success, as
// fd::close(); a raw -1 is EBADF, as os.close(-1).
[[nodiscard]] result<void> close(fd&& f) noexcept;
[[nodiscard]] result<void> close(fd_ref raw) noexcept;
// Closing through an lvalue owner would leave it owning a dead number: use f.close() instead.
void close(fd& f) = delete;
void close(const fd& f) = delete;

}  // namespace ospp
