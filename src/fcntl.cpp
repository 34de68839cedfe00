// src/fcntl.cpp — Python's `fcntl` module and the typed fcntl commands.
#include "ospp/fcntl.hpp"

#include <linux/fs.h>  // FICLONE, FICLONERANGE, struct file_clone_range
#include <sys/file.h>  // ::flock
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "sys.hpp"

namespace ospp::fcntl {

namespace {

// fcntl(2) and ioctl(2) fail with -1 and errno set, but an answer may be negative too: F_GETOWN's
// is minus a process group id, -1 for group 1, and leaves errno alone. So errno is cleared before
// each try and only a -1 that set it is a failure; in particular a stale EINTR is never retried
// (sys::retry's `r < 0 && errno == EINTR` would loop forever on F_GETOWN's answer).
template <class Call>
result<int> int_call(const char* name, Call call) noexcept {
    int r = 0;
    do {
        errno = 0;
        r = call();
    } while (r == -1 && errno == EINTR);
    if (r == -1 && errno != 0) return sys::fail(name);
    return r;
}

// Python copies a buffer argument of up to 1024 bytes into a stack buffer, so that a command which
// writes a little more than it was given scribbles on the copy rather than on the caller's object.
constexpr std::size_t arg_buffer_size = 1024;

// That copy: the argument, then zeros (at least one: Python's "argument plus NUL byte").
struct arg_copy {
    alignas(std::max_align_t) char bytes[arg_buffer_size + 1] = {};
    explicit arg_copy(std::span<const std::byte> arg) noexcept {
        if (!arg.empty()) std::memcpy(bytes, arg.data(), arg.size());
    }
};

// The shared shape of the buffer-in-buffer-out calls: copy in, call, copy out.
template <class Call>
result<std::string> through_buffer(const char* name, std::span<const std::byte> arg, Call call) {
    if (arg.size() > arg_buffer_size) return sys::fail_with(EINVAL, name);
    arg_copy buf(arg);
    auto r = int_call(name, [&] { return call(static_cast<void*>(buf.bytes)); });
    if (!r) return tl::unexpected(std::move(r.error()));
    return std::string(buf.bytes, arg.size());
}

std::span<const std::byte> bytes_of(std::string_view s) noexcept { return std::as_bytes(std::span(s)); }

// fcntl with an int argument, EINTR retried, the result or the errno under `name`.
result<int> command(fd_ref f, int cmd, int arg, const char* name) noexcept {
    return int_call(name, [&] { return ::fcntl(f.get(), cmd, arg); });
}

result<void> ok_or(result<int> r) noexcept {
    if (!r) return tl::unexpected(std::move(r.error()));
    return {};
}

// fcntl with a pointer argument.
result<void> command_ptr(fd_ref f, int cmd, void* arg, const char* name) noexcept {
    return ok_or(int_call(name, [&] { return ::fcntl(f.get(), cmd, arg); }));
}

struct ::flock to_c(const record_lock& l) noexcept {
    struct ::flock c {};
    c.l_type = static_cast<short>(l.type);
    c.l_whence = static_cast<short>(l.whence);
    c.l_start = l.start;
    c.l_len = l.len;
    c.l_pid = 0;  // ignored by F_SETLK*, required to be 0 by F_OFD_*
    return c;
}

record_lock from_c(const struct ::flock& c) noexcept {
    return {lock_type{c.l_type}, whence{c.l_whence}, c.l_start, c.l_len, c.l_pid};
}

result<std::optional<record_lock>> query_lock(fd_ref f, int cmd, const record_lock& probe,
                                              const char* name) noexcept {
    struct ::flock c = to_c(probe);
    auto r = command_ptr(f, cmd, &c, name);
    if (!r) return tl::unexpected(std::move(r.error()));
    if (c.l_type == F_UNLCK) return std::optional<record_lock>{};
    return std::optional<record_lock>{from_c(c)};
}

result<void> place_lock(fd_ref f, int cmd, const record_lock& lock, const char* name) noexcept {
    struct ::flock c = to_c(lock);
    return command_ptr(f, cmd, &c, name);
}

// The command that places a record lock of a kind, and its name in errors.
struct lock_command {
    int cmd;
    const char* name;
};
constexpr lock_command set_lock_command(bool ofd, bool wait) noexcept {
    if (ofd && wait) return {F_OFD_SETLKW, "fcntl(F_OFD_SETLKW)"};
    if (ofd) return {F_OFD_SETLK, "fcntl(F_OFD_SETLK)"};
    if (wait) return {F_SETLKW, "fcntl(F_SETLKW)"};
    return {F_SETLK, "fcntl(F_SETLK)"};
}

result<void> place_lock(fd_ref f, const record_lock& lock, bool ofd, bool wait) noexcept {
    const lock_command c = set_lock_command(ofd, wait);
    return place_lock(f, c.cmd, lock, c.name);
}

// `lock` with a cur or end start made absolute (whence set) from the offset or the size now: the
// kernel measures cur and end again at every call, so an unlock given the same relative range
// after the offset moved or the file grew would release other bytes. Errors under `name`, the
// lock call's, as if the kernel had measured.
result<record_lock> fixed_range(fd_ref f, record_lock lock, const char* name) noexcept {
    ::off_t base = 0;
    if (lock.whence == whence::cur) {
        base = ::lseek(f.get(), 0, SEEK_CUR);
        if (base < 0) return sys::fail(name);
    } else if (lock.whence == whence::end) {
        struct ::stat st {};
        if (::fstat(f.get(), &st) < 0) return sys::fail(name);
        base = st.st_size;
    } else {
        return lock;
    }
    // The kernel's own check (flock_to_posix_lock): a start past the largest offset is EOVERFLOW.
    // A negative sum is left to the kernel, which refuses it with EINVAL as it would have.
    if (__builtin_add_overflow(base, lock.start, &lock.start)) return sys::fail_with(EOVERFLOW, name);
    lock.whence = whence::set;
    return lock;
}

result<rw_hint> get_hint(fd_ref f, int cmd, const char* name) noexcept {
    std::uint64_t h = 0;
    auto r = command_ptr(f, cmd, &h, name);
    if (!r) return tl::unexpected(std::move(r.error()));
    return rw_hint{h};
}

result<void> set_hint(fd_ref f, int cmd, rw_hint hint, const char* name) noexcept {
    std::uint64_t h = to_raw(hint);
    return command_ptr(f, cmd, &h, name);
}

}  // namespace

// ---- raw forms ----

result<int> fcntl(fd_ref f, int cmd, int arg) noexcept { return command(f, cmd, arg, "fcntl"); }

result<std::string> fcntl(fd_ref f, int cmd, std::span<const std::byte> arg) {
    return through_buffer("fcntl", arg, [&](void* buf) { return ::fcntl(f.get(), cmd, buf); });
}

result<std::string> fcntl(fd_ref f, int cmd, std::string_view arg) { return fcntl(f, cmd, bytes_of(arg)); }

result<int> ioctl(fd_ref f, unsigned long request, long arg) noexcept {
    return int_call("ioctl", [&] { return ::ioctl(f.get(), request, arg); });
}

result<std::string> ioctl(fd_ref f, unsigned long request, std::span<const std::byte> arg) {
    return through_buffer("ioctl", arg, [&](void* buf) { return ::ioctl(f.get(), request, buf); });
}

result<std::string> ioctl(fd_ref f, unsigned long request, std::string_view arg) {
    return ioctl(f, request, bytes_of(arg));
}

result<int> ioctl(fd_ref f, unsigned long request, std::span<std::byte> arg) noexcept {
    // CPython's mutate_flag path: a buffer that fits goes through the copy and comes back on
    // success, so a request writing more than `arg` holds (or an empty `arg`) stays harmless.
    if (arg.size() > arg_buffer_size) return detail::ioctl_pointer(f, request, arg.data());
    arg_copy buf(arg);
    auto r = detail::ioctl_pointer(f, request, buf.bytes);
    if (r && !arg.empty()) std::memcpy(arg.data(), buf.bytes, arg.size());
    return r;
}

result<int> detail::ioctl_pointer(fd_ref f, unsigned long request, void* arg) noexcept {
    return int_call("ioctl", [&] { return ::ioctl(f.get(), request, arg); });
}

// ---- flags and dup ----

result<fd_flags> get_fd_flags(fd_ref f) noexcept {
    return command(f, F_GETFD, 0, "fcntl(F_GETFD)").map([](int r) { return fd_flags{r}; });
}

result<void> set_fd_flags(fd_ref f, fd_flags flags) noexcept {
    return ok_or(command(f, F_SETFD, to_raw(flags), "fcntl(F_SETFD)"));
}

result<open_flags> get_status_flags(fd_ref f) noexcept {
    return command(f, F_GETFL, 0, "fcntl(F_GETFL)").map([](int r) { return open_flags{r}; });
}

result<void> set_status_flags(fd_ref f, open_flags flags) noexcept {
    return ok_or(command(f, F_SETFL, to_raw(flags), "fcntl(F_SETFL)"));
}

result<fd> dupfd(fd_ref f, int lowest, bool inheritable) noexcept {
    auto r = inheritable ? command(f, F_DUPFD, lowest, "fcntl(F_DUPFD)")
                         : command(f, F_DUPFD_CLOEXEC, lowest, "fcntl(F_DUPFD_CLOEXEC)");
    return r.map([](int raw) { return fd(raw); });
}

// ---- record locks ----

result<std::optional<record_lock>> get_lock(fd_ref f, const record_lock& probe) noexcept {
    return query_lock(f, F_GETLK, probe, "fcntl(F_GETLK)");
}
result<void> set_lock(fd_ref f, const record_lock& lock) noexcept { return place_lock(f, lock, false, false); }
result<void> set_lock_wait(fd_ref f, const record_lock& lock) noexcept { return place_lock(f, lock, false, true); }

result<std::optional<record_lock>> ofd_get_lock(fd_ref f, const record_lock& probe) noexcept {
    return query_lock(f, F_OFD_GETLK, probe, "fcntl(F_OFD_GETLK)");
}
result<void> ofd_set_lock(fd_ref f, const record_lock& lock) noexcept { return place_lock(f, lock, true, false); }
result<void> ofd_set_lock_wait(fd_ref f, const record_lock& lock) noexcept {
    return place_lock(f, lock, true, true);
}

// ---- flock and lockf ----

result<void> flock(fd_ref f, lock_op operation) noexcept {
    if (sys::retry([&] { return ::flock(f.get(), to_raw(operation)); }) < 0) return sys::fail("flock");
    return {};
}

result<void> lockf(fd_ref f, lock_op cmd, ::off_t len, ::off_t start, fcntl::whence whence) noexcept {
    // CPython's fcntl_lockf_impl: exactly LOCK_UN unlocks; otherwise LOCK_SH wins over LOCK_EX.
    lock_type type;
    if (cmd == lock_op::un) {
        type = lock_type::unlock;
    } else if (has(cmd, lock_op::sh)) {
        type = lock_type::read;
    } else if (has(cmd, lock_op::ex)) {
        type = lock_type::write;
    } else {
        return sys::fail_with(EINVAL, "lockf");
    }
    const record_lock lock{type, whence, start, len, 0};
    return has(cmd, lock_op::nb) ? place_lock(f, F_SETLK, lock, "lockf") : place_lock(f, F_SETLKW, lock, "lockf");
}

// ---- guards ----

result<flock_guard> flock_guard::lock(fd_ref f, lock_op operation) noexcept {
    if ((operation & ~lock_op::nb) == lock_op::un) return sys::fail_with(EINVAL, "flock");
    auto r = flock(f, operation);
    if (!r) return tl::unexpected(std::move(r.error()));
    return flock_guard(f);
}

flock_guard& flock_guard::operator=(flock_guard&& other) noexcept {
    if (this != &other) {
        (void)unlock();
        f_ = other.f_;
        other.f_ = fd_ref{};
    }
    return *this;
}

flock_guard::~flock_guard() {
    const int saved = errno;
    (void)unlock();
    errno = saved;
}

result<void> flock_guard::unlock() noexcept {
    if (!owns_lock()) return {};
    const fd_ref f = f_;
    f_ = fd_ref{};
    return flock(f, lock_op::un);
}

result<record_lock_guard> record_lock_guard::lock(fd_ref f, const record_lock& lock,
                                                  const record_lock_options& options) noexcept {
    const char* name = set_lock_command(options.ofd, options.wait).name;
    if (lock.type == lock_type::unlock) return sys::fail_with(EINVAL, name);
    auto range = fixed_range(f, lock, name);
    if (!range) return tl::unexpected(std::move(range.error()));
    auto r = place_lock(f, *range, options.ofd, options.wait);
    if (!r) return tl::unexpected(std::move(r.error()));
    return record_lock_guard(f, *range, options.ofd);
}

record_lock_guard& record_lock_guard::operator=(record_lock_guard&& other) noexcept {
    if (this != &other) {
        (void)unlock();
        f_ = other.f_;
        range_ = other.range_;
        ofd_ = other.ofd_;
        other.f_ = fd_ref{};
    }
    return *this;
}

record_lock_guard::~record_lock_guard() {
    const int saved = errno;
    (void)unlock();
    errno = saved;
}

result<void> record_lock_guard::unlock() noexcept {
    if (!owns_lock()) return {};
    const fd_ref f = f_;
    f_ = fd_ref{};
    record_lock release = range_;
    release.type = lock_type::unlock;
    return place_lock(f, release, ofd_, false);
}

// ---- pipes, seals, owner, signal, lease, notify, hints ----

result<std::size_t> get_pipe_size(fd_ref f) noexcept {
    return command(f, F_GETPIPE_SZ, 0, "fcntl(F_GETPIPE_SZ)").map([](int r) { return std::size_t(r); });
}

result<std::size_t> set_pipe_size(fd_ref f, std::size_t size) noexcept {
    // The kernel reads an unsigned int and refuses sizes above 2^31 with EINVAL; 2^31 itself (EPERM
    // or ENOMEM there) could not come back through fcntl's int, so it is refused with them. Python
    // would wrap 2^32 to 0 (a one-page pipe): not that either.
    if (size > static_cast<std::size_t>(INT32_MAX)) return sys::fail_with(EINVAL, "fcntl(F_SETPIPE_SZ)");
    return command(f, F_SETPIPE_SZ, static_cast<int>(size), "fcntl(F_SETPIPE_SZ)").map([](int r) {
        return std::size_t(r);
    });
}

result<void> add_seals(fd_ref f, seals add) noexcept {
    return ok_or(command(f, F_ADD_SEALS, to_raw(add), "fcntl(F_ADD_SEALS)"));
}

result<seals> get_seals(fd_ref f) noexcept {
    return command(f, F_GET_SEALS, 0, "fcntl(F_GET_SEALS)").map([](int r) { return seals{r}; });
}

result<::pid_t> get_owner(fd_ref f) noexcept {
    // F_GETOWN's answer for a process group is negative, and so indistinguishable from an error
    // for small group ids; F_GETOWN_EX says which it is (glibc's fcntl does the same).
    struct ::f_owner_ex c {};
    auto r = command_ptr(f, F_GETOWN_EX, &c, "fcntl(F_GETOWN)");
    if (!r) return tl::unexpected(std::move(r.error()));
    return c.type == F_OWNER_PGRP ? -c.pid : c.pid;
}

result<void> set_owner(fd_ref f, ::pid_t owner) noexcept {
    return ok_or(command(f, F_SETOWN, owner, "fcntl(F_SETOWN)"));
}

result<owner> get_owner_ex(fd_ref f) noexcept {
    struct ::f_owner_ex c {};
    auto r = command_ptr(f, F_GETOWN_EX, &c, "fcntl(F_GETOWN_EX)");
    if (!r) return tl::unexpected(std::move(r.error()));
    return owner{owner_type{static_cast<int>(c.type)}, c.pid};
}

result<void> set_owner_ex(fd_ref f, const owner& new_owner) noexcept {
    struct ::f_owner_ex c {};
    c.type = static_cast<::__pid_type>(new_owner.type);
    c.pid = new_owner.id;
    return command_ptr(f, F_SETOWN_EX, &c, "fcntl(F_SETOWN_EX)");
}

result<std::optional<signum>> get_signal(fd_ref f) noexcept {
    return command(f, F_GETSIG, 0, "fcntl(F_GETSIG)").map([](int r) {
        return r == 0 ? std::optional<signum>{} : std::optional<signum>{signum{r}};
    });
}

result<void> set_signal(fd_ref f, std::optional<signum> signal) noexcept {
    return ok_or(command(f, F_SETSIG, signal ? to_raw(*signal) : 0, "fcntl(F_SETSIG)"));
}

result<lock_type> get_lease(fd_ref f) noexcept {
    return command(f, F_GETLEASE, 0, "fcntl(F_GETLEASE)").map([](int r) {
        return lock_type{static_cast<short>(r)};
    });
}

result<void> set_lease(fd_ref f, lock_type lease) noexcept {
    return ok_or(command(f, F_SETLEASE, static_cast<int>(lease), "fcntl(F_SETLEASE)"));
}

result<void> notify(fd_ref directory, notify_events events) noexcept {
    return ok_or(command(directory, F_NOTIFY, static_cast<int>(to_raw(events)), "fcntl(F_NOTIFY)"));
}

result<rw_hint> get_rw_hint(fd_ref f) noexcept { return get_hint(f, F_GET_RW_HINT, "fcntl(F_GET_RW_HINT)"); }
result<void> set_rw_hint(fd_ref f, rw_hint hint) noexcept {
    return set_hint(f, F_SET_RW_HINT, hint, "fcntl(F_SET_RW_HINT)");
}
result<rw_hint> get_file_rw_hint(fd_ref f) noexcept {
    return get_hint(f, F_GET_FILE_RW_HINT, "fcntl(F_GET_FILE_RW_HINT)");
}
result<void> set_file_rw_hint(fd_ref f, rw_hint hint) noexcept {
    return set_hint(f, F_SET_FILE_RW_HINT, hint, "fcntl(F_SET_FILE_RW_HINT)");
}

// ---- reflinks ----

result<void> clone_file(fd_ref dest, fd_ref source) noexcept {
    if (sys::retry([&] { return ::ioctl(dest.get(), FICLONE, source.get()); }) < 0)
        return sys::fail("ioctl(FICLONE)");
    return {};
}

result<void> clone_file_range(fd_ref dest, fd_ref source, std::uint64_t source_offset, std::uint64_t length,
                              std::uint64_t dest_offset) noexcept {
    struct ::file_clone_range range {};
    range.src_fd = source.get();
    range.src_offset = source_offset;
    range.src_length = length;
    range.dest_offset = dest_offset;
    if (sys::retry([&] { return ::ioctl(dest.get(), FICLONERANGE, &range); }) < 0)
        return sys::fail("ioctl(FICLONERANGE)");
    return {};
}

}  // namespace ospp::fcntl
