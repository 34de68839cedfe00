// test/support.hpp — what every ospp test suite shares: a temporary directory, skipping with a
// reason, and checks on errno_error. The suite's main (test/main.cpp) also fails any test case
// that leaves a file descriptor open, a child process or a temp_dir behind.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>

#include "ospp/error.hpp"

namespace ospp_test {

// A fresh directory under $TMPDIR (or /tmp), "ospp-test-XXXXXX", removed with everything in it on
// destruction. The test main fails a test case after which one it made still exists.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // path() + "/" + name
    [[nodiscard]] std::string operator/(std::string_view name) const;

private:
    std::string path_;
};

// Writes `content` to a new file (mode 0644) and returns nothing; fails the test on error.
void write_file(const std::string& path, std::string_view content);
// The whole content of a file; fails the test on error.
std::string read_file(const std::string& path);

// Marks the running test case as skipped, with the reason printed in the summary.
void mark_skipped(std::string_view reason);

bool is_root();

// Whether descriptor n has FD_CLOEXEC set.
bool cloexec(int n);

// Blocks until a byte arrives on `fd` or every write end of its pipe is closed: how a child waits
// for its parent's go. A bare read(2), retried on EINTR: safe after fork and in a signal handler.
void wait_for_go(int fd) noexcept;

// The standard output of a shell command, or nullopt when it fails (e.g. no python3): for tests
// that compare with Python's os on the same machine.
std::optional<std::string> command_output(const char* command);

}  // namespace ospp_test

// Skip the rest of this test case, saying why: OSPP_SKIP("needs root").
#define OSPP_SKIP(reason)                  \
    do {                                   \
        ::ospp_test::mark_skipped(reason); \
        return;                            \
    } while (0)

#define OSPP_REQUIRE_ROOT()                                          \
    do {                                                             \
        if (!::ospp_test::is_root()) OSPP_SKIP("needs root (euid 0)"); \
    } while (0)

// Checks that a result failed with the errno `code` and the message `message`.
#define CHECK_ERRNO(expr, errno_value, text)                 \
    do {                                                     \
        const auto& ospp_r_ = (expr);                        \
        REQUIRE_FALSE(ospp_r_.has_value());                  \
        CHECK(ospp_r_.error().code() == (errno_value));      \
        CHECK(ospp_r_.error().message() == (text));          \
    } while (0)

// Checks that a result failed with the errno `code` (message not compared).
#define CHECK_FAILS_WITH(expr, errno_value)                  \
    do {                                                     \
        const auto& ospp_r_ = (expr);                        \
        REQUIRE_FALSE(ospp_r_.has_value());                  \
        CHECK(ospp_r_.error().code() == (errno_value));      \
    } while (0)
