// test/sysinfo_test.cpp — uname, sysconf/confstr and their name tables (checked against Python's),
// CPU counts, load average.
#include "ospp/sysinfo.hpp"

#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

#include "child.hpp"
#include "support.hpp"

using ospp::confstr_name;
using ospp::sysconf_name;

namespace {

std::string first_line(const char* path) {
    std::string line;
    std::getline(std::ifstream(path), line);
    return line;
}

template <class Table>
std::string dump(Table table) {
    std::string out;
    for (const auto& e : table) out += std::string(e.name) + " " + std::to_string(ospp::to_raw(e.value)) + "\n";
    return out;
}

}  // namespace

TEST_CASE("uname reads the kernel's names") {
    auto u = ospp::uname();
    REQUIRE(u.has_value());
    CHECK(u->sysname == first_line("/proc/sys/kernel/ostype"));
    CHECK(u->release == first_line("/proc/sys/kernel/osrelease"));
    CHECK(u->nodename == first_line("/proc/sys/kernel/hostname"));
    CHECK(u->version == first_line("/proc/sys/kernel/version"));
    CHECK_FALSE(u->machine.empty());
    // no error test for ospp::uname: uname(2) fails only with EFAULT
}

TEST_CASE("sysconf by typed name and by Python's string name") {
    CHECK(ospp::sysconf(sysconf_name::pagesize).value() == ::getpagesize());
    CHECK(ospp::sysconf("SC_PAGE_SIZE").value() == ::getpagesize());
    CHECK(ospp::sysconf(sysconf_name::clk_tck).value() == ::sysconf(_SC_CLK_TCK));
    CHECK(ospp::sysconf(sysconf_name::open_max).value() == ::sysconf(_SC_OPEN_MAX));
    CHECK_ERRNO(ospp::sysconf("SC_NO_SUCH_NAME"), EINVAL, "sysconf: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::sysconf(sysconf_name{-5}), EINVAL, "sysconf: [Errno 22] Invalid argument");
}

TEST_CASE("confstr returns strings, nullopt for none, and EINVAL for unknown names") {
    CHECK(ospp::confstr(confstr_name::path).value() == "/bin:/usr/bin");
    auto libc = ospp::confstr("CS_GNU_LIBC_VERSION");
    REQUIRE(libc.has_value());
    REQUIRE(libc->has_value());
    CHECK((*libc)->rfind("glibc ", 0) == 0);
    CHECK_ERRNO(ospp::confstr("CS_NOPE"), EINVAL, "confstr: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::confstr(confstr_name{-5}), EINVAL, "confstr: [Errno 22] Invalid argument");
}

TEST_CASE("sysconf_names and confstr_names are Python's tables") {
    CHECK(ospp::sysconf_names().size() >= 100);
    CHECK(std::is_sorted(ospp::sysconf_names().begin(), ospp::sysconf_names().end(),
                         [](const auto& a, const auto& b) { return a.name < b.name; }));
    const auto py_sc = ospp_test::command_output(
        "python3 -c 'import os; [print(k, v) for k, v in sorted(os.sysconf_names.items())]' 2>/dev/null");
    const auto py_cs = ospp_test::command_output(
        "python3 -c 'import os; [print(k, v) for k, v in sorted(os.confstr_names.items())]' 2>/dev/null");
    if (!py_sc || !py_cs) OSPP_SKIP("python3 is not available to compare the tables with");
    CHECK(dump(ospp::sysconf_names()) == *py_sc);
    CHECK(dump(ospp::confstr_names()) == *py_cs);
}

TEST_CASE("cpu_count and process_cpu_count") {
    const auto all = ospp::cpu_count();
    REQUIRE(all.has_value());
    CHECK(*all == ::sysconf(_SC_NPROCESSORS_ONLN));
    const auto usable = ospp::process_cpu_count();
    REQUIRE(usable.has_value());
    CHECK(*usable >= 1);
    CHECK(*usable <= *all);
    const int code = ospp_test::exit_code_of([] {
        ::cpu_set_t one;
        CPU_ZERO(&one);
        ::cpu_set_t mine;
        if (::sched_getaffinity(0, sizeof mine, &mine) != 0) return 1;
        for (int i = 0; i < CPU_SETSIZE; ++i) {
            if (CPU_ISSET(i, &mine)) {
                CPU_SET(i, &one);
                break;
            }
        }
        if (::sched_setaffinity(0, sizeof one, &one) != 0) return 2;
        return ospp::process_cpu_count() == 1 ? 0 : 3;
    });
    CHECK(code == 0);
}

TEST_CASE("getloadavg gives three non-negative averages") {
    auto l = ospp::getloadavg();
    REQUIRE(l.has_value());
    for (double v : {l->one, l->five, l->fifteen}) {
        CHECK(std::isfinite(v));
        CHECK(v >= 0.0);
    }
    // no error test for ospp::getloadavg: glibc reads sysinfo(2), which fails only with EFAULT
}
