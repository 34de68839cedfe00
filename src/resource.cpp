// src/resource.cpp — Python's `resource` module.
#include "ospp/resource.hpp"

#include <unistd.h>

#include "sys.hpp"

namespace ospp::resource {

namespace {

rlimit from_c(const struct ::rlimit& c) noexcept {
    return {limit::from_raw(c.rlim_cur), limit::from_raw(c.rlim_max)};
}

struct ::rlimit to_c(const rlimit& l) noexcept { return {l.soft.raw(), l.hard.raw()}; }

// glibc declares getrlimit with an int in C++ but prlimit with its enum.
auto c_resource(rlimit_resource r) noexcept { return static_cast<enum ::__rlimit_resource>(to_raw(r)); }

std::chrono::microseconds duration(const ::timeval& tv) noexcept {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

}  // namespace

result<rlimit> getrlimit(rlimit_resource resource) noexcept {
    struct ::rlimit c {};
    if (::getrlimit(to_raw(resource), &c) < 0) return sys::fail("getrlimit");
    return from_c(c);
}

result<void> setrlimit(rlimit_resource resource, const rlimit& limits) noexcept {
    const struct ::rlimit c = to_c(limits);
    if (::setrlimit(to_raw(resource), &c) < 0) return sys::fail("setrlimit");
    return {};
}

result<rlimit> prlimit(::pid_t pid, rlimit_resource resource) noexcept {
    struct ::rlimit old {};
    if (::prlimit(pid, c_resource(resource), nullptr, &old) < 0) return sys::fail("prlimit");
    return from_c(old);
}

result<rlimit> prlimit(::pid_t pid, rlimit_resource resource, const rlimit& new_limits) noexcept {
    const struct ::rlimit c = to_c(new_limits);
    struct ::rlimit old {};
    if (::prlimit(pid, c_resource(resource), &c, &old) < 0) return sys::fail("prlimit");
    return from_c(old);
}

rusage rusage::from_native(const struct ::rusage& c) noexcept {
    return rusage{
        .ru_utime = duration(c.ru_utime),
        .ru_stime = duration(c.ru_stime),
        .ru_maxrss = c.ru_maxrss,
        .ru_ixrss = c.ru_ixrss,
        .ru_idrss = c.ru_idrss,
        .ru_isrss = c.ru_isrss,
        .ru_minflt = c.ru_minflt,
        .ru_majflt = c.ru_majflt,
        .ru_nswap = c.ru_nswap,
        .ru_inblock = c.ru_inblock,
        .ru_oublock = c.ru_oublock,
        .ru_msgsnd = c.ru_msgsnd,
        .ru_msgrcv = c.ru_msgrcv,
        .ru_nsignals = c.ru_nsignals,
        .ru_nvcsw = c.ru_nvcsw,
        .ru_nivcsw = c.ru_nivcsw,
    };
}

result<rusage> getrusage(rusage_who who) noexcept {
    struct ::rusage c {};
    if (::getrusage(static_cast<int>(who), &c) < 0) return sys::fail("getrusage");
    return rusage::from_native(c);
}

std::size_t getpagesize() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace ospp::resource
