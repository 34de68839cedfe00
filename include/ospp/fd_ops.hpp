// ospp/fd_ops.hpp — Python's "File Descriptor Operations": open, read, write, pipe, dup, ...
//
//   Python                                         C++
//   fd = os.open("f", os.O_WRONLY | os.O_CREAT)    auto f = ospp::open("f", open_flags::wronly | open_flags::creat);
//   os.write(fd, b"hello")                         ospp::write(*f, "hello");
//   data = os.read(fd, 100)                        std::string data = ospp::read(*f, 100).value();
//   r, w = os.pipe()                               auto [r, w] = ospp::pipe().value();
//
// Every descriptor returned here is close-on-exec (PEP 446), set atomically with O_CLOEXEC,
// F_DUPFD_CLOEXEC or pipe2; use set_inheritable() to pass one to a child. dup2 is the exception:
// like Python's, it makes the target inheritable by default, because its job is wiring 0-2.
// Calls interrupted by a signal are retried (PEP 475); close is never retried.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp {

// open(2) flags: Python's os.O_*.
enum class open_flags : int {
    rdonly = O_RDONLY,
    wronly = O_WRONLY,
    rdwr = O_RDWR,
    append = O_APPEND,
    creat = O_CREAT,
    excl = O_EXCL,
    trunc = O_TRUNC,
    nonblock = O_NONBLOCK,
    ndelay = O_NDELAY,
    dsync = O_DSYNC,
    sync = O_SYNC,
    rsync = O_RSYNC,
    cloexec = O_CLOEXEC,
    directory = O_DIRECTORY,
    nofollow = O_NOFOLLOW,
    noctty = O_NOCTTY,
    noatime = O_NOATIME,
    path = O_PATH,
    tmpfile = O_TMPFILE,
    async = O_ASYNC,
    direct = O_DIRECT,
    largefile = O_LARGEFILE,
    accmode = O_ACCMODE,
};
template <>
struct enable_bitmask<open_flags> : std::true_type {};

// Python's keyword arguments of os.open.
struct open_options {
    fd_ref dir_fd = cwd_fd;  // relative paths are resolved against this directory
};

// Python's os.open(path, flags, mode=0o777, *, dir_fd=None). Always adds O_CLOEXEC.
// Errors: everything openat(2) gives — ENOENT, EACCES, EEXIST (creat|excl), EISDIR, ELOOP
// (nofollow), EMFILE, ENOTDIR; EINVAL for a path with an embedded NUL.
result<fd> open(path_ref path, open_flags flags, ::mode_t mode = 0777,
                const open_options& options = {}) noexcept;

// Python's os.read(fd, n) into the caller's buffer: the number of bytes read, 0 at end of file.
// Errors: EBADF, EAGAIN (non-blocking, nothing to read), EISDIR, EIO.
result<std::size_t> read(fd_ref f, std::span<std::byte> buffer) noexcept;
// Python's os.read(fd, n): up to n bytes as a string; empty at end of file.
result<std::string> read(fd_ref f, std::size_t n);

// Python's os.write(fd, data): the number of bytes written, which may be fewer than given.
// Errors: EBADF, EAGAIN, EPIPE (SIGPIPE is the caller's business), ENOSPC, EFBIG, EIO.
result<std::size_t> write(fd_ref f, std::span<const std::byte> data) noexcept;
result<std::size_t> write(fd_ref f, std::string_view data) noexcept;

// The two ends of a pipe, as Python's (r, w) tuple.
struct pipe_fds {
    fd read_end;
    fd write_end;
};

// Python's os.pipe(): a close-on-exec pipe. Errors: EMFILE, ENFILE.
result<pipe_fds> pipe() noexcept;
// Python's os.pipe2(flags) with open_flags::nonblock / direct; O_CLOEXEC is always added
// (ospp creates no inheritable descriptor; see set_inheritable). Errors: EINVAL, EMFILE, ENFILE.
result<pipe_fds> pipe2(open_flags flags) noexcept;

// Python's os.dup(fd): a new close-on-exec descriptor for the same open file.
// Errors: EBADF, EMFILE.
result<fd> dup(fd_ref f) noexcept;
// Python's os.dup2(fd, fd2, inheritable=True): makes fd2 refer to fd's file and returns fd2,
// borrowed (the caller decides who owns it). Errors: EBADF, EBUSY, EMFILE.
result<fd_ref> dup2(fd_ref f, fd_ref target, bool inheritable = true) noexcept;

}  // namespace ospp
