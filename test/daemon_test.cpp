// test/daemon_test.cpp — real daemons, judged from outside.
//
// Each test forks a launcher that configures a daemon_context and calls open(). The test process
// is a child subreaper (PR_SET_CHILD_SUBREAPER), so the daemon, orphaned by the double fork,
// becomes its child: the test inspects it through /proc, stops it and reaps it with waitpid.
// The daemon talks to the test through two preserved pipes: "report" (daemon -> test) and "hold"
// (test -> daemon; the daemon exits when it reaches end of file). Nothing waits by sleeping.
#include "ospp/daemon.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "ospp/fd_ops.hpp"
#include "ospp/ids.hpp"
#include "ospp/process.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp::signum;
using ospp::daemon::daemon_context;
using ospp::daemon::signal_action;
using ospp_test::temp_dir;

namespace {

void become_subreaper() {
    static const bool done = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    REQUIRE(done);
}

// Everything until end of file (the library's read_all; a read error fails the test).
std::string read_all(int f) { return ospp::read_all(ospp::fd_ref(f)).value(); }

// Reads until `marker` has arrived or the writers are gone.
std::string read_until(int f, std::string_view marker) {
    std::string out;
    char c;
    while (out.find(marker) == std::string::npos) {
        const ssize_t n = ::read(f, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.push_back(c);
    }
    return out;
}

void write_text(int f, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(f, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// One line of /proc/PID/status, e.g. field(pid, "SigIgn") == "0000000000380000".
std::string status_field(pid_t pid, const std::string& name) {
    std::istringstream in(ospp_test::read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + ":", 0) == 0) {
            const auto start = line.find_first_not_of(" \t", name.size() + 1);
            if (start == std::string::npos) return "";
            return line.substr(start, line.find_last_not_of(" \t") + 1 - start);
        }
    }
    return "?";
}

// /proc/PID/stat fields after the command: state ppid pgrp session tty_nr ...
struct proc_stat {
    char state = '?';
    pid_t ppid = 0, pgrp = 0, session = 0;
    int tty_nr = -1;
};
proc_stat read_stat(pid_t pid) {
    const std::string text = ospp_test::read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(text.substr(text.rfind(')') + 2));
    proc_stat st;
    in >> st.state >> st.ppid >> st.pgrp >> st.session >> st.tty_nr;
    return st;
}

std::set<int> fd_numbers(pid_t pid) {
    std::set<int> fds;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        fds.insert(std::stoi(e.path().filename().string()));
    }
    return fds;
}

// Whether fds a and b of process pid are the same open file (one open(), shared by dup).
bool same_open_file(pid_t pid, int a, int b) {
    const long r = ::syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
    REQUIRE_MESSAGE(r >= 0, "kcmp: " << std::strerror(errno));
    return r == 0;
}

std::string fd_link(pid_t pid, int n) {
    std::error_code ec;
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(n), ec).string();
}

// The daemon's fd open on `path`, -1 when none.
int fd_of(pid_t pid, const std::string& path) {
    for (int n : fd_numbers(pid)) {
        if (fd_link(pid, n) == path) return n;
    }
    return -1;
}

// The open file's flags as fdinfo shows them (O_CLOEXEC included).
unsigned long fd_flags(pid_t pid, int n) {
    std::istringstream in(ospp_test::read_file("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(n)));
    std::string key, value;
    while (in >> key >> value) {
        if (key == "flags:") return std::stoul(value, nullptr, 8);
    }
    FAIL("no flags in fdinfo");
    return 0;
}

bool fd_cloexec(pid_t pid, int n) { return (fd_flags(pid, n) & O_CLOEXEC) != 0; }

bool locked(const std::string& path) {
    const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) return false;
    const bool free = ::flock(f, LOCK_SH | LOCK_NB) == 0;
    ::close(f);
    return !free;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Waits for every child of the test process (daemons that are ending or already dead).
void reap_all() {
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
}

using configure_fn = std::function<void(daemon_context&)>;
// Runs in the daemon after open(); writes what the test should know to `report`.
using body_fn = std::function<void(daemon_context&, int report, int hold)>;

// A started (or refused) daemon, seen from the test. The destructor kills and reaps what is left.
struct daemon_run {
    int status = -1;         // the launcher's wait status
    std::string err;         // what the launcher wrote to stderr
    pid_t pid = -1;          // the daemon, once it reported
    std::string report;      // everything the daemon wrote up to "end\n"
    ospp::fd hold;           // closing it makes the daemon exit(0)
    ospp::fd report_read;
    int preserved[2] = {-1, -1};  // the numbers of the report and hold pipe ends in the daemon
    ospp::fd err_read;
    pid_t launcher = -1;

    void wait_for_launcher() {
        REQUIRE(::waitpid(launcher, &status, 0) == launcher);
        // Whatever the launcher wrote is in the pipe now; do not wait for end of file, which a
        // daemon that failed to close the launcher's fds would never send.
        // EAGAIN, with nothing to read, when a writer is left: the first child, which holds the
        // launcher's stderr until its exit after the second fork is complete, may still be exiting
        // (seen once under ASan in a test whose daemon kills the launcher at once).
        ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
        auto said = ospp::read_all(err_read);
        REQUIRE((said || said.error().code() == EAGAIN));
        err = said ? std::move(*said) : std::string();
        if (pid == launcher) pid = -1;
    }

    daemon_run() = default;
    daemon_run(daemon_run&&) = default;
    ~daemon_run() {
        if (pid > 0) ::kill(pid, SIGKILL);
        hold.reset();
        reap_all();
    }
    [[nodiscard]] bool launcher_succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
    [[nodiscard]] int launcher_exit() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
    // Signals the daemon and returns its wait status.
    int stop(int sig) {
        REQUIRE(pid > 0);
        REQUIRE(::kill(pid, sig) == 0);
        int st = 0;
        // ECHILD: not ours yet. The daemon is re-parented to us (the subreaper) when its parent, the
        // first child, has exited; a launcher that was killed never waited for that child, which
        // may still be exiting (seen once under ASan on a loaded machine).
        pid_t waited = -1;
        for (int i = 0; i < 10'000 && (waited = ::waitpid(pid, &st, 0)) < 0 && (errno == ECHILD || errno == EINTR); ++i) {
            const ::timespec pause{0, 1'000'000};
            ::nanosleep(&pause, nullptr);
        }
        REQUIRE(waited == pid);
        pid = -1;
        return st;
    }
};

// Forks a launcher which runs `setup` (on its own process state), then daemon_context::open().
daemon_run start(const configure_fn& configure, const body_fn& body = {}, const std::function<void()>& setup = {}) {
    become_subreaper();
    auto report = ospp::pipe();
    auto hold = ospp::pipe();
    auto err = ospp::pipe();
    REQUIRE((report && hold && err));
    std::fflush(nullptr);
    const pid_t launcher = ::fork();
    REQUIRE(launcher >= 0);
    if (launcher == 0) {
        ::dup2(err->write_end.get(), 2);
        if (setup) setup();
        daemon_context ctx;
        ctx.files_preserve = {report->write_end, hold->read_end};
        configure(ctx);
        auto opened = ctx.open();
        if (!opened) {
            const std::string text = ctx.failure_message(opened.error()) + "\n";
            write_text(2, text);
            ::_exit(1);
        }
        const int r = report->write_end.get();
        write_text(r, "pid " + std::to_string(::getpid()) + "\n");
        if (body) body(ctx, r, hold->read_end.get());
        write_text(r, "end\n");
        char c;
        while (::read(hold->read_end.get(), &c, 1) != 0 && errno == EINTR) {
        }
        ::_exit(0);
    }
    daemon_run run;
    run.launcher = launcher;
    run.preserved[0] = report->write_end.get();
    run.preserved[1] = hold->read_end.get();
    report->write_end.reset();
    hold->read_end.reset();
    err->write_end.reset();
    // The report first: a daemon that did not detach is the launcher, which exits only at the end.
    run.report = read_until(report->read_end.get(), "end\n");
    if (run.report.rfind("pid ", 0) == 0) run.pid = std::stoi(run.report.substr(4));
    run.err_read = std::move(err->read_end);
    if (run.pid != launcher) run.wait_for_launcher();
    run.hold = std::move(hold->write_end);
    run.report_read = std::move(report->read_end);
    return run;
}

// The value after "key " in the daemon's report, up to the end of the line.
std::string reported(const daemon_run& run, const std::string& key) {
    const auto at = run.report.find(key + " ");
    if (at == std::string::npos) return "<missing " + key + ">";
    const auto from = at + key.size() + 1;
    return run.report.substr(from, run.report.find('\n', from) - from);
}

}  // namespace

TEST_CASE("daemon: the started daemon passes daemon(7)'s checks, seen from /proc") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    const std::string out = dir / "out.log";
    // The launcher runs in its own session with a pseudo-terminal as controlling terminal,
    // one blocked signal and one ignored signal, as an interactive shell might leave them.
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const std::string slave = ::ptsname(master);
    auto setup = [&] {
        if (::setsid() < 0) ::_exit(20);
        const int tty = ::open(slave.c_str(), O_RDWR);  // the first terminal a leader opens: its ctty
        if (tty < 0 || ::dup2(tty, 0) < 0 || ::dup2(tty, 1) < 0) ::_exit(21);
        ::close(tty);
        const int ctty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
        if (ctty < 0) ::_exit(22);
        ::close(ctty);
        sigset_t usr1;
        ::sigemptyset(&usr1);
        ::sigaddset(&usr1, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
        ::signal(SIGUSR2, SIG_IGN);
        ::umask(0);
    };
    auto configure = [&](daemon_context& ctx) {
        ctx.working_directory = dir.path();
        ctx.umask = 027;
        ctx.pidfile = pidfile;
        ctx.stdout_file = std::filesystem::path(out);
    };
    auto body = [&](daemon_context& ctx, int report, int) {
        write_text(report, std::string("is_open ") + (ctx.is_open() ? "1" : "0") + "\n");
        // Does a program the daemon runs find 0-2 open? (python-daemon leaves them close-on-exec.)
        const pid_t sh = ::fork();
        if (sh == 0) {
            ::execl("/bin/sh", "sh", "-c", "ls /proc/$$/fd", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        int st = 0;
        ::waitpid(sh, &st, 0);
        write_text(report, "sh " + std::to_string(st) + "\n");
    };
    daemon_run run = start(configure, body, setup);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    CHECK(run.err.empty());
    REQUIRE(run.pid > 0);
    CHECK(reported(run, "is_open") == "1");
    CHECK(reported(run, "sh") == "0");
    std::set<std::string> listed;
    std::istringstream ls(ospp_test::read_file(out));
    for (std::string n; ls >> n;) listed.insert(n);
    CHECK(listed.count("0") == 1);
    CHECK(listed.count("1") == 1);
    CHECK(listed.count("2") == 1);

    const proc_stat st = read_stat(run.pid);
    CHECK(st.ppid == ::getpid());       // orphaned to the subreaper: the intermediate is gone
    CHECK(st.session != run.pid);       // not a session leader: can never acquire a terminal
    CHECK(st.pgrp != run.pid);
    CHECK(st.tty_nr == 0);              // no controlling terminal
    CHECK(st.session != read_stat(::getpid()).session);
    CHECK(std::filesystem::read_symlink("/proc/" + std::to_string(run.pid) + "/cwd") == dir.path());
    CHECK(status_field(run.pid, "Umask") == "0027");
    CHECK(status_field(run.pid, "SigBlk") == "0000000000000000");
    // Only PEP 3143's default map is ignored: TSTP(20), TTIN(21), TTOU(22); not SIGUSR2.
    CHECK(status_field(run.pid, "SigIgn") == "0000000000380000");
    const std::string limits = ospp_test::read_file("/proc/" + std::to_string(run.pid) + "/limits");
    CHECK(limits.find("Max core file size        0                    0 ") != std::string::npos);

    // Exactly 0-2, the two preserved pipes and the pidfile; 0-2 inheritable.
    const std::set<int> fds = fd_numbers(run.pid);
    const int pid_fd = fd_of(run.pid, pidfile);
    CHECK(pid_fd > 2);
    CHECK(fds == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1], pid_fd});
    CHECK(fd_link(run.pid, 0) == "/dev/null");
    CHECK(fd_link(run.pid, 1) == out);
    CHECK(fd_link(run.pid, 2) == "/dev/null");
    for (int n : {0, 1, 2}) CHECK_FALSE(fd_cloexec(run.pid, n));

    CHECK(ospp_test::read_file(pidfile) == std::to_string(run.pid) + "\n");
    CHECK(locked(pidfile));

    const int status = run.stop(SIGTERM);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK_FALSE(exists(pidfile));
    ::close(master);
}

TEST_CASE("daemon: a second start is refused before detaching, a stale pidfile is taken over") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    ospp_test::write_file(pidfile, "99999\n");  // left by a daemon that crashed: nobody holds the lock
    auto configure = [&](daemon_context& ctx) { ctx.pidfile = pidfile; };
    daemon_run first = start(configure);
    INFO("launcher stderr: " << first.err);
    REQUIRE(first.launcher_succeeded());
    REQUIRE(first.pid > 0);
    CHECK(ospp_test::read_file(pidfile) == std::to_string(first.pid) + "\n");

    daemon_run second = start(configure);
    CHECK(second.launcher_exit() == 1);
    CHECK(second.err == "pidfile: [Errno 17] File exists: '" + pidfile + "' (already running, pid " +
                            std::to_string(first.pid) + ")\n");
    CHECK(second.pid == -1);
    CHECK(second.report.empty());
    // Refused before any fork: the only process the launcher left behind is the first daemon.
    const std::string children = ospp_test::read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    CHECK(children == std::to_string(first.pid) + " ");
    CHECK(ospp_test::read_file(pidfile) == std::to_string(first.pid) + "\n");

    // Closing the hold pipe ends the first daemon normally (exit 0, no signal action involved).
    first.hold.reset();
    int status = 0;
    REQUIRE(::waitpid(first.pid, &status, 0) == first.pid);
    first.pid = -1;
    CHECK(WIFEXITED(status));
}

TEST_CASE("daemon: a pidfile locked by someone else makes the launcher fail") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    ospp_test::write_file(pidfile, "4242\n");
    const int holder = ::open(pidfile.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(holder >= 0);
    REQUIRE(::flock(holder, LOCK_EX) == 0);
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; });
    CHECK(run.launcher_exit() == 1);
    CHECK(run.err == "pidfile: [Errno 17] File exists: '" + pidfile + "' (already running, pid 4242)\n");
    CHECK(ospp_test::read_file(pidfile) == "4242\n");  // untouched
    ::close(holder);
}

TEST_CASE("daemon: with a chroot, a relative working_directory is inside the jail, never outside it") {
    OSPP_REQUIRE_ROOT();  // chroot(2) needs CAP_SYS_CHROOT
    temp_dir dir;
    for (const char* d : {"jail", "jail/sub", "outside", "outside/sub"}) REQUIRE(::mkdir((dir / d).c_str(), 0755) == 0);
    // The launcher runs from outside/, where a "sub" exists too: the daemon must not end up in it.
    daemon_run run = start(
        [&](daemon_context& ctx) {
            ctx.chroot_directory = dir / "jail";
            ctx.working_directory = "sub";
        },
        {}, [&] { REQUIRE(::chdir((dir / "outside").c_str()) == 0); });
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    const std::string proc = "/proc/" + std::to_string(run.pid);
    CHECK(std::filesystem::read_symlink(proc + "/root") == dir / "jail");
    CHECK(std::filesystem::read_symlink(proc + "/cwd") == dir / "jail/sub");
}

TEST_CASE("daemon: a failing step makes the launcher exit non-zero with the step and errno") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    SUBCASE("working_directory") {
        daemon_run run = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.working_directory = dir / "missing";
        });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "chdir: [Errno 2] No such file or directory: '" + (dir / "missing") + "'\n");
        CHECK(run.pid == -1);
        // The failed daemon had written its pid; the launcher removed the file it had locked.
        reap_all();
        CHECK_FALSE(exists(pidfile));
    }
    SUBCASE("chroot_directory") {
        daemon_run run = start([&](daemon_context& ctx) { ctx.chroot_directory = dir / "no-root"; });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "chroot: [Errno 2] No such file or directory: '" + (dir / "no-root") + "'\n");
    }
    SUBCASE("stdout file") {
        daemon_run run = start([&](daemon_context& ctx) { ctx.stdout_file = std::filesystem::path(dir / "no/log"); });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "stdout: [Errno 2] No such file or directory: '" + (dir / "no/log") + "'\n");
    }
    SUBCASE("stdin a directory") {
        // open(O_RDONLY) accepts a directory; a daemon must not start with one as its stdin
        // (Python's open() refuses it with IsADirectoryError; stdout and stderr fail with EISDIR).
        daemon_run run = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.stdin_file = std::filesystem::path(dir.path());
        });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "stdin: [Errno 21] Is a directory: '" + dir.path() + "'\n");
        REQUIRE(run.pid == -1);
        reap_all();
        CHECK_FALSE(exists(pidfile));
    }
    SUBCASE("setuid") {
        // As root, take CAP_SETUID away from the launcher first so that the drop must fail.
        auto drop_setuid_capability = [] {
            if (::geteuid() != 0) return;
            __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
            __user_cap_data_struct data[2]{};
            if (::syscall(SYS_capget, &header, data) != 0) ::_exit(30);
            data[0].effective &= ~(1U << CAP_SETUID);
            data[0].permitted &= ~(1U << CAP_SETUID);
            if (::syscall(SYS_capset, &header, data) != 0) ::_exit(31);
        };
        const ::uid_t target = ::geteuid() == 0 ? 65534 : 0;
        daemon_run run = start([&](daemon_context& ctx) { ctx.uid = target; }, {}, drop_setuid_capability);
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "setuid: [Errno 1] Operation not permitted\n");
    }
}

TEST_CASE("daemon: a signal_map entry sigaction refuses fails open() before anything is done") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    // SIGKILL and SIGSTOP cannot be caught, ignored or reset (sigaction: EINVAL). Found in the
    // daemon, that left the launcher with "sigaction: [Errno 22] Invalid argument" naming no
    // signal, and without detaching an already redirected, half-made daemon holding the pidfile.
    SUBCASE("detaching") {
        daemon_run run = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.signal_map[signum::kill] = signal_action::ignore();
        });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "sigaction: [Errno 22] Invalid argument: 'SIGKILL'\n");
        REQUIRE(run.pid == -1);
        // Refused before any fork: the launcher left no process behind.
        CHECK(ospp_test::read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children").empty());
    }
    SUBCASE("without detaching") {
        daemon_run run = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.detach_process = false;
            ctx.signal_map[signum::stop] = signal_action::default_action();
        });
        CHECK(run.launcher_exit() == 1);
        CHECK(run.err == "sigaction: [Errno 22] Invalid argument: 'SIGSTOP'\n");  // stderr not yet redirected
        REQUIRE(run.pid == -1);
    }
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("daemon: a low RLIMIT_NOFILE fails with EMFILE at the step that needs the fd, leaving nothing") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    // The limit set in the launcher: room for `extra` fds above those it has open.
    auto limit = [](int extra) {
        return [extra] {
            const int lowest = ::dup(0);
            ::close(lowest);
            const auto n = static_cast<rlim_t>(lowest + extra);
            const struct ::rlimit lim {n, n};
            if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(40);
        };
    };
    SUBCASE("no room for the pidfile") {
        daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, limit(0));
        CHECK(run.err == "pidfile: [Errno 24] Too many open files: '" + pidfile + "'\n");
        CHECK(run.launcher_exit() == 1);
    }
    SUBCASE("no room for the readiness pipe") {
        daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, limit(2));
        CHECK(run.err == "pipe: [Errno 24] Too many open files\n");
        CHECK(run.launcher_exit() == 1);
    }
    SUBCASE("no room for the copy of a stdio fd") {
        // Nothing above 2 allowed: F_DUPFD_CLOEXEC from 3 then fails with EINVAL ("arg >= the
        // limit"), which is the same lack of fds and must read so.
        auto only_stdio = [] {
            for (int n = 3; n < 1024; ++n) ::close(n);
            const struct ::rlimit lim {3, 3};
            if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(40);
        };
        daemon_run run = start([&](daemon_context& ctx) { ctx.stdout_file = ospp::fd_ref(1); }, {}, only_stdio);
        CHECK(run.err == "stdout: [Errno 24] Too many open files\n");
        CHECK(run.launcher_exit() == 1);
    }
    // Refused in the launcher, before any fork: no process, and the pidfile is removed.
    CHECK(ospp_test::read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children").empty());
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("daemon: the three default streams share one /dev/null, so a low RLIMIT_NOFILE is enough") {
#ifdef OSPP_TEST_SANITIZER
    // The launcher has no fd to spare, and UBSan's vptr check opens a pipe to probe memory: it
    // fails, and reports the std::cout that open() flushes as an object of the wrong type.
    OSPP_SKIP("the sanitizer runtime needs fds this test leaves none of");
#endif
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    // Only 0-2 and files_preserve open, and room for three more: the pidfile and the
    // readiness pipe in the launcher; in the first child the pipe's read end is closed,
    // which leaves one fd for /dev/null.
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.pidfile = pidfile;
        for (int n = 3; n < 1024; ++n) {
            const bool preserved = std::any_of(ctx.files_preserve.begin(), ctx.files_preserve.end(),
                                               [n](ospp::fd_ref f) { return f.get() == n; });
            if (!preserved) ::close(n);
        }
        const auto n = static_cast<rlim_t>(3 + ctx.files_preserve.size() + 3);
        const struct ::rlimit lim {n, n};
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(40);
    });
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    for (int n = 0; n < 3; ++n) CHECK(fd_link(run.pid, n) == "/dev/null");
    CHECK(same_open_file(run.pid, 0, 1));
    CHECK(same_open_file(run.pid, 1, 2));
    run.stop(SIGKILL);
}

TEST_CASE("daemon: stdout and stderr given the same path share one open file, as >log 2>&1 does") {
    temp_dir dir;
    const std::string log = dir / "log";
    ospp_test::write_file(log, "");  // stdin is opened first, and is not created
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.stdout_file = std::filesystem::path(log);
        ctx.stderr_file = std::filesystem::path(log);
        ctx.stdin_file = std::filesystem::path(log);  // read-only: flags differ, its own file
    });
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    CHECK(same_open_file(run.pid, 1, 2));
    CHECK_FALSE(same_open_file(run.pid, 0, 1));
    CHECK(fd_link(run.pid, 0) == log);
    run.stop(SIGKILL);
}

TEST_CASE("daemon: stdout and stderr paths are opened for appending: an existing log keeps its lines") {
    temp_dir dir;
    const std::string log = dir / "log";
    ospp_test::write_file(log, "earlier run\n");
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.stdout_file = std::filesystem::path(log);
        ctx.stderr_file = std::filesystem::path(dir / "err");  // created
    });
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    CHECK((fd_flags(run.pid, 1) & O_APPEND) != 0);
    CHECK((fd_flags(run.pid, 2) & O_APPEND) != 0);
    CHECK(ospp_test::read_file(log) == "earlier run\n");
    run.stop(SIGKILL);
}

TEST_CASE("daemon: /dev/null is opened outside the chroot; when it is missing the message names it") {
    OSPP_REQUIRE_ROOT();  // chroot, and a mount namespace without /dev/null
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    REQUIRE(::mkdir((dir / "jail").c_str(), 0755) == 0);
    SUBCASE("an empty chroot_directory, without /dev/null, is fine") {
        daemon_run run = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.chroot_directory = dir / "jail";
        });
        INFO("launcher stderr: " << run.err);
        REQUIRE(run.launcher_succeeded());
        REQUIRE(run.pid > 0);
        CHECK(fd_link(run.pid, 0) == "/dev/null");
        run.stop(SIGKILL);
    }
    SUBCASE("no /dev/null at all, and fd 0 closed") {
        auto no_dev_null = [] {
            if (::unshare(CLONE_NEWNS) != 0) ::_exit(60);
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(61);
            if (::mount("none", "/dev", "tmpfs", 0, nullptr) != 0) ::_exit(62);
            ::close(0);
        };
        daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, no_dev_null);
        CHECK(run.err == "stdio: [Errno 2] No such file or directory: '/dev/null'\n");
        CHECK(run.launcher_exit() == 1);
        REQUIRE(run.pid == -1);
        CHECK_FALSE(exists(pidfile));
    }
}

TEST_CASE("daemon: no space for the pid fails the launcher at \"pidfile\" with ENOSPC, leaving no daemon") {
    OSPP_REQUIRE_ROOT();  // a full 4k tmpfs in the launcher's own mount namespace
    temp_dir dir;
    const std::string mnt = dir / "mnt";
    REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
    auto full_tmpfs = [&] {
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(80);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(81);
        if (::mount("none", mnt.c_str(), "tmpfs", 0, "size=4k") != 0) ::_exit(82);
        ospp_test::write_file(mnt + "/fill", std::string(4096, 'x'));  // the one block
    };
    // The file is created (an inode is free), the pid cannot be written into it.
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = mnt + "/d.pid"; }, {}, full_tmpfs);
    CHECK(run.err == "pidfile: [Errno 28] No space left on device: '" + mnt + "/d.pid'\n");
    CHECK(run.launcher_exit() == 1);
    REQUIRE(run.pid == -1);
    reap_all();  // the daemon that failed, orphaned to this subreaper, is gone
    CHECK(ospp_test::read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children").empty());
}

TEST_CASE("daemon: dropping privilege as root clears supplementary groups for good") {
    OSPP_REQUIRE_ROOT();
    auto setup = [] {
        const ::gid_t extra[] = {4, 24, 27};
        if (::setgroups(3, extra) != 0) ::_exit(40);
    };
    auto body = [](daemon_context&, int report, int) {
        write_text(report, "groups " + std::to_string(::getgroups(0, nullptr)) + "\n");
        const int r = ::setuid(0);
        write_text(report, "setuid0 " + std::to_string(r) + " " + std::to_string(r < 0 ? errno : 0) + "\n");
    };
    daemon_run run = start([](daemon_context& ctx) {
        ctx.uid = 65534;
        ctx.gid = 65534;
    }, body, setup);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    CHECK(reported(run, "groups") == "0");
    CHECK(reported(run, "setuid0") == "-1 1");
    CHECK(status_field(run.pid, "Groups").empty());
    CHECK(status_field(run.pid, "Uid") == "65534\t65534\t65534\t65534");
    CHECK(status_field(run.pid, "Gid") == "65534\t65534\t65534\t65534");
    run.stop(SIGTERM);
}

TEST_CASE("daemon: initgroups gives the user's groups") {
    OSPP_REQUIRE_ROOT();
    // root's own groups are known without parsing /etc/group: getgrouplist for uid 0 and gid 0.
    int n = 64;
    std::vector<::gid_t> expected(64);
    REQUIRE(::getgrouplist("root", 0, expected.data(), &n) >= 0);
    expected.resize(static_cast<std::size_t>(n));
    auto setup = [] {
        const ::gid_t extra[] = {4, 24, 27};
        if (::setgroups(3, extra) != 0) ::_exit(40);
    };
    daemon_run run = start([](daemon_context& ctx) {
        ctx.uid = 0;
        ctx.gid = 0;
        ctx.initgroups = true;
    }, {}, setup);
    REQUIRE(run.launcher_succeeded());
    std::string want;
    std::sort(expected.begin(), expected.end());
    for (auto g : expected) {
        if (!want.empty()) want += " ";
        want += std::to_string(g);
    }
    CHECK(status_field(run.pid, "Groups") == want);
    run.stop(SIGTERM);
}

namespace {

// A datagram socket bound to `name` ("/path" or "@abstract"), like systemd's notify socket.
ospp::fd notify_listener(const std::string& name) {
    ospp::fd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), size) == 0);
    return s;
}

std::string receive(int s) {
    char buf[256];
    const ssize_t n = ::recv(s, buf, sizeof buf, 0);
    REQUIRE(n >= 0);
    return {buf, static_cast<std::size_t>(n)};
}

}  // namespace

TEST_CASE("daemon: sd_notify datagrams reach NOTIFY_SOCKET") {
    temp_dir dir;
    for (const std::string& name : {dir / "notify", "@ospp-test-notify-" + std::to_string(::getpid())}) {
        CAPTURE(name);
        ospp::fd listener = notify_listener(name);
        auto with_socket = [&] { ::setenv("NOTIFY_SOCKET", name.c_str(), 1); };
        {
            daemon_run run = start([](daemon_context&) {}, {}, with_socket);
            REQUIRE(run.launcher_succeeded());
            CHECK(receive(listener.get()) == "MAINPID=" + std::to_string(run.pid) + "\nREADY=1");
            // The socket was used and closed: the daemon keeps no extra fd for it.
            CHECK(fd_numbers(run.pid) == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1]});
        }
        {
            daemon_run run = start([&](daemon_context& ctx) { ctx.working_directory = dir / "missing"; }, {},
                                   with_socket);
            CHECK(run.launcher_exit() == 1);
            CHECK(receive(listener.get()) == "ERRNO=2");
        }
    }
}

TEST_CASE("daemon: starting with 0-2 closed works, and nothing lands on them by accident") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    auto close_stdio = [] {
        // Keep a way to report failure: the error pipe moves to fd 9 first.
        ::dup2(2, 9);
        ::close(0);
        ::close(1);
        ::close(2);
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, close_stdio);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    for (int n : {0, 1, 2}) CHECK(fd_link(run.pid, n) == "/dev/null");
    const std::set<int> fds = fd_numbers(run.pid);
    const int pid_fd = fd_of(run.pid, pidfile);
    CHECK(pid_fd > 2);
    CHECK(fds == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1], pid_fd});
    CHECK(locked(pidfile));
    run.stop(SIGTERM);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("daemon: stdio can be given as fds; they arrive on 0-2 inheritable") {
    temp_dir dir;
    const std::string log = dir / "log";
    auto body = [](daemon_context&, int report, int) {
        std::printf("to stdout\n");
        std::fflush(stdout);
        std::fputs("to stderr\n", stderr);
        write_text(report, "wrote 1\n");
    };
    // The launcher opens the log; the daemon gets it as both stdout and stderr.
    int log_fd = -1;
    auto setup = [&] { log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644); };
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.stdout_file = ospp::fd_ref(log_fd);
        ctx.stderr_file = ospp::fd_ref(log_fd);
    }, body, setup);
    REQUIRE(run.launcher_succeeded());
    CHECK(reported(run, "wrote") == "1");
    CHECK(ospp_test::read_file(log) == "to stdout\nto stderr\n");
    for (int n : {1, 2}) {
        CHECK(fd_link(run.pid, n) == log);
        CHECK_FALSE(fd_cloexec(run.pid, n));
    }
    // The launcher's own copy (log_fd) was not preserved, so the daemon does not hold it.
    CHECK(fd_numbers(run.pid) == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1]});
    run.stop(SIGTERM);
}

TEST_CASE("daemon: stdio is flushed before fork, so nothing is written twice") {
    temp_dir dir;
    const std::string log = dir / "log";
    auto setup = [&] {
        const int f = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(f, 1);
        ::close(f);
        std::fputs("buffered before open\n", stdout);  // a file: fully buffered, still in memory
    };
    daemon_run run = start([](daemon_context&) {}, {}, setup);
    REQUIRE(run.launcher_succeeded());
    run.stop(SIGTERM);
    CHECK(ospp_test::read_file(log) == "buffered before open\n");
}

TEST_CASE("daemon: notify_ready_manually keeps the launcher waiting until notify_ready()") {
    pid_t launcher = 0;
    auto setup = [&] { launcher = ::getpid(); };
    auto body = [&](daemon_context& ctx, int report, int) {
        // The launcher is still blocked in open(): alive (not a zombie) and sleeping.
        write_text(report, std::string("launcher ") + read_stat(launcher).state + "\n");
        const bool ok = ctx.notify_ready().has_value() && ctx.notify_ready().has_value();  // twice: no-op
        write_text(report, std::string("notified ") + (ok ? "1" : "0") + "\n");
    };
    daemon_run run = start([](daemon_context& ctx) { ctx.notify_ready_manually = true; }, body, setup);
    REQUIRE(run.launcher_succeeded());
    CHECK(reported(run, "launcher") == "S");
    CHECK(reported(run, "notified") == "1");
    // The readiness pipe is gone once used.
    CHECK(fd_numbers(run.pid) == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1]});
    run.stop(SIGTERM);
}

TEST_CASE("daemon: notify_ready() after the launcher is gone fails with EPIPE, and the daemon lives on") {
    // errors of ospp::daemon::daemon_context::notify_ready are checked by: the daemon's report line
    pid_t launcher = 0;
    auto setup = [&] { launcher = ::getpid(); };
    auto body = [&](daemon_context& ctx, int report, int) {
        auto gone = ospp::pidfd_open(launcher);
        if (!gone || ::kill(launcher, SIGKILL) != 0) return write_text(report, "notified <no launcher>\n");
        pollfd pfd{gone->get(), POLLIN, 0};
        while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {
        }
        auto r = ctx.notify_ready();  // a write to a pipe without reader: SIGPIPE must not kill us
        write_text(report, "notified " + (r ? std::string("ok") : r.error().message()) + "\n");
    };
    daemon_run run = start([](daemon_context& ctx) { ctx.notify_ready_manually = true; }, body, setup);
    CHECK(reported(run, "notified") == "ready: [Errno 32] Broken pipe");
    CHECK(run.launcher_exit() == -1);  // killed
    run.stop(SIGTERM);  // it wrote the report after notify_ready(): SIGPIPE did not kill it
}

TEST_CASE("daemon: a daemon that dies before it is ready fails the launcher with EPIPE") {
    auto body = [](daemon_context&, int, int) { ::_exit(3); };
    daemon_run run = start([](daemon_context& ctx) { ctx.notify_ready_manually = true; }, body);
    CHECK(run.launcher_exit() == 1);
    CHECK(run.err == "ready: [Errno 32] Broken pipe\n");
    run.pid = -1;  // already dead; the destructor reaps it
}

TEST_CASE("daemon: locked_pidfile() is the pidfile the daemon holds, until close()") {
    CHECK(daemon_context().locked_pidfile() == nullptr);
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    auto body = [pidfile](daemon_context& ctx, int report, int) {
        const ospp::daemon::pidfile* held = ctx.locked_pidfile();
        write_text(report, std::string("held ") + (held != nullptr ? "1" : "0") + "\n");
        if (held == nullptr) return;
        write_text(report, "path " + held->path() + "\nfd " + fd_link(::getpid(), held->get().get()) + "\n");
        ctx.close();
        write_text(report, std::string("after close ") + (ctx.locked_pidfile() == nullptr ? "none" : "held") + "\n");
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, body);
    REQUIRE(run.launcher_succeeded());
    CHECK(reported(run, "held") == "1");
    CHECK(reported(run, "path") == pidfile);
    CHECK(reported(run, "fd") == pidfile);  // the descriptor open on the file
    CHECK(reported(run, "after close") == "none");
    CHECK_FALSE(exists(pidfile));  // close() released it
    run.stop(SIGTERM);
}

namespace {
// A launcher's own SIGCHLD handler that reaps every child, as a server that forks workers has.
void reap_every_child(int) {
    const int saved = errno;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    errno = saved;
}

void install_reaper() {
    struct ::sigaction sa {};
    sa.sa_handler = reap_every_child;
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGCHLD, &sa, nullptr);
}

void ignore_sigchld() { ::signal(SIGCHLD, SIG_IGN); }
}  // namespace

TEST_CASE("daemon: ready_timeout fails the launcher with ETIMEDOUT and kills the daemon that did not report") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    const std::string timed_out = "ready: [Errno 110] Connection timed out: 'no report within 200 ms'\n";
    auto never_ready = [](daemon_context&, int, int hold) {
        char c;
        while (::read(hold, &c, 1) != 0 && errno == EINTR) {
        }
    };
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.pidfile = pidfile;
        ctx.notify_ready_manually = true;
        ctx.ready_timeout = std::chrono::milliseconds(200);
    }, never_ready);
    CHECK(run.launcher_exit() == 1);
    CHECK(run.err == timed_out);
    REQUIRE(run.pid > 0);  // it ran, and was killed: the report pipe reached end of file
    int status = 0;
    REQUIRE(::waitpid(run.pid, &status, 0) == run.pid);
    run.pid = -1;
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK_FALSE(exists(pidfile));  // released by the launcher

    // Opening a FIFO nobody reads blocks the first child (the stdio files are opened after the
    // fork): the timeout covers that too, and no daemon is ever made.
    const std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    daemon_run blocked = start([&](daemon_context& ctx) {
        ctx.stdout_file = std::filesystem::path(fifo);
        ctx.ready_timeout = std::chrono::milliseconds(200);
    });
    CHECK(blocked.launcher_exit() == 1);
    CHECK(blocked.err == timed_out);
    CHECK(blocked.pid == -1);

    // Launchers whose first child was reaped as it exited: one that ignores SIGCHLD (inherited
    // from its parent), where the kernel reaps it, and one whose own handler reaps every child. The
    // launcher could not pin the pid that names the daemon's session (ECHILD), skipped killing that
    // group, and left the daemon running behind a start it reported as failed and a pidfile it
    // removed (and its SIGKILL went to a pid anyone could have by then). Until its wait is over,
    // SIGCHLD is now handled without SIG_IGN and SA_NOCLDWAIT, and blocked.
    for (void (*setup)() : {ignore_sigchld, install_reaper}) {
        const std::string launcher = setup == ignore_sigchld ? "SIG_IGN" : "a handler that reaps";
        CAPTURE(launcher);
        daemon_run reaped = start([&](daemon_context& ctx) {
            ctx.pidfile = pidfile;
            ctx.notify_ready_manually = true;
            ctx.ready_timeout = std::chrono::milliseconds(200);
        }, [&](daemon_context& ctx, int report, int hold) {
            write_text(report, "end\n");  // start() returns, whether this daemon is killed or not
            never_ready(ctx, report, hold);
        }, setup);
        CHECK(reaped.launcher_exit() == 1);
        CHECK(reaped.err == timed_out);
        REQUIRE(reaped.pid > 0);
        const ospp::fd ended(static_cast<int>(::syscall(SYS_pidfd_open, reaped.pid, 0)));
        REQUIRE(ended.valid());
        pollfd p{ended.get(), POLLIN, 0};
        CHECK(::poll(&p, 1, 10'000) == 1);  // killed (a bound, not a wait: it ends at once or never)
        CHECK(WTERMSIG(reaped.stop(SIGKILL)) == SIGKILL);
        CHECK_FALSE(exists(pidfile));
        // Such a launcher, whose open() failed, has its SIGCHLD handling back, unblocked.
        CHECK(ospp_test::exit_code_of([&] {
            setup();
            struct ::sigaction before {}, after {};
            ::sigaction(SIGCHLD, nullptr, &before);
            daemon_context ctx;
            ctx.detach_process = true;
            ctx.stdout_file = std::filesystem::path(dir / "missing/out");  // fails in the first child
            const auto opened = ctx.open();
            ::sigaction(SIGCHLD, nullptr, &after);
            sigset_t mask;
            ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
            if (opened || opened.error().code() != ENOENT) return 1;
            return after.sa_handler == before.sa_handler && sigismember(&mask, SIGCHLD) == 0 ? 0 : 2;
        }) == 0);
    }
}

namespace {
volatile sig_atomic_t g_usr2 = 0;
void count_usr2(int) { g_usr2 = g_usr2 + 1; }
}  // namespace

TEST_CASE("daemon: signal_map delivers to the program's loop, calls handlers, ignores, defaults") {
    auto body = [](daemon_context& ctx, int report, int hold) {
        write_text(report, "signal_fd " + std::to_string(ctx.signal_fd().get() >= 0) + "\nend\n");
        // Wait for the test's SIGUSR1 on the self-pipe, as a program's poll loop would.
        pollfd p{ctx.signal_fd().get(), POLLIN, 0};
        while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
        }
        auto sig = ctx.read_signal();
        write_text(report, "got " + (sig && *sig ? ospp::signal_name(**sig) : std::string("none")) + "\n");
        auto none = ctx.read_signal();
        write_text(report, std::string("then ") + (none && !*none ? "empty" : "?") + "\n");
        // SIGUSR2 runs the plain handler; wait for the test's byte that says it was sent.
        char c;
        while (::read(hold, &c, 1) < 0 && errno == EINTR) {
        }
        write_text(report, "usr2 " + std::to_string(g_usr2) + "\n");
    };
    daemon_run run = start([](daemon_context& ctx) {
        ctx.signal_map[signum::usr1] = signal_action::deliver();
        ctx.signal_map[signum::usr2] = signal_action::handler(count_usr2);
        ctx.signal_map[signum::hup] = signal_action::ignore();
        ctx.signal_map[signum::tstp] = signal_action::default_action();
    }, body);
    REQUIRE(run.launcher_succeeded());
    CHECK(reported(run, "signal_fd") == "1");
    // HUP(1), TTIN(21), TTOU(22) ignored; TSTP(20) back to default.
    CHECK(status_field(run.pid, "SigIgn") == "0000000000300001");
    CHECK(status_field(run.pid, "SigCgt") == "0000000000004a00");  // USR1(10) USR2(12) TERM(15)
    REQUIRE(::kill(run.pid, SIGUSR1) == 0);
    std::string more = read_until(run.report_read.get(), "then ");
    more += read_until(run.report_read.get(), "\n");
    CHECK(more == "got USR1\nthen empty\n");
    REQUIRE(::kill(run.pid, SIGUSR2) == 0);
    // kill() leaves SIGUSR2 pending on the daemon; it is handled on the daemon's next return to
    // user space, so before its read() of the byte written below can return (SA_RESTART).
    write_text(run.hold.get(), "x");
    more = read_until(run.report_read.get(), "\n");
    CHECK(more == "usr2 1\n");
    run.stop(SIGTERM);
}

namespace {

// A thread of the daemon, traced: held by ptrace where hold_in_handler stopped it until release().
struct traced_thread {
    pid_t tid = -1;
    int error = 0;  // errno of PTRACE_SEIZE when it failed (tid is then -1)
    explicit traced_thread(pid_t thread) {
        if (::ptrace(PTRACE_SEIZE, thread, nullptr, PTRACE_O_TRACESYSGOOD) == 0) tid = thread;
        else error = errno;
    }
    traced_thread(const traced_thread&) = delete;
    traced_thread& operator=(const traced_thread&) = delete;
    ~traced_thread() { release(); }
    void release() {
        if (tid > 0) ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
        tid = -1;
    }

    // Sends `sig` to `pid` (of which only this thread takes it) and holds the thread at the entry
    // of the first `syscall_nr` it makes afterwards: for a handler, the first call it makes.
    void hold_in_handler(pid_t pid, int sig, long syscall_nr) const {
        REQUIRE(::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0);
        int st = 0;
        REQUIRE(::waitpid(tid, &st, __WALL) == tid);
        REQUIRE(::ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr) == 0);
        REQUIRE(::kill(pid, sig) == 0);
        for (;;) {
            REQUIRE(::waitpid(tid, &st, __WALL) == tid);
            REQUIRE(WIFSTOPPED(st));
            long pass = 0;
            if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
                __ptrace_syscall_info info{};
                REQUIRE(::ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) > 0);
                if (info.op == PTRACE_SYSCALL_INFO_ENTRY && static_cast<long>(info.entry.nr) == syscall_nr) return;
            } else if (WSTOPSIG(st) == sig) {
                pass = sig;  // the signal-delivery stop: deliver it, so that the handler runs
            }
            REQUIRE(::ptrace(PTRACE_SYSCALL, tid, nullptr, pass) == 0);
        }
    }
};

}  // namespace

TEST_CASE("daemon: close() waits for a deliver() handler another thread is running, so its byte cannot land in a reused fd") {
    // The handler reads the self-pipe's number, then writes to it. Were close() to close the pipe
    // in between, the number could name a file opened since, and the byte would land there.
    auto body = [](daemon_context& ctx, int report, int hold) {
        sigset_t usr1;
        ::sigemptyset(&usr1);
        ::sigaddset(&usr1, SIGUSR1);
        ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr);  // only the thread below takes SIGUSR1
        std::atomic<pid_t> tid{0};
        std::thread handler_thread([&] {
            ::pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
            tid = ::gettid();
            tid.notify_one();
            for (;;) ::pause();
        });
        handler_thread.detach();  // ended by the process's _exit
        tid.wait(0);
        write_text(report, "tid " + std::to_string(tid.load()) + "\nend\n");
        char c;
        while (::read(hold, &c, 1) < 0 && errno == EINTR) {
        }
        ctx.close();
        // Files on every free number up to 63, the self-pipe's old ones among them.
        std::vector<int> files;
        while (files.empty() || (files.back() >= 0 && files.back() < 64)) files.push_back(::memfd_create("reused", MFD_CLOEXEC));
        write_text(report, "closed\n");
        while (::read(hold, &c, 1) < 0 && errno == EINTR) {
        }
        long stray = 0;
        for (int f : files) {
            struct ::stat st {};
            stray += ::fstat(f, &st) == 0 ? st.st_size : 1000;
        }
        write_text(report, "stray " + std::to_string(stray) + "\n");
    };
    daemon_run run = start([](daemon_context& ctx) {
        ctx.detach_process = false;
        ctx.prevent_core = false;
        ctx.signal_map[signum::usr1] = signal_action::deliver();
    }, body);
    REQUIRE(run.pid > 0);
    traced_thread held(std::stoi(reported(run, "tid")));
    if (held.error == EPERM) OSPP_SKIP("ptrace is refused here (a seccomp filter, or Yama); the test holds a thread with it");
    REQUIRE(held.tid > 0);
    held.hold_in_handler(run.pid, SIGUSR1, SYS_write);
    write_text(run.hold.get(), "c");
    // close() must not return while the handler is held; half a second is plenty for it to be
    // seen returning were it not to wait (a slow machine can only make this miss the bug).
    pollfd p{run.report_read.get(), POLLIN, 0};
    CHECK(::poll(&p, 1, 500) == 0);
    held.release();
    CHECK(read_until(run.report_read.get(), "closed\n") == "closed\n");
    write_text(run.hold.get(), "r");
    CHECK(read_until(run.report_read.get(), "\n") == "stray 0\n");
    run.hold.reset();
    int status = 0;
    REQUIRE(::waitpid(run.pid, &status, 0) == run.pid);
    run.pid = -1;
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("daemon: without detaching, open() returns in the same process") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    pid_t launcher = 0;
    int sockets[2] = {-1, -1};
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) == 0);
    // stdin a socket: what inetd gives; detach_process unset guesses "do not detach".
    auto setup = [&] {
        launcher = ::getpid();
        ::dup2(sockets[0], 0);
    };
    auto body = [&](daemon_context& ctx, int report, int hold) {
        write_text(report, "same " + std::to_string(::getpid() == launcher) + "\n");
        // Open beyond 0-2 and the test's own pipes: the pidfile only (no copy of the caller's
        // stdio, which open() keeps while it may fail and must let go of once it succeeded).
        std::string others;
        for (int n = 3; n < 256; ++n) {
            if (n == report || n == hold) continue;
            char target[4096];
            const ssize_t len = ::readlink(("/proc/self/fd/" + std::to_string(n)).c_str(), target, sizeof target);
            if (len > 0) others += std::string(target, static_cast<std::size_t>(len)) + ";";
        }
        write_text(report, "others " + others + "\n");
        const bool again = ctx.open().has_value() && ctx.is_open();  // idempotent
        ctx.close();
        ctx.close();
        write_text(report, "again " + std::to_string(again) + " closed " + std::to_string(!ctx.is_open()) +
                               " pidfile " + std::to_string(exists(pidfile)) + "\n");
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, body, setup);
    ::close(sockets[0]);
    ::close(sockets[1]);
    REQUIRE(run.pid > 0);
    CHECK(reported(run, "same") == "1");
    CHECK(reported(run, "others") == pidfile + ";");
    CHECK(reported(run, "again") == "1 closed 1 pidfile 0");
    const int status = run.stop(SIGKILL);
    CHECK(WIFSIGNALED(status));
}

TEST_CASE("daemon: a files_preserve entry that is not open keeps nothing open() made meanwhile") {
    // A closed number in files_preserve (python-daemon skips closed file objects) must not keep
    // whatever open() itself opens on that number: here the launcher's end of the readiness pipe,
    // which would also hide from the daemon that the launcher is gone.
    int closed = -1;
    auto setup = [&] {
        closed = ::dup(0);  // the lowest free number, which open()'s first new fd will get
        ::close(closed);
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.files_preserve.push_back(ospp::fd_ref(closed)); }, {}, setup);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    REQUIRE(run.pid > 0);
    CHECK(fd_numbers(run.pid) == std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1]});
    run.stop(SIGKILL);
}

TEST_CASE("daemon: started by init (parent pid 1), detach_process unset does not fork") {
    OSPP_REQUIRE_ROOT();  // a PID namespace, whose first process is the parent's pid 1
    auto report = ospp::pipe().value();
    const pid_t outer = ::fork();
    REQUIRE(outer >= 0);
    if (outer == 0) {
        report.read_end.reset();
        if (::unshare(CLONE_NEWPID) != 0) ::_exit(70);
        const pid_t init = ::fork();  // pid 1 of the new namespace
        if (init < 0) ::_exit(71);
        if (init > 0) {
            int st = 0;
            ::_exit(::waitpid(init, &st, 0) == init && WIFEXITED(st) ? WEXITSTATUS(st) : 72);
        }
        const pid_t service = ::fork();
        if (service < 0) ::_exit(73);
        if (service > 0) {
            int st = 0;
            ::_exit(::waitpid(service, &st, 0) == service && WIFEXITED(st) ? WEXITSTATUS(st) : 74);
        }
        const pid_t before = ::getpid();
        const pid_t parent = ::getppid();
        daemon_context ctx;
        ctx.files_preserve = {report.write_end};
        if (!ctx.open()) ::_exit(75);
        write_text(report.write_end.get(), "ppid " + std::to_string(parent) + " same " +
                                               std::to_string(::getpid() == before) + "\n");
        ::_exit(0);
    }
    report.write_end.reset();
    const std::string said = read_all(report.read_end.get());
    int status = 0;
    REQUIRE(::waitpid(outer, &status, 0) == outer);
    CHECK(status == 0);
    CHECK(said == "ppid 1 same 1\n");
}

TEST_CASE("daemon: without detaching, a failed step leaves stderr where it was, to print the error on") {
    // Under systemd (parent pid 1: no fork) stderr is the journal. 0-2 are wired to /dev/null
    // before chdir, chroot and the id changes; a failure there was returned with stderr on
    // /dev/null, and the launcher's message was lost. (python-daemon redirects last.)
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.pidfile = pidfile;
        ctx.detach_process = false;
        ctx.working_directory = dir / "missing";
    });
    CHECK(run.launcher_exit() == 1);
    CHECK(run.err == "chdir: [Errno 2] No such file or directory: '" + (dir / "missing") + "'\n");
    REQUIRE(run.pid == -1);
}

TEST_CASE("daemon: enter() is Python's with statement; environment replaces the environment") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    auto body = [&](daemon_context& ctx, int report, int) {
        ctx.close();  // the context the harness opened; the scope below opens it again
        {
            auto scope = ctx.enter();
            write_text(report, "scope " + std::to_string(scope.has_value() && ctx.is_open()) + " pidfile " +
                                   std::to_string(exists(pidfile)) + "\n");
        }
        write_text(report, "after " + std::to_string(!ctx.is_open()) + " pidfile " + std::to_string(exists(pidfile)) +
                               "\n");
        const char* path = std::getenv("PATH");
        const char* only = std::getenv("ONLY");
        write_text(report, std::string("env ") + (path == nullptr ? "-" : path) + " " + (only ? only : "-") + "\n");
    };
    daemon_run run = start([&](daemon_context& ctx) {
        ctx.pidfile = pidfile;
        ctx.detach_process = false;  // entering again must not fork again
        ctx.environment = std::vector<std::string>{"ONLY=1"};
    }, body);
    REQUIRE(run.pid > 0);
    CHECK(reported(run, "scope") == "1 pidfile 1");
    CHECK(reported(run, "after") == "1 pidfile 0");
    CHECK(reported(run, "env") == "- 1");
    run.stop(SIGKILL);
}

TEST_CASE("daemon: a context opened and closed again and again does not keep what each open() built") {
    // Each open() kept the state of the one before (its environment block, its lists) for the
    // context's lifetime: 110 kB more per open() and close() with a 100 kB environment.
#ifdef OSPP_TEST_SANITIZER
    OSPP_SKIP("the sanitizer's allocator is not glibc's: mallinfo2 does not see it");
#endif
    auto body = [&](daemon_context& ctx, int report, int) {
        std::vector<std::string> env{"PATH=/bin", "BIG=" + std::string(64 * 1024, 'x')};
        const auto cycle = [&] {
            ctx.close();
            env[0].back() = env[0].back() == 'n' ? 'N' : 'n';  // a new environment each time
            ctx.environment = env;
            return ctx.open().has_value();
        };
        bool opened = cycle() && cycle();
        const std::size_t before = ::mallinfo2().uordblks;
        for (int i = 0; i < 20; ++i) opened = cycle() && opened;
        const std::size_t after = ::mallinfo2().uordblks;
        const char* big = std::getenv("BIG");
        write_text(report, "opened " + std::to_string(opened) + " env " + std::to_string(big ? std::strlen(big) : 0) +
                               " kept " + std::to_string(after > before + 64 * 1024) + "\n");
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.detach_process = false; }, body);
    REQUIRE(run.pid > 0);
    CHECK(reported(run, "opened") == "1 env 65536 kept 0");
    run.stop(SIGKILL);
}

TEST_CASE("daemon: open() and enter() that fail before any fork return the error in this process") {
    // A pidfile in a missing directory fails in the launcher's first step: nothing has changed yet.
    temp_dir dir;
    const std::string pidfile = dir / "missing/d.pid";
    daemon_context ctx;
    ctx.pidfile = pidfile;
    ctx.detach_process = false;
    const std::string expected = "pidfile: [Errno 2] No such file or directory: '" + pidfile + "'";
    CHECK_ERRNO(ctx.open(), ENOENT, expected);
    CHECK_ERRNO(ctx.enter(), ENOENT, expected);
    CHECK_FALSE(ctx.is_open());
}

TEST_CASE("daemon: an environment entry that names no variable, or holds a NUL byte, fails open() first") {
    // As Python's os.execve refuses {"": "x"} and "embedded null byte" (ValueError). "=A=1" is the
    // variable "=A", as Python lets a key start with '='.
    const std::string bad[] = {"NOEQUALS", "=x", "", std::string("A=b\0c", 5)};
    for (const std::string& entry : bad) {
        CAPTURE(entry);
        daemon_context ctx;
        ctx.detach_process = false;
        ctx.environment = std::vector<std::string>{"GOOD=1", entry};
        CHECK_ERRNO(ctx.open(), EINVAL, "environment: [Errno 22] Invalid argument: " + ospp::quote_path(entry));
        CHECK_FALSE(ctx.is_open());
    }
}

namespace {

// A launcher set-up, run as root, that becomes nobody with the supplementary groups `groups`.
std::function<void()> become_nobody_with(std::vector<::gid_t> groups) {
    return [groups] {
        if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(40);
    };
}

}  // namespace

TEST_CASE("daemon: unprivileged, initgroups asking for other groups fails at setgroups") {
    OSPP_REQUIRE_ROOT();  // to make an unprivileged launcher with groups nobody's list lacks
    daemon_run run = start([](daemon_context& ctx) { ctx.initgroups = true; }, {}, become_nobody_with({100}));
    CHECK(run.launcher_exit() == 1);
    CHECK(run.err == "setgroups: [Errno 1] Operation not permitted\n");
}

TEST_CASE("daemon: unprivileged without supplementary groups, initgroups to its own gid alone is no change") {
    // nobody's initgroups list is {65534}, its gid: what a process run as 65534:65534 with no
    // supplementary groups (a container's --user) already has access to. No setgroups, no EPERM.
    REQUIRE(ospp::getgrouplist("nobody", 65534).value() == std::vector<::gid_t>{65534});
    std::function<void()> setup;
    if (ospp_test::is_root()) setup = become_nobody_with({});
    else if (::getuid() != 65534 || ::getgid() != 65534 || ::getgroups(0, nullptr) != 0)
        OSPP_SKIP("runs as root, or as nobody without supplementary groups");
    daemon_run run = start([](daemon_context& ctx) { ctx.initgroups = true; }, {}, setup);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    CHECK(status_field(run.pid, "Gid") == "65534\t65534\t65534\t65534");
    run.stop(SIGTERM);
}

TEST_CASE("daemon: without close_range, fds are closed from the /proc/self/fd listing") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    // In the launcher: stray inheritable fds to be closed, then a seccomp filter that makes
    // close_range fail with ENOSYS, as on a kernel older than 5.9.
    auto no_close_range = [] {
        for (int i = 0; i < 5; ++i) {
            if (::open("/dev/null", O_RDONLY) < 0) ::_exit(50);
        }
        if (::fcntl(0, F_DUPFD, 100) < 0) ::_exit(51);  // a high one, after a gap
        if (!ospp_test::refuse_syscall(SYS_close_range, ENOSYS)) ::_exit(52);
        if (::syscall(SYS_close_range, 1000U, 1000U, 0U) != -1 || errno != ENOSYS) ::_exit(53);
    };
    daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, no_close_range);
    INFO("launcher stderr: " << run.err);
    REQUIRE(run.launcher_succeeded());
    CHECK(fd_numbers(run.pid) ==
          std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1], fd_of(run.pid, pidfile)});
    run.stop(SIGTERM);
}

// Without close_range and without /proc, every number is tried: up to the hard descriptor limit,
// for an fd may lie above the soft one (systemd's advice is to raise the soft limit for oneself
// and lower it again for one's children, who then inherit fds above it).
TEST_CASE("daemon: without close_range and /proc, fds above the soft limit are closed too (as root)") {
    OSPP_REQUIRE_ROOT();
#ifdef OSPP_TEST_SANITIZER
    OSPP_SKIP("the sanitizer runtime needs /proc");
#endif
    for (const int err : {ENOSYS, EPERM}) {  // a kernel before 5.9; a seccomp filter that predates it
        CAPTURE(err);
        temp_dir dir;
        const std::string pidfile = dir / "d.pid";
        auto bare = [err] {
            if (::fcntl(0, F_DUPFD, 200) != 200) ::_exit(50);  // inheritable, above the soft limit set below
            struct ::rlimit lim {};
            if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_max <= 200) ::_exit(51);
            lim.rlim_cur = 100;
            if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(52);
            if (!ospp_test::private_mount_namespace() || ::umount2("/proc", MNT_DETACH) != 0) ::_exit(53);
            if (!ospp_test::refuse_syscall(SYS_close_range, err)) ::_exit(54);
        };
        daemon_run run = start([&](daemon_context& ctx) { ctx.pidfile = pidfile; }, {}, bare);
        INFO("launcher stderr: " << run.err);
        REQUIRE(run.launcher_succeeded());
        CHECK_FALSE(fd_numbers(run.pid).contains(200));
        CHECK(fd_numbers(run.pid) ==
              std::set<int>{0, 1, 2, run.preserved[0], run.preserved[1], fd_of(run.pid, pidfile)});
        run.stop(SIGTERM);
    }
}

TEST_CASE("daemon: PEP 3143's defaults, and the calls that need no daemon") {
    daemon_context ctx;
    CHECK(ctx.files_preserve.empty());
    CHECK_FALSE(ctx.chroot_directory.has_value());
    CHECK(ctx.working_directory == "/");
    CHECK(ctx.umask == 0);
    CHECK_FALSE(ctx.pidfile.has_value());
    CHECK_FALSE(ctx.detach_process.has_value());
    CHECK(ctx.signal_map == std::map<signum, signal_action>{{signum::tstp, signal_action::ignore()},
                                                            {signum::ttin, signal_action::ignore()},
                                                            {signum::ttou, signal_action::ignore()},
                                                            {signum::term, signal_action::terminate()}});
    CHECK(ospp::daemon::default_signal_map() == ctx.signal_map);  // the map to start one's own from
    CHECK_FALSE(ctx.uid.has_value());
    CHECK_FALSE(ctx.gid.has_value());
    CHECK_FALSE(ctx.initgroups);
    CHECK(ctx.prevent_core);
    CHECK(std::holds_alternative<std::monostate>(ctx.stdin_file));
    CHECK_FALSE(ctx.environment.has_value());
    CHECK_FALSE(ctx.notify_ready_manually);

    CHECK_FALSE(ctx.is_open());
    ctx.close();  // closing a context that was never opened does nothing
    CHECK_FALSE(ctx.signal_fd().get() >= 0);
    CHECK_ERRNO(ctx.read_signal(), EBADF, "read_signal: [Errno 9] Bad file descriptor");
    CHECK(ctx.notify_ready().has_value());  // nobody is waiting: nothing to say
    CHECK(ctx.failure_message(ospp::errno_error(ENOENT, "chdir", "/x")) ==
          "chdir: [Errno 2] No such file or directory: '/x'");

    const daemon_context configured({.working_directory = "/srv", .umask = 027, .pidfile = "/run/x.pid"});
    CHECK(configured.working_directory == "/srv");
    CHECK(configured.umask == 027);
    CHECK(configured.pidfile == std::filesystem::path("/run/x.pid"));
    CHECK(signal_action() == signal_action::default_action());
    CHECK((signal_action::handler(count_usr2).function() == &count_usr2));
    CHECK(signal_action::handler(count_usr2).what() == signal_action::kind::handler);
}
