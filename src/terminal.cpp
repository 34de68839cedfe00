// src/terminal.cpp — terminals and pseudo-terminals.
#include "ospp/terminal.hpp"

#include <stdlib.h>  // posix_openpt, grantpt, unlockpt, ptsname_r
#include <sys/ioctl.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "sys.hpp"

namespace ospp {

namespace {

// ttyname_r and ptsname_r return an error number, ERANGE when the buffer is too small: grow it.
template <class Call>
result<std::string> kernel_sized_string(const char* name, Call call) {
    std::string buf(64, '\0');
    for (;;) {
        const int e = call(buf.data(), buf.size());
        if (e == 0) break;
        if (e != ERANGE || buf.size() >= 65536) return sys::fail_with(e, name);
        buf.resize(buf.size() * 2);
    }
    buf.resize(buf.find('\0'));
    return buf;
}

}  // namespace

result<std::string> ttyname(fd_ref f) {
    return kernel_sized_string("ttyname", [&](char* b, std::size_t n) { return ::ttyname_r(f.get(), b, n); });
}

result<::pid_t> tcgetpgrp(fd_ref f) noexcept {
    const ::pid_t pg = ::tcgetpgrp(f.get());
    if (pg < 0) return sys::fail("tcgetpgrp");
    return pg;
}

result<void> tcsetpgrp(fd_ref f, ::pid_t pgid) noexcept {
    // Not retried on EINTR (nor is Python's): from a background group the call itself raises
    // SIGTTOU, and EINTR means a handler caught it; calling again would raise it again, forever.
    if (::tcsetpgrp(f.get(), pgid) < 0) return sys::fail("tcsetpgrp");
    return {};
}

result<terminal_size> get_terminal_size(fd_ref f) noexcept {
    ::winsize w{};
    if (::ioctl(f.get(), TIOCGWINSZ, &w) < 0) return sys::fail("get_terminal_size");
    return terminal_size{w.ws_col, w.ws_row};
}

result<fd> posix_openpt(open_flags flags) noexcept {
    const int raw = ::posix_openpt(to_raw(flags) | O_CLOEXEC);
    if (raw < 0) return sys::fail("posix_openpt");
    return fd(raw);
}

result<void> grantpt(fd_ref f) noexcept {
    if (::grantpt(f.get()) < 0) return sys::fail("grantpt");
    return {};
}

result<void> unlockpt(fd_ref f) noexcept {
    if (::unlockpt(f.get()) < 0) return sys::fail("unlockpt");
    return {};
}

result<std::string> ptsname(fd_ref f) {
    return kernel_sized_string("ptsname", [&](char* b, std::size_t n) { return ::ptsname_r(f.get(), b, n); });
}

result<openpty_fds> openpty() noexcept {
    // openpty(3) cannot set O_CLOEXEC, and Python's fcntl afterwards leaves a window in which a
    // concurrent fork+exec inherits both ends; this builds the pair with O_CLOEXEC from the start.
    constexpr int slave_flags = O_RDWR | O_NOCTTY | O_CLOEXEC;
    const int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return sys::fail("openpty");
    fd master(m);
    if (::grantpt(m) < 0 || ::unlockpt(m) < 0) return sys::fail("openpty");
    // TIOCGPTPEER (Linux 4.13) opens the slave without a path lookup, immune to /dev/pts races.
    int s = ::ioctl(m, TIOCGPTPEER, slave_flags);
    if (s < 0 && (errno == EINVAL || errno == ENOTTY)) {
        char name[128];
        if (const int e = ::ptsname_r(m, name, sizeof name); e != 0) return sys::fail_with(e, "openpty");
        s = sys::retry([&] { return ::open(name, slave_flags); });
    }
    if (s < 0) return sys::fail("openpty");
    return openpty_fds{std::move(master), fd(s)};
}

result<void> login_tty(fd tty) noexcept {
    // If tty is one of 0-2 it must stay open, on failure too (closing stdin would hand its number
    // to the next open): give up ownership instead of closing it.
    const int t = tty.get();
    if (t <= 2) (void)tty.release();
    // What login_tty(3) does, with every step's error reported. setsid fails with EPERM when we
    // already lead a process group; like the C function, carry on: TIOCSCTTY then says whether
    // the terminal can become ours.
    (void)::setsid();
    if (::ioctl(t, TIOCSCTTY, 0) < 0) return sys::fail("login_tty");
    for (int target = 0; target <= 2; ++target) {
        // dup2 leaves the descriptor it is given alone when it is already the target, so that
        // one is made inheritable by hand: 0-2 must survive exec.
        const int r = t == target ? ::fcntl(target, F_SETFD, 0) : sys::retry([&] { return ::dup2(t, target); });
        if (r < 0) return sys::fail("login_tty");
    }
    return {};
}

}  // namespace ospp
