// ospp/xattr.hpp — Linux extended attributes: Python's os.getxattr, setxattr, listxattr, removexattr.
//
//   Python                                             C++
//   os.setxattr("f", "user.k", b"v")                   ospp::setxattr("f", "user.k", "v")
//   os.setxattr("f", "user.k", b"v", os.XATTR_CREATE)  ospp::setxattr("f", "user.k", "v", ospp::xattr_flags::create)
//   os.getxattr("f", "user.k")                         ospp::getxattr("f", "user.k")    // result<std::string>
//   os.getxattr("l", "user.k", follow_symlinks=False)  ospp::getxattr("l", "user.k", {.follow_symlinks = false})
//   os.listxattr(fd)                                   ospp::listxattr(fd)              // result<vector<string>>
//   os.removexattr("f", "user.k")                      ospp::removexattr("f", "user.k")
//
// Values are bytes in a std::string (they may hold NULs). Sizes are asked of the kernel and the
// buffer grown and the call retried if the attribute grew in between. Each call also takes an fd,
// as Python's path argument does; its errors name no path, where Python's OSError shows the fd
// number as the file name ("[Errno 9] Bad file descriptor: 99"); a negative fd, cwd_fd included,
// is EBADF (Linux 6.13+ would read AT_FDCWD as the working directory). follow_symlinks=false uses
// the l*xattr calls, which act on a symlink itself (Linux allows no user.* attributes there: EPERM).
#pragma once

#include <sys/xattr.h>

#include <string>
#include <string_view>
#include <vector>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"
#include "ospp/stat.hpp"

namespace ospp {

// setxattr flags: Python's os.XATTR_CREATE and os.XATTR_REPLACE.
enum class xattr_flags : int {
    none = 0,                  // create or replace
    create = XATTR_CREATE,     // fail with EEXIST if the attribute exists
    replace = XATTR_REPLACE,   // fail with ENODATA if it does not
};
template <>
struct enable_bitmask<xattr_flags> : std::true_type {};

// Python's os.getxattr(path, attribute, *, follow_symlinks=True): the attribute's value.
// Errors: ENODATA (no such attribute), ENOTSUP (not supported by the filesystem, or a name outside
// the user/trusted/security/system namespaces), ENOENT, EACCES, EBADF (fd, also an O_PATH or a negative one),
// ERANGE (an empty name or one over 255 bytes; never a small buffer: it grows); EINVAL for a NUL
// in the path or the name.
[[nodiscard]] result<std::string> getxattr(path_ref path, std::string_view attribute,
                                           const follow_options& options = {});
[[nodiscard]] result<std::string> getxattr(fd_ref f, std::string_view attribute);

// Python's os.setxattr(path, attribute, value, flags=0, *, follow_symlinks=True).
// Errors: EEXIST (create), ENODATA (replace), ENOTSUP, ENOSPC, E2BIG (value over 64 KiB), ERANGE
// (name as getxattr), EPERM (user.* on a symlink or special file), EACCES, EINVAL (NUL in name).
[[nodiscard]] result<void> setxattr(path_ref path, std::string_view attribute, std::string_view value,
                                    xattr_flags flags = xattr_flags::none, const follow_options& options = {});
[[nodiscard]] result<void> setxattr(fd_ref f, std::string_view attribute, std::string_view value,
                                    xattr_flags flags = xattr_flags::none);

// Python's os.listxattr(path=None, *, follow_symlinks=True): the attribute names.
// Errors: ENOTSUP, ENOENT, EACCES, E2BIG (the names take over 64 KiB, XATTR_LIST_MAX).
[[nodiscard]] result<std::vector<std::string>> listxattr(path_ref path, const follow_options& options = {});
[[nodiscard]] result<std::vector<std::string>> listxattr(fd_ref f);

// Python's os.removexattr(path, attribute, *, follow_symlinks=True).
// Errors: ENODATA, ENOTSUP, EPERM, ERANGE (name as getxattr), EINVAL (NUL in the name).
[[nodiscard]] result<void> removexattr(path_ref path, std::string_view attribute, const follow_options& options = {});
[[nodiscard]] result<void> removexattr(fd_ref f, std::string_view attribute);

}  // namespace ospp
