// ospp/sched.hpp — the scheduler: policies, priorities, yielding, CPU affinity.
//
//   Python                                        C++
//   os.sched_getaffinity(0)                       ospp::sched_getaffinity(0)->cpus()   // {0, 1}
//   os.sched_setaffinity(0, {1})                  ospp::sched_setaffinity(0, ospp::cpu_set{1})
//   os.sched_setscheduler(0, os.SCHED_BATCH,      ospp::sched_setscheduler(0, ospp::sched_policy::batch,
//                         os.sched_param(0))                               ospp::sched_param{0})
//   os.sched_getscheduler(0) == os.SCHED_OTHER    ospp::sched_getscheduler(0) == ospp::sched_policy::other
//   os.sched_get_priority_max(os.SCHED_FIFO)      ospp::sched_get_priority_max(ospp::sched_policy::fifo)
//   os.sched_rr_get_interval(0)                   ospp::sched_rr_get_interval(0)   // std::chrono::nanoseconds
//   os.sched_yield()                              ospp::sched_yield()
//
// pid 0 always means the calling thread (the kernel works per thread; Python documents "process").
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"

namespace ospp {

// Scheduling policies: Python's os.SCHED_*. reset_on_fork is a flag to or with a policy
// (children start with SCHED_OTHER); sched_getscheduler reports it too.
enum class sched_policy : int {
    other = SCHED_OTHER,
    batch = SCHED_BATCH,
    idle = SCHED_IDLE,
    fifo = SCHED_FIFO,
    rr = SCHED_RR,
    reset_on_fork = SCHED_RESET_ON_FORK,
};
template <>
struct enable_bitmask<sched_policy> : std::true_type {};

// Python's os.sched_param(sched_priority): 0 for other/batch/idle, 1..99 for fifo/rr.
struct sched_param {
    int sched_priority = 0;
};

// A set of CPUs (any number of them, unlike the fixed 1024-bit cpu_set_t).
class cpu_set {
public:
    cpu_set() = default;
    // Throws std::length_error for a CPU number above INT_MAX - 1 (Python's OverflowError "CPU
    // number too large"; a negative int converted to std::size_t lands there), std::bad_alloc when
    // the mask cannot be allocated. The set is unchanged when add throws.
    cpu_set(std::initializer_list<std::size_t> cpus);
    cpu_set& add(std::size_t cpu);
    cpu_set& remove(std::size_t cpu) noexcept;
    [[nodiscard]] bool contains(std::size_t cpu) const noexcept;
    // The number of CPUs in the set (Python's len()).
    [[nodiscard]] std::size_t count() const noexcept;
    [[nodiscard]] bool empty() const noexcept { return count() == 0; }
    // The CPU numbers, ascending (Python's set, sorted).
    [[nodiscard]] std::vector<std::size_t> cpus() const;

    // For sched_setaffinity(2) and friends: the mask and its size in bytes.
    [[nodiscard]] const ::cpu_set_t* native() const noexcept;
    [[nodiscard]] ::cpu_set_t* native() noexcept;
    [[nodiscard]] std::size_t native_size() const noexcept { return bits_.size() * sizeof(unsigned long); }
    // Makes room for `cpus` CPUs (for reading a mask from the kernel); std::length_error above INT_MAX.
    void reserve_cpus(std::size_t cpus);

    friend bool operator==(const cpu_set& a, const cpu_set& b) noexcept;

private:
    static constexpr std::size_t word_bits = sizeof(unsigned long) * 8;
    std::vector<unsigned long> bits_;
};

// Python's os.sched_get_priority_min(policy) / sched_get_priority_max(policy). Errors: EINVAL.
[[nodiscard]] result<int> sched_get_priority_min(sched_policy policy) noexcept;
[[nodiscard]] result<int> sched_get_priority_max(sched_policy policy) noexcept;
// Python's os.sched_setscheduler(pid, policy, param). Errors: EPERM (real-time policies need
// CAP_SYS_NICE or RLIMIT_RTPRIO), EINVAL (priority out of range for the policy), ESRCH.
[[nodiscard]] result<void> sched_setscheduler(::pid_t pid, sched_policy policy, sched_param param) noexcept;
// Python's os.sched_getscheduler(pid). Errors: ESRCH, EINVAL.
[[nodiscard]] result<sched_policy> sched_getscheduler(::pid_t pid) noexcept;
// Python's os.sched_setparam(pid, param). Errors: EPERM, EINVAL, ESRCH.
[[nodiscard]] result<void> sched_setparam(::pid_t pid, sched_param param) noexcept;
// Python's os.sched_getparam(pid). Errors: ESRCH, EINVAL.
[[nodiscard]] result<sched_param> sched_getparam(::pid_t pid) noexcept;
// Python's os.sched_rr_get_interval(pid): the SCHED_RR time slice. Errors: ESRCH, EINVAL.
[[nodiscard]] result<std::chrono::nanoseconds> sched_rr_get_interval(::pid_t pid) noexcept;
// Python's os.sched_yield() (the C function; it cannot fail on Linux).
using ::sched_yield;
// Python's os.sched_setaffinity(pid, mask). Errors: EINVAL (no CPU of the set is usable), ESRCH, EPERM.
[[nodiscard]] result<void> sched_setaffinity(::pid_t pid, const cpu_set& cpus) noexcept;
// Python's os.sched_getaffinity(pid): the mask grows until the kernel's CPU count fits.
// Errors: ESRCH, EPERM.
[[nodiscard]] result<cpu_set> sched_getaffinity(::pid_t pid);

}  // namespace ospp
