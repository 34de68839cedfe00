// src/copy_file.cpp — shutil.copyfile with copy_file_range, sendfile, then read/write.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <new>

#include "ospp/files.hpp"
#include "sys.hpp"

namespace ospp {

namespace {

constexpr std::size_t chunk = std::size_t{1} << 30;  // per call; the kernel may copy less

// The errors after which a faster method is given up for a slower one, when nothing was copied yet.
// EPERM is what a seccomp filter that does not know the call says (container runtimes); a real
// EPERM (an immutable dst) is met again by the next method's write, and reported then.
bool unsupported(int err) noexcept {
    return err == EXDEV || err == ENOSYS || err == EINVAL || err == EOPNOTSUPP || err == EBADF || err == EPERM;
}

enum class outcome { done, unsupported, failed };

// Copies with `step(n)` (which returns bytes copied, 0 at the end, -1 with errno) until the end.
template <class Step>
outcome copy_with(Step&& step, std::uint64_t& copied) noexcept {
    const std::uint64_t start = copied;
    for (;;) {
        const ssize_t n = sys::retry(step);
        if (n > 0) {
            copied += static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) {
            // copy_file_range and sendfile read 0 bytes from files that report size 0 but have
            // content (/proc, /sys): let the next method confirm an end met before any byte.
            return copied == start ? outcome::unsupported : outcome::done;
        }
        return copied == start && unsupported(errno) ? outcome::unsupported : outcome::failed;
    }
}

int copy_read_write(int in, int out, std::uint64_t& copied) noexcept {
    // On the heap: a thread's stack may be 128 KiB in all (musl's default). Without memory the
    // copy fails with ENOMEM, like any other step, rather than throwing.
    constexpr std::size_t size = std::size_t{128} * 1024;
    const std::unique_ptr<char[]> buf(new (std::nothrow) char[size]);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        const ssize_t n = sys::retry([&] { return ::read(in, buf.get(), size); });
        if (n <= 0) return static_cast<int>(n);
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = sys::retry([&] {
                return ::write(out, buf.get() + done, static_cast<std::size_t>(n - done));
            });
            if (w < 0) return -1;
            done += w;
        }
        copied += static_cast<std::uint64_t>(n);
    }
}

}  // namespace

result<std::uint64_t> copy_file(path_ref src, path_ref dst, const copy_file_options& options) {
    if (!src.valid()) return sys::bad_path("copy_file", src);
    if (!dst.valid()) return sys::bad_path("copy_file", dst);
    struct ::stat src_st {};
    if (!options.follow_symlinks) {
        const int r = sys::retry(
            [&] { return ::fstatat(options.src_dir_fd.get(), src.c_str(), &src_st, AT_SYMLINK_NOFOLLOW); });
        if (r < 0) return sys::fail("copy_file", src);
        if (S_ISLNK(src_st.st_mode)) {
            // Python: os.symlink(os.readlink(src), dst). readlink grows its buffer: /proc and
            // /sys links report st_size 0.
            auto target = readlink(src.c_str(), {.dir_fd = options.src_dir_fd});
            if (!target) return sys::fail_with(target.error().code(), "copy_file", src);
            if (sys::retry([&] { return ::symlinkat(target->c_str(), options.dst_dir_fd.get(), dst.c_str()); }) < 0) {
                return sys::fail("copy_file", src, dst);
            }
            return 0;
        }
    }
    // Both ends are opened O_NOCTTY: a session leader without a terminal (a daemon) would otherwise
    // make a terminal it copies from or to its controlling terminal (Python's open would).
    // A named pipe at either end would block the open, or the copy, until a peer comes: refused,
    // as shutil.copyfile refuses it. src is opened non-blocking and checked once open (no race);
    // dst is looked at before its open, as Python does.
    auto open_src = [&](int nonblock) {
        const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | nonblock;
        return fd(sys::retry([&] { return ::openat(options.src_dir_fd.get(), src.c_str(), flags); }));
    };
    fd in = open_src(O_NONBLOCK);
    // EWOULDBLOCK: another process holds a lease on src (Samba, an NFS server's delegation), which
    // the open has asked it to give up; a pipe never answers so. Wait for it like Python's open.
    if (!in.valid() && errno == EWOULDBLOCK) in = open_src(0);
    if (!in.valid()) return sys::fail("copy_file", src);
    if (sys::retry([&] { return ::fstat(in.get(), &src_st); }) < 0) return sys::fail("copy_file", src);
    if (S_ISDIR(src_st.st_mode)) return sys::fail_with(EISDIR, "copy_file", src);
    if (S_ISFIFO(src_st.st_mode)) return sys::fail_with(EINVAL, "copy_file", src);
    // O_NONBLOCK means nothing for a regular file; a device (a terminal) is read blocking, as opened.
    if (!S_ISREG(src_st.st_mode) && ::fcntl(in.get(), F_SETFL, O_RDONLY) < 0) return sys::fail("copy_file", src);
    auto same_as_src = [&](const struct ::stat& st) {
        return st.st_dev == src_st.st_dev && st.st_ino == src_st.st_ino;
    };
    auto same_file = [&] {  // Python's SameFileError
        errno = EINVAL;
        return sys::fail("copy_file", src, dst);
    };
    // dst is looked at before it is opened, as Python does: the same file as src is refused
    // before an open for writing could fail in its stead (ETXTBSY, EACCES, EROFS).
    struct ::stat dst_st {};
    if (sys::retry([&] { return ::fstatat(options.dst_dir_fd.get(), dst.c_str(), &dst_st, 0); }) == 0) {
        if (same_as_src(dst_st)) return same_file();
        if (S_ISFIFO(dst_st.st_mode)) return sys::fail_with(EINVAL, "copy_file", dst);
    }
    // Not O_TRUNC: if dst became src since (a hard link, a path through a symlink), truncating would
    // destroy it; checked again once open.
    const int dst_flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;
    const fd out(sys::retry([&] { return ::openat(options.dst_dir_fd.get(), dst.c_str(), dst_flags, 0666); }));
    if (!out.valid()) return sys::fail("copy_file", dst);
    if (sys::retry([&] { return ::fstat(out.get(), &dst_st); }) < 0) return sys::fail("copy_file", dst);
    if (same_as_src(dst_st)) return same_file();
    if (S_ISREG(dst_st.st_mode) && sys::retry([&] { return ::ftruncate(out.get(), 0); }) < 0) {
        return sys::fail("copy_file", dst);
    }

    std::uint64_t copied = 0;
    outcome how = copy_with(
        [&] { return ::copy_file_range(in.get(), nullptr, out.get(), nullptr, chunk, 0); }, copied);
    if (how == outcome::unsupported) {
        how = copy_with([&] { return ::sendfile(out.get(), in.get(), nullptr, chunk); }, copied);
    }
    if (how == outcome::unsupported && copy_read_write(in.get(), out.get(), copied) < 0) how = outcome::failed;
    if (how == outcome::failed) return sys::fail("copy_file", src, dst);
    return copied;
}

}  // namespace ospp
