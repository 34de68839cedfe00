// ospp/terminal.hpp — terminals and pseudo-terminals: Python's ttyname, tcgetpgrp/tcsetpgrp,
// get_terminal_size, openpty, posix_openpt, grantpt, unlockpt, ptsname and login_tty.
//
//   Python                                   C++
//   os.ttyname(0)                            ospp::ttyname(ospp::stdin_fd)
//   os.get_terminal_size().columns           ospp::get_terminal_size()->columns
//   master, slave = os.openpty()             auto [master, slave] = ospp::openpty().value();
//   fd = os.posix_openpt(os.O_RDWR)          auto m = ospp::posix_openpt(open_flags::rdwr);
//   os.grantpt(fd); os.unlockpt(fd)          ospp::grantpt(*m); ospp::unlockpt(*m);
//   os.ptsname(fd)                           ospp::ptsname(*m)     // posix_openpt..ptsname: Python 3.13
//   os.login_tty(fd)                         ospp::login_tty(std::move(slave))
//
// isatty lives in fd_ops.hpp with the other questions about a descriptor. As everywhere in ospp,
// every descriptor created here is close-on-exec, set atomically.
#pragma once

#include <sys/types.h>

#include <string>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"

namespace ospp {

// Python's os.ttyname(fd): the path of the terminal device open on fd ("/dev/pts/3").
// Errors: EBADF, ENOTTY (not a terminal), ENODEV (a pty from another mount namespace), EIO (a
// terminal hung up: the slave of a closed master).
[[nodiscard]] result<std::string> ttyname(fd_ref f);

// Python's os.tcgetpgrp(fd): the foreground process group of the terminal, which must be the
// caller's controlling terminal; of a pty master, the slave's group (0 for none) whoever controls it.
// Errors: EBADF, ENOTTY (not our controlling terminal), EIO (hung up).
[[nodiscard]] result<::pid_t> tcgetpgrp(fd_ref f) noexcept;
// Python's os.tcsetpgrp(fd, pg): makes pg the foreground process group of the caller's
// controlling terminal. A caller in a background group gets SIGTTOU unless it blocks or ignores it;
// if a handler catches it the call fails with EINTR and is not retried (that would raise it again).
// Errors: EBADF, EINTR, EINVAL (bad pg), ENOTTY, EPERM (pg in another session), ESRCH (no such pg).
[[nodiscard]] result<void> tcsetpgrp(fd_ref f, ::pid_t pgid) noexcept;

// Python's os.terminal_size: the window size in character cells.
struct terminal_size {
    unsigned columns = 0;
    unsigned lines = 0;
    friend bool operator==(const terminal_size&, const terminal_size&) = default;
};
// Python's os.get_terminal_size(fd=STDOUT_FILENO): the window size of the terminal on fd
// (ioctl TIOCGWINSZ). Like os's (not shutil's) version there is no fallback to $COLUMNS/$LINES:
// a descriptor that is not a terminal is an error. Errors: EBADF, ENOTTY, EIO (hung up).
[[nodiscard]] result<terminal_size> get_terminal_size(fd_ref f = stdout_fd) noexcept;

// The two ends of a pseudo-terminal, as Python's (master, slave) tuple.
struct openpty_fds {
    fd master;  // the controlling side: what a terminal emulator reads and writes
    fd slave;   // the terminal a program runs on (/dev/pts/N)
};
// Python's os.openpty(): a new pseudo-terminal pair, both ends close-on-exec (atomically: the
// master with O_CLOEXEC, the slave through TIOCGPTPEER, or opened by name on kernels before 4.13).
// Neither end becomes the caller's controlling terminal (O_NOCTTY).
// Errors: EMFILE, ENFILE, ENOSPC (pty limit reached), ENOENT (no /dev/pts).
[[nodiscard]] result<openpty_fds> openpty() noexcept;

// Python's os.posix_openpt(oflag): opens a new pty master (open_flags::rdwr, optionally
// open_flags::noctty). O_CLOEXEC is always added. The C library opens /dev/ptmx with the flags
// as given, so other flags are open(2)'s: open_flags::path gives a descriptor of /dev/ptmx that is
// no master (grantpt, ptsname... on it are EBADF). Errors: EINVAL (direct), ENOTDIR (directory,
// tmpfile), EEXIST (creat|excl), EMFILE, ENFILE, ENOSPC (pty limit reached).
[[nodiscard]] result<fd> posix_openpt(open_flags flags) noexcept;
// Python's os.grantpt(fd): makes the slave of master `f` accessible (a no-op on Linux's devpts,
// kept for portability). Errors: EBADF, EINVAL (not a pty master: the C library turns the
// ioctl's ENOTTY into POSIX's EINVAL), EIO (a hung-up slave).
[[nodiscard]] result<void> grantpt(fd_ref f) noexcept;
// Python's os.unlockpt(fd): unlocks the slave so it can be opened (until then opening it by its
// name is EIO). Errors: EBADF, EINVAL (not a pty master), EIO (a hung-up slave).
[[nodiscard]] result<void> unlockpt(fd_ref f) noexcept;
// Python's os.ptsname(fd): the slave's path ("/dev/pts/3"), via ptsname_r.
// Errors: EBADF, ENOTTY (not a pty master), EIO (a hung-up slave).
[[nodiscard]] result<std::string> ptsname(fd_ref f);

// Python's os.login_tty(fd): prepares the terminal `tty` for a login in this (usually just
// forked) process: makes the process a session leader, `tty` its controlling terminal and fds
// 0, 1, 2 (inheritable), then closes `tty` unless it is one of them. The descriptor is consumed
// in every case: on failure too it is closed, unless it is 0-2, which always stay open (the C
// function and Python's version close nothing on failure). Errors: EBADF, ENOTTY (not a
// terminal), EPERM (the terminal is already another session's controlling terminal), EIO (hung up).
[[nodiscard]] result<void> login_tty(fd tty) noexcept;

}  // namespace ospp
