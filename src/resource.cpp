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

namespace {

void fill(rusage& r, const struct ::rusage& c) noexcept {
    r.ru_utime = duration(c.ru_utime);
    r.ru_stime = duration(c.ru_stime);
    r.ru_maxrss = c.ru_maxrss;
    r.ru_ixrss = c.ru_ixrss;
    r.ru_idrss = c.ru_idrss;
    r.ru_isrss = c.ru_isrss;
    r.ru_minflt = c.ru_minflt;
    r.ru_majflt = c.ru_majflt;
    r.ru_nswap = c.ru_nswap;
    r.ru_inblock = c.ru_inblock;
    r.ru_oublock = c.ru_oublock;
    r.ru_msgsnd = c.ru_msgsnd;
    r.ru_msgrcv = c.ru_msgrcv;
    r.ru_nsignals = c.ru_nsignals;
    r.ru_nvcsw = c.ru_nvcsw;
    r.ru_nivcsw = c.ru_nivcsw;
}

}  // namespace

rusage rusage::from_native(const struct ::rusage& c) noexcept {
    rusage r;
    fill(r, c);
    return r;
}

result<rusage> getrusage(rusage_who who) noexcept {
    // Not zeroed: on success the kernel writes the whole struct. The result is filled in place,
    // through a local function rather than the exported from_native (a PLT call from inside the
    // library): getrusage cost 1.09x the raw call before, measured by bench/process_bench.cpp.
    struct ::rusage c;
    result<rusage> r;
    if (::getrusage(static_cast<int>(who), &c) < 0) return sys::fail("getrusage");
    fill(*r, c);
    return r;
}

std::size_t getpagesize() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace ospp::resource
