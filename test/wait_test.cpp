// test/wait_test.cpp — real children that exit, die, dump core, stop and continue.
#include "ospp/wait.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <string>

#include "support.hpp"

using ospp::signum;
using ospp::wait_flags;
using ospp::wait_status;

namespace {

// A child that blocks until `release` is closed, then exits with `code`.
pid_t blocked_child(int release_read, int release_write, int code) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(release_write);
        ospp_test::wait_for_go(release_read);
        ::_exit(code);
    }
    return pid;
}

pid_t exiting_child(int code) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(code);
    return pid;
}

}  // namespace

TEST_CASE("wait_status decodes like the W* macros") {
    for (int raw : {0x0000, 0x0300, 0xff00, 0x0009, 0x000f, 0x0086, 0x0024, 0x0040, 0x137f, 0x057f, 0xffff}) {
        const wait_status st(raw);
        CAPTURE(raw);
        CHECK(st.raw() == raw);
        CHECK(st.exited() == WIFEXITED(raw));
        CHECK(st.signaled() == WIFSIGNALED(raw));
        CHECK(st.stopped() == WIFSTOPPED(raw));
        CHECK(st.continued() == WIFCONTINUED(raw));
        if (WIFEXITED(raw)) CHECK(st.exit_code() == WEXITSTATUS(raw));
        if (WIFSIGNALED(raw)) {
            CHECK(ospp::to_raw(st.term_signal()) == WTERMSIG(raw));
            CHECK(st.core_dumped() == (WCOREDUMP(raw) != 0));
        }
        if (WIFSTOPPED(raw)) CHECK(ospp::to_raw(st.stop_signal()) == WSTOPSIG(raw));
    }
    static_assert(wait_status(0x0300).exit_code() == 3);
    // Real-time signals (above 31) decode like the others: SIGRTMIN+2 killed the child.
    CHECK(ospp::to_raw(wait_status(0x0024).term_signal()) == 36);
    CHECK(wait_status(0x0024).to_exitcode().value() == -36);
    // The bare macro says "core dump" for a continued status; core_dumped() only for a signaled one.
    CHECK(WCOREDUMP(0xffff) != 0);
    CHECK_FALSE(wait_status(0xffff).core_dumped());
    static_assert(ospp::to_raw(ospp::ex::usage) == 64 && ospp::to_raw(ospp::ex::config) == 78);
}

TEST_CASE("waitpid reports exit codes, and waitstatus_to_exitcode follows Python") {
    for (int code : {0, 3, 255}) {
        const pid_t pid = exiting_child(code);
        auto r = ospp::waitpid(pid);
        REQUIRE(r.has_value());
        CHECK(r->pid == pid);
        CHECK(r->status.exited());
        CHECK_FALSE(r->status.signaled());
        CHECK(r->status.exit_code() == code);
        CHECK(ospp::waitstatus_to_exitcode(r->status).value() == code);
    }
    // Python's ValueError ("process stopped by delivery of signal 19", "invalid wait status: 65535").
    CHECK_ERRNO(ospp::waitstatus_to_exitcode(wait_status(0x137f)), EINVAL,
                "waitstatus_to_exitcode: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::waitstatus_to_exitcode(wait_status(0xffff)), EINVAL,
                "waitstatus_to_exitcode: [Errno 22] Invalid argument");
}

TEST_CASE("a child killed by a signal is signaled, never an exit code") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = blocked_child(p[0], p[1], 9);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    auto r = ospp::waitpid(pid);
    ::close(p[0]);
    ::close(p[1]);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->status.exited());
    CHECK(r->status.signaled());
    CHECK(r->status.term_signal() == signum::kill);
    CHECK_FALSE(r->status.core_dumped());
    CHECK(r->status.to_exitcode().value() == -9);
}

TEST_CASE("core_dumped is set when the kernel writes a core") {
    ospp_test::temp_dir dir;
    std::string pattern;
    std::getline(std::ifstream("/proc/sys/kernel/core_pattern"), pattern);
    if (pattern.empty() || pattern[0] == '|')
        OSPP_SKIP("core_pattern pipes cores to a helper ('" + pattern + "'): the core flag depends on it");
    struct ::rlimit lim {};
    REQUIRE(::getrlimit(RLIMIT_CORE, &lim) == 0);
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < 1024 * 1024)
        OSPP_SKIP("the hard RLIMIT_CORE is too small for a core dump");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // A small program dumps a small core (a sanitizer build's own core would be huge).
        lim.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_CORE, &lim) != 0 || ::chdir(dir.path().c_str()) != 0) ::_exit(100);
        ::execl("/bin/sh", "sh", "-c", "kill -ABRT $$", static_cast<char*>(nullptr));
        ::_exit(101);
    }
    auto r = ospp::waitpid(pid);
    REQUIRE(r.has_value());
    REQUIRE(r->status.signaled());
    CHECK(r->status.term_signal() == signum::abrt);
    if (!r->status.core_dumped()) OSPP_SKIP("the kernel wrote no core (core_pattern '" + pattern + "', filesystem or dumpable policy)");
    CHECK(r->status.to_exitcode().value() == -SIGABRT);
}

TEST_CASE("a stopped child is reported with untraced, a resumed one with continued") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = blocked_child(p[0], p[1], 0);
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    auto stopped = ospp::waitpid(pid, wait_flags::untraced);
    REQUIRE(stopped.has_value());
    CHECK(stopped->status.stopped());
    CHECK(stopped->status.stop_signal() == signum::stop);
    CHECK_FALSE(stopped->status.exited());
    CHECK_ERRNO(stopped->status.to_exitcode(), EINVAL, "waitstatus_to_exitcode: [Errno 22] Invalid argument");

    REQUIRE(::kill(pid, SIGCONT) == 0);
    auto resumed = ospp::waitpid(pid, wait_flags::continued);
    REQUIRE(resumed.has_value());
    CHECK(resumed->status.continued());
    CHECK_ERRNO(resumed->status.to_exitcode(), EINVAL, "waitstatus_to_exitcode: [Errno 22] Invalid argument");

    ::close(p[1]);
    auto done = ospp::waitpid(pid);
    ::close(p[0]);
    REQUIRE(done.has_value());
    CHECK(done->status.exited());
}

TEST_CASE("nohang returns pid 0 while the child runs") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = blocked_child(p[0], p[1], 4);
    auto running = ospp::waitpid(pid, wait_flags::nohang);
    REQUIRE(running.has_value());
    CHECK(running->pid == 0);
    auto by_id = ospp::waitid(ospp::id_type::pid, static_cast<id_t>(pid), wait_flags::exited | wait_flags::nohang);
    REQUIRE(by_id.has_value());
    CHECK_FALSE(by_id->has_value());
    ::close(p[1]);
    auto done = ospp::waitpid(pid);
    ::close(p[0]);
    REQUIRE(done.has_value());
    CHECK(done->status.exit_code() == 4);
}

TEST_CASE("wait, wait3 and wait4 reap a child and report its usage") {
    pid_t pid = exiting_child(7);
    auto any = ospp::wait();
    REQUIRE(any.has_value());
    CHECK(any->pid == pid);
    CHECK(any->status.exit_code() == 7);

    pid = exiting_child(8);
    auto w3 = ospp::wait3();
    REQUIRE(w3.has_value());
    CHECK(w3->pid == pid);
    CHECK(w3->status.exit_code() == 8);
    CHECK(w3->rusage.ru_maxrss > 0);

    pid = exiting_child(9);
    auto w4 = ospp::wait4(pid);
    REQUIRE(w4.has_value());
    CHECK(w4->pid == pid);
    CHECK(w4->status.exit_code() == 9);
    CHECK(w4->rusage.ru_maxrss > 0);
}

TEST_CASE("waitid reports si_* fields, and nowait leaves the child waitable") {
    const pid_t pid = exiting_child(5);
    auto peek = ospp::waitid(ospp::id_type::pid, static_cast<id_t>(pid), wait_flags::exited | wait_flags::nowait);
    REQUIRE(peek.has_value());
    REQUIRE(peek->has_value());
    const ospp::waitid_result& info = **peek;
    CHECK(info.pid == pid);
    CHECK(info.uid == ::getuid());
    CHECK(info.signo == signum::chld);
    CHECK(info.status == 5);
    CHECK(info.code == ospp::cld_code::exited);
    auto reaped = ospp::waitid(ospp::id_type::pid, static_cast<id_t>(pid), wait_flags::exited);
    REQUIRE(reaped.has_value());
    REQUIRE(reaped->has_value());
    CHECK((*reaped)->status == 5);
}

TEST_CASE("wait errors: no children, bad options") {
    CHECK_ERRNO(ospp::waitpid(-1), ECHILD, "waitpid: [Errno 10] No child processes");
    CHECK_ERRNO(ospp::wait(), ECHILD, "wait: [Errno 10] No child processes");
    CHECK_ERRNO(ospp::wait3(), ECHILD, "wait3: [Errno 10] No child processes");
    CHECK_ERRNO(ospp::wait4(999999999), ECHILD, "wait4: [Errno 10] No child processes");
    // INT_MIN has no group to name (Python: os.waitpid(-2**31, 0) -> ProcessLookupError).
    CHECK_ERRNO(ospp::waitpid(std::numeric_limits<pid_t>::min()), ESRCH, "waitpid: [Errno 3] No such process");
    CHECK_ERRNO(ospp::wait4(std::numeric_limits<pid_t>::min()), ESRCH, "wait4: [Errno 3] No such process");
    CHECK_ERRNO(ospp::waitid(ospp::id_type::all, 0, wait_flags::none), EINVAL, "waitid: [Errno 22] Invalid argument");
}

TEST_CASE("waitid through a pidfd: EBADF for another kind of descriptor, ECHILD for a process not our child") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    CHECK_ERRNO(ospp::waitid(ospp::fd_ref(p[0]), wait_flags::exited), EBADF, "waitid: [Errno 9] Bad file descriptor");
    ::close(p[0]);
    ::close(p[1]);
    CHECK_ERRNO(ospp::waitid(ospp::fd_ref(-1), wait_flags::exited), EINVAL, "waitid: [Errno 22] Invalid argument");
    const int self = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
    if (self < 0) OSPP_SKIP("pidfd_open is not available");
    const ospp::fd own(self);
    CHECK_ERRNO(ospp::waitid(own, wait_flags::exited | wait_flags::nohang), ECHILD,
                "waitid: [Errno 10] No child processes");

    // A PIDFD_NONBLOCK pidfd never waits: EAGAIN while the child runs, even without nohang.
    int gate[2];
    REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        ::close(gate[1]);
        ::_exit(::read(gate[0], &c, 1) == 0 ? 0 : 1);
    }
    ::close(gate[0]);
    const ospp::fd child(static_cast<int>(::syscall(SYS_pidfd_open, pid, PIDFD_NONBLOCK)));
    CHECK(child.get() >= 0);
    CHECK_ERRNO(ospp::waitid(child, wait_flags::exited), EAGAIN, "waitid: [Errno 11] Resource temporarily unavailable");
    ::close(gate[1]);
    CHECK(ospp::waitpid(pid).value().status.exit_code() == 0);
}
