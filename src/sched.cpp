// src/sched.cpp — scheduler policies and CPU affinity.
#include "ospp/sched.hpp"

#include <bit>
#include <climits>
#include <stdexcept>

#include "sys.hpp"

namespace ospp {

namespace {

// Python's bound: CPU numbers 0 .. INT_MAX - 1 (os.sched_setaffinity: "CPU number too large").
// Checked before any arithmetic, so `cpu + 1` and the rounding up to words cannot wrap to a small
// mask that is then written past its end.
constexpr std::size_t max_cpus = INT_MAX;

}  // namespace

cpu_set::cpu_set(std::initializer_list<std::size_t> cpus) {
    for (std::size_t c : cpus) add(c);
}

cpu_set& cpu_set::add(std::size_t cpu) {
    if (cpu >= max_cpus) throw std::length_error("cpu_set: CPU number too large");
    reserve_cpus(cpu + 1);
    bits_[cpu / word_bits] |= 1UL << (cpu % word_bits);
    return *this;
}

cpu_set& cpu_set::remove(std::size_t cpu) noexcept {
    if (cpu / word_bits < bits_.size()) bits_[cpu / word_bits] &= ~(1UL << (cpu % word_bits));
    return *this;
}

bool cpu_set::contains(std::size_t cpu) const noexcept {
    return cpu / word_bits < bits_.size() && (bits_[cpu / word_bits] >> (cpu % word_bits) & 1UL) != 0;
}

std::size_t cpu_set::count() const noexcept {
    std::size_t n = 0;
    for (unsigned long w : bits_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
}

std::vector<std::size_t> cpu_set::cpus() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < bits_.size() * word_bits; ++i)
        if (contains(i)) out.push_back(i);
    return out;
}

const ::cpu_set_t* cpu_set::native() const noexcept { return reinterpret_cast<const ::cpu_set_t*>(bits_.data()); }
::cpu_set_t* cpu_set::native() noexcept { return reinterpret_cast<::cpu_set_t*>(bits_.data()); }

void cpu_set::reserve_cpus(std::size_t cpus) {
    if (cpus > max_cpus) throw std::length_error("cpu_set: CPU number too large");
    const std::size_t words = (cpus + word_bits - 1) / word_bits;
    if (words > bits_.size()) bits_.resize(words, 0);
}

bool operator==(const cpu_set& a, const cpu_set& b) noexcept {
    const std::size_t n = std::max(a.bits_.size(), b.bits_.size());
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned long x = i < a.bits_.size() ? a.bits_[i] : 0;
        const unsigned long y = i < b.bits_.size() ? b.bits_[i] : 0;
        if (x != y) return false;
    }
    return true;
}

result<int> sched_get_priority_min(sched_policy policy) noexcept {
    const int r = ::sched_get_priority_min(to_raw(policy));
    if (r < 0) return sys::fail("sched_get_priority_min");
    return r;
}

result<int> sched_get_priority_max(sched_policy policy) noexcept {
    const int r = ::sched_get_priority_max(to_raw(policy));
    if (r < 0) return sys::fail("sched_get_priority_max");
    return r;
}

result<void> sched_setscheduler(::pid_t pid, sched_policy policy, sched_param param) noexcept {
    const ::sched_param raw{param.sched_priority};
    if (::sched_setscheduler(pid, to_raw(policy), &raw) < 0) return sys::fail("sched_setscheduler");
    return {};
}

result<sched_policy> sched_getscheduler(::pid_t pid) noexcept {
    const int r = ::sched_getscheduler(pid);
    if (r < 0) return sys::fail("sched_getscheduler");
    return sched_policy{r};
}

result<void> sched_setparam(::pid_t pid, sched_param param) noexcept {
    const ::sched_param raw{param.sched_priority};
    if (::sched_setparam(pid, &raw) < 0) return sys::fail("sched_setparam");
    return {};
}

result<sched_param> sched_getparam(::pid_t pid) noexcept {
    ::sched_param raw{};
    if (::sched_getparam(pid, &raw) < 0) return sys::fail("sched_getparam");
    return sched_param{raw.sched_priority};
}

result<std::chrono::nanoseconds> sched_rr_get_interval(::pid_t pid) noexcept {
    ::timespec ts{};
    if (::sched_rr_get_interval(pid, &ts) < 0) return sys::fail("sched_rr_get_interval");
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

result<void> sched_setaffinity(::pid_t pid, const cpu_set& cpus) noexcept {
    if (::sched_setaffinity(pid, cpus.native_size(), cpus.native()) < 0) return sys::fail("sched_setaffinity");
    return {};
}

result<cpu_set> sched_getaffinity(::pid_t pid) {
    cpu_set out;
    for (std::size_t n = 1024;; n *= 2) {
        out.reserve_cpus(n);
        if (::sched_getaffinity(pid, out.native_size(), out.native()) == 0) return out;
        // EINVAL: the mask is smaller than the kernel's; grow (up to 4M CPUs, far beyond any kernel).
        if (errno != EINVAL || n > (1U << 22)) return sys::fail("sched_getaffinity");
    }
}

}  // namespace ospp
