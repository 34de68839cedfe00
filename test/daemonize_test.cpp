// test/daemonize_test.cpp — ospp-daemonize judged from outside: the built binary is run like a user
// would (from a pseudo-terminal, with a stray inheritable fd, SIGUSR1 blocked and SIGUSR2 ignored),
// and the daemon it leaves is inspected through /proc.
//
// This process is a child subreaper, so every daemon is re-parented to it and each test reaps its own
// (daemon_guard); the test main fails a test case that leaves a child. Synchronisation is by pipes,
// FIFOs, locks and waitpid, never by sleeping.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <linux/securebits.h>

#include "ospp/fd.hpp"
#include "ospp/pidfile.hpp"
#include "ospp/signal.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp_test::read_file;
using ospp_test::temp_dir;

namespace {

// A command for the --respawn tests that reacts to signals without a race: this test binary, run
// by ospp-daemonize with OSPP_SIGNAL_HELPER=FIFO in its environment, becomes (before doctest's main)
// a program that blocks SIGHUP/SIGUSR1/SIGUSR2/SIGINT/SIGTERM, writes its pid to FIFO, then for each
// signal writes "hup", "usr1" or "usr2" (and goes on) or "bye" (and exits 0). A shell's trap cannot do this reliably: a signal that
// arrives just before `wait` blocks is acted upon only when the waited-for child ends.
// With OSPP_SIGNAL_HELPER_INT=count as well, a SIGINT writes who sent it, "int from the kernel" (a
// terminal) or "int from a process", and it goes on.
const bool signal_helper_checked = [] {
    const char* fifo_path = std::getenv("OSPP_SIGNAL_HELPER");
    if (fifo_path == nullptr) return true;
    const char* int_mode = std::getenv("OSPP_SIGNAL_HELPER_INT");
    const bool count_ints = int_mode != nullptr && std::strcmp(int_mode, "count") == 0;
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGHUP, SIGUSR1, SIGUSR2, SIGINT, SIGTERM}) ::sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    const int out = ::open(fifo_path, O_WRONLY | O_CLOEXEC);
    const auto say = [out](const std::string& line) { (void)!::write(out, line.data(), line.size()); };
    say(std::to_string(::getpid()) + "\n");
    for (;;) {
        siginfo_t info{};
        const int sig = ::sigwaitinfo(&set, &info);
        if (sig == SIGHUP) say("hup\n");
        if (sig == SIGUSR1) say("usr1\n");
        if (sig == SIGUSR2) say("usr2\n");
        if (sig == SIGINT && count_ints) {
            say(info.si_code == SI_KERNEL ? "int from the kernel\n" : "int from a process\n");
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM) {
            say("bye\n");
            ::_exit(0);
        }
    }
}();

// Every orphaned daemon becomes our child, so that we can reap it.
const bool subreaper = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

std::string binary() {
    const char* root = std::getenv("OSPP_BUILD_ROOT");
    return std::string(root != nullptr ? root : "build") + "/tools/ospp-daemonize";
}

struct run_result {
    int code = -1;
    std::string out;
    std::string err;
};

// The master side of a new pseudo-terminal (close-on-exec); ptsname() names its terminal.
int new_terminal() {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    return master;
}

// ospp-daemonize's argv for execv, over `exe` and `args`, which must outlive it.
std::vector<char*> tool_argv(const std::string& exe, const std::vector<std::string>& args) {
    std::vector<char*> argv{const_cast<char*>(exe.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    return argv;
}

// How the launcher is started: like a user at a terminal, with the usual mess inherited.
struct launch_env {
    bool terminal = true;  // a new session whose controlling terminal is a pseudo-terminal
    int stray_fd = 10;     // an inheritable fd left open at this number (-1: none)
    bool closed_stdin = false;  // start with fd 0 closed, as some careless supervisors do
    int securebits = 0;    // prctl(PR_SET_SECUREBITS) before the exec (root only)
    bool as_nobody = false;  // run as uid and gid 65534, with `groups` as supplementary groups (root only)
    std::vector<::gid_t> groups{};
    bool no_proc = false;    // in a mount namespace of its own without /proc (root only)
    long refused_syscall = -1;  // a system call a seccomp filter refuses with refused_errno (-1: none)
    int refused_errno = 0;
};

// A run or a read that takes longer than this has hung: it fails instead of blocking the suite.
constexpr int hang_ms = 60'000;

// Runs ospp-daemonize with `args`; returns its exit code and output once it has exited.
run_result run(const std::vector<std::string>& args, const launch_env& env = {}) {
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    const int master = env.terminal ? new_terminal() : -1;
    const std::string exe = binary();
    const std::vector<char*> argv = tool_argv(exe, args);
    const char* slave = master >= 0 ? ::ptsname(master) : nullptr;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (slave != nullptr) {
            // A session leader without a terminal acquires the first one it opens.
            if (::setsid() < 0) ::_exit(120);
            const int t = ::open(slave, O_RDWR);
            if (t < 0 || ::dup2(t, 0) < 0) ::_exit(121);
            if (t != 0) ::close(t);
        }
        if (::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) ::_exit(122);
        const int stray = ::open("/dev/null", O_RDONLY);  // inheritable, as careless programs leave them
        if (env.stray_fd >= 0 && (stray < 0 || ::dup2(stray, env.stray_fd) < 0)) ::_exit(123);
        sigset_t block;
        ::sigemptyset(&block);
        ::sigaddset(&block, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &block, nullptr);
        ::signal(SIGUSR2, SIG_IGN);
        ::umask(0077);
        if (env.closed_stdin) ::close(0);
        if (env.securebits != 0 && ::prctl(PR_SET_SECUREBITS, env.securebits, 0, 0, 0) != 0) ::_exit(125);
        if (env.no_proc) {  // the loader finds $ORIGIN through /proc/self/exe: name the library's directory
            if (!ospp_test::private_mount_namespace() || ::umount2("/proc", MNT_DETACH) != 0) ::_exit(127);
            if (::setenv("LD_LIBRARY_PATH", exe.substr(0, exe.rfind("/tools/")).c_str(), 1) != 0) ::_exit(127);
        }
        if (env.refused_syscall >= 0 && !ospp_test::refuse_syscall(env.refused_syscall, env.refused_errno)) ::_exit(128);
        if (env.as_nobody && (::setgroups(env.groups.size(), env.groups.data()) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
        ::execv(exe.c_str(), argv.data());
        ::_exit(124);
    }
    ::close(out[1]);
    ::close(err[1]);
    run_result r;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open_ends = 2;
    while (open_ends > 0) {
        const int ready = ::poll(fds, 2, hang_ms);
        if (ready == 0) {  // hung: end it, and fail
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            for (const pollfd& p : fds)
                if (p.fd >= 0) ::close(p.fd);
            if (master >= 0) ::close(master);
            FAIL((std::string("ospp-daemonize did not exit within ") + std::to_string(hang_ms / 1000) + " s"));
        }
        REQUIRE(ready > 0);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_ends;
            }
        }
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (master >= 0) ::close(master);
    REQUIRE(WIFEXITED(status));
    r.code = WEXITSTATUS(status);
    return r;
}

// The pid in a pidfile (0 when unreadable).
pid_t pid_in(const std::string& pidfile) {
    std::ifstream in(pidfile);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

// ospp-daemonize (run with `args`) as a job of an interactive shell, which a child process plays:
// a session leader on a new pseudo-terminal, it starts the tool in a process group of its own, puts
// that group in the terminal's foreground, then writes a line to a pipe for each change of the
// job's wait status: "stopped SIG" and "exited CODE" (or "killed SIG"). Keys typed at the terminal
// send their signals to the job, as they would to a job of bash.
class terminal_job {
public:
    explicit terminal_job(const std::vector<std::string>& args) : master_(new_terminal()) {
        int reports[2];
        REQUIRE(::pipe2(reports, O_CLOEXEC) == 0);
        const std::string exe = binary();
        const std::vector<char*> argv = tool_argv(exe, args);
        const char* terminal = ::ptsname(master_.get());
        REQUIRE(terminal != nullptr);
        shell_ = ::fork();
        REQUIRE(shell_ >= 0);
        if (shell_ == 0) {
            const int out = reports[1];
            const auto say = [out](const char* what, int n) {
                char line[32];
                const int len = std::snprintf(line, sizeof line, "%s %d\n", what, n);
                (void)!::write(out, line, static_cast<std::size_t>(len));
            };
            if (::setsid() < 0) ::_exit(120);
            const int t = ::open(terminal, O_RDWR);  // the first terminal a session leader opens is its own
            if (t < 0 || ::dup2(t, 0) < 0 || ::dup2(t, 1) < 0 || ::dup2(t, 2) < 0) ::_exit(121);
            const pid_t job = ::fork();
            if (job < 0) ::_exit(122);
            if (job == 0) {
                ::setpgid(0, 0);
                ::execv(exe.c_str(), argv.data());
                ::_exit(124);
            }
            ::setpgid(job, job);  // in both, as a shell does: whichever runs first
            if (::tcsetpgrp(0, job) != 0) ::_exit(123);
            say("foreground", job);
            for (;;) {
                int status = 0;
                if (::waitpid(job, &status, WUNTRACED) != job) ::_exit(125);
                if (WIFSTOPPED(status)) {
                    say("stopped", WSTOPSIG(status));
                    continue;
                }
                if (WIFEXITED(status)) say("exited", WEXITSTATUS(status));
                else say("killed", WTERMSIG(status));
                ::_exit(0);
            }
        }
        ::close(reports[1]);
        reports_ = ospp::fd(reports[0]);
        const std::string first = report();
        REQUIRE(first.rfind("foreground ", 0) == 0);
        job_ = std::stoi(first.substr(11));
    }
    terminal_job(const terminal_job&) = delete;
    terminal_job& operator=(const terminal_job&) = delete;
    // Kills what is left of the job and reaps the shell; a respawned command that outlived its
    // supervisor for a moment is re-parented to us, the subreaper.
    ~terminal_job() {
        if (job_ > 0) ::kill(-job_, SIGKILL);
        if (shell_ > 0) ::waitpid(shell_, nullptr, 0);
        while (job_ > 0 && ::waitpid(-job_, nullptr, 0) > 0) {}
    }
    // ospp-daemonize's pid, which is also the job's process group.
    [[nodiscard]] pid_t pid() const noexcept { return job_; }
    // Types `keys` at the terminal.
    void type(const std::string& keys) {
        REQUIRE(::write(master_.get(), keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }
    // The shell's next line (fails after hang_ms without one).
    std::string report() {
        std::string line;
        char c = 0;
        for (;;) {
            pollfd p{reports_.get(), POLLIN, 0};
            REQUIRE_MESSAGE(::poll(&p, 1, hang_ms) == 1, "the shell reported no change of the job");
            REQUIRE(::read(reports_.get(), &c, 1) == 1);
            if (c == '\n') return line;
            line += c;
        }
    }

private:
    ospp::fd master_;
    ospp::fd reports_;
    pid_t shell_ = -1;
    pid_t job_ = -1;
};

// Kills (if still running) and reaps a daemon at the end of the scope; wait() reaps it earlier.
class daemon_guard {
public:
    explicit daemon_guard(pid_t pid) : pid_(pid) {}
    daemon_guard(const daemon_guard&) = delete;
    daemon_guard& operator=(const daemon_guard&) = delete;
    ~daemon_guard() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    // The signal that ended the daemon, once it has ended (0 when it exited).
    int killed_by() {
        const int status = wait();
        return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    // The daemon's wait status, once it has ended.
    int wait() {
        int status = 0;
        REQUIRE(::waitpid(pid_, &status, 0) == pid_);
        pid_ = 0;
        return status;
    }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_;
};

// An unrelated process that got the pid of a daemon long gone: it idles until release() and then
// exits 0, so its wait status tells whether anything signalled it meanwhile.
class bystander {
public:
    bystander() {
        int gate[2];
        REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(gate[1]);
            char c;
            ::_exit(::read(gate[0], &c, 1) == 0 ? 0 : 1);  // ends at end of file, unless killed
        }
        ::close(gate[0]);
        gate_ = ospp::fd(gate[1]);
        process_.emplace(pid);
    }
    [[nodiscard]] pid_t pid() const noexcept { return process_->pid(); }
    // Lets it end; its wait status.
    int release() {
        gate_.reset();
        return process_->wait();
    }

private:
    ospp::fd gate_;
    std::optional<daemon_guard> process_;
};

// Reaps every child that ended, and the ones still to end (a daemon that failed to exec): returns
// their wait statuses.
std::vector<int> reap_all() {
    std::vector<int> statuses;
    int status = 0;
    while (::waitpid(-1, &status, 0) > 0) statuses.push_back(status);
    return statuses;
}

// "Key:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> proc_status(pid_t pid) {
    std::map<std::string, std::string> fields;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        fields[line.substr(0, colon)] = value;
    }
    return fields;
}

// Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [2] pgrp, [3] session, [4] tty_nr.
std::vector<long> proc_stat(pid_t pid) {
    const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream in(text.substr(text.rfind(')') + 2));
    std::string state;
    in >> state;
    std::vector<long> fields{0};
    long v = 0;
    while (fields.size() < 5 && in >> v) fields.push_back(v);
    return fields;
}

std::string link_target(const std::string& link) {
    char buf[4096];
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// fd number -> what it refers to, in the daemon.
std::map<int, std::string> proc_fds(pid_t pid) {
    std::map<int, std::string> fds;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    for (int n = 0; n < 64; ++n) {
        const std::string target = link_target(dir + "/" + std::to_string(n));
        if (!target.empty()) fds[n] = target;
    }
    return fds;
}

// True when some process holds a lock on the file (our probe with LOCK_NB fails).
bool locked(const std::string& path) {
    const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) return false;
    const bool held = ::flock(f, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(f);
    return held;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// A FIFO the daemons write lines to: opened read-write so that it never reports end of file
// between two writers.
class fifo {
public:
    explicit fifo(std::string path) : path_(std::move(path)) {
        REQUIRE(::mkfifo(path_.c_str(), 0600) == 0);
        fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(fd_ >= 0);
    }
    fifo(const fifo&) = delete;
    fifo& operator=(const fifo&) = delete;
    ~fifo() { ::close(fd_); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // The next line written (blocks until there is one; fails after hang_ms without one).
    std::string line() {
        std::string s;
        char c = 0;
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            REQUIRE_MESSAGE(::poll(&p, 1, hang_ms) == 1, (std::string("no line on ") + path_ + " within " + std::to_string(hang_ms / 1000) + " s"));
            if (::read(fd_, &c, 1) != 1 || c == '\n') return s;
            s += c;
        }
    }
    // Whether a line has begun to arrive, waiting for at most `ms`.
    bool readable(int ms) {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, ms) == 1;
    }

private:
    std::string path_;
    int fd_ = -1;
};

constexpr const char* sleeper = "/bin/sleep";

// A command that stops itself right after the exec, so that its fds are seen as the daemon left
// them (a program's own start-up, such as the dynamic loader's, would blur /proc/PID/fd); once
// continued, it sleeps on as the same process.
const std::vector<std::string> self_stopper{"/bin/sh", "-c", "kill -STOP $$; exec sleep 1000"};

// Waits until the daemon has stopped itself (we are its parent: the subreaper).
void await_stop(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, WUNTRACED) == pid);
    REQUIRE(WIFSTOPPED(status));
}

}  // namespace

TEST_CASE("a daemon started from a terminal is clean: session, terminal, cwd, umask, fds, signals, core") {
    REQUIRE(subreaper);
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", log = dir / "out.log";
    std::vector<std::string> args{"-p", pidfile, "-C", dir.path(), "-m", "027", "-o", log, "--"};
    args.insert(args.end(), self_stopper.begin(), self_stopper.end());
    const run_result r = run(args);
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    const pid_t pid = daemon.pid();
    REQUIRE(pid > 0);
    await_stop(pid);

    CHECK(read_file(pidfile) == std::to_string(pid) + "\n");
    CHECK(locked(pidfile));
    const auto stat = proc_stat(pid);
    CHECK(stat[1] == ::getpid());  // orphaned, re-parented to us (the subreaper)
    CHECK(stat[3] != pid);         // not a session leader: can never acquire a terminal
    CHECK(stat[4] == 0);           // no controlling terminal
    CHECK(link_target("/proc/" + std::to_string(pid) + "/cwd") == dir.path());

    const auto status = proc_status(pid);
    CHECK(status.at("Umask") == "0027");
    CHECK(status.at("SigBlk") == "0000000000000000");  // SIGUSR1 was blocked in the launcher
    CHECK(status.at("SigIgn") == "0000000000000000");  // SIGUSR2 was ignored in the launcher

    // Exactly 0-2 and the pidfile survived the exec: the stray fd 10 and the pty are gone, 0-2 are
    // inheritable (they are still there after the exec), and the command holds the lock.
    const auto fds = proc_fds(pid);
    CHECK(fds.size() == 4);
    CHECK(fds.at(0) == "/dev/null");
    CHECK(fds.at(1) == log);
    CHECK(fds.at(2) == log);  // --stderr defaults to the --stdout file
    CHECK(fds.at(3) == pidfile);

    const std::string limits = read_file("/proc/" + std::to_string(pid) + "/limits");
    CHECK(limits.find("Max core file size        0                    0") != std::string::npos);

    REQUIRE(::kill(pid, SIGCONT) == 0);
    const run_result stopped = run({"--stop", "-p", pidfile});
    CHECK(stopped.code == 0);
    CHECK(daemon.killed_by() == SIGTERM);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("a launcher started with stdin closed still makes a clean daemon") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    std::vector<std::string> args{"-p", pidfile, "--"};
    args.insert(args.end(), self_stopper.begin(), self_stopper.end());
    const run_result r = run(args, {.terminal = false, .closed_stdin = true});
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    await_stop(daemon.pid());
    const auto fds = proc_fds(daemon.pid());
    CHECK(fds.size() == 4);
    CHECK(fds.at(0) == "/dev/null");
    CHECK(fds.at(3) == pidfile);  // the pidfile did not land on the free fd 0
}

TEST_CASE("--keep-fd keeps the named fds, inheritable; --core leaves the core limit alone") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    std::vector<std::string> args{"-p", pidfile, "-k", "10", "--core", "--"};
    args.insert(args.end(), self_stopper.begin(), self_stopper.end());
    const run_result r = run(args);
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    await_stop(daemon.pid());
    CHECK(proc_fds(daemon.pid()).size() == 5);
    CHECK(link_target("/proc/" + std::to_string(daemon.pid()) + "/fd/10") == "/dev/null");
    // --core: the daemon's core limit is the launcher's (this process's), not set to 0. Where the
    // hard limit is 0 already the two cannot be told apart, and only the equality is checked.
    const auto core_line = [](const std::string& limits) {
        const std::size_t at = limits.find("Max core file size");
        return at == std::string::npos ? std::string() : limits.substr(at, limits.find('\n', at) - at);
    };
    const std::string daemon_core = core_line(read_file("/proc/" + std::to_string(daemon.pid()) + "/limits"));
    REQUIRE_FALSE(daemon_core.empty());
    CHECK(daemon_core == core_line(read_file("/proc/self/limits")));
    struct ::rlimit own {};
    REQUIRE(::getrlimit(RLIMIT_CORE, &own) == 0);
    if (own.rlim_max != 0) CHECK(daemon_core.find("Max core file size        0                    0") == std::string::npos);
}

TEST_CASE("a second start is refused while the first runs; a stale pidfile is taken over") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    ospp_test::write_file(pidfile, "999999\n");  // left by a crash: nobody holds its lock
    CHECK(run({"--status", "-p", pidfile}).code == 1);

    run_result r = run({"-p", pidfile, sleeper, "1000"});
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    CHECK(daemon.pid() != 999999);

    r = run({"-p", pidfile, sleeper, "1000"});
    CHECK(r.code == 4);
    CHECK(r.err == "ospp-daemonize: already running (pid " + std::to_string(daemon.pid()) + "), pidfile " + pidfile + "\n");
    CHECK(pid_in(pidfile) == daemon.pid());
    CHECK(locked(pidfile));
}

TEST_CASE("--status, --signal and --stop") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    run_result r = run({"--status", "-p", pidfile});
    CHECK(r.code == 3);
    CHECK(r.out == "not running\n");
    r = run({"--signal=HUP", "-p", pidfile});
    CHECK(r.code == 3);
    CHECK(run({"--stop", "-p", pidfile}).code == 0);  // stopping what does not run is no error (LSB)

    REQUIRE(run({"-p", pidfile, sleeper, "1000"}).code == 0);
    daemon_guard daemon(pid_in(pidfile));
    r = run({"--status", "-p", pidfile});
    CHECK(r.code == 0);
    CHECK(r.out == "running (pid " + std::to_string(daemon.pid()) + ")\n");

    r = run({"--signal=USR1", "-p", pidfile});
    CHECK(r.err == "");
    CHECK(r.code == 0);
    CHECK(daemon.killed_by() == SIGUSR1);  // delivered, and not blocked in the daemon

    r = run({"--status", "-p", pidfile});
    CHECK(r.code == 1);
    CHECK(r.out == "not running (stale pidfile " + pidfile + ")\n");
    CHECK(run({"--stop", "-p", pidfile}).code == 0);
    CHECK_FALSE(exists(pidfile));  // the stale file is removed
    CHECK(run({"--status", "-p", pidfile}).code == 3);
}

namespace {

// Unmounts at the end of the scope (before the temp_dir it is in is removed).
class mount_guard {
public:
    explicit mount_guard(std::string target) : target_(std::move(target)) {}
    mount_guard(const mount_guard&) = delete;
    mount_guard& operator=(const mount_guard&) = delete;
    ~mount_guard() { ::umount2(target_.c_str(), MNT_DETACH); }

private:
    std::string target_;
};

// The device number /proc/self/mountinfo gives the mount at `dir`, which is what the kernel names
// its files' locks by (the superblock's), as "MAJOR:MINOR".
std::string mountinfo_device(const std::string& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        if (point == dir) found = device;  // the last one mounted there
    }
    return found;
}

}  // namespace

TEST_CASE("the control verbs find the lock on a filesystem whose st_dev is not its superblock's") {
    // stat(2) does not always give the device number the kernel names a file's locks by in
    // /proc/locks and /proc/PID/fdinfo (the superblock's): btrfs reports each subvolume's own
    // device, overlayfs over two filesystems the layer's. There --status once said "stale" of a
    // running daemon, and --stop "not running" without stopping it.
    OSPP_REQUIRE_ROOT();
    // A private mount namespace for this test process: what is mounted below vanishes with it.
    static const bool private_mounts = ospp_test::private_mount_namespace();
    if (!private_mounts) OSPP_SKIP("cannot make a private mount namespace here (needs CAP_SYS_ADMIN)");
    temp_dir dir;
    for (const char* sub : {"lower", "upper", "work", "merged"}) REQUIRE(::mkdir((dir / sub).c_str(), 0755) == 0);
    if (::mount("none", (dir / "lower").c_str(), "tmpfs", 0, nullptr) != 0) OSPP_SKIP("cannot mount a tmpfs");
    const mount_guard lower(dir / "lower");
    const std::string layers = "xino=off,lowerdir=" + dir / "lower" + ",upperdir=" + dir / "upper" + ",workdir=" + dir / "work";
    if (::mount("overlay", (dir / "merged").c_str(), "overlay", 0, layers.c_str()) != 0) OSPP_SKIP("no overlayfs");
    const mount_guard merged(dir / "merged");
    const std::string pidfile = dir / "merged/d.pid";

    run_result r = run({"-p", pidfile, sleeper, "1000"});
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    struct stat st {};
    REQUIRE(::stat(pidfile.c_str(), &st) == 0);
    const std::string st_dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
    if (st_dev == mountinfo_device(dir / "merged")) OSPP_SKIP("this overlayfs reports its own st_dev");

    r = run({"--status", "-p", pidfile});
    CHECK(r.out == "running (pid " + std::to_string(daemon.pid()) + ")\n");
    CHECK(r.code == 0);
    r = run({"--stop", "-p", pidfile});
    CHECK(r.err == "");
    CHECK(r.code == 0);
    REQUIRE(r.out == "");  // not "not running", with the daemon left running (the guard kills it)
    CHECK(daemon.killed_by() == SIGTERM);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("a locked pidfile that names no pid yet (a start in progress): no verb acts on the old pid") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    // A pidfile left behind by a daemon long gone, whose pid an unrelated process has now.
    bystander victim;
    const pid_t unrelated = victim.pid();
    ospp_test::write_file(pidfile, std::to_string(unrelated) + "\n");
    // A start takes the lock, as the launcher does before it forks; its daemon has not written yet.
    auto starting = ospp::daemon::pidfile::acquire(pidfile);
    REQUIRE(starting.has_value());

    run_result r = run({"--status", "-p", pidfile});
    CHECK(r.code == 4);  // LSB "unknown": the start may yet fail
    CHECK(r.out == "starting (pidfile " + pidfile + " is locked but names no pid yet)\n");
    const std::string no_pid =
        "ospp-daemonize: pidfile " + pidfile + " is locked but names no pid yet (a start in progress); try again\n";
    r = run({"--signal=USR1", "-p", pidfile});
    CHECK(r.code == 1);
    CHECK(r.err == no_pid);
    r = run({"--stop", "--timeout=0", "-p", pidfile});
    CHECK(r.code == 1);
    CHECK(r.err == no_pid);
    CHECK(exists(pidfile));

    // Once the daemon (here: this process, which holds the lock) has written its pid, that is the
    // one the verbs name.
    REQUIRE(starting->write().has_value());
    r = run({"--status", "-p", pidfile});
    CHECK(r.code == 0);
    CHECK(r.out == "running (pid " + std::to_string(::getpid()) + ")\n");
    REQUIRE(starting->release().has_value());

    const int st = victim.release();
    CHECK(WIFEXITED(st));  // never signalled
    CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("a locked pidfile that still names the old pid (a start before its ftruncate): no verb signals it") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    bystander victim;
    const pid_t unrelated = victim.pid();
    // The stale file names a pid that is now an unrelated process's; a start has just taken the
    // lock (its flock) and not yet emptied the file (its ftruncate).
    ospp_test::write_file(pidfile, std::to_string(unrelated) + "\n");
    const ospp::fd lock(::open(pidfile.c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(lock.valid());
    REQUIRE(::flock(lock.get(), LOCK_EX) == 0);

    run_result r = run({"--status", "-p", pidfile});
    CHECK(r.code == 4);
    CHECK(r.out == "starting (pidfile " + pidfile + " is locked, but not by pid " + std::to_string(unrelated) +
                       ", which it names)\n");
    const std::string not_holder = "ospp-daemonize: pidfile " + pidfile + " names pid " + std::to_string(unrelated) +
                                   ", which does not hold its lock (a start in progress?); try again\n";
    r = run({"--signal=USR1", "-p", pidfile});
    CHECK(r.code == 1);
    CHECK(r.err == not_holder);
    r = run({"--stop", "--timeout=0", "-p", pidfile});
    CHECK(r.code == 1);
    CHECK(r.err == not_holder);
    CHECK(exists(pidfile));

    const int st = victim.release();
    CHECK(WIFEXITED(st));  // never signalled
    CHECK(WEXITSTATUS(st) == 0);
}

namespace {

// A daemon whose command exits at once, leaving `children` (each a background "sleep 1000") that
// inherited the pidfile's lock: the pidfile names the dead command, the lock stays held. The shell
// says each child's pid on a FIFO, and the command is reaped (it is "gone") before the verbs run.
struct left_behind {
    std::vector<pid_t> pids;                    // the children, sorted
    std::vector<std::unique_ptr<daemon_guard>> guards;
    pid_t command = 0;

    left_behind(const temp_dir& dir, const std::string& pidfile, int children, const std::string& prologue = "") {
        fifo said(dir / "pids");
        std::string script = prologue;
        for (int i = 0; i < children; ++i) script += "sleep 1000 & echo $! > " + said.path() + "; ";
        script += "exit 0";
        REQUIRE(run({"-p", pidfile, "/bin/sh", "-c", script}).code == 0);
        for (int i = 0; i < children; ++i) pids.push_back(std::stoi(said.line()));
        std::sort(pids.begin(), pids.end());
        for (pid_t p : pids) guards.push_back(std::make_unique<daemon_guard>(p));
        command = pid_in(pidfile);
        daemon_guard(command).wait();  // the shell, which ended (its children are now ours)
        REQUIRE(locked(pidfile));
    }
    // " 12" or "s 12 34": the holders as the tool names them after "pid".
    std::string named() const {
        std::string text = pids.size() == 1 ? "" : "s";
        for (pid_t p : pids) {
            text += ' ';  // not " " + to_string(p): GCC 12 -O3 -Wrestrict false positive
            text += std::to_string(p);
        }
        return text;
    }
    // How the tool describes the state.
    std::string describe(const std::string& pidfile) const {
        return "pid " + std::to_string(command) + ", which pidfile " + pidfile + " names, is gone, but pid" + named() +
               (pids.size() == 1 ? " still holds" : " still hold") + " its lock";
    }
};

}  // namespace

TEST_CASE("a command that ended leaving a child with the lock: --status says dead, --signal refuses, --stop ends it") {
    // --status once said "starting" of this for ever (exit 4), and --stop "try again".
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    left_behind left(dir, pidfile, 1);

    run_result r = run({"--status", "-p", pidfile});
    CHECK(r.out == "dead (" + left.describe(pidfile) + ")\n");
    CHECK(r.code == 1);  // LSB "dead, pid file exists": the daemon named is gone
    r = run({"--signal=USR1", "-p", pidfile});
    CHECK(r.err == "ospp-daemonize: " + left.describe(pidfile) + "; not signalling them (--stop ends them)\n");
    CHECK(r.code == 1);
    r = run({"--stop", "-p", pidfile});
    CHECK(r.err == "ospp-daemonize: " + left.describe(pidfile) + "; sending SIGTERM to pid" + left.named() + "\n");
    REQUIRE(r.code == 0);  // else the child runs on and wait() would hang
    CHECK(left.guards[0]->killed_by() == SIGTERM);  // not USR1: --signal left it alone
    CHECK_FALSE(exists(pidfile));
    CHECK(run({"--status", "-p", pidfile}).code == 3);
}

TEST_CASE("--stop of what a command left: SIGKILL after --timeout to every holder of the lock") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    left_behind left(dir, pidfile, 2, "trap '' TERM; ");  // an ignored signal survives fork and exec
    const run_result r = run({"--stop", "--timeout=0", "-p", pidfile});
    CHECK(r.err == "ospp-daemonize: " + left.describe(pidfile) + "; sending SIGTERM to pid" + left.named() +
                       "\nospp-daemonize: pid" + left.named() + " still running after 0 s; sending SIGKILL\n");
    REQUIRE(r.code == 0);
    for (auto& g : left.guards) {
        CHECK(g->killed_by() == SIGKILL);
    }
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("--stop of a daemon whose child holds the lock too: the child is killed with it") {
    // The daemon's SIGKILL once left the child holding the lock: "still locked after SIGKILL", exit 1.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    fifo said(dir / "pids");
    REQUIRE(run({"-p", pidfile, "/bin/sh", "-c", "trap '' TERM; sleep 1000 & echo $! > " + said.path() + "; exec sleep 1001"}).code == 0);
    daemon_guard child(std::stoi(said.line()));
    daemon_guard daemon(pid_in(pidfile));
    const run_result r = run({"--stop", "--timeout=0", "-p", pidfile});
    CHECK(r.err == "ospp-daemonize: pids " + std::to_string(daemon.pid()) + " " + std::to_string(child.pid()) +
                       " still running after 0 s; sending SIGKILL\n");
    REQUIRE(r.code == 0);
    for (daemon_guard* g : {&daemon, &child}) {
        CHECK(g->killed_by() == SIGKILL);
    }
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("what another user's command left, or what is left without /proc, is not found, and not stopped (as root)") {
    OSPP_REQUIRE_ROOT();
    std::vector<launch_env> envs{{.as_nobody = true}};
#ifndef OSPP_TEST_SANITIZER  // whose runtime needs /proc in the tool
    envs.push_back({.no_proc = true});
#endif
    for (const launch_env& env : envs) {
        CAPTURE(env.no_proc);
        temp_dir dir;
        REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
        const std::string pidfile = dir / "d.pid";
        left_behind left(dir, pidfile, 1);
        REQUIRE(::chmod(pidfile.c_str(), 0644) == 0);
        const std::string what = "pid " + std::to_string(left.command) + ", which pidfile " + pidfile +
                                 " names, is gone; the processes that hold its lock cannot be found (no /proc, or another user's)";
        run_result r = run({"--status", "-p", pidfile}, env);
        CHECK(r.out == "dead (" + what + ")\n");
        CHECK(r.code == 1);
        r = run({"--stop", "--timeout=0", "-p", pidfile}, env);
        CHECK(r.err == "ospp-daemonize: " + what + ": cannot stop them\n");
        CHECK(r.code == 1);
        CHECK(locked(pidfile));
        CHECK(::kill(left.pids[0], 0) == 0);  // still there, for root's own --stop
        r = run({"--stop", "-p", pidfile});
        REQUIRE(r.code == 0);
        CHECK(left.guards[0]->killed_by() == SIGTERM);
    }
}

// pidfd_open is Linux 5.3 (RHEL 8 has 4.18: ENOSYS), and a seccomp filter that predates it refuses
// it with EPERM. Without a pidfd no signal is race-free, so the verbs do not signal: but they say
// why, rather than that the daemon is not there.
TEST_CASE("--stop and --signal where pidfd_open is missing or refused: a clear failure, no signal") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    REQUIRE(run({"-p", pidfile, sleeper, "1000"}).code == 0);
    daemon_guard daemon(pid_in(pidfile));
    for (const int err : {ENOSYS, EPERM}) {
        CAPTURE(err);
        const launch_env env{.refused_syscall = SYS_pidfd_open, .refused_errno = err};
        const std::string why = "cannot signal pid " + std::to_string(daemon.pid()) + ": pidfd_open: " +
                                std::strerror(err) + " (named by pidfile " + pidfile + ")\n";
        run_result r = run({"--stop", "--timeout=0", "-p", pidfile}, env);
        CHECK(r.err == "ospp-daemonize: " + why);
        CHECK(r.code == 1);
        r = run({"--signal=TERM", "-p", pidfile}, env);
        CHECK(r.err == "ospp-daemonize: " + why);
        CHECK(r.code == 1);
        r = run({"--status", "-p", pidfile}, env);  // the lock says it runs
        CHECK(r.out == "running (pid " + std::to_string(daemon.pid()) + ")\n");
    }
    CHECK(run({"--signal=USR1", "-p", pidfile}).code == 0);
    CHECK(daemon.killed_by() == SIGUSR1);  // the first signal it got
}

TEST_CASE("--stop of what a command left, where pidfd_open is refused: a clear failure, no signal") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    left_behind left(dir, pidfile, 1);
    const launch_env env{.refused_syscall = SYS_pidfd_open, .refused_errno = EPERM};
    const run_result r = run({"--stop", "--timeout=0", "-p", pidfile}, env);
    CHECK(r.err == "ospp-daemonize: " + left.describe(pidfile) + ": cannot signal pid" + left.named() +
                       ": pidfd_open: Operation not permitted\n");
    CHECK(r.code == 1);
    CHECK(locked(pidfile));
    REQUIRE(run({"--stop", "-p", pidfile}).code == 0);
    CHECK(left.guards[0]->killed_by() == SIGTERM);
}

TEST_CASE("the verbs read a pid as the library does: no sign, no blanks") {
    // The tool's strtol once read "+12" and " 12" as pid 12, which pidfile::read_pid refuses.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    const std::string me = std::to_string(::getpid());
    const ospp::fd lock(::open(pidfile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    REQUIRE(lock.valid());
    REQUIRE(::flock(lock.get(), LOCK_EX) == 0);  // as the daemon this process would be
    for (const std::string& content : {me + "\n", me, "+" + me + "\n", " " + me + "\n", me + " \n", "0" + me + "x\n"}) {
        CAPTURE(content);
        REQUIRE(::ftruncate(lock.get(), 0) == 0);
        REQUIRE(::pwrite(lock.get(), content.data(), content.size(), 0) == static_cast<ssize_t>(content.size()));
        const auto library = ospp::daemon::pidfile::read_pid(pidfile);
        const run_result r = run({"--status", "-p", pidfile});
        if (library) {
            CHECK(*library == ::getpid());
            CHECK(r.out == "running (pid " + me + ")\n");
        } else {
            CHECK(library.error().code() == EINVAL);
            CHECK(r.out == "starting (pidfile " + pidfile + " is locked but names no pid yet)\n");
        }
    }
}

namespace {

// Starts ospp-daemonize with `args`, its stdout and stderr appended to `output`, without waiting:
// for verbs that race each other. Reap it with waitpid.
pid_t start_tool(const std::vector<std::string>& args, const std::string& output) {
    const std::string exe = binary();
    const std::vector<char*> argv = tool_argv(exe, args);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (out < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(122);
        ::execv(exe.c_str(), argv.data());
        ::_exit(124);
    }
    return pid;
}

// The exit code of the tool started as `pid`, once it has exited (-1 when a signal ended it).
int tool_exit(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

// The wait status of the tool started as `pid`, once it has exited; nullopt (and killed) when it is
// still running after `ms`.
std::optional<int> wait_within(pid_t pid, int ms) {
    const ospp::fd ended(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    REQUIRE(ended.valid());
    pollfd p{ended.get(), POLLIN, 0};
    const bool exited = ::poll(&p, 1, ms) == 1;
    if (!exited) ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return exited ? std::optional<int>(status) : std::nullopt;
}

TEST_CASE("the verbs refuse a pidfile that is not a regular file, and do not block on a FIFO") {
    // They opened it O_RDONLY, which for a FIFO waits for a writer: a FIFO planted at the path
    // hung --status, --stop and --signal for ever.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    REQUIRE(::mkfifo(pidfile.c_str(), 0600) == 0);
    // Not a structured binding: clang (before 16) cannot capture one in CAPTURE's lambda.
    for (const auto& verb_code : {std::pair<std::string, int>{"--status", 4}, {"--stop", 1}, {"--signal=HUP", 1}}) {
        const std::string& verb = verb_code.first;
        const int code = verb_code.second;
        CAPTURE(verb);
        const std::string output = dir / ("out" + verb);
        const auto status = wait_within(start_tool({verb, "-p", pidfile}, output), 10'000);
        REQUIRE(status.has_value());
        CHECK(WIFEXITED(*status));
        CHECK(WEXITSTATUS(*status) == code);
        CHECK(read_file(output) == "ospp-daemonize: cannot read pidfile " + pidfile + ": Invalid argument\n");
    }
    CHECK(exists(pidfile));  // not taken for a stale pidfile, and removed
}

TEST_CASE("--stop racing another --stop: each exits 0, the daemon is stopped") {
    // The loser found the daemon gone between its look at the pidfile and its pidfd ("names no live
    // process"), or found the lock in /proc/locks but in no process's fds, as the daemon was
    // exiting ("cannot be found"): exit 1 for a daemon that was stopped.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", output = dir / "out";
    for (int round = 0; round < 20; ++round) {
        CAPTURE(round);
        REQUIRE(run({"-p", pidfile, sleeper, "1000"}, {.terminal = false}).code == 0);
        daemon_guard daemon(pid_in(pidfile));
        std::vector<pid_t> stops;
        for (int i = 0; i < 4; ++i) stops.push_back(start_tool({"--stop", "-p", pidfile}, output));
        for (const pid_t stop : stops) CHECK(tool_exit(stop) == 0);
        CHECK(daemon.killed_by() == SIGTERM);
        CHECK_FALSE(exists(pidfile));
    }
    const std::string said = read_file(output);
    INFO(said);
    CHECK(said.find("ospp-daemonize: ") == std::string::npos);
}

TEST_CASE("--signal racing --stop: it is sent, or the daemon is not running (exit 3)") {
    // As --stop's loser: a daemon that ended between --signal's look at the pidfile and its pidfd
    // was "No such process", or, caught exiting, a lock left to processes that "cannot be found":
    // exit 1 for a daemon that was simply no longer running.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", output = dir / "out";
    for (int round = 0; round < 30; ++round) {
        CAPTURE(round);
        REQUIRE(run({"-p", pidfile, sleeper, "1000"}, {.terminal = false}).code == 0);
        daemon_guard daemon(pid_in(pidfile));
        const pid_t stop = start_tool({"--stop", "-p", pidfile}, dir / "stopped");
        std::vector<pid_t> signals;
        for (int i = 0; i < 3; ++i) signals.push_back(start_tool({"--signal=CONT", "-p", pidfile}, output));
        for (const pid_t signal : signals) {
            const int code = tool_exit(signal);
            CHECK((code == 0 || code == 3));
        }
        CHECK(tool_exit(stop) == 0);
        CHECK(daemon.killed_by() == SIGTERM);
    }
    std::istringstream said(read_file(output));
    for (std::string line; std::getline(said, line);) CHECK(line == "ospp-daemonize: not running, pidfile " + pidfile);
}

TEST_CASE("--stop escalates to SIGKILL after --timeout, at once with --timeout=0") {
    // --timeout=0 once hung for good: its one-shot timer signal came before the blocking flock it
    // was to cut short, and SIGKILL was never sent.
    for (const std::string timeout : {"0.1", "0"}) {
        CAPTURE(timeout);
        temp_dir dir;
        const std::string pidfile = dir / "d.pid";
        fifo ready(dir / "ready");
        // The shell ignores SIGTERM (an ignored signal survives the exec) before it says "ready".
        REQUIRE(run({"-p", pidfile, "/bin/sh", "-c", "trap '' TERM; echo ready > " + ready.path() + "; exec sleep 1000"}).code == 0);
        daemon_guard daemon(pid_in(pidfile));
        CHECK(ready.line() == "ready");
        const run_result r = run({"--stop", "--timeout=" + timeout, "-p", pidfile});
        CHECK(r.code == 0);
        CHECK(r.err == "ospp-daemonize: pid " + std::to_string(daemon.pid()) + " still running after " + timeout +
                           " s; sending SIGKILL\n");
        CHECK(daemon.killed_by() == SIGKILL);
        CHECK_FALSE(exists(pidfile));
    }
}

TEST_CASE("--stop of a stopped daemon: SIGCONT follows SIGTERM, so that its handler runs (as systemd does)") {
    // A stopped process keeps a handled SIGTERM pending until it is continued: without the
    // SIGCONT, --stop waited out --timeout and killed the daemon before its handler could run.
    REQUIRE(subreaper);
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", said = dir / "said";
    REQUIRE(run({"-p", pidfile, "/bin/sh", "-c",
                 "trap 'echo term > " + said + "; exit 0' TERM; kill -STOP $$; exec sleep 1000"}).code == 0);
    daemon_guard daemon(pid_in(pidfile));
    await_stop(daemon.pid());
    const run_result r = run({"--stop", "--timeout=3", "-p", pidfile});
    CHECK(r.code == 0);
    CHECK(r.err == "");
    CHECK(daemon.killed_by() == 0);
    CHECK(exists(said));
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("a failed exec is reported by the launcher, which exits 7 and leaves no pidfile") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    const run_result r = run({"-p", pidfile, "--", "/nonexistent/cmd", "x"});
    CHECK(r.code == 7);
    CHECK(r.err == "ospp-daemonize: cannot execute /nonexistent/cmd: No such file or directory\n");
    const auto statuses = reap_all();  // the daemon that could not exec
    REQUIRE(statuses.size() == 1);
    CHECK_FALSE(exists(pidfile));

    const run_result noexec = run({"--", dir.path()});
    CHECK(noexec.code == 7);
    CHECK(noexec.err == "ospp-daemonize: cannot execute " + dir.path() + ": Permission denied\n");
    CHECK(reap_all().size() == 1);

    // A relative path is looked up from the daemon's working directory, not the caller's: say so.
    const run_result relative = run({"-C", dir.path(), "--", "./nonexistent-cmd"});
    CHECK(relative.code == 7);
    CHECK(relative.err == "ospp-daemonize: cannot execute ./nonexistent-cmd: No such file or directory"
                          " (a relative COMMAND is looked up from the daemon's working directory, " +
                              dir.path() + ")\n");
    CHECK(reap_all().size() == 1);
}

TEST_CASE("a file the kernel cannot execute is not run by /bin/sh instead: exit 7") {
    // execvp(3) hands a file without a #! line (or a binary for another machine) to /bin/sh: the
    // launcher then said 0, "executed", of a command that never ran, or of sh's syntax errors.
    temp_dir dir;
    const std::string script = dir / "no-shebang", ran = dir / "ran";
    ospp_test::write_file(script, "touch " + ran + "\n");
    REQUIRE(::chmod(script.c_str(), 0755) == 0);
    const std::string enoexec = "ospp-daemonize: cannot execute " + script +
                                ": Exec format error (not a binary for this machine, nor a script with a #! line)\n";
    for (const std::vector<std::string>& mode : {std::vector<std::string>{}, {"-R"}}) {
        std::vector<std::string> args = mode;
        args.insert(args.end(), {"-p", dir / "d.pid", "--", script});
        const run_result r = run(args);
        CHECK(r.err == enoexec);
        CHECK(r.code == 7);
        CHECK(reap_all().size() == 1);
        CHECK_FALSE(exists(dir / "d.pid"));
    }
    // Found in PATH, the same.
    const run_result r = run({"-E", "PATH=/nonexistent:" + dir.path(), "--", "no-shebang"});
    CHECK(r.err == "ospp-daemonize: cannot execute no-shebang: Exec format error (not a binary for this machine,"
                   " nor a script with a #! line)\n");
    CHECK(r.code == 7);
    CHECK(reap_all().size() == 1);
    CHECK_FALSE(exists(ran));
}

TEST_CASE("a failed setup step is reported with its errno, exit 6") {
    temp_dir dir;
    run_result r = run({"-C", "/nonexistent", sleeper, "1"});
    CHECK(r.code == 6);
    CHECK(r.err == "ospp-daemonize: chdir: [Errno 2] No such file or directory: '/nonexistent'\n");
    CHECK(reap_all().size() == 1);

    r = run({"-o", dir / "missing/out.log", sleeper, "1"});
    CHECK(r.code == 6);
    CHECK(r.err == "ospp-daemonize: stdout: [Errno 2] No such file or directory: '" + dir.path() + "/missing/out.log'\n");
    CHECK(reap_all().empty());  // opened by the first child, which the launcher reaps: no daemon

    r = run({"-k", "42", sleeper, "1"});
    CHECK(r.code == 6);
    CHECK(r.err == "ospp-daemonize: --keep-fd 42: Bad file descriptor\n");

    r = run({"-p", dir / "missing/d.pid", sleeper, "1"});
    CHECK(r.code == 5);
    CHECK(r.err == "ospp-daemonize: pidfile: [Errno 2] No such file or directory: '" + dir.path() + "/missing/d.pid'\n");
}

TEST_CASE("more failed steps: chroot, --ready-timeout") {
    temp_dir dir;
    run_result r = run({"-r", dir / "missing", sleeper, "1"});
    CHECK(r.code == 6);
    CHECK(r.err.rfind("ospp-daemonize: chroot: [Errno ", 0) == 0);  // ENOENT as root, EPERM otherwise
    CHECK(reap_all().size() == 1);

    // Nothing reads this FIFO, so opening it as --stdout blocks the launcher's first child: the
    // launcher gives up in time, kills and reaps it, and removes the pidfile.
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    r = run({"--ready-timeout=0.1", "-p", dir / "d.pid", "-o", dir / "fifo", sleeper, "1"});
    CHECK(r.code == 1);
    CHECK(r.err == "ospp-daemonize: the daemon did not start /bin/sleep 1 within --ready-timeout\n");
    CHECK(reap_all().empty());
    CHECK_FALSE(exists(dir / "d.pid"));
}

TEST_CASE("a failed privilege drop is reported (as an ordinary user)") {
    if (ospp_test::is_root()) OSPP_SKIP("root may switch to any user");
    // root's groups are {0}, its gid: for a process without supplementary groups no change of
    // groups, so the drop fails at the group id itself; with groups of its own, at setgroups.
    const std::string step = ::getgroups(0, nullptr) == 0 ? "setgid" : "setgroups";
    const run_result r = run({"-u", "root", sleeper, "1"});
    CHECK(r.code == 6);
    CHECK(r.err == "ospp-daemonize: " + step + ": [Errno 1] Operation not permitted\n");
    CHECK(reap_all().size() == 1);
}

TEST_CASE("usage errors exit 2 with a usage message") {
    run_result r = run({"--bogus", sleeper});
    CHECK(r.code == 2);
    CHECK(r.err == "ospp-daemonize: unrecognized option '--bogus'\nTry 'ospp-daemonize --help' for more information.\n");
    CHECK(run({}).code == 2);
    CHECK(run({"-m", "99", sleeper}).code == 2);
    CHECK(run({"-k", "x", sleeper}).code == 2);
    r = run({"-u", "no-such-user-ospp", sleeper});
    CHECK(r.code == 2);
    CHECK(r.err.rfind("ospp-daemonize: unknown user 'no-such-user-ospp'\n", 0) == 0);
    CHECK(run({"-g", "no-such-group-ospp", sleeper}).code == 2);

    r = run({"--help"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("Usage: ospp-daemonize", 0) == 0);
    r = run({"--version"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("ospp-daemonize ", 0) == 0);
}

TEST_CASE("--foreground: every step but detaching; the environment options") {
    temp_dir dir;
    const std::string out = dir / "out";
    run_result r = run({"-f", "-C", dir.path(), "-m", "077", "-o", out, "/bin/sh", "-c", "pwd; umask; exit 9"},
                       {.terminal = false});
    CHECK(r.err == "");
    CHECK(r.code == 9);  // the launcher became the command
    CHECK(read_file(out) == dir.path() + "\n0077\n");

    r = run({"-f", "-o", out, "--clear-env", "-E", "A=1", "-E", "B=two=2", "/usr/bin/env"}, {.terminal = false});
    CHECK(r.code == 0);
    CHECK(read_file(out) == dir.path() + "\n0077\nA=1\nB=two=2\n");  // appended

    r = run({"-f", "/nonexistent/cmd"}, {.terminal = false});
    CHECK(r.code == 7);
    CHECK(r.err == "ospp-daemonize: cannot execute /nonexistent/cmd: No such file or directory\n");
}

TEST_CASE("--foreground: a failed exec leaves no pidfile") {
    temp_dir dir;
    const std::string pidfile = dir / "f.pid";
    const run_result r = run({"-f", "-p", pidfile, "--", "/nonexistent/cmd"}, {.terminal = false});
    CHECK(r.code == 7);
    CHECK(r.err == "ospp-daemonize: cannot execute /nonexistent/cmd: No such file or directory\n");
    CHECK_FALSE(exists(pidfile));
    CHECK(run({"--status", "-p", pidfile}).code == 3);
}

TEST_CASE("--respawn: the supervisor restarts the command, forwards SIGTERM, removes its pidfile") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", log = dir / "log";
    fifo started(dir / "started");
    const run_result r =
        run({"-R0", "-p", pidfile, "-e", log, "/bin/sh", "-c", "echo $$ > " + started.path() + "; exec sleep 1000"});
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    const pid_t first = std::stoi(started.line());
    CHECK(first != supervisor.pid());
    CHECK(proc_stat(first)[1] == supervisor.pid());
    for (const auto& [n, target] : proc_fds(first)) CHECK(target != pidfile);  // the supervisor holds the lock
    CHECK(proc_status(first).at("SigBlk") == "0000000000000000");
    CHECK(locked(pidfile));

    REQUIRE(::kill(first, SIGKILL) == 0);
    const pid_t second = std::stoi(started.line());
    CHECK(second != first);
    CHECK(proc_stat(second)[1] == supervisor.pid());

    CHECK(run({"--stop", "-p", pidfile}).code == 0);
    const int st = supervisor.wait();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    CHECK_FALSE(exists(pidfile));
    CHECK(read_file(log).find("(pid " + std::to_string(first) + ") was killed by SIGKILL\n") != std::string::npos);
}

TEST_CASE("--respawn forwards SIGHUP, SIGUSR1, SIGUSR2 and keeps supervising; SIGINT ends both") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    fifo said(dir / "said");
    const std::string self = link_target("/proc/self/exe");
    REQUIRE(signal_helper_checked);
    REQUIRE(run({"-R", "-p", pidfile, "-E", "OSPP_SIGNAL_HELPER=" + said.path(), self}).code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    const pid_t command = std::stoi(said.line());

    CHECK(run({"--signal=HUP", "-p", pidfile}).code == 0);
    CHECK(said.line() == "hup");
    // USR1 and USR2 once killed the supervisor (a signal it did not handle), and the command with
    // it (PDEATHSIG).
    CHECK(run({"--signal=USR1", "-p", pidfile}).code == 0);
    CHECK(said.line() == "usr1");
    CHECK(run({"--signal=SIGUSR2", "-p", pidfile}).code == 0);
    CHECK(said.line() == "usr2");
    CHECK(proc_stat(command)[1] == supervisor.pid());  // the same command, still supervised
    const run_result r = run({"--status", "-p", pidfile});
    CHECK(r.code == 0);
    CHECK(r.out == "running (pid " + std::to_string(supervisor.pid()) + ")\n");

    CHECK(run({"--signal=INT", "-p", pidfile}).code == 0);
    CHECK(said.line() == "bye");
    const int st = supervisor.wait();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("--respawn: signals that arrive during the restart delay do not postpone the restart") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    fifo started(dir / "started");
    REQUIRE(run({"-R0.3", "-p", pidfile, "/bin/sh", "-c", "echo $$ > " + started.path() + "; exec sleep 1000"}).code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    const pid_t first = std::stoi(started.line());
    REQUIRE(::kill(first, SIGKILL) == 0);
    // A SIGCHLD that reaps nothing (sent by someone, or left by a run that failed to exec) once
    // scheduled the restart anew, 0.3 s after it: a steady stream of them put it off for ever.
    bool restarted = false;
    for (int i = 0; i < 200 && !restarted; ++i) {  // 200 x 20 ms: 4 s, for a restart due after 0.3 s
        REQUIRE(::kill(supervisor.pid(), SIGCHLD) == 0);
        restarted = started.readable(20);
    }
    REQUIRE(restarted);
    CHECK(std::stoi(started.line()) != first);
    CHECK(run({"--stop", "-p", pidfile}).code == 0);
    CHECK(WIFEXITED(supervisor.wait()));
}

TEST_CASE("--respawn: queued signals do not put the restart off") {
    // The restart was made only when poll() timed out, which it does not while signals are
    // pending: a queue of real-time signals (each one queued, up to RLIMIT_SIGPENDING) was read
    // to the end first, and a steady stream of them held the restart off for as long as it lasted.
    // Here the restart is due at once (-R0): it now comes before the supervisor has read the queue,
    // whose next signal it passes on to the new command, which dies of it (a shell has no time to
    // ignore it). Before, the queue was read to the end, and only then was the command restarted.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    fifo started(dir / "started"), said(dir / "said");
    const int rt = SIGRTMIN + 2;
    REQUIRE(run({"-R0", "-p", pidfile, "-e", said.path(), "/bin/sh", "-c",
                 "echo $$ > " + started.path() + "; exec sleep 1000"}).code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    const pid_t first = std::stoi(started.line());
    REQUIRE(::kill(supervisor.pid(), SIGSTOP) == 0);
    long queued = 0;
    while (::sigqueue(supervisor.pid(), rt, ::sigval{}) == 0) ++queued;  // until EAGAIN: full
    REQUIRE(queued > 1000);
    REQUIRE(::kill(first, SIGKILL) == 0);
    REQUIRE(::kill(supervisor.pid(), SIGCONT) == 0);
    CHECK(said.line() == "ospp-daemonize: /bin/sh (pid " + std::to_string(first) + ") was killed by SIGKILL");
    const std::string next = said.line();  // the restarted command's end
    CHECK(next.ends_with("was killed by SIG" + ospp::signal_name(ospp::signum{rt})));
    (void)run({"--stop", "-p", pidfile});  // or it has given up (five ends in ten seconds)
    (void)supervisor.wait();
}

TEST_CASE("--respawn: a --stderr pipe that nobody reads any more does not kill the supervisor") {
    // The supervisor's line about an exit, written to a FIFO whose reader had gone, raised SIGPIPE,
    // which it left at its default action: it died, the command with it (PDEATHSIG), and the
    // pidfile stayed behind. Its write fails now (EPIPE), and it goes on supervising.
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", log = dir / "log";
    fifo started(dir / "started");
    REQUIRE(::mkfifo(log.c_str(), 0600) == 0);
    ospp::fd reader(::open(log.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader.valid());
    REQUIRE(run({"-R0", "-p", pidfile, "-e", log, "/bin/sh", "-c", "echo $$ > " + started.path() + "; exec sleep 1000"}).code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    const pid_t first = std::stoi(started.line());
    reader.reset();  // the log's reader goes away
    REQUIRE(::kill(first, SIGKILL) == 0);
    bool restarted = false;
    siginfo_t gone{};
    for (int i = 0; i < hang_ms / 20 && !restarted && gone.si_pid == 0; ++i) {
        restarted = started.readable(20);
        REQUIRE(::waitid(P_PID, static_cast<id_t>(supervisor.pid()), &gone, WEXITED | WNOHANG | WNOWAIT) == 0);
    }
    CHECK(gone.si_pid == 0);
    CAPTURE(gone.si_status);
    REQUIRE(restarted);
    CHECK(std::stoi(started.line()) != first);
    CHECK(run({"--stop", "-p", pidfile}).code == 0);
    const int st = supervisor.wait();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("--foreground --respawn at a terminal: one Ctrl-C is one SIGINT for the command") {
    temp_dir dir;
    fifo said(dir / "said");
    REQUIRE(signal_helper_checked);
    terminal_job job({"-f", "-R", "-E", "OSPP_SIGNAL_HELPER=" + said.path(), "-E", "OSPP_SIGNAL_HELPER_INT=count",
                      link_target("/proc/self/exe")});
    (void)said.line();  // the command's pid: it runs
    // The supervisor is stopped while the key is typed, so that the command has taken the terminal's
    // SIGINT before a second one from the supervisor could arrive and merge with it.
    REQUIRE(::kill(job.pid(), SIGSTOP) == 0);
    CHECK(job.report() == "stopped " + std::to_string(SIGSTOP));
    job.type("\x03");
    CHECK(said.line() == "int from the kernel");
    REQUIRE(::kill(job.pid(), SIGCONT) == 0);
    // The supervisor reads its pending signals lowest number first: a SIGINT passed on would come
    // before this SIGUSR1.
    REQUIRE(::kill(job.pid(), SIGUSR1) == 0);
    CHECK(said.line() == "usr1");
    // The Ctrl-C still ends the supervisor once the command has ended.
    REQUIRE(::kill(job.pid(), SIGTERM) == 0);
    CHECK(said.line() == "bye");
    CHECK(job.report() == "exited 0");
}

TEST_CASE("--foreground --respawn at a terminal: Ctrl-Z stops the whole job, and fg continues it") {
    temp_dir dir;
    fifo said(dir / "said");
    REQUIRE(signal_helper_checked);
    terminal_job job({"-f", "-R", "-E", "OSPP_SIGNAL_HELPER=" + said.path(), link_target("/proc/self/exe")});
    (void)said.line();
    job.type("\x1a");
    CHECK(job.report() == "stopped " + std::to_string(SIGTSTP));  // the shell can report the job stopped
    REQUIRE(::kill(-job.pid(), SIGCONT) == 0);  // what the shell's fg does
    REQUIRE(::kill(job.pid(), SIGUSR1) == 0);   // both run again: the supervisor passes it on
    CHECK(said.line() == "usr1");
    REQUIRE(::kill(job.pid(), SIGTERM) == 0);
    CHECK(said.line() == "bye");
    CHECK(job.report() == "exited 0");
}

TEST_CASE("--stop of a supervisor whose command ignores SIGTERM: the command dies with it") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    fifo started(dir / "started");
    REQUIRE(run({"-R", "-p", pidfile, "/bin/sh", "-c",
                 "trap '' TERM; echo $$ > " + started.path() + "; exec sleep 1000"}).code == 0);
    daemon_guard supervisor(pid_in(pidfile));
    // Re-parented to us when the supervisor dies: ours to reap.
    daemon_guard command(std::stoi(started.line()));
    const run_result r = run({"--stop", "--timeout=0.1", "-p", pidfile});
    CHECK(r.code == 0);
    CHECK(r.err == "ospp-daemonize: pid " + std::to_string(supervisor.pid()) + " still running after 0.1 s; sending SIGKILL\n");
    int st = supervisor.wait();
    CHECK(WIFSIGNALED(st));
    CHECK(WTERMSIG(st) == SIGKILL);
    st = command.wait();
    CHECK(WIFSIGNALED(st));
    CHECK(WTERMSIG(st) == SIGKILL);  // PR_SET_PDEATHSIG
}

TEST_CASE("--respawn gives up after a burst of fast failures, saying so on stderr") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid", log = dir / "log";
    const run_result r = run({"-R0", "-p", pidfile, "-e", log, "/bin/sh", "-c", "exit 3"});
    CHECK(r.code == 0);
    const auto statuses = reap_all();  // the supervisor, once it gave up
    REQUIRE(statuses.size() == 1);
    CHECK(WIFEXITED(statuses[0]));
    CHECK(WEXITSTATUS(statuses[0]) == 1);
    const std::string text = read_file(log);
    std::size_t exits = 0;
    for (auto at = text.find("exited with status 3"); at != std::string::npos; at = text.find("exited with status 3", at + 1))
        ++exits;
    CHECK(exits == 5);
    CHECK(text.find("ospp-daemonize: /bin/sh ended 5 times within 10 s; giving up\n") != std::string::npos);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("--respawn reports a command it cannot execute, exit 7") {
    temp_dir dir;
    const std::string pidfile = dir / "d.pid";
    const run_result r = run({"-R", "-p", pidfile, "/nonexistent/cmd"});
    CHECK(r.code == 7);
    CHECK(r.err == "ospp-daemonize: cannot execute /nonexistent/cmd: No such file or directory\n");
    CHECK(reap_all().size() == 1);
    CHECK_FALSE(exists(pidfile));
}

TEST_CASE("--user drops to the user with its own groups only (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string pidfile = dir / "d.pid";
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    const run_result r = run({"-u", "nobody", "-p", pidfile, sleeper, "1000"});
    CHECK(r.err == "");
    REQUIRE(r.code == 0);
    daemon_guard daemon(pid_in(pidfile));
    const auto status = proc_status(daemon.pid());
    const std::string uid = std::to_string(nobody->pw_uid), gid = std::to_string(nobody->pw_gid);
    CHECK(status.at("Uid") == uid + "\t" + uid + "\t" + uid + "\t" + uid);
    CHECK(status.at("Gid") == gid + "\t" + gid + "\t" + gid + "\t" + gid);
    // nobody's supplementary groups are its primary group at most; root's group 0 is gone.
    const std::string groups = status.at("Groups");
    CHECK((groups.empty() || groups == gid || groups == gid + " "));
    CHECK(read_file(pidfile) == std::to_string(daemon.pid()) + "\n");  // written before the drop
    CHECK(run({"--stop", "-p", pidfile}).code == 0);
    daemon.wait();
}

TEST_CASE("--user as an ordinary user: the same groups are left alone, other ones fail at setgroups (as root)") {
    // Unprivileged, -u can only name the user one already is, and its supplementary groups (those
    // of initgroups, its primary group aside) can only be the ones the process has.
    OSPP_REQUIRE_ROOT();
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    if (nobody->pw_uid != 65534 || nobody->pw_gid != 65534) OSPP_SKIP("nobody is not 65534:65534 here");
    int count = 16;
    std::vector<::gid_t> own(static_cast<std::size_t>(count));
    REQUIRE(::getgrouplist("nobody", nobody->pw_gid, own.data(), &count) >= 0);
    own.resize(static_cast<std::size_t>(count));
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    const std::string pidfile = dir / "d.pid";

    // Groups initgroups does not list: a change, which only root may make.
    run_result r = run({"-u", "nobody", "-p", pidfile, sleeper, "1000"}, {.as_nobody = true, .groups = {100}});
    CHECK(r.err == "ospp-daemonize: setgroups: [Errno 1] Operation not permitted\n");
    CHECK(r.code == 6);
    CHECK(reap_all().size() == 1);  // the daemon that failed
    CHECK_FALSE(exists(pidfile));

    // nobody's own groups; then none at all (setpriv --clear-groups, a container's --user), which
    // gives what its list {65534} gives once the gid is 65534: both are left as they are.
    std::string expected;
    for (::gid_t g : own) expected += std::to_string(g) + " ";  // the kernel ends each with a blank
    for (const auto& [groups, listed] : {std::pair{own, expected}, std::pair{std::vector<::gid_t>{}, std::string()}}) {
        r = run({"-u", "nobody", "-p", pidfile, sleeper, "1000"}, {.as_nobody = true, .groups = groups});
        CHECK(r.err == "");
        REQUIRE(r.code == 0);
        daemon_guard daemon(pid_in(pidfile));
        CHECK(proc_status(daemon.pid()).at("Groups") == listed);
        REQUIRE(run({"--stop", "-p", pidfile}).code == 0);
        CHECK(daemon.killed_by() == SIGTERM);
    }
}

TEST_CASE("--user: a drop that leaves a way back to root fails the start (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string pidfile = dir / "d.pid";
    // SECBIT_NO_SETUID_FIXUP survives the launcher's exec and keeps every capability through
    // setuid(2): the daemon could then setuid(0) back.
    const run_result r = run({"-u", "nobody", "-p", pidfile, sleeper, "1000"}, {.securebits = SECBIT_NO_SETUID_FIXUP});
    if (r.code == 0) daemon_guard started(pid_in(pidfile));  // not refused: kill it
    CHECK(r.code == 6);
    CHECK(r.err == "ospp-daemonize: privileges not dropped: setuid(0) succeeded after switching to nobody\n");
    CHECK(reap_all().size() == 1);
    CHECK_FALSE(exists(pidfile));
}
