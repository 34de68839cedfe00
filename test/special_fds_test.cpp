// test/special_fds_test.cpp — memfd, eventfd and timerfd, checked through what the kernel reports.
#include "ospp/special_fds.hpp"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "ospp/fd_ops.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using ospp::eventfd_flags;
using ospp::memfd_flags;
using ospp::timerfd_clock;
using ospp::timerfd_flags;
using ospp::timerfd_settime_flags;
using ospp_test::cloexec;

namespace {
std::string link_of(int n) {
    char buf[512];  // "/memfd:" + a name of up to 249 bytes + " (deleted)"
    const ssize_t len = ::readlink(("/proc/self/fd/" + std::to_string(n)).c_str(), buf, sizeof buf);
    return len < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(len));
}
// Blocks until `f` is readable (the deterministic way to wait for a timer).
void wait_readable(ospp::fd_ref f) {
    ::pollfd p{f.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, -1) == 1);
}
}  // namespace

TEST_CASE("memfd_create makes a named, close-on-exec file in memory") {
    // Flags without cloexec still give a close-on-exec descriptor.
    auto m = ospp::memfd_create("ospp-test", memfd_flags::allow_sealing);
    REQUIRE(m.has_value());
    CHECK(cloexec(m->get()));
    CHECK(link_of(m->get()) == "/memfd:ospp-test (deleted)");
    REQUIRE(ospp::write_all(*m, "in memory").has_value());
    CHECK(ospp::pread(*m, 64, 0).value() == "in memory");
    // allow_sealing: seals can be added; without it the file comes sealed against sealing.
    CHECK(::fcntl(m->get(), F_ADD_SEALS, F_SEAL_GROW) == 0);
    CHECK(::fcntl(m->get(), F_GET_SEALS) == F_SEAL_GROW);
    // A seal is enforced by write and pwrite with EPERM (the offset is at the end: this would grow it).
    CHECK_ERRNO(ospp::write(*m, "more"), EPERM, "write: [Errno 1] Operation not permitted");
    CHECK_ERRNO(ospp::pwrite(*m, "more", 9), EPERM, "pwrite: [Errno 1] Operation not permitted");
    CHECK(ospp::pwrite(*m, "IN", 0).value() == 2);  // within the size: allowed
    auto plain = ospp::memfd_create("plain");
    REQUIRE(plain.has_value());
    CHECK(cloexec(plain->get()));
    CHECK(::fcntl(plain->get(), F_GET_SEALS) == F_SEAL_SEAL);

    // The name may take 249 bytes (NAME_MAX less "memfd:"), not 250.
    const std::string longest(249, 'n');
    auto named = ospp::memfd_create(longest);
    REQUIRE(named.has_value());
    CHECK(link_of(named->get()) == "/memfd:" + longest + " (deleted)");
    CHECK_ERRNO(ospp::memfd_create(longest + "n"), EINVAL, "memfd_create: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::memfd_create(std::string(300, 'n')), EINVAL, "memfd_create: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::memfd_create(std::string("a\0b", 3)), EINVAL,
                "memfd_create: [Errno 22] Invalid argument: 'a\\x00b'");
}

TEST_CASE("eventfd counts, and semaphore mode hands out ones") {
    auto e = ospp::eventfd(3, eventfd_flags::nonblock);
    REQUIRE(e.has_value());
    CHECK(cloexec(e->get()));
    CHECK(ospp::eventfd_read(*e).value() == 3);
    REQUIRE(ospp::eventfd_write(*e, 2).has_value());
    REQUIRE(ospp::eventfd_write(*e, 5).has_value());
    CHECK(ospp::eventfd_read(*e).value() == 7);
    CHECK_ERRNO(ospp::eventfd_read(*e), EAGAIN, "eventfd_read: [Errno 11] Resource temporarily unavailable");

    auto s = ospp::eventfd(2, eventfd_flags::semaphore | eventfd_flags::nonblock).value();
    CHECK(ospp::eventfd_read(s).value() == 1);
    CHECK(ospp::eventfd_read(s).value() == 1);
    CHECK_ERRNO(ospp::eventfd_read(s), EAGAIN, "eventfd_read: [Errno 11] Resource temporarily unavailable");

    CHECK_ERRNO(ospp::eventfd_write(*e, UINT64_MAX), EINVAL, "eventfd_write: [Errno 22] Invalid argument");
    // The counter holds up to 2^64-2; one more would block, so nonblock says EAGAIN and keeps it.
    REQUIRE(ospp::eventfd_write(*e, UINT64_MAX - 1).has_value());
    CHECK_ERRNO(ospp::eventfd_write(*e, 1), EAGAIN, "eventfd_write: [Errno 11] Resource temporarily unavailable");
    CHECK(ospp::eventfd_read(*e).value() == UINT64_MAX - 1);
    CHECK_ERRNO(ospp::eventfd(0, eventfd_flags{0x40000000}), EINVAL, "eventfd: [Errno 22] Invalid argument");
    // Not an eventfd: /dev/null reads 0 bytes, refused rather than misread as a counter (its
    // writes take any count, so eventfd_write cannot tell, as Python's cannot).
    auto null = ospp::open("/dev/null", ospp::open_flags::rdwr).value();
    CHECK_ERRNO(ospp::eventfd_read(null), EINVAL, "eventfd_read: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::eventfd_read(ospp::fd_ref(-1)), EBADF, "eventfd_read: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::eventfd_write(ospp::fd_ref(-1), 1), EBADF, "eventfd_write: [Errno 9] Bad file descriptor");
}

TEST_CASE("timerfd_settime and timerfd_gettime in std::chrono") {
    auto t = ospp::timerfd_create(timerfd_clock::monotonic, {.flags = timerfd_flags::nonblock});
    REQUIRE(t.has_value());
    CHECK(cloexec(t->get()));
    CHECK((::fcntl(t->get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK(ospp::timerfd_gettime(*t).value() == ospp::timerfd_time{});  // disarmed

    auto old = ospp::timerfd_settime(*t, {.initial = 1h, .interval = 2s});
    REQUIRE(old.has_value());
    CHECK(*old == ospp::timerfd_time{});
    auto now = ospp::timerfd_gettime(*t).value();
    CHECK(now.next_expiration > 59min);
    CHECK(now.next_expiration <= 1h);
    CHECK(now.interval == 2s);
    CHECK_ERRNO(ospp::read(*t, 8), EAGAIN, "read: [Errno 11] Resource temporarily unavailable");  // not expired yet

    // A 1 ns one-shot: returns the previous setting, expires once, then reads as disarmed.
    old = ospp::timerfd_settime(*t, {.initial = 1ns});
    REQUIRE(old.has_value());
    CHECK(old->interval == 2s);
    CHECK(old->next_expiration > 59min);
    wait_readable(*t);
    std::uint64_t expirations = 0;
    REQUIRE(ospp::read(*t, std::as_writable_bytes(std::span(&expirations, 1))).value() == 8);
    CHECK(expirations == 1);
    CHECK(ospp::timerfd_gettime(*t).value() == ospp::timerfd_time{});

    // abstime: an instant on the timer's own clock.
    ::timespec mono{};
    REQUIRE(::clock_gettime(CLOCK_MONOTONIC, &mono) == 0);
    const auto at = std::chrono::seconds(mono.tv_sec) + std::chrono::nanoseconds(mono.tv_nsec) + 1h;
    REQUIRE(ospp::timerfd_settime(*t, {.flags = timerfd_settime_flags::abstime, .initial = at}).has_value());
    now = ospp::timerfd_gettime(*t).value();
    CHECK(now.next_expiration > 59min);
    CHECK(now.next_expiration <= 1h);

    CHECK_ERRNO(ospp::timerfd_settime(*t, {.initial = -1ns}), EINVAL, "timerfd_settime: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::timerfd_create(timerfd_clock{99}), EINVAL, "timerfd_create: [Errno 22] Invalid argument");
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::timerfd_gettime(p.read_end), EINVAL, "timerfd_gettime: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::timerfd_settime(ospp::fd_ref(-1), {}), EBADF, "timerfd_settime: [Errno 9] Bad file descriptor");
}

TEST_CASE("timerfd_settime_ns and timerfd_gettime_ns in integer nanoseconds") {
    auto t = ospp::timerfd_create(timerfd_clock::boottime).value();
    const std::int64_t hour = 3600'000'000'000;
    auto old = ospp::timerfd_settime_ns(t, {.initial = hour, .interval = 1'500'000'000});
    REQUIRE(old.has_value());
    CHECK(*old == ospp::timerfd_time_ns{0, 0});
    auto now = ospp::timerfd_gettime_ns(t).value();
    CHECK(now.interval == 1'500'000'000);  // sub-second part kept exactly
    CHECK(now.next_expiration > hour - 60'000'000'000);
    CHECK(now.next_expiration <= hour);
    old = ospp::timerfd_settime_ns(t, {});  // all zero: disarm
    REQUIRE(old.has_value());
    CHECK(old->interval == 1'500'000'000);
    CHECK(ospp::timerfd_gettime_ns(t).value() == ospp::timerfd_time_ns{});

    CHECK_ERRNO(ospp::timerfd_settime_ns(t, {.interval = -1}), EINVAL,
                "timerfd_settime: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::timerfd_gettime_ns(ospp::fd_ref(-1)), EBADF, "timerfd_gettime: [Errno 9] Bad file descriptor");
}

TEST_CASE("timerfd alarm clocks need CAP_WAKE_ALARM") {
    if (ospp_test::is_root()) OSPP_SKIP("root has CAP_WAKE_ALARM; the EPERM path needs an ordinary user");
    CHECK_ERRNO(ospp::timerfd_create(timerfd_clock::realtime_alarm), EPERM,
                "timerfd_create: [Errno 1] Operation not permitted");
}
