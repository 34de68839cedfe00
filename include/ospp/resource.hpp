// ospp/resource.hpp — Python's `resource` module: resource limits and resource usage.
//
//   Python (from resource import *)                  C++  (namespace ospp::resource, `rr` = rlimit_resource)
//   soft, hard = getrlimit(RLIMIT_NOFILE)            auto [soft, hard] = getrlimit(rr::nofile).value();
//   setrlimit(RLIMIT_CORE,                           setrlimit(rr::core,
//             (0, getrlimit(RLIMIT_CORE)[1]))                {limit{0}, getrlimit(rr::core)->hard});  // keep hard
//   setrlimit(RLIMIT_AS,                             setrlimit(rr::as, {limit::infinity(), limit::infinity()});
//             (RLIM_INFINITY, RLIM_INFINITY))
//   old = prlimit(pid, RLIMIT_NOFILE, (64, 64))      auto old = prlimit(pid, rr::nofile, {limit{64}, limit{64}}).value();
//   r = getrusage(RUSAGE_CHILDREN); r.ru_utime       getrusage(rusage_who::children)->ru_utime  // std::chrono::microseconds
//   getpagesize()                                    ospp::resource::getpagesize()   // qualified: see below
//
// "No limit" is limit::infinity(), a value of its own: there is no RLIM_INFINITY number to mix up
// with a count, limit{n} is always finite, and infinity compares above every finite limit.
//
// Errors are the kernel's errno. Where Python raises ValueError, ospp returns:
//   soft above hard                      EINVAL  (Python: "current limit exceeds maximum limit")
//   raising hard without privilege       EPERM   (Python: "not allowed to raise maximum limit";
//                                                 CAP_SYS_RESOURCE is the privilege, not uid 0)
//   an unknown resource / who            EINVAL  (Python: "invalid resource specified" / "invalid who parameter")
//
// `rlimit` and `rusage` are also the names of the C structs in the global namespace, and
// `getpagesize` of <unistd.h>'s function: after `using namespace ospp::resource;` each is ambiguous
// ("reference to 'rlimit' is ambiguous", "call of overloaded 'getpagesize()' is ambiguous"). Write
// them qualified, `ospp::resource::rlimit` or through a namespace alias (`res::getpagesize()`).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "ospp/error.hpp"

namespace ospp::resource {

// The resource a limit applies to: Python's resource.RLIMIT_*, for every limit Linux has.
enum class rlimit_resource : int {
    core = RLIMIT_CORE,              // largest core file, bytes (0: no core dumps)
    cpu = RLIMIT_CPU,                // CPU time, seconds; SIGXCPU at the soft limit, SIGKILL at the hard one
    fsize = RLIMIT_FSIZE,            // largest file the process may write, bytes (SIGXFSZ / EFBIG)
    data = RLIMIT_DATA,              // data segment + heap (+ private mappings since Linux 4.7), bytes
    stack = RLIMIT_STACK,            // main thread's stack, bytes
    rss = RLIMIT_RSS,                // resident set size; ignored by Linux since 2.6
    nproc = RLIMIT_NPROC,            // processes (threads) of the real user id
    nofile = RLIMIT_NOFILE,          // one more than the highest fd the process may open (EMFILE)
    ofile = RLIMIT_OFILE,            // BSD's name for nofile: the same enumerator value
    memlock = RLIMIT_MEMLOCK,        // bytes of memory that may be locked (mlock, SHM_LOCK)
    as = RLIMIT_AS,                  // virtual address space, bytes (ENOMEM from mmap/brk)
    msgqueue = RLIMIT_MSGQUEUE,      // bytes of POSIX message queues of the real user id
    nice = RLIMIT_NICE,              // ceiling of the nice value, as 20 - limit
    rtprio = RLIMIT_RTPRIO,          // ceiling of the real-time priority
    rttime = RLIMIT_RTTIME,          // real-time CPU time without a blocking call, microseconds
    sigpending = RLIMIT_SIGPENDING,  // queued signals of the real user id
};

// The raw RLIMIT_* number, for the system call.
constexpr int to_raw(rlimit_resource r) noexcept { return static_cast<int>(r); }

// One resource limit value: a finite count or infinity (Python's RLIM_INFINITY).
// Ordered: infinity is above every finite limit, so `soft <= hard` means what it says.
class limit {
public:
    // A finite limit of n (bytes, seconds, fds... as the resource counts). n cannot become infinity:
    // the one count the kernel reserves for it, 2^64-1, is taken as the largest finite limit, 2^64-2.
    constexpr explicit limit(std::uint64_t n) noexcept : raw_(n < RLIM_INFINITY ? n : RLIM_INFINITY - 1) {}
    // No limit: Python's resource.RLIM_INFINITY.
    static constexpr limit infinity() noexcept { return from_raw(RLIM_INFINITY); }
    // A value as the kernel gives it (rlim_t; RLIM_INFINITY means infinity).
    static constexpr limit from_raw(::rlim_t raw) noexcept {
        limit l(0);
        l.raw_ = raw;
        return l;
    }

    [[nodiscard]] constexpr bool is_infinite() const noexcept { return raw_ == RLIM_INFINITY; }
    [[nodiscard]] constexpr bool is_finite() const noexcept { return !is_infinite(); }
    // The finite count. For infinity it is the largest uint64, so comparing a count with value()
    // still gives the right answer; test is_infinite() when the distinction matters.
    [[nodiscard]] constexpr std::uint64_t value() const noexcept {
        return is_infinite() ? std::numeric_limits<std::uint64_t>::max() : raw_;
    }
    // The kernel's rlim_t (RLIM_INFINITY for infinity).
    [[nodiscard]] constexpr ::rlim_t raw() const noexcept { return raw_; }

    friend constexpr bool operator==(limit, limit) noexcept = default;
    friend constexpr auto operator<=>(limit, limit) noexcept = default;

private:
    ::rlim_t raw_;
};

// Python's (soft, hard) tuple. The soft limit is what the kernel enforces; the hard limit is the
// ceiling for the soft one, and only CAP_SYS_RESOURCE may raise it.
struct rlimit {
    limit soft;
    limit hard;
    friend constexpr bool operator==(const rlimit&, const rlimit&) noexcept = default;
};

// Python's resource.getrlimit(resource). Errors: EINVAL for an unknown resource.
[[nodiscard]] result<rlimit> getrlimit(rlimit_resource resource) noexcept;

// Python's resource.setrlimit(resource, (soft, hard)).
// Errors: EINVAL when soft is above hard (or for an unknown resource), EPERM when hard is raised
// without CAP_SYS_RESOURCE, and for nofile above /proc/sys/fs/nr_open even with it.
[[nodiscard]] result<void> setrlimit(rlimit_resource resource, const rlimit& limits) noexcept;

// Python's resource.prlimit(pid, resource): the limits of process `pid` (0: this process).
// Errors: ESRCH (no such process), EPERM (another user's process without CAP_SYS_RESOURCE), EINVAL.
// The kernel looks the process up first: a missing pid is ESRCH even with an unknown resource,
// which Python's prlimit refuses (ValueError) before the call.
[[nodiscard]] result<rlimit> prlimit(::pid_t pid, rlimit_resource resource) noexcept;
// Python's resource.prlimit(pid, resource, limits): sets them and returns the previous limits.
// Errors: as prlimit above, plus setrlimit's EINVAL (soft above hard) and EPERM (raising hard).
[[nodiscard]] result<rlimit> prlimit(::pid_t pid, rlimit_resource resource, const rlimit& new_limits) noexcept;

// Whose usage getrusage reports: Python's resource.RUSAGE_*. (RUSAGE_BOTH does not exist on Linux.)
enum class rusage_who : int {
    self = RUSAGE_SELF,          // every thread of this process
    children = RUSAGE_CHILDREN,  // terminated children (and their descendants) that were waited for
    thread = RUSAGE_THREAD,      // the calling thread only
};

// Python's struct_rusage, field for field. The times are durations (microsecond resolution, as the
// kernel keeps them); the rest are counts. Fields Linux does not maintain stay 0 (ixrss, idrss,
// isrss, nswap, msgsnd, msgrcv, nsignals).
struct rusage {
    std::chrono::microseconds ru_utime{};  // time spent in user mode
    std::chrono::microseconds ru_stime{};  // time spent in the kernel
    long ru_maxrss = 0;                    // peak resident set size, KiB (Linux)
    long ru_ixrss = 0;                     // shared memory size
    long ru_idrss = 0;                     // unshared data size
    long ru_isrss = 0;                     // unshared stack size
    long ru_minflt = 0;                    // page faults served without I/O
    long ru_majflt = 0;                    // page faults that needed I/O
    long ru_nswap = 0;                     // swaps out
    long ru_inblock = 0;                   // block input operations
    long ru_oublock = 0;                   // block output operations
    long ru_msgsnd = 0;                    // messages sent
    long ru_msgrcv = 0;                    // messages received
    long ru_nsignals = 0;                  // signals received
    long ru_nvcsw = 0;                     // voluntary context switches
    long ru_nivcsw = 0;                    // involuntary context switches

    // From the C struct (for wait3/wait4, which fill one).
    static rusage from_native(const struct ::rusage& c) noexcept;
};

// Python's resource.getrusage(who). Errors: EINVAL for an unknown `who`.
[[nodiscard]] result<rusage> getrusage(rusage_who who) noexcept;

// Python's resource.getpagesize(): bytes per page (sysconf(_SC_PAGESIZE)). Cannot fail.
std::size_t getpagesize() noexcept;

}  // namespace ospp::resource
