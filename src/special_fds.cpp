// src/special_fds.cpp — memfd, eventfd, timerfd.
#include "ospp/special_fds.hpp"

#include <unistd.h>

#include "sys.hpp"

namespace ospp {

namespace {

// An fd-creating call's raw result as an owned fd, or its errno.
result<fd> owned(const char* name, int raw) noexcept {
    if (raw < 0) return sys::fail(name);
    return fd(raw);
}

constexpr std::int64_t ns_per_s = 1'000'000'000;

// Floor division keeps tv_nsec in [0, 1e9) for negative values too, so that the kernel, not a
// wrapped-around number, decides: a negative time is its EINVAL.
::timespec to_timespec(std::int64_t ns) noexcept {
    std::int64_t s = ns / ns_per_s;
    std::int64_t rest = ns % ns_per_s;
    if (rest < 0) {
        rest += ns_per_s;
        --s;
    }
    return ::timespec{static_cast<::time_t>(s), static_cast<long>(rest)};
}
std::int64_t to_ns(const ::timespec& t) noexcept {
    return static_cast<std::int64_t>(t.tv_sec) * ns_per_s + t.tv_nsec;
}

// timerfd_settime(2) in nanoseconds: the shared body of timerfd_settime and timerfd_settime_ns.
result<timerfd_time_ns> settime(fd_ref f, timerfd_settime_flags flags, std::int64_t initial,
                                std::int64_t interval) noexcept {
    const ::itimerspec now{to_timespec(interval), to_timespec(initial)};
    ::itimerspec old{};
    if (::timerfd_settime(f.get(), to_raw(flags), &now, &old) < 0) return sys::fail("timerfd_settime");
    return timerfd_time_ns{to_ns(old.it_value), to_ns(old.it_interval)};
}

timerfd_time to_chrono(const timerfd_time_ns& t) noexcept {
    return {std::chrono::nanoseconds(t.next_expiration), std::chrono::nanoseconds(t.interval)};
}

}  // namespace

result<fd> memfd_create(path_ref name, memfd_flags flags) noexcept {
    if (!name.valid()) return sys::bad_path("memfd_create", name);
    return owned("memfd_create", ::memfd_create(name.c_str(), to_raw(flags | memfd_flags::cloexec)));
}

result<fd> eventfd(unsigned initval, eventfd_flags flags) noexcept {
    return owned("eventfd", ::eventfd(initval, to_raw(flags | eventfd_flags::cloexec)));
}

// Plain read/write of the 8-byte counter rather than glibc's eventfd_read/eventfd_write, which
// return -1 with a stale errno when a descriptor that is not an eventfd gives a short count.
// An eventfd always moves exactly 8 bytes, so any other count is EINVAL ("not an eventfd").
result<std::uint64_t> eventfd_read(fd_ref f) noexcept {
    std::uint64_t value = 0;
    const ssize_t n = sys::retry([&] { return ::read(f.get(), &value, sizeof value); });
    if (n < 0) return sys::fail("eventfd_read");
    if (n != sizeof value) return sys::fail_with(EINVAL, "eventfd_read");
    return value;
}

result<void> eventfd_write(fd_ref f, std::uint64_t value) noexcept {
    const ssize_t n = sys::retry([&] { return ::write(f.get(), &value, sizeof value); });
    if (n < 0) return sys::fail("eventfd_write");
    if (n != sizeof value) return sys::fail_with(EINVAL, "eventfd_write");
    return {};
}

result<fd> timerfd_create(timerfd_clock clock, const timerfd_create_options& options) noexcept {
    return owned("timerfd_create",
                 ::timerfd_create(to_raw(clock), to_raw(options.flags | timerfd_flags::cloexec)));
}

result<timerfd_time> timerfd_settime(fd_ref f, const timerfd_settime_options& options) noexcept {
    return settime(f, options.flags, options.initial.count(), options.interval.count()).map(to_chrono);
}

result<timerfd_time_ns> timerfd_settime_ns(fd_ref f, const timerfd_settime_ns_options& options) noexcept {
    return settime(f, options.flags, options.initial, options.interval);
}

result<timerfd_time_ns> timerfd_gettime_ns(fd_ref f) noexcept {
    ::itimerspec cur{};
    if (::timerfd_gettime(f.get(), &cur) < 0) return sys::fail("timerfd_gettime");
    return timerfd_time_ns{to_ns(cur.it_value), to_ns(cur.it_interval)};
}

result<timerfd_time> timerfd_gettime(fd_ref f) noexcept { return timerfd_gettime_ns(f).map(to_chrono); }

}  // namespace ospp
