// test/resource_test.cpp — resource limits set and read back in forked children, resource usage.
#include "ospp/resource.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "ospp/fd_ops.hpp"
#include "child.hpp"
#include "support.hpp"

namespace res = ospp::resource;  // res::rlimit, res::rusage: the C structs own the global names
using res::limit;
using rr = res::rlimit_resource;
using ospp_test::in_child;

namespace {

// Drops root in a child (uid/gid nobody), which also drops CAP_SYS_RESOURCE.
bool drop_root() {
    if (::geteuid() != 0) return true;
    return ::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0;
}

}  // namespace

TEST_CASE("limit: infinity is a value of its own, above every finite limit") {
    constexpr limit inf = limit::infinity();
    static_assert(inf.is_infinite() && !inf.is_finite());
    static_assert(limit{0}.is_finite() && limit{0}.value() == 0);
    static_assert(limit{RLIM_INFINITY}.is_finite(), "a count never becomes infinity");
    static_assert(limit{RLIM_INFINITY} < inf);
    static_assert(limit{1} < limit{2} && limit{1000} < inf);
    static_assert(limit::from_raw(RLIM_INFINITY) == inf);
    static_assert(inf.raw() == RLIM_INFINITY && limit{7}.raw() == 7);
    static_assert(res::rlimit{limit{1}, inf} == res::rlimit{limit{1}, limit::infinity()});
    CHECK(inf.value() == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("getrlimit agrees with the C library for every resource, ofile aliases nofile") {
    for (rr r : {rr::core, rr::cpu, rr::fsize, rr::data, rr::stack, rr::rss, rr::nproc, rr::nofile, rr::memlock,
                 rr::as, rr::msgqueue, rr::nice, rr::rtprio, rr::rttime, rr::sigpending}) {
        struct ::rlimit c {};
        REQUIRE(::getrlimit(res::to_raw(r), &c) == 0);
        auto got = res::getrlimit(r);
        REQUIRE(got.has_value());
        CHECK(got->soft.raw() == c.rlim_cur);
        CHECK(got->hard.raw() == c.rlim_max);
    }
    CHECK(rr::ofile == rr::nofile);
    CHECK(res::getrlimit(rr::ofile).value() == res::getrlimit(rr::nofile).value());
    CHECK_ERRNO(res::getrlimit(rr{1000}), EINVAL, "getrlimit: [Errno 22] Invalid argument");
}

TEST_CASE("setrlimit: a lowered NOFILE makes open fail with EMFILE past it") {
    const std::string report = in_child([]() -> std::string {
        constexpr int max = 32;
        if (!res::setrlimit(rr::nofile, {limit{max}, limit{max}})) return "setrlimit failed";
        const auto back = res::getrlimit(rr::nofile);
        if (!back || *back != res::rlimit{limit{max}, limit{max}}) return "NOFILE not read back";
        // Fill every free number below the limit; the next open must fail with EMFILE.
        for (int i = 0; i <= max; ++i) {
            auto f = ospp::open("/dev/null", ospp::open_flags::rdonly);
            if (!f) {
                if (f.error().code() != EMFILE) return "expected EMFILE, got " + f.error().message();
                if (f.error().message() != "open: [Errno 24] Too many open files: '/dev/null'")
                    return "message: " + f.error().message();
                return "";
            }
            if (f->release() >= max) return "an fd at or above the limit was opened";
        }
        return "open never failed";
    });
    CHECK(report == "");
}

TEST_CASE("setrlimit: CORE lowered to 0 and read back, and only privilege raises it") {
    const std::string report = in_child([]() -> std::string {
        if (!res::setrlimit(rr::core, {limit{0}, limit{0}})) return "setrlimit failed";
        if (res::getrlimit(rr::core).value() != res::rlimit{limit{0}, limit{0}}) return "CORE not read back";
        // Nobody may raise it again without CAP_SYS_RESOURCE; with it, infinity is allowed.
        if (!drop_root()) return "could not drop root";
        auto raise = res::setrlimit(rr::core, {limit{0}, limit::infinity()});
        if (raise || raise.error().code() != EPERM) return "raising hard did not fail with EPERM";
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("setrlimit errors: soft above hard is EINVAL, raising hard is EPERM") {
    const auto now = res::getrlimit(rr::nofile).value();
    CHECK_ERRNO(res::setrlimit(rr::nofile, {limit{200}, limit{100}}), EINVAL,
                "setrlimit: [Errno 22] Invalid argument");
    CHECK_ERRNO(res::setrlimit(rr::nofile, {limit::infinity(), limit{100}}), EINVAL,
                "setrlimit: [Errno 22] Invalid argument");
    CHECK(res::getrlimit(rr::nofile).value() == now);

    const std::string report = in_child([]() -> std::string {
        if (!res::setrlimit(rr::nofile, {limit{50}, limit{100}})) return "lowering failed";
        if (!drop_root()) return "could not drop root";
        auto r = res::setrlimit(rr::nofile, {limit{50}, limit{200}});
        if (r) return "raising the hard limit succeeded";
        if (r.error().message() != "setrlimit: [Errno 1] Operation not permitted") return r.error().message();
        // Lowering the soft limit and raising it back up to hard needs no privilege.
        if (!res::setrlimit(rr::nofile, {limit{10}, limit{100}})) return "lowering soft failed";
        if (!res::setrlimit(rr::nofile, {limit{100}, limit{100}})) return "raising soft to hard failed";
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("prlimit reads and sets another process's limits and returns the old ones") {
    // The child waits on a pipe, then reports its own view of the limit.
    int go[2];
    int back[2];
    REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(back, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        (void)!::read(go[0], &c, 1);
        const auto l = res::getrlimit(rr::nofile);
        const std::string s = l ? std::to_string(l->soft.value()) + "/" + std::to_string(l->hard.value()) : "error";
        (void)!::write(back[1], s.data(), s.size());
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(back[1]);

    const auto mine = res::getrlimit(rr::nofile).value();
    CHECK(res::prlimit(pid, rr::nofile).value() == mine);
    auto old = res::prlimit(pid, rr::nofile, {limit{64}, limit{128}});
    REQUIRE(old.has_value());
    CHECK(*old == mine);
    CHECK(res::prlimit(pid, rr::nofile).value() == res::rlimit{limit{64}, limit{128}});
    CHECK(res::getrlimit(rr::nofile).value() == mine);  // ours is untouched
    CHECK_ERRNO(res::prlimit(pid, rr::nofile, {limit{129}, limit{128}}), EINVAL,
                "prlimit: [Errno 22] Invalid argument");

    REQUIRE(::write(go[1], "g", 1) == 1);
    ::close(go[1]);
    char buf[64];
    const ssize_t n = ::read(back[0], buf, sizeof buf);
    ::close(back[0]);
    REQUIRE(n > 0);
    CHECK(std::string(buf, static_cast<std::size_t>(n)) == "64/128");
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);

    // pid 0 is this process.
    CHECK(res::prlimit(0, rr::nofile).value() == mine);
    CHECK_ERRNO(res::prlimit(0x7fffffff, rr::nofile), ESRCH, "prlimit: [Errno 3] No such process");
}

TEST_CASE("prlimit on another user's process is EPERM without privilege") {
    const std::string report = in_child([]() -> std::string {
        if (!drop_root()) return "could not drop root";
        auto r = res::prlimit(1, rr::nofile, {limit{10}, limit{10}});
        if (r) return "prlimit on pid 1 succeeded";
        if (r.error().message() != "prlimit: [Errno 1] Operation not permitted") return r.error().message();
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("getrusage: a child's burned CPU shows up in RUSAGE_CHILDREN once reaped") {
    using namespace std::chrono_literals;
    const auto before = res::getrusage(res::rusage_who::children).value();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Burn user CPU until our own rusage says 50ms: no clock, no sleep.
        volatile unsigned long sink = 0;
        for (;;) {
            for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<unsigned long>(i);
            const auto self = res::getrusage(res::rusage_who::self);
            if (!self || self->ru_utime >= 50ms) break;
        }
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    const auto after = res::getrusage(res::rusage_who::children).value();
    CHECK(after.ru_utime - before.ru_utime >= 50ms);
    CHECK(after.ru_minflt >= before.ru_minflt);

    const auto thread = res::getrusage(res::rusage_who::thread).value();  // first: times only grow
    const auto self = res::getrusage(res::rusage_who::self).value();
    CHECK(self.ru_maxrss > 0);
    CHECK(self.ru_minflt > 0);
    CHECK(thread.ru_utime + thread.ru_stime <= self.ru_utime + self.ru_stime);
    CHECK_ERRNO(res::getrusage(res::rusage_who{99}), EINVAL, "getrusage: [Errno 22] Invalid argument");
}

TEST_CASE("rusage::from_native copies every field of the C struct, times to the microsecond") {
    using namespace std::chrono_literals;
    struct ::rusage c {};
    c.ru_utime = {3, 250'001};
    c.ru_stime = {0, 999'999};
    long* const counts[] = {&c.ru_maxrss, &c.ru_ixrss, &c.ru_idrss, &c.ru_isrss, &c.ru_minflt,
                            &c.ru_majflt, &c.ru_nswap, &c.ru_inblock, &c.ru_oublock, &c.ru_msgsnd,
                            &c.ru_msgrcv, &c.ru_nsignals, &c.ru_nvcsw, &c.ru_nivcsw};
    long next = 101;
    for (long* field : counts) *field = next++;
    const auto r = res::rusage::from_native(c);
    CHECK(r.ru_utime == 3s + 250'001us);
    CHECK(r.ru_stime == 999'999us);
    const long got[] = {r.ru_maxrss, r.ru_ixrss, r.ru_idrss, r.ru_isrss, r.ru_minflt,
                        r.ru_majflt, r.ru_nswap, r.ru_inblock, r.ru_oublock, r.ru_msgsnd,
                        r.ru_msgrcv, r.ru_nsignals, r.ru_nvcsw, r.ru_nivcsw};
    for (std::size_t i = 0; i < std::size(got); ++i) {
        CAPTURE(i);
        CHECK(got[i] == 101 + static_cast<long>(i));
    }
}

TEST_CASE("getpagesize is the system's page size") {
    CHECK(res::getpagesize() == static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
    CHECK(res::getpagesize() >= 4096);
}
