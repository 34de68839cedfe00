// ospp/error.hpp — the one error type of ospp and the result<T> every fallible call returns.
//
//   Python                                   C++
//   try: os.stat("x")                        auto st = ospp::stat("x");
//   except OSError as e: print(e)            if (!st) std::puts(st.error().message().c_str());
//   e.errno == errno.ENOENT                  st.error() == std::errc::no_such_file_or_directory
//
// No system call error throws (only `.value()` does, below). A failed call returns an errno_error
// holding the errno value, the name of the call (a static string) and the path(s) involved, which
// are copied only on failure (when that copy finds no memory, the error names no path: building an
// error never throws, so wrappers that allocate nothing else are noexcept). What allocates results
// (strings, vectors) fails as the standard library does when memory runs out: std::bad_alloc, or
// std::terminate under -fno-exceptions.
//
// `.value()` (as in the examples' `ospp::pipe().value()`) is tl::expected's: on an error it throws
// tl::bad_expected_access<errno_error>, whose what() is only "Bad expected access" — uncaught, the
// program ends without saying which call failed or why. Its error() is the errno_error, so
//   catch (const tl::bad_expected_access<ospp::errno_error>& e) { std::puts(e.error().message().c_str()); }
// prints Python's line; a program that should report and go on tests the result instead (`if (!r)`).
// Under -fno-exceptions, tl-expected (1.0, and the 1.3.1 fallback) marks that throw unreachable:
// `.value()` on an error is undefined behaviour (a crash, at best), so test the result first.
// A result is not its value: `auto [r, w] = ospp::pipe();` fails to compile with "cannot decompose
// class type 'tl::detail::expected_storage_base<...>'", `ospp::write(f, ...)` with f a result<fd>
// with "no known conversion ... to 'ospp::fd_ref'": unwrap it first (`*f`, `f->`, `.value()`).
#pragma once

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <tl/expected.hpp>

namespace ospp {

// The error of a failed system call, like Python's OSError: errno, call name, path(s).
class errno_error {
public:
    errno_error() noexcept = default;
    // `call` must be a string with static storage duration ("open", "rename", ...).
    errno_error(int code, const char* call) noexcept : code_(code), call_(call) {}
    // With the path(s) the call was given; they are copied (failure path only). Never throws: if
    // memory for the copy cannot be had, the error keeps its errno and call and names no path.
    errno_error(int code, const char* call, std::string_view path) noexcept;
    errno_error(int code, const char* call, std::string_view path, std::string_view path2) noexcept;

    errno_error(const errno_error& other);
    errno_error& operator=(const errno_error& other);
    errno_error(errno_error&&) noexcept = default;
    errno_error& operator=(errno_error&&) noexcept = default;
    ~errno_error() = default;

    // The errno value, e.g. ENOENT.
    [[nodiscard]] int code() const noexcept { return code_; }
    // The failed call's name, e.g. "open"; never null.
    [[nodiscard]] const char* call() const noexcept { return call_ ? call_ : ""; }
    // The first path (Python's e.filename), empty when the call took none.
    [[nodiscard]] std::string_view path() const noexcept;
    // The second path (Python's e.filename2), e.g. rename's destination; empty when none.
    [[nodiscard]] std::string_view path2() const noexcept;
    [[nodiscard]] bool has_path() const noexcept { return paths_ != nullptr; }
    [[nodiscard]] bool has_path2() const noexcept;
    // The errno's symbolic name, e.g. "ENOENT" ("E0", "E123" for 0 and what the C library does not
    // know). glibc's first name of an aliased number: EDEADLK (35) and EOPNOTSUPP (95), where
    // Python's errno.errorcode says EDEADLOCK and ENOTSUP.
    [[nodiscard]] std::string name() const;
    // Python's str(OSError) behind the call name, paths quoted by quote_path() (as Python's str API):
    // "open: [Errno 2] No such file or directory: 'nope'", "rename: [Errno 2] ...: 'a' -> 'café'".
    [[nodiscard]] std::string message() const;
    // As a std::error_code in std::generic_category().
    [[nodiscard]] std::error_code error_code() const noexcept {
        return {code_, std::generic_category()};
    }

    friend bool operator==(const errno_error& e, std::errc c) noexcept {
        return e.code_ == static_cast<int>(c);
    }

private:
    int code_ = 0;
    const char* call_ = nullptr;
    // "path\0path2\0" (path2 part present only for two-path errors); null when no path.
    std::unique_ptr<char[]> paths_;
    std::size_t path_len_ = 0;
    std::size_t path2_len_ = static_cast<std::size_t>(-1);
};

// The return type of every fallible ospp call: a T, or the errno_error that stopped it.
template <class T>
using result = tl::expected<T, errno_error>;

// The errno text, like Python's os.strerror(code): "No such file or directory".
std::string strerror(int code);

// Python's repr(os.fsdecode(path)), used in messages: 'a b', "it's", 'café', '안녕', 'new\nline',
// 'ls\u2028', 'bad\udcff'. Printable UTF-8 is kept; what Python's str.isprintable() rejects is
// escaped (\t \n \r, else \xNN, \uNNNN, \UNNNNNNNN), and each byte that is not valid UTF-8 shows as
// \udcNN, the surrogate os.fsdecode maps it to. So no file name can put a line break or other
// invisible control into a log line.
std::string quote_path(std::string_view path);

}  // namespace ospp
