// ospp/path.hpp — path_ref, the path argument every ospp call takes.
//
//   Python                                     C++
//   os.stat("x")                               ospp::stat("x")
//   os.stat(pathlib.Path("x"))                 ospp::stat(std::filesystem::path("x"))
//   os.stat("x", dir_fd=d,                     ospp::stat("x", {.dir_fd = d,
//           follow_symlinks=False)                              .follow_symlinks = false})
//   os.stat("a\0b")  # ValueError              ospp::stat(std::string("a\0b", 3))  // EINVAL
//
// It accepts what a C++ program has at hand, and never allocates for the common cases:
//   const char*, std::string, std::filesystem::path   no copy (they are already NUL-terminated)
//   std::string_view                                  copied into a 256-byte stack buffer
//                                                     (heap only for longer views)
// Like Python's "embedded null byte" ValueError, a std::string or string_view that contains a NUL
// is refused: the call fails with EINVAL instead of silently using a truncated path.
//
// path_ref lives only for the duration of a call: take it by value as a parameter (it is built
// in place from the argument) and pass it on by const reference.
//
// Python's dir_fd= and follow_symlinks= keywords are the option structs at the end of this file,
// used with designated initializers: ospp::stat("x", {.dir_fd = d, .follow_symlinks = false}).
#pragma once

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ospp/fd.hpp"

namespace ospp {

class path_ref {
public:
    // A NUL-terminated C string; must not be null.
    // Its length is measured only if an error message needs it. (buf_ stays uninitialised on
    // purpose in these constructors: filling 256 bytes per call would cost more than the rest.)
    // cppcheck-suppress uninitMemberVar
    path_ref(const char* s) noexcept : c_str_(s), size_(unknown_size) {}  // NOLINT
    // cppcheck-suppress uninitMemberVar
    path_ref(const std::string& s) noexcept  // NOLINT
        : c_str_(s.c_str()), size_(s.size()), valid_(s.find('\0') == std::string::npos) {}
    path_ref(const std::filesystem::path& p) noexcept  // NOLINT
        : path_ref(p.native()) {}
    path_ref(std::string_view s);  // NOLINT
    path_ref(std::nullptr_t) = delete;

    path_ref(const path_ref&) = delete;
    path_ref& operator=(const path_ref&) = delete;
    ~path_ref() = default;

    // The NUL-terminated path to hand to the kernel.
    [[nodiscard]] const char* c_str() const noexcept { return c_str_; }
    // The path as given (for error messages).
    [[nodiscard]] std::string_view view() const noexcept {
        return {c_str_, size_ == unknown_size ? std::strlen(c_str_) : size_};
    }
    // False when the argument held an embedded NUL byte.
    [[nodiscard]] bool valid() const noexcept { return valid_; }

private:
    static constexpr std::size_t inline_size = 256;
    static constexpr std::size_t unknown_size = static_cast<std::size_t>(-1);
    const char* c_str_;
    std::size_t size_;
    bool valid_ = true;
    std::unique_ptr<char[]> heap_;  // only for string_views longer than the stack buffer
    char buf_[inline_size];         // uninitialised unless a string_view was copied here
};

// ---- how a path is looked up: the keyword options shared by every path call of ospp ----

// Python's `dir_fd=` keyword alone (mkdir, unlink, readlink, ...).
struct dir_fd_options {
    fd_ref dir_fd = cwd_fd;  // relative paths are resolved against this directory
};
// Python's `dir_fd=` and `follow_symlinks=` (stat, chmod, chown, utime, ...): how the path is looked up.
struct lookup_options {
    fd_ref dir_fd = cwd_fd;
    bool follow_symlinks = true;  // false: act on a symlink itself (AT_SYMLINK_NOFOLLOW)
};
// Python's `follow_symlinks=` alone (xattrs, DirEntry.is_dir, DirEntry.stat).
struct follow_options {
    bool follow_symlinks = true;
};

}  // namespace ospp
