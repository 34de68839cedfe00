// ospp/stat.hpp — file status: stat_result, the mode helpers of Python's `stat` module, statvfs.
//
//   Python                                        C++
//   st = os.stat("f")                             auto st = ospp::stat("f");
//   os.stat("l", follow_symlinks=False)           ospp::stat("l", {.follow_symlinks = false})  // = lstat
//   os.stat("f", dir_fd=d)                        ospp::stat("f", {.dir_fd = d})
//   st.st_size, st.st_mtime_ns                    st->st_size, st->st_mtime_ns
//   st.st_mtime (float seconds)                   st->mtime()  (a system_clock time point, ns precision)
//   stat.S_ISDIR(st.st_mode)                      ospp::s_isdir(st->st_mode)   or  st->is_dir()
//   stat.filemode(st.st_mode)                     ospp::filemode(st->st_mode)  // "-rw-r--r--"
//   os.major(st.st_dev)                           ospp::device_major(st->st_dev)
//   os.statvfs("/").f_bavail                      ospp::statvfs("/")->f_bavail
//
// stat_result is filled from statx(2), which also gives the birth time where the filesystem keeps
// it. Member names follow Python's, except the float times: glibc defines st_atime, st_mtime and
// st_ctime as macros, so the time points are the functions atime(), mtime(), ctime(), birthtime()
// (written as a member, st->st_mtime becomes st->st_mtim.tv_sec, and g++ says "'struct
// ospp::stat_result' has no member named 'st_mtim'").
// major/minor/makedev are glibc macros too, hence device_major/device_minor/make_device.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp {

// A file timestamp: system_clock with nanosecond precision (Python's *_ns integers as a time point).
using file_time = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// ---- the mode helpers of Python's `stat` module, as typed functions (not macros) ----

constexpr bool s_isdir(::mode_t m) noexcept { return (m & S_IFMT) == S_IFDIR; }
constexpr bool s_isreg(::mode_t m) noexcept { return (m & S_IFMT) == S_IFREG; }
constexpr bool s_islnk(::mode_t m) noexcept { return (m & S_IFMT) == S_IFLNK; }
constexpr bool s_ischr(::mode_t m) noexcept { return (m & S_IFMT) == S_IFCHR; }
constexpr bool s_isblk(::mode_t m) noexcept { return (m & S_IFMT) == S_IFBLK; }
constexpr bool s_isfifo(::mode_t m) noexcept { return (m & S_IFMT) == S_IFIFO; }
constexpr bool s_issock(::mode_t m) noexcept { return (m & S_IFMT) == S_IFSOCK; }
// stat.S_IFMT(mode): the file type bits. stat.S_IMODE(mode): the permission bits (incl. suid/sgid/sticky).
constexpr ::mode_t s_ifmt(::mode_t m) noexcept { return m & S_IFMT; }
constexpr ::mode_t s_imode(::mode_t m) noexcept { return m & 07777; }

// stat.filemode(mode): the ten-character `ls -l` string, e.g. "drwxr-xr-x", "-rwsr-x--T".
// Fits std::string's small buffer: never allocates.
std::string filemode(::mode_t mode);

// os.major / os.minor / os.makedev (glibc's encoding of dev_t, computed here so no macro is needed).
constexpr unsigned device_major(::dev_t dev) noexcept {
    return static_cast<unsigned>((dev >> 8) & 0xfff) | (static_cast<std::uint32_t>(dev >> 32) & ~0xfffU);
}
constexpr unsigned device_minor(::dev_t dev) noexcept {
    return static_cast<unsigned>(dev & 0xff) | (static_cast<std::uint32_t>(dev >> 12) & ~0xffU);
}
constexpr ::dev_t make_device(unsigned major, unsigned minor) noexcept {
    const std::uint64_t ma = major, mi = minor;
    return ((ma & 0xfff) << 8) | ((ma & ~0xfffULL) << 32) | (mi & 0xff) | ((mi & ~0xffULL) << 12);
}

// Python's os.stat_result, Linux fields.
struct stat_result {
    ::mode_t st_mode = 0;
    ::ino_t st_ino = 0;
    ::dev_t st_dev = 0;
    ::nlink_t st_nlink = 0;
    ::uid_t st_uid = 0;
    ::gid_t st_gid = 0;
    std::int64_t st_size = 0;
    std::int64_t st_atime_ns = 0;  // last access, ns since the epoch
    std::int64_t st_mtime_ns = 0;  // last modification of the content
    std::int64_t st_ctime_ns = 0;  // last change of the inode (metadata)
    std::int64_t st_birthtime_ns = 0;  // creation; valid only when has_birthtime
    // statx gave STATX_BTIME (the filesystem keeps it) and it fits in int64 nanoseconds: one that
    // does not is left out rather than failing the stat (Python 3.11 on Linux has no st_birthtime).
    bool has_birthtime = false;
    std::int64_t st_blocks = 0;        // 512-byte blocks allocated
    std::int64_t st_blksize = 0;       // preferred I/O size
    ::dev_t st_rdev = 0;               // the device, for character and block special files

    [[nodiscard]] file_time atime() const noexcept { return file_time(std::chrono::nanoseconds(st_atime_ns)); }
    [[nodiscard]] file_time mtime() const noexcept { return file_time(std::chrono::nanoseconds(st_mtime_ns)); }
    [[nodiscard]] file_time ctime() const noexcept { return file_time(std::chrono::nanoseconds(st_ctime_ns)); }
    [[nodiscard]] file_time birthtime() const noexcept {
        return file_time(std::chrono::nanoseconds(st_birthtime_ns));
    }
    [[nodiscard]] bool is_dir() const noexcept { return s_isdir(st_mode); }
    [[nodiscard]] bool is_file() const noexcept { return s_isreg(st_mode); }
    [[nodiscard]] bool is_symlink() const noexcept { return s_islnk(st_mode); }
    // Python's os.path.samestat: the same file (device and inode).
    [[nodiscard]] bool same_file(const stat_result& other) const noexcept {
        return st_dev == other.st_dev && st_ino == other.st_ino;
    }
};

// Python's os.stat(path, *, dir_fd=None, follow_symlinks=True). Like stat(2), it never triggers
// an automount (AT_NO_AUTOMOUNT): an autofs point reports itself, not what it would mount.
// Errors: ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG, EBADF (dir_fd), ENOMEM; EINVAL (NUL in path);
// EOVERFLOW: an access, modification or change time outside the int64 nanoseconds of *_ns (before
// 1677 or after 2262; ext4 stores dates up to 2446), where Python's unbounded integers have room.
[[nodiscard]] result<stat_result> stat(path_ref path, const lookup_options& options = {}) noexcept;
// Python's os.lstat(path, *, dir_fd=None): stat without following a final symlink. Errors: as
// stat, ELOOP only for a loop before the last component.
[[nodiscard]] result<stat_result> lstat(path_ref path, const dir_fd_options& options = {}) noexcept;
// Python's os.fstat(fd) (also os.stat(fd)). Errors: EBADF, EOVERFLOW (as stat).
[[nodiscard]] result<stat_result> fstat(fd_ref f) noexcept;

// statvfs f_flag bits: Python's os.ST_*.
enum class mount_flags : unsigned long {
    none = 0,
    rdonly = ST_RDONLY,
    nosuid = ST_NOSUID,
    nodev = ST_NODEV,
    noexec = ST_NOEXEC,
    synchronous = ST_SYNCHRONOUS,
    mandlock = ST_MANDLOCK,
    write = ST_WRITE,
    append = ST_APPEND,
    noatime = ST_NOATIME,
    nodiratime = ST_NODIRATIME,
    relatime = ST_RELATIME,
};
template <>
struct enable_bitmask<mount_flags> : std::true_type {};

// Python's os.statvfs_result.
struct statvfs_result {
    unsigned long f_bsize = 0;   // filesystem block size
    unsigned long f_frsize = 0;  // fragment size: the unit of f_blocks, f_bfree, f_bavail
    std::uint64_t f_blocks = 0;
    std::uint64_t f_bfree = 0;
    std::uint64_t f_bavail = 0;  // free blocks for unprivileged users
    std::uint64_t f_files = 0;
    std::uint64_t f_ffree = 0;
    std::uint64_t f_favail = 0;
    mount_flags f_flag = mount_flags::none;
    unsigned long f_namemax = 0;
    unsigned long f_fsid = 0;
};

// Python's os.statvfs(path). Errors: ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG, ENOMEM, EIO,
// ENOSYS (a filesystem without statfs); EINVAL (NUL in path).
[[nodiscard]] result<statvfs_result> statvfs(path_ref path) noexcept;
// Python's os.fstatvfs(fd), also of an O_PATH descriptor. Errors: EBADF, EIO, ENOSYS.
[[nodiscard]] result<statvfs_result> fstatvfs(fd_ref f) noexcept;

}  // namespace ospp
