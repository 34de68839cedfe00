// test/fork_safety_test.cpp — nothing allocates between fork and exec.
//
// ospp's headers promise that the code it runs in a forked child — ospp::fork and forkpty up to
// their return, the exec wrappers on a cstring_array, exec_error_pipe::fail, daemon_context::open
// from its fork until it returns in the daemon — neither allocates nor frees (after a fork in a
// multi-threaded program, malloc's lock may be held forever). test/fork_check.c, linked into this
// executable, replaces malloc and friends and reports every call made in a forked child; each test
// forks through the path under test with the check armed and expects no report. ospp-daemonize is
// checked the same way by loading the checker into it with LD_PRELOAD.
// (Not built with sanitizers, which bring their own malloc: see test/meson.build.)
#include <cxxabi.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ospp/daemon.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/process.hpp"
#include "ospp/signal_state.hpp"
#include "ospp/terminal.hpp"
#include "child.hpp"
#include "support.hpp"

extern "C" {
void fork_check_arm_children(int on);
void fork_check_disarm(void);
void fork_check_report_to(int fd);
}

extern char** environ;  // NOLINT

using ospp_test::temp_dir;

namespace {

// Everything until end of file (the library's read_all; a read error fails the test).
std::string read_all(int f) { return ospp::read_all(ospp::fd_ref(f)).value(); }

// The checker's report lines, each return address followed by its function where dladdr names one
// (this executable and libospp.so share the child's address space layout).
std::string symbolised(const std::string& reports) {
    std::istringstream in(reports);
    std::string out, word;
    while (in >> word) {
        out += word;
        if (word.rfind("0x", 0) == 0) {
            Dl_info info{};
            const auto addr = static_cast<std::uintptr_t>(std::stoull(word, nullptr, 16));
            if (::dladdr(reinterpret_cast<void*>(addr - 1), &info) != 0 && info.dli_sname != nullptr) {
                int status = 0;
                std::unique_ptr<char, decltype(&std::free)> name(
                    abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status), &std::free);
                out += std::string("(") + (status == 0 ? name.get() : info.dli_sname) + ")";
            }
        }
        out += word == "at" || word.rfind("0x", 0) == 0 ? "\n    " : " ";
    }
    return out;
}

// What a checked child did: the checker's reports (empty: it allocated nothing) and how it ended.
struct child_run {
    std::string reports;
    int status = -1;
    [[nodiscard]] int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status); }
};

// Forks with `fork_fn` (the fork under test: returns the child's pid, 0 in the child) while every
// forked child is armed, and runs `child()` there, which must exec or _exit. Reaps the child and
// returns what the checker saw. `fork_fn` runs in this process: it may allocate.
template <class Fork, class Child>
child_run run_checked(Fork fork_fn, Child child) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    fork_check_report_to(p[1]);
    fork_check_arm_children(1);
    const ::pid_t pid = fork_fn();
    if (pid == 0) {
        child();
        ::_exit(99);
    }
    fork_check_arm_children(0);
    fork_check_report_to(-1);
    ::close(p[1]);
    child_run run;
    run.reports = read_all(p[0]);  // end of file: the child exec'd or exited
    ::close(p[0]);
    REQUIRE(pid > 0);
    REQUIRE(::waitpid(pid, &run.status, 0) == pid);
    return run;
}

// Every fork through ospp runs with register_at_fork hooks, as in a program that registered some:
// trivial ones, and one whose std::function keeps its target on the heap.
void register_hooks() {
    static const bool registered = [] {
        struct big {
            char bytes[64];
            void operator()() const { (void)bytes[0]; }
        };
        REQUIRE(ospp::register_at_fork({.before = [] {}, .after_in_parent = [] {}, .after_in_child = [] {}}));
        REQUIRE(ospp::register_at_fork({.after_in_child = big{}}));
        return true;
    }();
    REQUIRE(registered);
}

::pid_t ospp_fork() {
    register_hooks();
    auto f = ospp::fork();
    return f ? f->pid() : -1;
}

// How many times `needle` occurs in `text`.
std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

const char* const missing = "/nonexistent/fork-safety";

}  // namespace

TEST_CASE("fork_safety: the checker sees an allocation in a forked child (the test can fail)") {
    const child_run run = run_checked([] { return ::fork(); }, [] {
        void* volatile p = std::malloc(24);
        std::free(p);
        ::_exit(0);
    });
    CHECK(run.exit_code() == 0);
    CHECK(count(run.reports, "fork_check: malloc(24) in forked child") == 1);
    CHECK(count(run.reports, "fork_check: free(0) in forked child") == 1);
    // ... and nothing in a child that only calls system calls.
    CHECK(run_checked([] { return ::fork(); }, [] { ::_exit(::getpid() > 0 ? 0 : 1); }).reports == "");
}

TEST_CASE("fork_safety: ospp::fork with register_at_fork hooks, then _exit") {
    const child_run run = run_checked(ospp_fork, [] { ::_exit(0); });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "");
    CHECK(run.exit_code() == 0);
}

TEST_CASE("fork_safety: ospp::fork then every exec wrapper with a cstring_array, succeeding") {
    const ospp::cstring_array argv{"true"};
    const ospp::cstring_array env{"PATH=/usr/bin:/bin", "A=1"};
    const std::vector<std::pair<const char*, std::function<void()>>> execs{
        {"execv", [&] { (void)ospp::execv("/bin/true", argv); }},
        {"execve", [&] { (void)ospp::execve("/bin/true", argv, env); }},
        {"execvp", [&] { (void)ospp::execvp("true", argv); }},
        {"execvpe", [&] { (void)ospp::execvpe("true", argv, env); }},
        {"execl", [] { (void)ospp::execl("/bin/true", "true"); }},
        {"execlp", [] { (void)ospp::execlp("true", "true"); }},
        {"execle", [&] { (void)ospp::execle("/bin/true", "true", env); }},
        {"execlpe", [&] { (void)ospp::execlpe("true", "true", env); }},
    };
    for (const auto& e : execs) {
        INFO("call: " << std::string(e.first));
        const child_run run = run_checked(ospp_fork, [&] { e.second(); ::_exit(98); });
        INFO(symbolised(run.reports));
        CHECK(run.reports == "");
        CHECK(run.exit_code() == 0);
    }
}

TEST_CASE("fork_safety: failing execs report through exec_error_pipe without allocating") {
    const ospp::cstring_array argv{"fork-safety"};
    // A PATH of long directories (longer than std::string's inline buffer), none with the file.
    const std::string long_dir = "/nonexistent/a-directory-name-longer-than-sso";
    const std::string path_var = "PATH=" + long_dir + "1:" + long_dir + "2";
    const ospp::cstring_array env{path_var};
    const char* old_path = std::getenv("PATH");
    const std::string saved_path = old_path != nullptr ? old_path : "";
    REQUIRE(::setenv("PATH", path_var.c_str() + 5, 1) == 0);
    struct exec_case {
        const char* name;
        std::function<ospp::errno_error()> exec;
    };
    const std::vector<exec_case> execs{
        {"execv", [&] { return ospp::execv(missing, argv); }},
        {"execvp", [&] { return ospp::execvp("fork-safety", argv); }},
        {"execl", [] { return ospp::execl(missing, "fork-safety"); }},
        {"execlp", [] { return ospp::execlp("fork-safety", "fork-safety"); }},
    };
    for (const auto& c : execs) {
        INFO("call: " << std::string(c.name));
        auto report = ospp::exec_error_pipe::create();
        REQUIRE(report);
        const child_run run = run_checked(ospp_fork, [&] { report->fail(c.exec()); });
        INFO(symbolised(run.reports));
        CHECK(run.reports == "");
        CHECK(run.exit_code() == 127);
        const auto started = report->wait_exec();
        REQUIRE_FALSE(started);
        CHECK(started.error().code() == ENOENT);
        CHECK(started.error().call() == std::string(c.name));
    }
    if (old_path != nullptr) {
        REQUIRE(::setenv("PATH", saved_path.c_str(), 1) == 0);
    } else {
        REQUIRE(::unsetenv("PATH") == 0);
    }
}

TEST_CASE("fork_safety: failing execs that name their path copy it once, and nothing else") {
    const ospp::cstring_array argv{"fork-safety"};
    const std::string long_dir = "/nonexistent/a-directory-name-longer-than-sso";
    const ospp::cstring_array env{"PATH=" + long_dir};
    struct exec_case {
        const char* name;
        std::function<ospp::errno_error()> exec;
        std::string named;  // the path the error names: its copy is the one allocation allowed
    };
    const std::vector<exec_case> execs{
        {"execve", [&] { return ospp::execve(missing, argv, env); }, missing},
        {"execvpe", [&] { return ospp::execvpe("fork-safety", argv, env); }, long_dir + "/fork-safety"},
        {"execle", [&] { return ospp::execle(missing, "fork-safety", env); }, missing},
        {"execlpe", [&] { return ospp::execlpe("fork-safety", "fork-safety", env); }, long_dir + "/fork-safety"},
    };
    for (const auto& c : execs) {
        INFO("call: " << std::string(c.name));
        const child_run run = run_checked(ospp_fork, [&] {
            const ospp::errno_error e = c.exec();
            ::_exit(e.code() == ENOENT && e.path() == c.named ? 0 : 1);
        });
        INFO(symbolised(run.reports));
        // errno_error keeps its paths in one block of size + 2 (see src/error.cpp).
        CHECK(run.reports.rfind("fork_check: malloc(" + std::to_string(c.named.size() + 2) + ")", 0) == 0);
        CHECK(count(run.reports, "fork_check:") == 1);
        CHECK(run.exit_code() == 0);
    }
    // A candidate longer than PATH_MAX (never exec'd: ENAMETOOLONG) is named whole all the same.
    const std::string huge = "/" + std::string(PATH_MAX, 'd');
    const ospp::errno_error e = ospp::execvpe("fork-safety", argv, ospp::cstring_array{"PATH=" + huge});
    CHECK(e.code() == ENAMETOOLONG);
    CHECK(e.path() == huge + "/fork-safety");
}

TEST_CASE("fork_safety: forkpty, returning in the child, then exec or _exit") {
    ospp::fd master;
    auto forkpty = [&] {
        register_hooks();
        auto f = ospp::forkpty();
        if (!f) return -1;
        master = std::move(f->master);
        return f->process.pid();
    };
    const child_run exited = run_checked(forkpty, [] { ::_exit(0); });
    INFO(symbolised(exited.reports));
    CHECK(exited.reports == "");
    CHECK(exited.exit_code() == 0);
    master.reset();

    const ospp::cstring_array argv{"true"};
    const child_run execd = run_checked(forkpty, [&] { (void)ospp::execv("/bin/true", argv); });
    INFO(symbolised(execd.reports));
    CHECK(execd.reports == "");
    CHECK(execd.exit_code() == 0);
    master.reset();
}

TEST_CASE("fork_safety: login_tty and the signal-state calls a child makes before exec") {
    auto pty = ospp::openpty();
    REQUIRE(pty);
    const ospp::cstring_array argv{"true"};
    const child_run run = run_checked(ospp_fork, [&] {
        const bool ok = ospp::login_tty(std::move(pty->slave)) && ospp::reset_signal_handlers() &&
                        ospp::set_signal_mask(ospp::signal_set()) && ospp::ignore_signal(ospp::signum::pipe) &&
                        ospp::default_signal_handler(ospp::signum::pipe);
        if (!ok) ::_exit(97);
        (void)ospp::execv("/bin/true", argv);
    });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "");
    CHECK(run.exit_code() == 0);
}

TEST_CASE("fork_safety: the fd calls a child makes before exec, as process.hpp's example, failing ones too") {
    // The exec_error_pipe example wires stdout with ospp::dup2 in the child and reports its failure
    // through the pipe: none of that may allocate, on success or on failure (no path in the error).
    auto devnull = ospp::open("/dev/null", ospp::open_flags::rdwr);
    REQUIRE(devnull);
    auto report = ospp::exec_error_pipe::create();
    REQUIRE(report);
    const ospp::cstring_array argv{"true"};
    const child_run run = run_checked(ospp_fork, [&] {
        const bool ok = ospp::dup2(*devnull, ospp::fd_ref(0)) && ospp::dup2(*devnull, ospp::fd_ref(1), false) &&
                        ospp::set_inheritable(ospp::fd_ref(1), true) && ospp::set_blocking(*devnull, true) &&
                        ospp::close(std::move(*devnull));
        if (!ok) ::_exit(97);
        ospp::closerange(3, 3);  // nothing there: errno kept, nothing reported
        if (auto r = ospp::dup2(ospp::fd_ref(-1), ospp::fd_ref(1)); !r && r.error().code() == EBADF) {
            report->fail(ospp::execv("/bin/true", argv));  // only reached on failure
        }
        ::_exit(96);
    });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "");
    CHECK(run.exit_code() == 0);
    CHECK(report->wait_exec().has_value());
}

// ---- daemon_context::open ------------------------------------------------------------------------

namespace {

void become_subreaper() {
    static const bool done = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    REQUIRE(done);
}

// What a daemon start looked like: the checker's reports from the first child and the daemon up
// to open()'s return, what the daemon said after it ("opened" when open() returned success), and
// the launcher's exit status.
struct daemon_run {
    std::string reports;
    int launcher_status = -1;
};

using configure_fn = std::function<void(ospp::daemon::daemon_context&, int report)>;

// Forks a launcher (unchecked: it allocates freely, as a program does before open()); its open()
// forks with every child armed. The daemon disarms once open() returned, says "opened", runs
// `in_daemon` (unchecked itself; what it forks is armed) and exits.
daemon_run start_daemon(const configure_fn& configure, const std::function<void()>& setup = {},
                        const std::function<void(ospp::daemon::daemon_context&)>& in_daemon = {}) {
    become_subreaper();
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    std::fflush(nullptr);
    const ::pid_t launcher = ::fork();
    REQUIRE(launcher >= 0);
    if (launcher == 0) {
        ::close(p[0]);
        if (setup) setup();
        ospp::daemon::daemon_context ctx;
        ctx.detach_process = true;
        ctx.files_preserve = {ospp::fd_ref(p[1])};
        configure(ctx, p[1]);
        fork_check_report_to(p[1]);
        fork_check_arm_children(1);
        auto opened = ctx.open();
        fork_check_disarm();
        if (!opened) ::_exit(3);  // in the launcher: the daemon reported a failed step
        (void)!::write(p[1], "opened\n", 7);
        if (in_daemon) in_daemon(ctx);
        ::_exit(0);
    }
    ::close(p[1]);
    daemon_run run;
    run.reports = read_all(p[0]);  // end of file: launcher, first child and daemon are gone
    ::close(p[0]);
    REQUIRE(::waitpid(launcher, &run.launcher_status, 0) == launcher);
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {  // the daemon, orphaned to us
    }
    return run;
}

}  // namespace

TEST_CASE("fork_safety: daemon_context::open, detached, with every option that reaches the child") {
    temp_dir dir;
    // A NOTIFY_SOCKET that exists, so that the daemon really sends its datagram.
    const std::string notify = dir / "notify";
    ospp::fd listener(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, notify.c_str(), notify.size() + 1);
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    auto given = ospp::open(dir / "given", ospp::open_flags::wronly | ospp::open_flags::creat, 0600);
    REQUIRE(given);
    const daemon_run run = start_daemon(
        [&](ospp::daemon::daemon_context& ctx, int) {
            ctx.pidfile = dir / "d.pid";
            ctx.working_directory = dir.path();
            ctx.umask = 027;
            ctx.stdin_file = std::filesystem::path("/dev/null");
            ctx.stdout_file = std::filesystem::path(dir / "out");
            ctx.stderr_file = ospp::fd_ref(*given);
            ctx.environment = std::vector<std::string>{"A=1", "PATH=/bin", "LONG=" + std::string(100, 'x')};
            ctx.signal_map[ospp::signum::usr1] = ospp::daemon::signal_action::deliver();
            ctx.signal_map[ospp::signum::usr2] = ospp::daemon::signal_action::ignore();
            ctx.ready_timeout = std::chrono::seconds(60);
        },
        [&] { ::setenv("NOTIFY_SOCKET", notify.c_str(), 1); });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "opened\n");
    CHECK((WIFEXITED(run.launcher_status) && WEXITSTATUS(run.launcher_status) == 0));
    char datagram[64] = {};
    CHECK(::recv(listener.get(), datagram, sizeof datagram - 1, MSG_DONTWAIT) > 0);
    CHECK(std::string(datagram).find("READY=1") != std::string::npos);
}

TEST_CASE("fork_safety: daemon_context::open again after close(), in the daemon: the first open's state is kept") {
    temp_dir dir;
    auto configure = [&](ospp::daemon::daemon_context& ctx, int) {
        ctx.pidfile = dir / "d.pid";
        ctx.environment = std::vector<std::string>{"WHICH=first-open-with-a-long-value"};
    };
    auto reopen = [&](ospp::daemon::daemon_context& ctx) {
        ctx.close();
        ctx.environment = std::vector<std::string>{"WHICH=second-open-with-a-long-value"};
        auto again = ctx.open();  // this daemon is the launcher now: it _exit(0)s once ready
        fork_check_disarm();
        const char* which = std::getenv("WHICH");
        if (again && which != nullptr && std::string(which) == "second-open-with-a-long-value")
            (void)!::write(ctx.files_preserve[0].get(), "reopened\n", 9);
    };
    const daemon_run run = start_daemon(configure, {}, reopen);
    INFO(symbolised(run.reports));
    CHECK(run.reports == "opened\nreopened\n");
    CHECK((WIFEXITED(run.launcher_status) && WEXITSTATUS(run.launcher_status) == 0));
}

TEST_CASE("fork_safety: daemon_context::open, dropping to another user with its groups (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const daemon_run run = start_daemon([&](ospp::daemon::daemon_context& ctx, int) {
        ctx.pidfile = dir / "d.pid";
        ctx.uid = 65534;
        ctx.gid = 65534;
        ctx.initgroups = true;
        ctx.chroot_directory = "/";
    });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "opened\n");
    CHECK((WIFEXITED(run.launcher_status) && WEXITSTATUS(run.launcher_status) == 0));
}

TEST_CASE("fork_safety: daemon_context::open, a step failing in the daemon") {
    temp_dir dir;
    const daemon_run run = start_daemon([&](ospp::daemon::daemon_context& ctx, int) {
        ctx.pidfile = dir / "d.pid";
        ctx.working_directory = dir / "missing";
        ctx.stdout_file = std::filesystem::path(dir / "out");
    });
    INFO(symbolised(run.reports));
    CHECK(run.reports == "");
    CHECK((WIFEXITED(run.launcher_status) && WEXITSTATUS(run.launcher_status) == 3));
}

TEST_CASE("fork_safety: daemon_context::open without close_range: the /proc/self/fd listing") {
    temp_dir dir;
    auto no_close_range = [] {
        if (::fcntl(0, F_DUPFD, 100) < 0) ::_exit(51);  // something to close, after a gap
        if (!ospp_test::refuse_syscall(SYS_close_range, ENOSYS)) ::_exit(52);
    };
    const daemon_run run = start_daemon([&](ospp::daemon::daemon_context& ctx, int) { ctx.pidfile = dir / "d.pid"; },
                                        no_close_range);
    INFO(symbolised(run.reports));
    CHECK(run.reports == "opened\n");
    CHECK((WIFEXITED(run.launcher_status) && WEXITSTATUS(run.launcher_status) == 0));
}

// ---- ospp-daemonize, under LD_PRELOAD ------------------------------------------------------------

namespace {

// The build directory when ospp-daemonize is built there (meson test sets OSPP_BUILD_ROOT), else "".
std::string build_with_tool() {
    const char* root = std::getenv("OSPP_BUILD_ROOT");
    if (root == nullptr || ::access((std::string(root) + "/tools/ospp-daemonize").c_str(), X_OK) != 0) return "";
    return root;
}

// Runs ospp-daemonize with the checker preloaded, arming the fork generations given; returns its
// exit code. The daemon and whatever it left are reaped before returning.
int run_daemonize(const std::string& root, const std::vector<std::string>& args, const std::string& generations,
                  const std::string& log) {
    const std::string tool = root + "/tools/ospp-daemonize";
    const std::string module = root + "/test/libospp_fork_check.so";
    REQUIRE(::access(module.c_str(), R_OK) == 0);
    become_subreaper();
    std::vector<std::string> strings{tool};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings{"LD_PRELOAD=" + module, "OSPP_FORK_CHECK_GENERATIONS=" + generations,
                                         "OSPP_FORK_CHECK_LOG=" + log, "PATH=/usr/bin:/bin"};
    std::vector<char*> env;
    for (auto& s : env_strings) env.push_back(s.data());
    env.push_back(nullptr);
    ::posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::pid_t pid = 0;
    const int e = ::posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), env.data());
    ::posix_spawn_file_actions_destroy(&actions);
    REQUIRE(e == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {  // the daemon or the supervisor
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

std::string log_of(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0 ? ospp_test::read_file(path) : std::string();
}

}  // namespace

TEST_CASE("fork_safety: ospp-daemonize's first child, and the command it execs") {
    const std::string root = build_with_tool();
    if (root.empty()) OSPP_SKIP("no ospp-daemonize in $OSPP_BUILD_ROOT/tools (run by meson test, tools enabled)");
    temp_dir dir;
    const std::string log = dir / "log";
    // Generation 1 is open()'s first child; the daemon (2) returns from open() into the tool's
    // own code, which may allocate (its open() part is checked above).
    CHECK(run_daemonize(root, {"-p", dir / "d.pid", "/bin/true"}, "1", log) == 0);
    CHECK(log_of(log) == "");
}

TEST_CASE("fork_safety: ospp-daemonize --respawn: every child the supervisor forks") {
    const std::string root = build_with_tool();
    if (root.empty()) OSPP_SKIP("no ospp-daemonize in $OSPP_BUILD_ROOT/tools (run by meson test, tools enabled)");
    temp_dir dir;
    const std::string log = dir / "log", out = dir / "out", script = dir / "script";
    // (Not a script without "#!" any more: glibc's execvp ran that with /bin/sh, ospp::execvp, which
    // the tool now uses, refuses it, exit 7.)
    ospp_test::write_file(script, "#!/bin/sh\nexit 0\n");
    REQUIRE(::chmod(script.c_str(), 0755) == 0);
    // It ends at once: the supervisor (generation 2) forks it (3) again and again until it gives
    // up after a burst of five, and exits.
    CHECK(run_daemonize(root, {"-R0", "-p", dir / "d.pid", "-e", out, script}, "1,3", log) == 0);
    CHECK(log_of(log) == "");
    CHECK(count(log_of(out), "exited with status 0") == 5);
}
