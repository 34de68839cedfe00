// src/fd_ops.cpp — Python's "File Descriptor Operations".
#include "ospp/fd_ops.hpp"

#include <limits.h>  // IOV_MAX, PIPE_BUF
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>

#include "sys.hpp"

namespace ospp {

result<fd> open(path_ref path, open_flags flags, ::mode_t mode, const dir_fd_options& options) noexcept {
    if (!path.valid()) return sys::bad_path("open", path);
    const int raw = sys::retry([&] {
        return ::openat(options.dir_fd.get(), path.c_str(), to_raw(flags) | O_CLOEXEC, mode);
    });
    if (raw < 0) return sys::fail("open", path);
    return fd(raw);
}

namespace {
// Cuts a read buffer down to the `len` bytes read. Like CPython's _PyBytes_Resize it gives the
// unused memory back, so that read(fd, 1 << 20) returning 5 bytes does not keep a megabyte alive;
// only when more than half is unused, so that a nearly full buffer is not copied again.
void fit(std::string& s, std::size_t len) {
    s.resize(len);
    if (len < s.capacity() / 2) s.shrink_to_fit();
}

// Up to `n` bytes, read by `read_some`, as a string. Python's os.read takes its n-byte buffer
// uninitialised; a std::string(n, '\0') writes all n bytes before the read, which costs more than
// the read itself when the data are short (read(fd, 65536) of 10 bytes from a pipe: 3.5 us against
// 0.35). Up to 64 KiB, the bytes go into an uninitialised buffer (on the stack up to a page) and
// the string is built from what was read: one copy of those bytes, which costs about what the
// zeroing did when the read fills the buffer. Past 64 KiB the read goes straight into the string:
// two live buffers of that size make glibc map, fault in and trim memory on every call (a full
// 1 MiB read took 11 times as long).
template <class ReadSome>
result<std::string> read_to_string(std::size_t n, ReadSome read_some) {
    constexpr std::size_t on_stack = 4096;
    constexpr std::size_t copied = std::size_t{64} * 1024;
    if (n > copied) {
        std::string out(n, '\0');
        auto got = read_some(std::as_writable_bytes(std::span(out)));
        if (!got) return tl::unexpected(std::move(got.error()));
        fit(out, *got);
        return out;
    }
    std::byte small[on_stack];
    std::unique_ptr<std::byte[]> large;
    std::byte* buffer = small;
    if (n > on_stack) {
        large = std::make_unique_for_overwrite<std::byte[]>(n);
        buffer = large.get();
    }
    auto got = read_some(std::span(buffer, n));
    if (!got) return tl::unexpected(std::move(got.error()));
    return std::string(reinterpret_cast<const char*>(buffer), *got);
}
}  // namespace

result<std::size_t> read(fd_ref f, std::span<std::byte> buffer) noexcept {
    const ssize_t n = sys::retry([&] { return ::read(f.get(), buffer.data(), buffer.size()); });
    if (n < 0) return sys::fail("read");
    return static_cast<std::size_t>(n);
}

result<std::string> read(fd_ref f, std::size_t n) {
    if (sys::count_too_large(n)) return sys::fail_with(EINVAL, "read");
    return read_to_string(n, [&](std::span<std::byte> buffer) { return read(f, buffer); });
}

result<std::size_t> write(fd_ref f, std::span<const std::byte> data) noexcept {
    const ssize_t n = sys::retry([&] { return ::write(f.get(), data.data(), data.size()); });
    if (n < 0) return sys::fail("write");
    return static_cast<std::size_t>(n);
}

result<pipe_fds> pipe2(open_flags flags) noexcept {
    int raw[2];
    if (::pipe2(raw, to_raw(flags) | O_CLOEXEC) < 0) return sys::fail("pipe2");
    return pipe_fds{fd(raw[0]), fd(raw[1])};
}

result<pipe_fds> pipe() noexcept {
    // The same system call, but an error names the function the caller used, as Python's does.
    auto fds = pipe2(open_flags{});
    if (!fds) return sys::fail_with(fds.error().code(), "pipe");
    return fds;
}

result<fd> dup(fd_ref f) noexcept {
    const int raw = ::fcntl(f.get(), F_DUPFD_CLOEXEC, 0);
    if (raw < 0) return sys::fail("dup");
    return fd(raw);
}

result<fd_ref> dup2(fd_ref f, fd_ref target, bool inheritable) noexcept {
    // dup2 always clears FD_CLOEXEC on the target; dup3 sets it. dup3 refuses f == target, where
    // dup2 succeeds and leaves the flags alone, so that case needs its own fcntl.
    int r;
    if (inheritable) {
        r = sys::retry([&] { return ::dup2(f.get(), target.get()); });
    } else if (f == target) {
        r = ::fcntl(f.get(), F_GETFD);
        if (r >= 0) r = ::fcntl(f.get(), F_SETFD, r | FD_CLOEXEC);
    } else {
        r = sys::retry([&] { return ::dup3(f.get(), target.get(), O_CLOEXEC); });
    }
    if (r < 0) return sys::fail("dup2");
    return target;
}

// ---- reading and writing everything ----------------------------------------------------------

transfer_result<void> write_all(fd_ref f, std::span<const std::byte> data) noexcept {
    std::size_t done = 0;
    while (done < data.size()) {
        auto n = write(f, data.subspan(done));
        if (!n) return tl::unexpected(transfer_error(std::move(n.error()), done));
        // write(2) returning 0 for a non-empty buffer makes no progress; stop instead of spinning.
        if (*n == 0) return tl::unexpected(transfer_error(errno_error(EIO, "write"), done));
        done += *n;
    }
    return {};
}

namespace {
// Python's FileIO.readall: a non-blocking descriptor that runs out of data after some bytes ends
// the read with those bytes. They are consumed already; an error would lose them.
bool ran_dry(const errno_error& e, std::size_t done) noexcept {
    return done > 0 && (e.code() == EAGAIN || e.code() == EWOULDBLOCK);
}
}  // namespace

result<std::string> read_all(fd_ref f) {
    // Like CPython's FileIO.readall: what is left of a regular file (its size less the offset,
    // +1 to see the end of file in the same read) saves the regrowth; anything else starts at
    // 8 KiB and doubles.
    std::size_t size = 8192;
    // A read of a packet-mode pipe (pipe2 with O_DIRECT) gives one packet of up to PIPE_BUF bytes
    // and discards what does not fit: anything but a regular file is read with room for one.
    // (CPython's readall does not, and loses the end of a packet.)
    std::size_t room = PIPE_BUF;
    struct ::stat st {};
    if (::fstat(f.get(), &st) == 0 && S_ISREG(st.st_mode)) room = 1;
    if (room == 1 && st.st_size > 0) {
        const ::off_t pos = ::lseek(f.get(), 0, SEEK_CUR);
        // Only a hint below SSIZE_MAX, as CPython's: for a sparse file of INT64_MAX bytes, std::string
        // would throw std::length_error; doubling instead ends in the documented std::bad_alloc.
        if (pos >= 0 && pos <= st.st_size && !sys::count_too_large(static_cast<std::size_t>(st.st_size - pos) + 1)) {
            size = static_cast<std::size_t>(st.st_size - pos) + 1;
        }
    }
    std::string out(size, '\0');
    std::size_t len = 0;
    for (;;) {
        if (out.size() - len < room) out.resize(out.size() * 2);
        auto n = read(f, std::as_writable_bytes(std::span(out)).subspan(len));
        if (!n && ran_dry(n.error(), len)) break;
        if (!n) return tl::unexpected(std::move(n.error()));
        if (*n == 0) break;
        len += *n;
    }
    fit(out, len);
    return out;
}

transfer_result<std::size_t> read_all(fd_ref f, std::span<std::byte> buffer) noexcept {
    std::size_t done = 0;
    while (done < buffer.size()) {
        auto n = read(f, buffer.subspan(done));
        if (!n && ran_dry(n.error(), done)) break;
        if (!n) return tl::unexpected(transfer_error(std::move(n.error()), done));
        if (*n == 0) break;
        done += *n;
    }
    return done;
}

// ---- closing ----------------------------------------------------------------------------------

void closerange(int fd_low, int fd_high) noexcept {
    const int saved = errno;  // errors are ignored, so errno should not change either
    if (fd_low < 0) fd_low = 0;
    if (fd_high > fd_low &&
        ::close_range(static_cast<unsigned>(fd_low), static_cast<unsigned>(fd_high - 1), 0) < 0) {
        // No close_range (Linux < 5.9, or a seccomp filter): close what /proc/self/fd lists in
        // the range. Without /proc, every number up to the hard descriptor limit: one above it
        // (opened before the limit was lowered) then stays open, but a loop to INT_MAX would not end.
        if (sys::for_each_listed_fd([&](int n) {
                if (n >= fd_low && n < fd_high) ::close(n);
            })) {
            errno = saved;
            return;
        }
        int limit = fd_high;
        struct ::rlimit rl {};
        if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
            rl.rlim_max < static_cast<rlim_t>(fd_high)) {
            limit = static_cast<int>(rl.rlim_max);
        }
        for (int n = fd_low; n < limit; ++n) ::close(n);
    }
    errno = saved;
}

// ---- positioned and vectored I/O --------------------------------------------------------------

result<::off_t> lseek(fd_ref f, ::off_t position, whence how) noexcept {
    const ::off_t r = ::lseek(f.get(), position, to_raw(how));
    if (r < 0) return sys::fail("lseek");
    return r;
}

result<std::size_t> pread(fd_ref f, std::span<std::byte> buffer, ::off_t offset) noexcept {
    const ssize_t n = sys::retry([&] { return ::pread(f.get(), buffer.data(), buffer.size(), offset); });
    if (n < 0) return sys::fail("pread");
    return static_cast<std::size_t>(n);
}

result<std::string> pread(fd_ref f, std::size_t n, ::off_t offset) {
    if (sys::count_too_large(n)) return sys::fail_with(EINVAL, "pread");
    return read_to_string(n, [&](std::span<std::byte> buffer) { return pread(f, buffer, offset); });
}

result<std::size_t> pwrite(fd_ref f, std::span<const std::byte> data, ::off_t offset) noexcept {
    const ssize_t n = sys::retry([&] { return ::pwrite(f.get(), data.data(), data.size(), offset); });
    if (n < 0) return sys::fail("pwrite");
    return static_cast<std::size_t>(n);
}

namespace {

// The caller's buffers as the iovec array the kernel takes, on the stack (16 KiB at IOV_MAX), so
// that vectored I/O never allocates. The caller checks buffers.size() <= IOV_MAX.
class iovecs {
public:
    template <class Buffer>
    explicit iovecs(std::span<const Buffer> buffers) noexcept {
        for (const auto& b : buffers) {
            v_[count_++] = ::iovec{const_cast<void*>(static_cast<const void*>(b.data())), b.size()};
        }
    }
    [[nodiscard]] const ::iovec* data() const noexcept { return v_; }
    [[nodiscard]] int size() const noexcept { return count_; }

private:
    ::iovec v_[IOV_MAX];
    int count_ = 0;
};

// readv, writev, preadv, pwritev: the same shape, with `call` doing the system call. More than
// IOV_MAX buffers is the kernel's EINVAL, reported here without calling it.
template <class Buffer, class Call>
result<std::size_t> vectored(const char* name, std::span<const Buffer> buffers, Call call) noexcept {
    if (buffers.size() > IOV_MAX) return sys::fail_with(EINVAL, name);
    const iovecs v(buffers);
    const ssize_t n = sys::retry([&] { return call(v.data(), v.size()); });
    if (n < 0) return sys::fail(name);
    return static_cast<std::size_t>(n);
}

}  // namespace

result<std::size_t> readv(fd_ref f, std::span<const std::span<std::byte>> buffers) noexcept {
    return vectored("readv", buffers, [&](const ::iovec* v, int n) { return ::readv(f.get(), v, n); });
}

result<std::size_t> writev(fd_ref f, std::span<const std::span<const std::byte>> buffers) noexcept {
    return vectored("writev", buffers, [&](const ::iovec* v, int n) { return ::writev(f.get(), v, n); });
}

result<std::size_t> writev(fd_ref f, std::span<const std::string_view> buffers) noexcept {
    return vectored("writev", buffers, [&](const ::iovec* v, int n) { return ::writev(f.get(), v, n); });
}

result<std::size_t> preadv(fd_ref f, std::span<const std::span<std::byte>> buffers, ::off_t offset,
                           rw_flags flags) noexcept {
    // Always preadv2, like CPython: offset -1 then means the file's own offset with or without
    // flags (plain preadv refuses it). Before Linux 4.6 glibc turns a flagless call into preadv,
    // or readv for -1.
    return vectored("preadv", buffers,
                    [&](const ::iovec* v, int n) { return ::preadv2(f.get(), v, n, offset, to_raw(flags)); });
}

namespace {
template <class Buffer>
result<std::size_t> pwritev_any(fd_ref f, std::span<const Buffer> buffers, ::off_t offset, rw_flags flags) noexcept {
    // pwritev2 always, for offset -1, as preadv above.
    return vectored("pwritev", buffers,
                    [&](const ::iovec* v, int n) { return ::pwritev2(f.get(), v, n, offset, to_raw(flags)); });
}
}  // namespace

result<std::size_t> pwritev(fd_ref f, std::span<const std::span<const std::byte>> buffers, ::off_t offset,
                            rw_flags flags) noexcept {
    return pwritev_any(f, buffers, offset, flags);
}

result<std::size_t> pwritev(fd_ref f, std::span<const std::string_view> buffers, ::off_t offset,
                            rw_flags flags) noexcept {
    return pwritev_any(f, buffers, offset, flags);
}

// ---- copying between descriptors in the kernel ------------------------------------------------

namespace {

// Python's offset=None as the null pointer the kernel takes; a given offset as a local copy, which
// the kernel advances (the caller's optional is not changed, as in Python).
class offset_arg {
public:
    explicit offset_arg(std::optional<::off_t> o) noexcept : value_(o.value_or(0)), given_(o.has_value()) {}
    offset_arg(const offset_arg&) = delete;
    offset_arg& operator=(const offset_arg&) = delete;
    [[nodiscard]] ::loff_t* get() noexcept { return given_ ? &value_ : nullptr; }

private:
    ::loff_t value_;
    bool given_;
};

}  // namespace

result<std::size_t> copy_file_range(fd_ref src, fd_ref dst, std::size_t count, std::optional<::off_t> offset_src,
                                    std::optional<::off_t> offset_dst) noexcept {
    // The kernel copies no more than there is, but refuses (EOVERFLOW) a count whose sum with an
    // offset wraps: SIZE_MAX from anywhere but offset 0. A count above SSIZE_MAX (Python's
    // largest) therefore goes as SSIZE_MAX, so that "as much as you can" works from any offset.
    if (sys::count_too_large(count)) count = static_cast<std::size_t>(std::numeric_limits<ssize_t>::max());
    offset_arg in(offset_src), out(offset_dst);
    const ssize_t n =
        sys::retry([&] { return ::copy_file_range(src.get(), in.get(), dst.get(), out.get(), count, 0); });
    if (n < 0) return sys::fail("copy_file_range");
    return static_cast<std::size_t>(n);
}

result<std::size_t> sendfile(fd_ref out_fd, fd_ref in_fd, std::optional<::off_t> offset, std::size_t count) noexcept {
    // Refused before the call, as Python's OverflowError: the kernel would look at the descriptors
    // first (EBADF), and splice between two pipes would take the count.
    if (sys::count_too_large(count)) return sys::fail_with(EINVAL, "sendfile");
    offset_arg in(offset);
    const ssize_t n = sys::retry([&] { return ::sendfile(out_fd.get(), in_fd.get(), in.get(), count); });
    if (n < 0) return sys::fail("sendfile");
    return static_cast<std::size_t>(n);
}

result<std::size_t> splice(fd_ref src, fd_ref dst, std::size_t count, std::optional<::off_t> offset_src,
                           std::optional<::off_t> offset_dst, splice_flags flags) noexcept {
    if (sys::count_too_large(count)) return sys::fail_with(EINVAL, "splice");  // as sendfile
    offset_arg in(offset_src), out(offset_dst);
    const ssize_t n = sys::retry(
        [&] { return ::splice(src.get(), in.get(), dst.get(), out.get(), count, to_raw(flags)); });
    if (n < 0) return sys::fail("splice");
    return static_cast<std::size_t>(n);
}

// ---- file state through a descriptor ----------------------------------------------------------

namespace {
// The shape of every call here that returns 0 or -1/errno and has nothing to return.
template <class Call>
result<void> check(const char* name, Call call) noexcept {
    if (sys::retry(call) < 0) return sys::fail(name);
    return {};
}
// The same for calls that return the error number (posix_fallocate, posix_fadvise).
template <class Call>
result<void> check_code(const char* name, Call call) noexcept {
    if (const int e = sys::retry_code(call); e != 0) return sys::fail_with(e, name);
    return {};
}
}  // namespace

result<void> fchmod(fd_ref f, ::mode_t mode) noexcept {
    return check("fchmod", [&] { return ::fchmod(f.get(), mode); });
}

result<void> fchown(fd_ref f, ::uid_t uid, ::gid_t gid) noexcept {
    return check("fchown", [&] { return ::fchown(f.get(), uid, gid); });
}

result<void> ftruncate(fd_ref f, ::off_t length) noexcept {
    return check("ftruncate", [&] { return ::ftruncate(f.get(), length); });
}

result<void> fsync(fd_ref f) noexcept {
    return check("fsync", [&] { return ::fsync(f.get()); });
}

result<void> fdatasync(fd_ref f) noexcept {
    return check("fdatasync", [&] { return ::fdatasync(f.get()); });
}

result<void> posix_fallocate(fd_ref f, ::off_t offset, ::off_t len) noexcept {
    return check_code("posix_fallocate", [&] { return ::posix_fallocate(f.get(), offset, len); });
}

result<void> posix_fadvise(fd_ref f, ::off_t offset, ::off_t len, fadvise_advice advice) noexcept {
    return check_code("posix_fadvise", [&] { return ::posix_fadvise(f.get(), offset, len, to_raw(advice)); });
}

result<void> lockf(fd_ref f, lockf_command command, ::off_t len) noexcept {
    return check("lockf", [&] { return ::lockf(f.get(), to_raw(command), len); });
}

// ---- descriptor flags -------------------------------------------------------------------------

namespace {
// Reads the F_GETxx flags and writes them back with `bit` set or cleared: get_blocking/
// set_blocking, get_inheritable/set_inheritable. `always` writes even when nothing changes.
result<void> update_flag(const char* name, fd_ref f, int get, int set, int bit, bool on, bool always) noexcept {
    const int old = ::fcntl(f.get(), get);
    if (old < 0) return sys::fail(name);
    const int now = on ? (old | bit) : (old & ~bit);
    if ((always || now != old) && ::fcntl(f.get(), set, now) < 0) return sys::fail(name);
    return {};
}
result<bool> flag_set(const char* name, fd_ref f, int get, int bit) noexcept {
    const int flags = ::fcntl(f.get(), get);
    if (flags < 0) return sys::fail(name);
    return (flags & bit) != 0;
}
}  // namespace

result<bool> get_blocking(fd_ref f) noexcept {
    return flag_set("get_blocking", f, F_GETFL, O_NONBLOCK).map([](bool nonblock) { return !nonblock; });
}

result<void> set_blocking(fd_ref f, bool blocking) noexcept {
    // Always written, so that an O_PATH descriptor, whose status flags cannot change, is EBADF
    // whatever it asks, as Python's set_blocking (one ioctl FIONBIO, which fails alike).
    return update_flag("set_blocking", f, F_GETFL, F_SETFL, O_NONBLOCK, !blocking, true);
}

result<bool> get_inheritable(fd_ref f) noexcept {
    return flag_set("get_inheritable", f, F_GETFD, FD_CLOEXEC).map([](bool cloexec) { return !cloexec; });
}

result<void> set_inheritable(fd_ref f, bool inheritable) noexcept {
    // The write is skipped when nothing changes, as CPython's _Py_set_inheritable does.
    return update_flag("set_inheritable", f, F_GETFD, F_SETFD, FD_CLOEXEC, !inheritable, false);
}

bool isatty(fd_ref f) noexcept { return ::isatty(f.get()) == 1; }

// ---- fpathconf --------------------------------------------------------------------------------

namespace {
const name_entry<pathconf_name> pathconf_table[] = {
    {"PC_LINK_MAX", pathconf_name::link_max},
    {"PC_MAX_CANON", pathconf_name::max_canon},
    {"PC_MAX_INPUT", pathconf_name::max_input},
    {"PC_NAME_MAX", pathconf_name::name_max},
    {"PC_PATH_MAX", pathconf_name::path_max},
    {"PC_PIPE_BUF", pathconf_name::pipe_buf},
    {"PC_CHOWN_RESTRICTED", pathconf_name::chown_restricted},
    {"PC_NO_TRUNC", pathconf_name::no_trunc},
    {"PC_VDISABLE", pathconf_name::vdisable},
    {"PC_SYNC_IO", pathconf_name::sync_io},
    {"PC_ASYNC_IO", pathconf_name::async_io},
    {"PC_PRIO_IO", pathconf_name::prio_io},
    {"PC_SOCK_MAXBUF", pathconf_name::sock_maxbuf},
    {"PC_FILESIZEBITS", pathconf_name::filesizebits},
    {"PC_REC_INCR_XFER_SIZE", pathconf_name::rec_incr_xfer_size},
    {"PC_REC_MAX_XFER_SIZE", pathconf_name::rec_max_xfer_size},
    {"PC_REC_MIN_XFER_SIZE", pathconf_name::rec_min_xfer_size},
    {"PC_REC_XFER_ALIGN", pathconf_name::rec_xfer_align},
    {"PC_ALLOC_SIZE_MIN", pathconf_name::alloc_size_min},
    {"PC_SYMLINK_MAX", pathconf_name::symlink_max},
};
}  // namespace

std::span<const name_entry<pathconf_name>> pathconf_names() noexcept { return pathconf_table; }

result<std::optional<long>> fpathconf(fd_ref f, pathconf_name name) noexcept {
    const auto r = sys::call_limit([&] { return ::fpathconf(f.get(), to_raw(name)); });
    if (r.failed) return sys::fail("fpathconf");
    return r.value;
}

result<std::optional<long>> fpathconf(fd_ref f, std::string_view name) noexcept {
    const auto* e = find_name(pathconf_names(), name);
    if (e == nullptr) return sys::fail_with(EINVAL, "fpathconf");
    return fpathconf(f, e->value);
}

}  // namespace ospp
