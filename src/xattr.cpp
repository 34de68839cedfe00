// src/xattr.cpp — extended attributes, with buffers sized by the kernel.
#include "ospp/xattr.hpp"

#include "sys.hpp"

namespace ospp {

namespace {

// Calls `get(buffer, size)` (a getxattr or listxattr flavour) with a buffer grown to what the
// kernel says it needs; retried if the value grew between the size query and the read (ERANGE).
template <class Get>
int sized_read(std::string& out, Get&& get) {
    for (;;) {
        const ssize_t need = sys::retry([&] { return get(nullptr, 0); });
        if (need < 0) return -1;
        out.resize(static_cast<std::size_t>(need));
        if (need == 0) return 0;
        const ssize_t got = sys::retry([&] { return get(out.data(), out.size()); });
        if (got >= 0) {
            out.resize(static_cast<std::size_t>(got));
            return 0;
        }
        if (errno != ERANGE) return -1;
    }
}

// listxattr's "a\0b\0" as {"a", "b"}.
std::vector<std::string> split_names(const std::string& list) {
    std::vector<std::string> names;
    for (std::size_t pos = 0; pos < list.size();) {
        const std::size_t end = list.find('\0', pos);
        const std::size_t stop = end == std::string::npos ? list.size() : end;
        names.emplace_back(list, pos, stop - pos);
        pos = stop + 1;
    }
    return names;
}

// fgetxattr and fsetxattr resolve their descriptor as *xattrat(fd, NULL, AT_EMPTY_PATH) since
// Linux 6.13, which reads AT_FDCWD (cwd_fd, -100) as the working directory: a negative number is
// refused here, as every other descriptor call refuses it.
bool no_descriptor(fd_ref f) noexcept { return f.get() < 0; }

}  // namespace

result<std::string> getxattr(path_ref path, std::string_view attribute, const follow_options& options) {
    const path_ref name(attribute);
    if (!path.valid()) return sys::bad_path("getxattr", path);
    if (!name.valid()) return sys::bad_path("getxattr", name);
    std::string value;
    const int r = sized_read(value, [&](char* buf, std::size_t size) {
        return options.follow_symlinks ? ::getxattr(path.c_str(), name.c_str(), buf, size)
                                       : ::lgetxattr(path.c_str(), name.c_str(), buf, size);
    });
    if (r < 0) return sys::fail("getxattr", path);
    return value;
}

result<std::string> getxattr(fd_ref f, std::string_view attribute) {
    if (no_descriptor(f)) return sys::fail_with(EBADF, "getxattr");
    const path_ref name(attribute);
    if (!name.valid()) return sys::bad_path("getxattr", name);
    std::string value;
    if (sized_read(value, [&](char* buf, std::size_t size) { return ::fgetxattr(f.get(), name.c_str(), buf, size); }) <
        0) {
        return sys::fail("getxattr");
    }
    return value;
}

result<void> setxattr(path_ref path, std::string_view attribute, std::string_view value, xattr_flags flags,
                      const follow_options& options) {
    const path_ref name(attribute);
    if (!path.valid()) return sys::bad_path("setxattr", path);
    if (!name.valid()) return sys::bad_path("setxattr", name);
    const int r = sys::retry([&] {
        return options.follow_symlinks
                   ? ::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), to_raw(flags))
                   : ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), to_raw(flags));
    });
    if (r < 0) return sys::fail("setxattr", path);
    return {};
}

result<void> setxattr(fd_ref f, std::string_view attribute, std::string_view value, xattr_flags flags) {
    if (no_descriptor(f)) return sys::fail_with(EBADF, "setxattr");
    const path_ref name(attribute);
    if (!name.valid()) return sys::bad_path("setxattr", name);
    if (sys::retry([&] { return ::fsetxattr(f.get(), name.c_str(), value.data(), value.size(), to_raw(flags)); }) <
        0) {
        return sys::fail("setxattr");
    }
    return {};
}

result<std::vector<std::string>> listxattr(path_ref path, const follow_options& options) {
    if (!path.valid()) return sys::bad_path("listxattr", path);
    std::string list;
    const int r = sized_read(list, [&](char* buf, std::size_t size) {
        return options.follow_symlinks ? ::listxattr(path.c_str(), buf, size) : ::llistxattr(path.c_str(), buf, size);
    });
    if (r < 0) return sys::fail("listxattr", path);
    return split_names(list);
}

result<std::vector<std::string>> listxattr(fd_ref f) {
    if (no_descriptor(f)) return sys::fail_with(EBADF, "listxattr");
    std::string list;
    if (sized_read(list, [&](char* buf, std::size_t size) { return ::flistxattr(f.get(), buf, size); }) < 0) {
        return sys::fail("listxattr");
    }
    return split_names(list);
}

result<void> removexattr(path_ref path, std::string_view attribute, const follow_options& options) {
    const path_ref name(attribute);
    if (!path.valid()) return sys::bad_path("removexattr", path);
    if (!name.valid()) return sys::bad_path("removexattr", name);
    const int r = sys::retry([&] {
        return options.follow_symlinks ? ::removexattr(path.c_str(), name.c_str())
                                       : ::lremovexattr(path.c_str(), name.c_str());
    });
    if (r < 0) return sys::fail("removexattr", path);
    return {};
}

result<void> removexattr(fd_ref f, std::string_view attribute) {
    if (no_descriptor(f)) return sys::fail_with(EBADF, "removexattr");
    const path_ref name(attribute);
    if (!name.valid()) return sys::bad_path("removexattr", name);
    if (sys::retry([&] { return ::fremovexattr(f.get(), name.c_str()); }) < 0) return sys::fail("removexattr");
    return {};
}

}  // namespace ospp
