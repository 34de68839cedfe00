// src/files.cpp — the path operations of Python's os.
#include "ospp/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ospp/scandir.hpp"
#include "sys.hpp"

namespace ospp {

namespace {

int follow_flag(bool follow_symlinks) noexcept { return follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW; }

// The calls below differ only in the system call: `call_name` names it in the error.
template <class F>
result<void> path_call(const char* call_name, const path_ref& path, F&& f) noexcept {
    if (!path.valid()) return sys::bad_path(call_name, path);
    if (sys::retry(f) < 0) return sys::fail(call_name, path);
    return {};
}
template <class F>
result<void> two_path_call(const char* call_name, const path_ref& src, const path_ref& dst, F&& f) noexcept {
    if (!src.valid()) return sys::bad_path(call_name, src);
    if (!dst.valid()) return sys::bad_path(call_name, dst);
    if (sys::retry(f) < 0) return sys::fail(call_name, src, dst);
    return {};
}

// The parent of a path as Python's os.path.split gives it ("a/b/" -> "a/b", "a" -> "").
std::string_view parent_of(std::string_view p) noexcept {
    const auto slash = p.rfind('/');
    if (slash == std::string_view::npos) return {};
    std::string_view head = p.substr(0, slash + 1);
    // Strip trailing slashes unless the head is all slashes ("/" stays "/").
    const auto last = head.find_last_not_of('/');
    return last == std::string_view::npos ? head : head.substr(0, last + 1);
}
std::string_view tail_of(std::string_view p) noexcept {
    const auto slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

result<void> access(path_ref path, access_mode mode, const access_options& options) noexcept {
    const int flags = follow_flag(options.follow_symlinks) | (options.effective_ids ? AT_EACCESS : 0);
    // Without dir_fd and flags, access(2), as Python calls it: glibc's faccessat tries faccessat2
    // (Linux 5.8) first and falls back only on ENOSYS, so a seccomp filter that refuses faccessat2
    // with EPERM (container runtimes older than it) would fail every call.
    const int dir = options.dir_fd.get();
    return path_call("access", path, [&] {
        return dir == AT_FDCWD && flags == 0 ? ::access(path.c_str(), to_raw(mode))
                                             : ::faccessat(dir, path.c_str(), to_raw(mode), flags);
    });
}

result<void> chdir(path_ref path) noexcept {
    return path_call("chdir", path, [&] { return ::chdir(path.c_str()); });
}

result<void> fchdir(fd_ref dir) noexcept {
    if (sys::retry([&] { return ::fchdir(dir.get()); }) < 0) return sys::fail("fchdir");
    return {};
}

result<std::string> getcwd() {
    std::string buf(256, '\0');
    while (::getcwd(buf.data(), buf.size()) == nullptr) {
        if (errno != ERANGE) return sys::fail("getcwd");
        buf.resize(buf.size() * 2);
    }
    buf.resize(std::char_traits<char>::length(buf.c_str()));
    return buf;
}

result<void> chmod(path_ref path, ::mode_t mode, const lookup_options& options) noexcept {
    return path_call("chmod", path, [&] {
        return ::fchmodat(options.dir_fd.get(), path.c_str(), mode, follow_flag(options.follow_symlinks));
    });
}

result<void> chown(path_ref path, ::uid_t uid, ::gid_t gid, const lookup_options& options) noexcept {
    return path_call("chown", path, [&] {
        return ::fchownat(options.dir_fd.get(), path.c_str(), uid, gid, follow_flag(options.follow_symlinks));
    });
}

result<void> lchown(path_ref path, ::uid_t uid, ::gid_t gid) noexcept {
    return path_call("lchown", path, [&] { return ::lchown(path.c_str(), uid, gid); });
}

result<void> chroot(path_ref path) noexcept {
    return path_call("chroot", path, [&] { return ::chroot(path.c_str()); });
}

result<void> link(path_ref src, path_ref dst, const link_options& options) noexcept {
    return two_path_call("link", src, dst, [&] {
        return ::linkat(options.src_dir_fd.get(), src.c_str(), options.dst_dir_fd.get(), dst.c_str(),
                        options.follow_symlinks ? AT_SYMLINK_FOLLOW : 0);
    });
}

result<void> symlink(path_ref src, path_ref dst, const dir_fd_options& options) noexcept {
    return two_path_call("symlink", src, dst,
                         [&] { return ::symlinkat(src.c_str(), options.dir_fd.get(), dst.c_str()); });
}

result<std::string> readlink(path_ref path, const dir_fd_options& options) {
    if (!path.valid()) return sys::bad_path("readlink", path);
    std::string buf(256, '\0');
    for (;;) {
        const ssize_t n = sys::retry(
            [&] { return ::readlinkat(options.dir_fd.get(), path.c_str(), buf.data(), buf.size()); });
        if (n < 0) return sys::fail("readlink", path);
        // A full buffer may mean a truncated target: grow and read again.
        if (static_cast<std::size_t>(n) < buf.size()) {
            buf.resize(static_cast<std::size_t>(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
}

namespace {
// The names a scandir range yields; errors renamed to "listdir", with the path listdir was given
// (none for listdir(fd); an empty path is still a path, as in Python's message: '').
result<std::vector<std::string>> names_of(result<scandir_range> range, const std::string_view* path) {
    auto relabel = [&](const errno_error& e) {
        return path == nullptr ? sys::fail_with(e.code(), "listdir") : sys::failure(errno_error(e.code(), "listdir", *path));
    };
    if (!range) return relabel(range.error());
    std::vector<std::string> names;
    for (const dir_entry& e : *range) names.emplace_back(e.name());
    if (range->error()) return relabel(*range->error());
    return names;
}
}  // namespace

result<std::vector<std::string>> listdir(path_ref path) {
    if (!path.valid()) return sys::bad_path("listdir", path);
    const std::string_view given = path.view();
    return names_of(scandir(path.c_str()), &given);
}

result<std::vector<std::string>> listdir(fd_ref dir) { return names_of(scandir(dir), nullptr); }

result<void> mkdir(path_ref path, ::mode_t mode, const dir_fd_options& options) noexcept {
    return path_call("mkdir", path, [&] { return ::mkdirat(options.dir_fd.get(), path.c_str(), mode); });
}

namespace {
// Python's head, tail = os.path.split(name), split again when name ends with a slash (makedirs).
std::pair<std::string_view, std::string_view> split_dir(std::string_view name) noexcept {
    std::string_view head = parent_of(name), tail = tail_of(name);
    if (tail.empty()) {
        tail = tail_of(head);
        head = parent_of(head);
    }
    return {head, tail};
}
// Calls f with the first `len` bytes of `buf` as a NUL-terminated string, cutting it there for
// the call (makedirs' parents are prefixes of its path: one copy serves them all).
template <class F>
int at_prefix(std::string& buf, std::size_t len, F f) noexcept {
    const char saved = buf[len];
    buf[len] = '\0';
    const int r = sys::retry([&] { return f(buf.c_str()); });
    buf[len] = saved;
    return r;
}
}  // namespace

result<void> makedirs(path_ref path, ::mode_t mode, const makedirs_options& options) {
    if (!path.valid()) return sys::bad_path("makedirs", path);
    // Python's makedirs calls itself for each missing parent (head and tail not empty, head not
    // there), then makes the parent unless its tail is "."; EEXIST from a parent is no error (a
    // concurrent creator). The same steps as two loops, so that a path of 100,000 components is
    // the kernel's error and not a stack overflow (Python: RecursionError): up, noting the length
    // of each missing parent; then down, making them from the deepest.
    std::string buf(path.view());
    std::vector<std::size_t> missing;
    for (std::string_view name = buf;;) {
        const auto [head, tail] = split_dir(name);
        if (head.empty() || tail.empty() ||
            at_prefix(buf, head.size(), [](const char* p) { return ::access(p, F_OK); }) == 0) {
            break;
        }
        missing.push_back(head.size());
        name = head;
    }
    for (std::size_t i = missing.size(); i-- > 0;) {
        const std::string_view parent(buf.data(), missing[i]);
        if (i + 1 < missing.size() && split_dir(parent).second == ".") continue;
        if (at_prefix(buf, parent.size(), [](const char* p) { return ::mkdir(p, 0777); }) < 0 && errno != EEXIST) {
            return sys::failure(errno_error(errno, "makedirs", parent));
        }
    }
    if (!missing.empty() && split_dir(path.view()).second == ".") return {};
    if (sys::retry([&] { return ::mkdir(path.c_str(), mode); }) == 0) return {};
    const int err = errno;
    if (options.exist_ok && err == EEXIST) {
        struct ::stat st {};
        if (sys::retry([&] { return ::stat(path.c_str(), &st); }) == 0 && S_ISDIR(st.st_mode)) return {};
    }
    return sys::fail_with(err, "makedirs", path);
}

result<void> mkfifo(path_ref path, ::mode_t mode, const dir_fd_options& options) noexcept {
    return path_call("mkfifo", path, [&] { return ::mkfifoat(options.dir_fd.get(), path.c_str(), mode); });
}

result<void> mknod(path_ref path, ::mode_t mode, ::dev_t device, const dir_fd_options& options) noexcept {
    return path_call("mknod", path,
                     [&] { return ::mknodat(options.dir_fd.get(), path.c_str(), mode, device); });
}

result<void> remove(path_ref path, const dir_fd_options& options) noexcept {
    return path_call("remove", path, [&] { return ::unlinkat(options.dir_fd.get(), path.c_str(), 0); });
}

result<void> unlink(path_ref path, const dir_fd_options& options) noexcept {
    return path_call("unlink", path, [&] { return ::unlinkat(options.dir_fd.get(), path.c_str(), 0); });
}

result<void> rmdir(path_ref path, const dir_fd_options& options) noexcept {
    return path_call("rmdir", path,
                     [&] { return ::unlinkat(options.dir_fd.get(), path.c_str(), AT_REMOVEDIR); });
}

result<void> removedirs(path_ref path) {
    if (!path.valid()) return sys::bad_path("removedirs", path);
    if (sys::retry([&] { return ::rmdir(path.c_str()); }) < 0) return sys::fail("removedirs", path);
    std::string_view p = path.view();
    std::string_view head = parent_of(p);
    if (tail_of(p).empty()) head = parent_of(head);  // "a/b/" names b
    while (!head.empty() && !tail_of(head).empty()) {
        const std::string dir(head);
        if (sys::retry([&] { return ::rmdir(dir.c_str()); }) < 0) break;
        head = parent_of(head);
    }
    return {};
}

result<void> rename(path_ref src, path_ref dst, const rename_options& options) noexcept {
    return two_path_call("rename", src, dst, [&] {
        return ::renameat(options.src_dir_fd.get(), src.c_str(), options.dst_dir_fd.get(), dst.c_str());
    });
}

result<void> replace(path_ref src, path_ref dst, const rename_options& options) noexcept {
    return two_path_call("replace", src, dst, [&] {
        return ::renameat(options.src_dir_fd.get(), src.c_str(), options.dst_dir_fd.get(), dst.c_str());
    });
}

result<void> renames(path_ref old_path, path_ref new_path) {
    if (!old_path.valid()) return sys::bad_path("renames", old_path);
    if (!new_path.valid()) return sys::bad_path("renames", new_path);
    const std::string_view new_head = parent_of(new_path.view());
    if (!new_head.empty() && !tail_of(new_path.view()).empty() &&
        ::access(std::string(new_head).c_str(), F_OK) != 0) {
        auto made = makedirs(new_head, 0777, {.exist_ok = true});
        if (!made) return made;
    }
    if (sys::retry([&] { return ::rename(old_path.c_str(), new_path.c_str()); }) < 0) {
        return sys::fail("renames", old_path, new_path);
    }
    const std::string_view old_head = parent_of(old_path.view());
    if (!old_head.empty() && !tail_of(old_path.view()).empty()) (void)removedirs(old_head);
    return {};
}

namespace {
result<std::optional<long>> pathconf_of(const path_ref& path, pathconf_name name) noexcept {
    if (!path.valid()) return sys::bad_path("pathconf", path);
    const auto r = sys::call_limit([&] { return ::pathconf(path.c_str(), to_raw(name)); });
    if (r.failed) return sys::fail("pathconf", path);
    return r.value;
}
}  // namespace

result<std::optional<long>> pathconf(path_ref path, pathconf_name name) noexcept { return pathconf_of(path, name); }

result<std::optional<long>> pathconf(path_ref path, std::string_view name) noexcept {
    const auto* e = find_name(pathconf_names(), name);
    if (e == nullptr) return sys::fail_with(EINVAL, "pathconf", path);
    return pathconf_of(path, e->value);
}

void sync() noexcept { ::sync(); }

result<void> truncate(path_ref path, std::int64_t length) noexcept {
    return path_call("truncate", path, [&] { return ::truncate(path.c_str(), length); });
}

namespace {
result<void> set_times(const path_ref& path, const ::timespec* times, const lookup_options& options) noexcept {
    return path_call("utime", path, [&] {
        return ::utimensat(options.dir_fd.get(), path.c_str(), times, follow_flag(options.follow_symlinks));
    });
}
::timespec to_timespec(file_time t) noexcept {
    const auto ns = t.time_since_epoch().count();
    // Floor division, so that times before 1970 keep tv_nsec in [0, 1e9).
    auto sec = ns / 1'000'000'000;
    auto rem = ns % 1'000'000'000;
    if (rem < 0) {
        rem += 1'000'000'000;
        --sec;
    }
    return {static_cast<time_t>(sec), static_cast<long>(rem)};
}
}  // namespace

result<void> utime(path_ref path, const lookup_options& options) noexcept {
    return set_times(path, nullptr, options);
}

result<void> utime(path_ref path, file_time atime, file_time mtime, const lookup_options& options) noexcept {
    const ::timespec times[2] = {to_timespec(atime), to_timespec(mtime)};
    return set_times(path, times, options);
}

}  // namespace ospp
