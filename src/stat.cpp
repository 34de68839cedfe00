// src/stat.cpp — stat_result from statx(2), filemode, statvfs.
#include "ospp/stat.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>

#include "stat_at.hpp"
#include "sys.hpp"

namespace ospp {

namespace {

// A timestamp as int64 nanoseconds since the epoch (Python's *_ns), into `ns`. False when it does
// not fit (before 1677 or after 2262, which ext4 and others can store): never a wrapped value.
// Before 1970 a second is borrowed first, so that the first representable second, whose
// sec * 1e9 alone is below INT64_MIN, still converts.
bool ns_of(std::int64_t sec, std::int64_t nsec, std::int64_t& ns) noexcept {
    if (sec < 0 && nsec > 0) {
        ++sec;
        nsec -= 1'000'000'000;
    }
    return !__builtin_mul_overflow(sec, std::int64_t{1'000'000'000}, &ns) && !__builtin_add_overflow(ns, nsec, &ns);
}
bool ns_of(const ::statx_timestamp& t, std::int64_t& ns) noexcept { return ns_of(t.tv_sec, t.tv_nsec, ns); }
bool ns_of(const ::timespec& t, std::int64_t& ns) noexcept { return ns_of(t.tv_sec, t.tv_nsec, ns); }

// Fills every field of `r` (no temporary: stat is hot in walkers and `du`-like loops). False when
// a timestamp of Python's stat_result does not fit in int64 nanoseconds. A birth time that does
// not fit is left out (has_birthtime false): Python's os.stat on Linux has none and succeeds.
bool fill_from_statx(const struct ::statx& x, stat_result& r) noexcept {
    r.st_mode = x.stx_mode;
    r.st_ino = x.stx_ino;
    r.st_dev = make_device(x.stx_dev_major, x.stx_dev_minor);
    r.st_nlink = x.stx_nlink;
    r.st_uid = x.stx_uid;
    r.st_gid = x.stx_gid;
    r.st_size = static_cast<std::int64_t>(x.stx_size);
    r.has_birthtime = (x.stx_mask & STATX_BTIME) != 0 && ns_of(x.stx_btime, r.st_birthtime_ns);
    if (!r.has_birthtime) r.st_birthtime_ns = 0;
    r.st_blocks = static_cast<std::int64_t>(x.stx_blocks);
    r.st_blksize = x.stx_blksize;
    r.st_rdev = make_device(x.stx_rdev_major, x.stx_rdev_minor);
    return ns_of(x.stx_atime, r.st_atime_ns) && ns_of(x.stx_mtime, r.st_mtime_ns) && ns_of(x.stx_ctime, r.st_ctime_ns);
}

bool fill_from_stat(const struct ::stat& s, stat_result& r) noexcept {
    r = stat_result{};
    r.st_mode = s.st_mode;
    r.st_ino = s.st_ino;
    r.st_dev = s.st_dev;
    r.st_nlink = s.st_nlink;
    r.st_uid = s.st_uid;
    r.st_gid = s.st_gid;
    r.st_size = s.st_size;
    r.st_blocks = s.st_blocks;
    r.st_blksize = s.st_blksize;
    r.st_rdev = s.st_rdev;
    return ns_of(s.st_atim, r.st_atime_ns) && ns_of(s.st_mtim, r.st_mtime_ns) && ns_of(s.st_ctim, r.st_ctime_ns);
}

statvfs_result from_statvfs(const struct ::statvfs& s) noexcept {
    return {s.f_bsize,  s.f_frsize, s.f_blocks,           s.f_bfree,  s.f_bavail, s.f_files,
            s.f_ffree,  s.f_favail, mount_flags{s.f_flag}, s.f_namemax, s.f_fsid};
}

}  // namespace

namespace sys {

// statx where the kernel has it (birth time), fstatat on kernels or sandboxes without it: ENOSYS
// (glibc's statx emulates that case itself), or EPERM from a seccomp filter that predates statx
// (Docker before 18.04, libseccomp before 2.3.3), which lets the fstatat of glibc's stat and
// Python's os.stat through. A real EPERM comes back from fstatat as well. A timestamp beyond int64
// nanoseconds is EOVERFLOW, as glibc's stat reports a value its struct cannot hold.
// AT_NO_AUTOMOUNT because fstatat implies it and statx does not: a stat must not mount what an
// autofs or debugfs "tracing" point would mount, as stat(2) and Python's don't.
int stat_at(int dir_fd, const char* path, int flags, stat_result& out) noexcept {
    flags |= AT_NO_AUTOMOUNT;
    // Not zeroed: on success the kernel writes the whole struct (it clears it before filling).
    struct ::statx x;
    int r = retry([&] { return ::statx(dir_fd, path, flags, STATX_BASIC_STATS | STATX_BTIME, &x); });
    bool fits = true;
    if (r == 0) {
        fits = fill_from_statx(x, out);
    } else if (errno == ENOSYS || errno == EPERM) {
        struct ::stat s {};
        r = retry([&] { return ::fstatat(dir_fd, path, &s, flags); });
        if (r == 0) fits = fill_from_stat(s, out);
    }
    if (r == 0 && !fits) {
        errno = EOVERFLOW;
        return -1;
    }
    return r;
}

}  // namespace sys

std::string filemode(::mode_t mode) {
    std::string s(10, '-');
    switch (mode & S_IFMT) {
        case S_IFDIR: s[0] = 'd'; break;
        case S_IFLNK: s[0] = 'l'; break;
        case S_IFCHR: s[0] = 'c'; break;
        case S_IFBLK: s[0] = 'b'; break;
        case S_IFIFO: s[0] = 'p'; break;
        case S_IFSOCK: s[0] = 's'; break;
        case S_IFREG: s[0] = '-'; break;
        default: s[0] = '?'; break;  // Python's filemode also prints '?' for an unknown type
    }
    const char* rwx = "rwx";
    for (std::size_t i = 0; i < 9; ++i) {
        if ((mode & (0400U >> i)) != 0) s[1 + i] = rwx[i % 3];
    }
    // The special bits replace the x of their class: lowercase when x is set too, uppercase when not.
    auto special = [&](std::size_t pos, ::mode_t bit, ::mode_t x, char lower) {
        if ((mode & bit) != 0) s[pos] = (mode & x) != 0 ? lower : static_cast<char>(lower - 'a' + 'A');
    };
    special(3, S_ISUID, S_IXUSR, 's');
    special(6, S_ISGID, S_IXGRP, 's');
    special(9, S_ISVTX, S_IXOTH, 't');
    return s;
}

result<stat_result> stat(path_ref path, const lookup_options& options) noexcept {
    if (!path.valid()) return sys::bad_path("stat", path);
    result<stat_result> st;  // filled in place: no stat_result is copied on the way out
    const int flags = options.follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
    if (sys::stat_at(options.dir_fd.get(), path.c_str(), flags, *st) < 0) return sys::fail("stat", path);
    return st;
}

result<stat_result> lstat(path_ref path, const dir_fd_options& options) noexcept {
    if (!path.valid()) return sys::bad_path("lstat", path);
    result<stat_result> st;
    if (sys::stat_at(options.dir_fd.get(), path.c_str(), AT_SYMLINK_NOFOLLOW, *st) < 0) {
        return sys::fail("lstat", path);
    }
    return st;
}

result<stat_result> fstat(fd_ref f) noexcept {
    // With AT_EMPTY_PATH, statx would read AT_FDCWD (a negative number) as the working directory.
    if (f.get() < 0) return sys::fail_with(EBADF, "fstat");
    result<stat_result> st;
    if (sys::stat_at(f.get(), "", AT_EMPTY_PATH, *st) < 0) return sys::fail("fstat");
    return st;
}

result<statvfs_result> statvfs(path_ref path) noexcept {
    if (!path.valid()) return sys::bad_path("statvfs", path);
    struct ::statvfs s {};
    if (sys::retry([&] { return ::statvfs(path.c_str(), &s); }) < 0) return sys::fail("statvfs", path);
    return from_statvfs(s);
}

result<statvfs_result> fstatvfs(fd_ref f) noexcept {
    struct ::statvfs s {};
    if (sys::retry([&] { return ::fstatvfs(f.get(), &s); }) < 0) return sys::fail("fstatvfs");
    return from_statvfs(s);
}

}  // namespace ospp
