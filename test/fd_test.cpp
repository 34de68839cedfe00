// test/fd_test.cpp — fd owns and closes, fd_ref borrows, close is reported and never retried.
#include "ospp/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <type_traits>

#include "support.hpp"

namespace {
bool is_open(int n) { return ::fcntl(n, F_GETFD) >= 0; }
}  // namespace

static_assert(!std::is_copy_constructible_v<ospp::fd>);
static_assert(std::is_nothrow_move_constructible_v<ospp::fd>);
static_assert(!std::is_convertible_v<int, ospp::fd>, "an int must never become an owner implicitly");
static_assert(!std::is_convertible_v<int, ospp::fd_ref>);
static_assert(std::is_convertible_v<ospp::fd, ospp::fd_ref>);
static_assert(!std::is_convertible_v<ospp::fd, bool>, "no accidental if (fd)");
static_assert(!std::is_convertible_v<ospp::fd, int>);

TEST_CASE("fd closes what it owns on destruction") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        ospp::fd f(raw);
        CHECK(f.valid());
        CHECK(f.get() == raw);
        ospp::fd_ref borrowed = f;
        CHECK(borrowed.get() == raw);
    }
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd moves ownership and release gives it up") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ospp::fd a(raw);
    ospp::fd b = std::move(a);
    CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    CHECK(b.get() == raw);
    const int released = b.release();
    CHECK(released == raw);
    CHECK_FALSE(b.valid());
    CHECK(is_open(raw));
    ::close(raw);
}

TEST_CASE("fd move-assignment closes the previous descriptor") {
    int first = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ospp::fd a(first);
    ospp::fd b(second);
    a = std::move(b);
    CHECK_FALSE(is_open(first));
    CHECK(a.get() == second);
}

TEST_CASE("fd reset preserves errno") {
    ospp::fd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    errno = EXDEV;
    f.reset();
    CHECK(errno == EXDEV);
    CHECK_FALSE(f.valid());
}

TEST_CASE("explicit close reports errors and always releases") {
    ospp::fd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int raw = f.get();
    REQUIRE(f.close().has_value());
    CHECK_FALSE(f.valid());
    CHECK_FALSE(is_open(raw));

    // An owner of a number that is not open: close says EBADF.
    ospp::fd stale(raw);
    CHECK_ERRNO(stale.close(), EBADF, "close: [Errno 9] Bad file descriptor");
    CHECK_FALSE(stale.valid());
}

TEST_CASE("closing an empty owner again is a no-op, never EBADF") {
    ospp::fd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(f.close().has_value());
    // A second close, a default-constructed or moved-from owner: nothing is owned, so close(2)
    // is not called (it would say EBADF for -1) and there is no error to report.
    errno = EXDEV;
    const bool closed_again = f.close().has_value();
    const int errno_after = errno;  // before doctest's reporting (-s) can change it
    CHECK(closed_again);
    CHECK(errno_after == EXDEV);
    ospp::fd none;
    CHECK(none.close().has_value());
    ospp::fd moved_to = std::move(f);
    CHECK(ospp::close(std::move(f)).has_value());  // NOLINT(bugprone-use-after-move)
    CHECK(ospp::close(std::move(moved_to)).has_value());
}

TEST_CASE("self-move and reset to the owned number keep the descriptor open") {
    const int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ospp::fd f(raw);
    ospp::fd& alias = f;
    f = std::move(alias);
    CHECK(f.get() == raw);
    f.reset(raw);
    CHECK(f.get() == raw);
    CHECK(is_open(raw));
}

TEST_CASE("free close() takes an owner by rvalue or a raw borrowed number") {
    ospp::fd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int raw = f.get();
    CHECK(ospp::close(std::move(f)).has_value());
    CHECK_FALSE(is_open(raw));

    const int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(ospp::close(ospp::fd_ref(other)).has_value());
    CHECK_FALSE(is_open(other));
    CHECK_ERRNO(ospp::close(ospp::fd_ref(other)), EBADF, "close: [Errno 9] Bad file descriptor");
}

TEST_CASE("fd_ref constants name the standard streams and AT_FDCWD") {
    CHECK(ospp::stdin_fd.get() == 0);
    CHECK(ospp::stdout_fd.get() == 1);
    CHECK(ospp::stderr_fd.get() == 2);
    CHECK(ospp::cwd_fd.get() == AT_FDCWD);
    CHECK(ospp::fd_ref().get() == -1);
}
