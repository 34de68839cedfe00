// test/sched_test.cpp — policies, priorities and affinity, read back from the kernel.
#include "ospp/sched.hpp"

#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "child.hpp"
#include "support.hpp"

using ospp::sched_policy;

namespace {

std::string status_field(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", field.size() + 1));
    }
    return {};
}

}  // namespace

TEST_CASE("cpu_set holds any CPU number and compares by content") {
    ospp::cpu_set s{0, 3};
    CHECK(s.contains(0));
    CHECK(s.contains(3));
    CHECK_FALSE(s.contains(1));
    CHECK_FALSE(s.contains(100000));
    s.add(2000);
    CHECK(s.count() == 3);
    CHECK(s.cpus() == std::vector<std::size_t>{0, 3, 2000});
    s.remove(2000).remove(5000);
    CHECK(s == ospp::cpu_set{3, 0});
    CHECK_FALSE(s == ospp::cpu_set{0});
    CHECK(ospp::cpu_set{}.empty());
}

TEST_CASE("cpu_set refuses a CPU number beyond Python's limit instead of writing past its mask") {
    // Python: os.sched_setaffinity(0, {2**31}) -> OverflowError('CPU number too large'); a CPU
    // number of -1 converted to std::size_t used to wrap the word count to 0 and write out of bounds.
    ospp::cpu_set s{1};
    CHECK_THROWS_AS(s.add(static_cast<std::size_t>(-1)), std::length_error);
    CHECK_THROWS_AS(s.add(std::size_t{1} << 31), std::length_error);
    CHECK_THROWS_AS(s.reserve_cpus(static_cast<std::size_t>(-1)), std::length_error);
    CHECK_THROWS_AS((ospp::cpu_set{0, static_cast<std::size_t>(-1)}), std::length_error);
    CHECK(s == ospp::cpu_set{1});  // unchanged by the refused calls
    CHECK_FALSE(s.contains(static_cast<std::size_t>(-1)));
    s.remove(static_cast<std::size_t>(-1));
    CHECK(s.cpus() == std::vector<std::size_t>{1});
}

TEST_CASE("cpu_set native() is the mask the CPU_*_S macros read and write, reserve_cpus widens it") {
    ospp::cpu_set set{0, 70};
    REQUIRE(set.native_size() * 8 >= 71);
    CHECK(CPU_COUNT_S(set.native_size(), std::as_const(set).native()) == 2);
    CHECK(CPU_ISSET_S(70, set.native_size(), std::as_const(set).native()));
    CHECK_FALSE(CPU_ISSET_S(69, set.native_size(), std::as_const(set).native()));
    CPU_SET_S(5, set.native_size(), set.native());  // written through the mutable view
    CHECK(set.cpus() == std::vector<std::size_t>{0, 5, 70});

    const std::size_t before = set.native_size();
    set.reserve_cpus(4096);  // room for a kernel mask of 4096 CPUs, the CPUs unchanged
    CHECK(set.native_size() * 8 >= 4096);
    CHECK(set.native_size() > before);
    CHECK(set == ospp::cpu_set{0, 5, 70});
    CPU_SET_S(4095, set.native_size(), set.native());
    CHECK(set.contains(4095));
    set.reserve_cpus(8);  // never shrinks
    CHECK(set.contains(4095));
}

TEST_CASE("sched_getaffinity and sched_setaffinity pin a child to one CPU") {
    auto mine = ospp::sched_getaffinity(0);
    REQUIRE(mine.has_value());
    REQUIRE(mine->count() >= 1);
    CHECK(mine->count() <= static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_CONF)));
    if (mine->count() < 2) OSPP_SKIP("only one CPU is usable: nothing to move between");
    const std::size_t last = mine->cpus().back();
    const int code = ospp_test::exit_code_of([&] {
        if (!ospp::sched_setaffinity(0, ospp::cpu_set{last})) return 1;
        auto now = ospp::sched_getaffinity(0);
        if (!now || !(*now == ospp::cpu_set{last})) return 2;
        if (status_field("Cpus_allowed_list") != std::to_string(last)) return 3;
        ospp::sched_yield();
        if (::sched_getcpu() != static_cast<int>(last)) return 4;
        return 0;
    });
    CHECK(code == 0);
    CHECK_ERRNO(ospp::sched_setaffinity(0, ospp::cpu_set{}), EINVAL, "sched_setaffinity: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::sched_getaffinity(999999999), ESRCH, "sched_getaffinity: [Errno 3] No such process");
}

TEST_CASE("priority ranges per policy") {
    CHECK(ospp::sched_get_priority_min(sched_policy::fifo).value() == 1);
    CHECK(ospp::sched_get_priority_max(sched_policy::fifo).value() == 99);
    CHECK(ospp::sched_get_priority_min(sched_policy::other).value() == 0);
    CHECK(ospp::sched_get_priority_max(sched_policy::batch).value() == 0);
    CHECK_ERRNO(ospp::sched_get_priority_max(sched_policy{12345}), EINVAL,
                "sched_get_priority_max: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::sched_get_priority_min(sched_policy{12345}), EINVAL,
                "sched_get_priority_min: [Errno 22] Invalid argument");
}

TEST_CASE("sched_setscheduler and sched_setparam change a child's policy") {
    const bool root = ospp_test::is_root();
    const int code = ospp_test::exit_code_of([root] {
        if (ospp::sched_getscheduler(0).value_or(sched_policy{-1}) != sched_policy::other) return 1;
        if (!ospp::sched_setscheduler(0, sched_policy::batch | sched_policy::reset_on_fork, {0})) return 2;
        if (ospp::sched_getscheduler(0).value_or(sched_policy{-1}) != (sched_policy::batch | sched_policy::reset_on_fork))
            return 3;
        if (!ospp::sched_setparam(0, {0})) return 4;
        if (ospp::sched_getparam(0).value_or(ospp::sched_param{-1}).sched_priority != 0) return 5;
        auto bad = ospp::sched_setparam(0, {5});  // batch has only priority 0
        if (bad || bad.error().code() != EINVAL) return 6;
        auto rt = ospp::sched_setscheduler(0, sched_policy::rr, {10});
        if (!root) return rt || rt.error().code() != EPERM ? 7 : 0;
        if (!rt) return rt.error().code() == EPERM ? 77 : 8;  // root without CAP_SYS_NICE (container)
        if (ospp::sched_getparam(0).value_or(ospp::sched_param{-1}).sched_priority != 10) return 9;
        auto slice = ospp::sched_rr_get_interval(0);
        if (!slice || slice->count() <= 0) return 10;
        return 0;
    });
    if (code == 77) OSPP_SKIP("real-time policies are not permitted here, even as root");
    CHECK(code == 0);
    CHECK_ERRNO(ospp::sched_getparam(999999999), ESRCH, "sched_getparam: [Errno 3] No such process");
    CHECK_ERRNO(ospp::sched_getscheduler(999999999), ESRCH, "sched_getscheduler: [Errno 3] No such process");
    CHECK_ERRNO(ospp::sched_rr_get_interval(999999999), ESRCH, "sched_rr_get_interval: [Errno 3] No such process");
    CHECK_ERRNO(ospp::sched_setparam(999999999, {0}), ESRCH, "sched_setparam: [Errno 3] No such process");
    CHECK_ERRNO(ospp::sched_setscheduler(999999999, sched_policy::other, {0}), ESRCH,
                "sched_setscheduler: [Errno 3] No such process");
}
