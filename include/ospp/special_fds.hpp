// ospp/special_fds.hpp — descriptors that are not files: memfd, eventfd, timerfd.
//
//   Python                                             C++
//   fd = os.memfd_create("buf")                        auto m = ospp::memfd_create("buf");
//   fd = os.eventfd(0, os.EFD_NONBLOCK)                auto e = ospp::eventfd(0, eventfd_flags::nonblock);
//   os.eventfd_write(fd, 1); os.eventfd_read(fd)       ospp::eventfd_write(*e, 1); ospp::eventfd_read(*e);
//   fd = os.timerfd_create(time.CLOCK_MONOTONIC)       auto t = ospp::timerfd_create(timerfd_clock::monotonic);
//   os.timerfd_settime(fd, initial=0.5, interval=1)    ospp::timerfd_settime(*t, {.initial = 500ms, .interval = 1s});
//   os.timerfd_settime_ns(fd, initial=500_000_000)     ospp::timerfd_settime_ns(*t, {.initial = 500'000'000});
//   os.timerfd_gettime(fd)                             ospp::timerfd_gettime(*t)  // {next_expiration, interval}
//   (the timerfd functions are Python 3.13's)
//
// Every descriptor is close-on-exec, whatever flags are given (MFD_CLOEXEC, EFD_CLOEXEC,
// TFD_CLOEXEC are always added); use set_inheritable() to pass one to a child.
#pragma once

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>

#include <chrono>
#include <cstdint>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp {

// ---- memfd ------------------------------------------------------------------------------------

// memfd_create(2) flags: Python's os.MFD_*. A huge page size is log2(size) << MFD_HUGE_SHIFT (26),
// spelled out because <linux/memfd.h>, which names them, clashes with glibc's <sys/mman.h>.
enum class memfd_flags : unsigned {
    cloexec = MFD_CLOEXEC,              // always added by ospp
    allow_sealing = MFD_ALLOW_SEALING,  // fcntl(F_ADD_SEALS) may seal the file
    hugetlb = MFD_HUGETLB,              // back the file with huge pages
    huge_64kb = 16U << 26,
    huge_512kb = 19U << 26,
    huge_1mb = 20U << 26,
    huge_2mb = 21U << 26,
    huge_8mb = 23U << 26,
    huge_16mb = 24U << 26,
    huge_32mb = 25U << 26,
    huge_256mb = 28U << 26,
    huge_512mb = 29U << 26,
    huge_1gb = 30U << 26,
    huge_2gb = 31U << 26,
    huge_16gb = 34U << 26,
};
template <>
struct enable_bitmask<memfd_flags> : std::true_type {};

// Python's os.memfd_create(name, flags=MFD_CLOEXEC): an anonymous file in memory, open for
// reading and writing; `name` only labels it in /proc/self/fd ("memfd:name"). Always close-on-exec.
// Errors: EINVAL (name over 249 bytes, bad flags, embedded NUL), EMFILE, ENFILE, ENOMEM.
[[nodiscard]] result<fd> memfd_create(path_ref name, memfd_flags flags = memfd_flags::cloexec) noexcept;

// ---- eventfd ----------------------------------------------------------------------------------

// eventfd(2) flags: Python's os.EFD_*.
enum class eventfd_flags : int {
    cloexec = EFD_CLOEXEC,      // always added by ospp
    nonblock = EFD_NONBLOCK,    // reads of a zero counter fail with EAGAIN instead of blocking
    semaphore = EFD_SEMAPHORE,  // each read returns 1 and decrements the counter by 1
};
template <>
struct enable_bitmask<eventfd_flags> : std::true_type {};

// Python's os.eventfd(initval, flags=EFD_CLOEXEC): a 64-bit counter to signal events between
// threads or processes. Always close-on-exec. Errors: EINVAL, EMFILE, ENFILE, ENODEV, ENOMEM.
[[nodiscard]] result<fd> eventfd(unsigned initval, eventfd_flags flags = eventfd_flags::cloexec) noexcept;
// Python's os.eventfd_read(fd): the counter (or 1 in semaphore mode), which the read resets (or
// decrements); blocks while it is zero. Errors: EAGAIN (nonblock, counter 0), EBADF, EINVAL (a
// read of other than 8 bytes: not an eventfd; a file with 8 bytes to read is not detected).
[[nodiscard]] result<std::uint64_t> eventfd_read(fd_ref f) noexcept;
// Python's os.eventfd_write(fd, value): adds value to the counter; blocks if that would overflow.
// Errors: EAGAIN (nonblock, the counter would pass 2^64-2), EBADF, EINVAL (value 2^64-1, a
// short write). Any other descriptor that takes 8 bytes (a file, a pipe) takes the value too.
[[nodiscard]] result<void> eventfd_write(fd_ref f, std::uint64_t value) noexcept;

// ---- timerfd ----------------------------------------------------------------------------------

// The clocks a timerfd can run on: Python's time.CLOCK_* that timerfd_create accepts.
enum class timerfd_clock : ::clockid_t {
    realtime = CLOCK_REALTIME,              // wall clock, jumps with settimeofday
    monotonic = CLOCK_MONOTONIC,            // never jumps, stops during suspend
    boottime = CLOCK_BOOTTIME,              // monotonic, counts suspend too
    realtime_alarm = CLOCK_REALTIME_ALARM,  // realtime that wakes the system (CAP_WAKE_ALARM)
    boottime_alarm = CLOCK_BOOTTIME_ALARM,  // boottime that wakes the system (CAP_WAKE_ALARM)
};

// timerfd_create(2) flags: Python's os.TFD_NONBLOCK, TFD_CLOEXEC.
enum class timerfd_flags : int {
    cloexec = TFD_CLOEXEC,    // always added by ospp
    nonblock = TFD_NONBLOCK,  // reads before the first expiry fail with EAGAIN
};
template <>
struct enable_bitmask<timerfd_flags> : std::true_type {};

// timerfd_settime(2) flags: Python's os.TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET.
enum class timerfd_settime_flags : int {
    abstime = TFD_TIMER_ABSTIME,              // `initial` is a time on the timer's clock
    cancel_on_set = TFD_TIMER_CANCEL_ON_SET,  // realtime + abstime: reads fail with ECANCELED
                                              // when the clock is set
};
template <>
struct enable_bitmask<timerfd_settime_flags> : std::true_type {};

// Python's keyword arguments of os.timerfd_create.
struct timerfd_create_options {
    timerfd_flags flags{};
};
// Python's os.timerfd_create(clockid, *, flags=0): a timer that delivers expirations through
// read(2) (an 8-byte count). Always close-on-exec. Errors: EINVAL, EMFILE, ENFILE, ENODEV,
// ENOMEM, EPERM (alarm clocks without CAP_WAKE_ALARM).
[[nodiscard]] result<fd> timerfd_create(timerfd_clock clock, const timerfd_create_options& options = {}) noexcept;

// A timer's setting, as Python's (next_expiration, interval) tuple. Zero next_expiration: disarmed.
struct timerfd_time {
    std::chrono::nanoseconds next_expiration{0};  // until the next expiry (or when, with abstime)
    std::chrono::nanoseconds interval{0};         // period after that; zero for a one-shot timer
    friend bool operator==(const timerfd_time&, const timerfd_time&) = default;
};
// The same in integer nanoseconds, like Python's *_ns functions.
struct timerfd_time_ns {
    std::int64_t next_expiration = 0;
    std::int64_t interval = 0;
    friend bool operator==(const timerfd_time_ns&, const timerfd_time_ns&) = default;
};

// Python's keyword arguments of os.timerfd_settime (seconds there, std::chrono here).
struct timerfd_settime_options {
    timerfd_settime_flags flags{};
    std::chrono::nanoseconds initial{0};   // first expiry; zero disarms the timer
    std::chrono::nanoseconds interval{0};  // period; zero for one expiry
};
// Python's keyword arguments of os.timerfd_settime_ns.
struct timerfd_settime_ns_options {
    timerfd_settime_flags flags{};
    std::int64_t initial = 0;
    std::int64_t interval = 0;
};

// Python's os.timerfd_settime(fd, *, flags=0, initial=0.0, interval=0.0): arms (or, with a zero
// initial, disarms) the timer and returns its previous setting.
// Errors: EBADF, EINVAL (negative times, not a timerfd, bad flags), ECANCELED.
[[nodiscard]] result<timerfd_time> timerfd_settime(fd_ref f, const timerfd_settime_options& options) noexcept;
// Python's os.timerfd_settime_ns(fd, *, flags=0, initial=0, interval=0). Errors: as
// timerfd_settime.
[[nodiscard]] result<timerfd_time_ns> timerfd_settime_ns(fd_ref f, const timerfd_settime_ns_options& options) noexcept;
// Python's os.timerfd_gettime(fd): the current setting. Errors: EBADF, EINVAL (not a timerfd).
[[nodiscard]] result<timerfd_time> timerfd_gettime(fd_ref f) noexcept;
// Python's os.timerfd_gettime_ns(fd). Errors: as timerfd_gettime.
[[nodiscard]] result<timerfd_time_ns> timerfd_gettime_ns(fd_ref f) noexcept;

}  // namespace ospp
