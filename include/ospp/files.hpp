// ospp/files.hpp — the path operations of Python's os ("Files and Directories").
//
//   Python                                        C++
//   os.mkdir("d", 0o750)                          ospp::mkdir("d", 0750)
//   os.makedirs("a/b/c", exist_ok=True)           ospp::makedirs("a/b/c", 0777, {.exist_ok = true})
//   os.rename("a", "b")                           ospp::rename("a", "b")
//   os.symlink("target", "link", dir_fd=d)        ospp::symlink("target", "link", {.dir_fd = d})
//   os.readlink("link")                           ospp::readlink("link")        // result<std::string>
//   os.access("f", os.R_OK | os.W_OK)             if (ospp::access("f", access_mode::r_ok | access_mode::w_ok))
//   os.chmod("f", 0o600, follow_symlinks=False)   ospp::chmod("f", 0600, {.follow_symlinks = false})
//   os.utime("f", ns=(a, m))                      ospp::utime("f", ospp::file_time(std::chrono::nanoseconds(a)),
//                                                                  ospp::file_time(std::chrono::nanoseconds(m)))
//   os.listdir("d")                               ospp::listdir("d")            // result<vector<string>>
//   os.getcwd()                                   ospp::getcwd()
//
// Every call returns result<...>; the error names the call and the path(s) like Python's OSError:
// `rename: [Errno 2] No such file or directory: 'a' -> 'b'`. The paths go to the *at(2) calls
// unchanged, so dir_fd works everywhere Python accepts it. Interrupted calls are retried (PEP 475).
// Besides the errors each declaration names, any path can fail its lookup (path_resolution(7)):
// ENOENT, ENOTDIR (a component that is no directory, or a trailing slash after a file: "f/"),
// EACCES (a directory on the way that may not be searched), ELOOP, ENAMETOOLONG (a name over
// NAME_MAX, a path over PATH_MAX); a NUL byte in a path is EINVAL.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/path.hpp"
#include "ospp/stat.hpp"

namespace ospp {

// access(2) modes: Python's os.F_OK, R_OK, W_OK, X_OK.
enum class access_mode : int {
    f_ok = F_OK,  // 0: the file exists
    r_ok = R_OK,
    w_ok = W_OK,
    x_ok = X_OK,
};
template <>
struct enable_bitmask<access_mode> : std::true_type {};

// Python's keywords of os.access.
struct access_options {
    fd_ref dir_fd = cwd_fd;
    bool follow_symlinks = true;
    bool effective_ids = false;  // check with the effective uid/gid (AT_EACCESS) instead of the real ones
};
// Python's src_dir_fd= / dst_dir_fd= (rename, replace).
struct rename_options {
    fd_ref src_dir_fd = cwd_fd;
    fd_ref dst_dir_fd = cwd_fd;
};
// Python's keywords of os.link. ospp does what follow_symlinks says, with linkat(2): true (the
// default, as documented by Python and POSIX) passes AT_SYMLINK_FOLLOW and links the symlink's
// target. CPython 3.11 on Linux, given no dir_fd, uses link(2) even for follow_symlinks=True, and
// link(2) links the symlink itself: ospp::link(src, dst, {.follow_symlinks = false}) is that call.
struct link_options {
    fd_ref src_dir_fd = cwd_fd;
    fd_ref dst_dir_fd = cwd_fd;
    bool follow_symlinks = true;
};
// Python's keywords of os.makedirs.
struct makedirs_options {
    bool exist_ok = false;  // an existing directory is not an error (an existing file still is)
};

// Python's os.access(path, mode, *, dir_fd, effective_ids, follow_symlinks). Succeeds when access is
// allowed, so `if (ospp::access(p, access_mode::r_ok))` reads like Python; the error says why not.
// Errors: EACCES, ENOENT, ENOTDIR, ELOOP, EROFS (w_ok), ETXTBSY, EINVAL; EPERM (w_ok on an
// immutable file). Without dir_fd, effective_ids and follow_symlinks=false it is access(2), as
// Python's; with them faccessat, which glibc 2.33+ makes faccessat2 (Linux 5.8): glibc emulates
// that on older kernels, but a seccomp filter's EPERM (older container runtimes) is returned, as
// Python's is.
[[nodiscard]] result<void> access(path_ref path, access_mode mode, const access_options& options = {}) noexcept;

// Python's os.chdir(path). Errors: ENOENT, ENOTDIR, EACCES, ELOOP.
[[nodiscard]] result<void> chdir(path_ref path) noexcept;
// Python's os.fchdir(fd) (also os.chdir(fd)). Errors: EBADF, ENOTDIR, EACCES.
[[nodiscard]] result<void> fchdir(fd_ref dir) noexcept;
// Python's os.getcwd(). Grows its buffer for deep paths. Errors: ENOENT (cwd removed), EACCES.
[[nodiscard]] result<std::string> getcwd();

// Python's os.chmod(path, mode, *, dir_fd, follow_symlinks). Linux cannot chmod a symlink itself:
// follow_symlinks=false on a symlink fails with EOPNOTSUPP. glibc (before 2.39 and its use of
// fchmodat2, Linux 6.6) does follow_symlinks=false through /proc/self/fd: without /proc it fails
// with EOPNOTSUPP for every path (Python: NotImplementedError). Errors: EPERM, ENOENT, EROFS, ELOOP.
[[nodiscard]] result<void> chmod(path_ref path, ::mode_t mode, const lookup_options& options = {}) noexcept;
// Python's os.chown(path, uid, gid, *, dir_fd, follow_symlinks). A uid or gid of -1
// (ospp::id_unchanged, in ids.hpp) leaves that id unchanged. Errors: EPERM, ENOENT, EROFS, ELOOP.
[[nodiscard]] result<void> chown(path_ref path, ::uid_t uid, ::gid_t gid, const lookup_options& options = {}) noexcept;
// Python's os.lchown(path, uid, gid): chown of a symlink itself. Errors: as chown.
[[nodiscard]] result<void> lchown(path_ref path, ::uid_t uid, ::gid_t gid) noexcept;
// Python's os.chroot(path). Needs CAP_SYS_CHROOT. Errors: EPERM, ENOENT, ENOTDIR.
[[nodiscard]] result<void> chroot(path_ref path) noexcept;

// Python's os.link(src, dst, *, src_dir_fd, dst_dir_fd, follow_symlinks): a hard link.
// Errors: EEXIST, ENOENT, EXDEV, EPERM (a directory), EMLINK.
[[nodiscard]] result<void> link(path_ref src, path_ref dst, const link_options& options = {}) noexcept;
// Python's os.symlink(src, dst, *, dir_fd): creates `dst` pointing at `src` (not checked to exist).
// Python's target_is_directory only matters on Windows. Errors: EEXIST, ENOENT, EACCES.
[[nodiscard]] result<void> symlink(path_ref src, path_ref dst, const dir_fd_options& options = {}) noexcept;
// Python's os.readlink(path, *, dir_fd): the target, grown to any length. Errors: EINVAL (not a
// symlink), ENOENT, EACCES.
[[nodiscard]] result<std::string> readlink(path_ref path, const dir_fd_options& options = {});

// Python's os.listdir(path): the names in a directory, without "." and "..", in directory order.
// Errors: those of scandir (ENOENT, ENOTDIR, EACCES) and of reading the directory.
[[nodiscard]] result<std::vector<std::string>> listdir(path_ref path = ".");
// Python's os.listdir(fd): lists the directory open as `dir` from its start, through a new open
// file description (see scandir(fd)), so `dir`'s own position is left alone.
// Errors: those of scandir(fd) (EBADF, ENOTDIR, EACCES, ESRCH) and of reading the directory.
[[nodiscard]] result<std::vector<std::string>> listdir(fd_ref dir);

// Python's os.mkdir(path, mode=0o777, *, dir_fd). Errors: EEXIST, ENOENT, EACCES, ENOSPC, EROFS.
[[nodiscard]] result<void> mkdir(path_ref path, ::mode_t mode = 0777, const dir_fd_options& options = {}) noexcept;
// Python's os.makedirs(name, mode=0o777, exist_ok=False): mkdir with every missing parent. Like
// Python 3.7+, `mode` applies to the last directory only; parents get 0777 (minus the umask).
// Errors: EEXIST (unless exist_ok and it is a directory), those of mkdir.
[[nodiscard]] result<void> makedirs(path_ref path, ::mode_t mode = 0777, const makedirs_options& options = {});
// Python's os.mkfifo(path, mode=0o666, *, dir_fd). Errors: EEXIST, ENOENT, EACCES.
[[nodiscard]] result<void> mkfifo(path_ref path, ::mode_t mode = 0666, const dir_fd_options& options = {}) noexcept;
// Python's os.mknod(path, mode=0o600, device=0, *, dir_fd): mode includes the type (S_IFREG,
// S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK); `device` from make_device(). Errors: EPERM (devices need
// CAP_MKNOD), EEXIST, EINVAL.
[[nodiscard]] result<void> mknod(path_ref path, ::mode_t mode = 0600, ::dev_t device = 0,
                                 const dir_fd_options& options = {}) noexcept;

// Python's os.remove / os.unlink(path, *, dir_fd): removes a file (not a directory).
// Errors: ENOENT, EISDIR, EPERM, EACCES, EBUSY.
[[nodiscard]] result<void> remove(path_ref path, const dir_fd_options& options = {}) noexcept;
[[nodiscard]] result<void> unlink(path_ref path, const dir_fd_options& options = {}) noexcept;
// Python's os.rmdir(path, *, dir_fd): removes an empty directory. Errors: ENOTEMPTY, ENOENT, ENOTDIR, EBUSY.
[[nodiscard]] result<void> rmdir(path_ref path, const dir_fd_options& options = {}) noexcept;
// Python's os.removedirs(name): rmdir(name), then each parent until one fails; only the first
// rmdir's error is reported (Python ignores the parents' errors too).
[[nodiscard]] result<void> removedirs(path_ref path);

// Python's os.rename(src, dst, *, src_dir_fd, dst_dir_fd) and os.replace (identical on POSIX:
// an existing dst file or empty directory is replaced atomically).
// Errors: ENOENT, EXDEV, EISDIR, ENOTDIR, ENOTEMPTY, EBUSY, EINVAL (dst inside src).
[[nodiscard]] result<void> rename(path_ref src, path_ref dst, const rename_options& options = {}) noexcept;
[[nodiscard]] result<void> replace(path_ref src, path_ref dst, const rename_options& options = {}) noexcept;
// Python's os.renames(old, new): makedirs for new's parents, rename, then removedirs of old's parents.
// The parents are made with exist_ok, so one that another process creates meanwhile is no error
// (Python's renames raises FileExistsError then, and for a parent such as "x/.." when x is missing).
// Errors: makedirs' for the new parents, then rename's (as "renames"); a failed removedirs after
// the rename is no error.
[[nodiscard]] result<void> renames(path_ref old_path, path_ref new_path);

// Python's os.pathconf(path, name): a configuration limit of the file at `path` (os.fpathconf, for
// an open descriptor, and the table pathconf_names() are in fd_ops.hpp). An empty optional is "no
// limit" (Python's -1), which is not an error. Errors: ENOENT, EACCES, ENOTDIR, EINVAL (name not
// applicable, or a string name not in pathconf_names()).
[[nodiscard]] result<std::optional<long>> pathconf(path_ref path, pathconf_name name) noexcept;
[[nodiscard]] result<std::optional<long>> pathconf(path_ref path, std::string_view name) noexcept;

// Python's os.sync(): flush all filesystem buffers. Cannot fail.
void sync() noexcept;
// Python's os.truncate(path, length) (os.ftruncate is in fd_ops). Errors: ENOENT, EISDIR, EINVAL, EFBIG.
[[nodiscard]] result<void> truncate(path_ref path, std::int64_t length) noexcept;

// Python's os.utime(path, *, dir_fd, follow_symlinks): both times set to now.
// Errors: ENOENT, EACCES, EPERM, EROFS.
[[nodiscard]] result<void> utime(path_ref path, const lookup_options& options = {}) noexcept;
// Python's os.utime(path, ns=(atime_ns, mtime_ns), ...): the given times, to the nanosecond.
[[nodiscard]] result<void> utime(path_ref path, file_time atime, file_time mtime,
                                const lookup_options& options = {}) noexcept;

// ---- beyond Python's os: shutil.copyfile ----

// shutil.copyfile's keyword, plus the dir_fd pair of ospp's two-path calls.
struct copy_file_options {
    fd_ref src_dir_fd = cwd_fd;
    fd_ref dst_dir_fd = cwd_fd;
    bool follow_symlinks = true;  // false: a symlink src is copied as a symlink (same target)
};

// shutil.copyfile(src, dst, *, follow_symlinks=True): copies src's contents into dst (created with
// mode 0666 minus the umask, or truncated) and returns the number of bytes copied. Uses
// copy_file_range(2) (in-kernel, reflinks where the filesystem can), falling back to sendfile(2)
// and then read/write where the kernel, the filesystems or a seccomp filter refuse it. Only the
// data is copied, like copyfile: not the mode, owner or times. Neither end becomes the caller's
// controlling terminal (O_NOCTTY; Python's open would make it so). Like Python's open, it waits
// for another process to give up a lease on src (Samba, an NFS server's delegation). A copy that
// fails midway leaves dst partly written, as Python's does. Where several errors apply, src's come
// first: it is opened (ENOENT, EACCES, EISDIR, a named pipe) before dst is looked at, so
// copy_file(d, d) of a directory is EISDIR (shutil checks for the same file, then for named pipes
// at either end, before it opens anything). With follow_symlinks=false a symlink src is not
// compared with dst (shutil follows it for that check), and an error making the new link names
// src and dst (shutil's os.symlink names the link's target). Errors: ENOENT, EACCES, EISDIR (src or dst is a directory),
// EINVAL (src and dst are the same file: Python's SameFileError; or either is a named pipe, which
// would block the copy for good: Python's SpecialFileError), ENOSPC, EFBIG, EIO, ENOMEM (no memory
// for the read/write fallback's buffer).
[[nodiscard]] result<std::uint64_t> copy_file(path_ref src, path_ref dst, const copy_file_options& options = {});

}  // namespace ospp
