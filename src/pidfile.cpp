// src/pidfile.cpp — the locked pid file (FreeBSD pidfile(3) semantics).
#include "ospp/pidfile.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "pidfile_read.hpp"
#include "sys.hpp"

namespace ospp::daemon {

namespace {

constexpr const char* step = "pidfile";

// Formats a pid as decimal digits plus '\n' into buf (no snprintf: this runs after fork).
std::size_t format_pid(pid_t pid, char (&buf)[24]) noexcept {
    char digits[20];
    std::size_t n = 0;
    auto v = static_cast<unsigned long>(pid);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof digits);
    for (std::size_t i = 0; i < n; ++i) buf[i] = digits[n - 1 - i];
    buf[n] = '\n';
    return n + 1;
}

// The daemon chdirs after locking: remember the path from the root so that release() still
// finds the file (getcwd's ERANGE grows the buffer; any other failure keeps the path as given).
std::string absolute(std::string_view path) {
    if (path.empty() || path[0] == '/') return std::string(path);
    std::string cwd(256, '\0');
    while (::getcwd(cwd.data(), cwd.size()) == nullptr) {
        if (errno != ERANGE) return std::string(path);
        cwd.resize(cwd.size() * 2);
    }
    cwd.resize(std::strlen(cwd.c_str()));
    return cwd + (cwd.back() == '/' ? "" : "/") + std::string(path);
}

// flock(LOCK_EX | LOCK_NB), looking once more a moment later when the lock is held: status()
// probes with a shared lock, held for two system calls, where /proc cannot tell it who holds the
// lock (no /proc/locks, a child pid namespace, btrfs and overlayfs), and a start that met that
// probe would otherwise fail as "already running".
int lock_exclusive(int fd) noexcept {
    for (int looks = 2;;) {
        if (sys::retry([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) == 0) return 0;
        if (errno != EWOULDBLOCK || --looks == 0) return -1;
        detail::pause_between_looks();
    }
}

}  // namespace

result<pidfile> pidfile::acquire(path_ref path, const pidfile_options& options) {
    if (!path.valid()) return sys::bad_path(step, path);
    const ::mode_t mode = options.mode & 0755;
    // Made absolute first, and used for every call: the file locked is the file release() finds,
    // even when another thread changes the working directory while this runs.
    const std::string where = absolute(path.view());
    // Another process may unlink the file between our open and our lock (its release()); then we
    // would hold a lock on a nameless inode. Retry until the locked inode is the one the path names.
    for (;;) {
        fd f(sys::retry([&] {
            return ::open(where.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
        }));
        if (!f.valid()) return sys::fail(step, path);
        struct ::stat st {};
        if (::fstat(f.get(), &st) < 0) return sys::fail(step, path);
        if (!S_ISREG(st.st_mode)) return sys::fail_with(EINVAL, step, path);
        if (lock_exclusive(f.get()) < 0) {
            if (errno == EWOULDBLOCK) return sys::fail_with(EEXIST, step, path);
            return sys::fail(step, path);
        }
        // Empty the file at once, under the lock: a stale file still names the pid of a daemon long
        // gone, which may be some unrelated process's now. Until write(), a reader that finds the
        // lock held must find no pid rather than that one. (Harmless when the inode turns out below
        // to be no longer the path's: we hold its lock, so no live daemon reads it.)
        if (sys::retry([&] { return ::ftruncate(f.get(), 0); }) < 0) return sys::fail(step, path);
        struct ::stat now {};
        if (::stat(where.c_str(), &now) < 0) {
            if (errno == ENOENT) continue;
            return sys::fail(step, path);
        }
        if (now.st_dev != st.st_dev || now.st_ino != st.st_ino) continue;
        // A stale file may carry loose permissions from whoever made it: never leave it writable
        // by others, who could then point our release() or a killer script at any pid.
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
            ::fchmod(f.get(), st.st_mode & 07755 & ~static_cast<::mode_t>(S_IWGRP | S_IWOTH)) < 0) {
            return sys::fail(step, path);
        }
        pidfile p;
        p.file_ = std::move(f);
        p.path_ = where;
        p.dev_ = st.st_dev;
        p.ino_ = st.st_ino;
        p.owner_ = ::getpid();
        return p;
    }
}

result<fd> detail::open_for_reading(const path_ref& path, struct ::stat* st) noexcept {
    if (!path.valid()) return sys::bad_path(step, path);
    // O_NONBLOCK: no effect on a regular file. O_NOFOLLOW: a symlink is refused (ELOOP), as
    // acquire() refuses it, so that one planted at the path cannot name another daemon's file.
    fd f(sys::retry([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW); }));
    if (!f.valid()) return sys::fail(step, path);
    struct ::stat own {};
    if (st == nullptr) st = &own;
    if (::fstat(f.get(), st) < 0) return sys::fail(step, path);
    if (!S_ISREG(st->st_mode)) return sys::fail_with(EINVAL, step, path);
    return f;
}

void detail::pause_between_looks() noexcept {
    const ::timespec t{0, 5'000'000};
    ::nanosleep(&t, nullptr);
}

result<pid_t> pidfile::read_pid(path_ref path) noexcept {
    auto f = detail::open_for_reading(path);
    if (!f) return tl::unexpected(std::move(f.error()));
    char buf[32] = {};
    const ssize_t n = sys::retry([&] { return ::read(f->get(), buf, sizeof buf); });
    if (n < 0) return sys::fail(step, path);
    const auto pid = detail::parse_pid(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!pid) return sys::fail_with(EINVAL, step, path);
    return *pid;
}

result<pid_t> pidfile::read_pid(path_ref path, std::chrono::milliseconds patience) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto pid = read_pid(std::string_view(path.view()));
        if (pid || pid.error().code() != EINVAL || std::chrono::steady_clock::now() >= deadline) return pid;
        detail::pause_between_looks();
    }
}

pidfile::pidfile(pidfile&& other) noexcept
    : file_(std::move(other.file_)),
      path_(std::move(other.path_)),
      dev_(other.dev_),
      ino_(other.ino_),
      owner_(std::exchange(other.owner_, 0)) {}

pidfile& pidfile::operator=(pidfile&& other) noexcept {
    if (this != &other) {
        (void)release();
        file_ = std::move(other.file_);
        path_ = std::move(other.path_);
        dev_ = other.dev_;
        ino_ = other.ino_;
        owner_ = std::exchange(other.owner_, 0);
    }
    return *this;
}

pidfile::~pidfile() { (void)release(); }

result<void> pidfile::write(pid_t pid) noexcept {
    char buf[24];
    const std::size_t n = format_pid(pid, buf);
    if (sys::retry([&] { return ::ftruncate(file_.get(), 0); }) < 0) return sys::fail(step);
    const ssize_t w = sys::retry([&] { return ::pwrite(file_.get(), buf, n, 0); });
    if (w < 0) return sys::fail(step);
    if (static_cast<std::size_t>(w) != n) return sys::fail_with(EIO, step);
    owner_ = pid;
    return {};
}

result<void> pidfile::write() noexcept { return write(::getpid()); }

bool pidfile::remove_file() const noexcept {
    if (!file_.valid() || owner_ != ::getpid()) return false;
    struct ::stat st {};
    if (::stat(path_.c_str(), &st) < 0 || st.st_dev != dev_ || st.st_ino != ino_) return false;
    return ::unlink(path_.c_str()) == 0;
}

result<void> pidfile::release() noexcept {
    if (!file_.valid()) return {};
    if (owner_ != ::getpid()) {
        close();
        return {};
    }
    const int saved = errno;
    errno = 0;
    const bool removed = remove_file();
    const int err = errno;
    errno = saved;
    close();
    if (!removed && err != 0 && err != ENOENT) return sys::fail_with(err, "pidfile", path_);
    return {};
}

void pidfile::close() noexcept { file_.reset(); }

}  // namespace ospp::daemon
