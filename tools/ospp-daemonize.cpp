// tools/ospp-daemonize.cpp — run any command as a correct daemon (systemd daemon(7)'s SysV steps),
// and control it by its pidfile. The command line is parsed in daemonize_args.cpp; see
// docs/ospp-daemonize.1 for the user's view and docs/daemonize.md for the design.
//
// Start, exec mode (the default):
//   launcher: resolve ids, lock the pidfile (refuse while held), open a close-on-exec report pipe, fork
//   first child: reset every signal disposition and the mask, close every fd but 0-2, --keep-fd, the
//                pidfile and the report pipe, setsid (SIGHUP ignored across it), fork, _exit
//   daemon:      0-2 from --stdin/--stdout/--stderr, umask, chroot, chdir, RLIMIT_CORE 0, write the
//                pid, drop privileges, environment, report its pid, exec COMMAND
//   launcher:    reads the report pipe until EOF: a failure report names the step and errno; EOF
//                after the pid report means the exec succeeded (the pipe is close-on-exec).
// The pidfile's fd stays open across the exec on purpose: the command inherits the lock, so the lock
// lives exactly as long as the daemon and a leftover file is recognisably stale.
//
// --respawn: the daemon becomes a supervisor that holds the lock, names itself in the pidfile,
// restarts COMMAND, forwards TERM/INT/HUP to it, gives up after a burst of exits and removes the
// pidfile when it ends. --foreground: the same steps without fork and setsid.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemonize_args.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/signal.hpp"

namespace {

using namespace ospp_daemonize;
using clock_type = std::chrono::steady_clock;

constexpr const char* program = "ospp-daemonize";
// --respawn gives up when COMMAND ended this many times within burst_window.
constexpr int burst_limit = 5;
constexpr std::chrono::seconds burst_window{10};

// glibc 2.36's <sys/pidfd.h> lacks extern "C": call the system calls directly.
int pidfd_open(::pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)); }
int pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

// ---------------------------------------------------------------------------------------------
// Messages

void say(int fd, const std::string& line) {
    const std::string text = std::string(program) + ": " + line + "\n";
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<std::size_t>(n);
    }
}

int usage_failure(const std::string& message) {
    say(2, message + "\nTry 'ospp-daemonize --help' for more information.");
    return exit_code::usage;
}

std::string command_line(const options& o) {
    std::string s;
    for (const auto& a : o.command) s += (s.empty() ? "" : " ") + a;
    return s;
}

// ---------------------------------------------------------------------------------------------
// The steps of a start, and how their failures are told.

enum class step : std::int32_t {
    keep_fd, fork, setsid, close_fds, stdin_file, stdout_file, stderr_file, chroot, chdir, core_limit,
    write_pidfile, setgroups, setgid, setuid, environment, supervise, exec,
};

// What the daemon tells the launcher through the report pipe (one atomic write each).
struct report {
    enum kind_type : std::int32_t { pid = 1, failed = 2 } kind;
    step where;
    std::int32_t error;  // errno for failed
    std::int32_t value;  // the daemon's pid for pid
};

std::string describe(step s, int err, const options& o) {
    const std::string why = std::strerror(err);
    switch (s) {
    case step::keep_fd: return "--keep-fd: not an open file descriptor: " + why;
    case step::fork: return "cannot fork: " + why;
    case step::setsid: return "cannot create a session (setsid): " + why;
    case step::close_fds: return "cannot close inherited file descriptors: " + why;
    case step::stdin_file: return "cannot open --stdin " + o.stdin_path + ": " + why;
    case step::stdout_file: return "cannot open --stdout " + o.stdout_path + ": " + why;
    case step::stderr_file: return "cannot open --stderr " + o.stderr_path + ": " + why;
    case step::chroot: return "cannot chroot to " + o.chroot_directory + ": " + why;
    case step::chdir: return "cannot change directory to " + o.working_directory + ": " + why;
    case step::core_limit: return "cannot set RLIMIT_CORE to 0: " + why;
    case step::write_pidfile: return "cannot write pidfile " + o.pidfile + ": " + why;
    case step::setgroups: return "cannot set supplementary groups: " + why;
    case step::setgid: return "cannot set group " + o.group + ": " + why;
    case step::setuid: return "cannot set user " + o.user + ": " + why;
    case step::environment: return "cannot set the environment: " + why;
    case step::supervise: return "cannot supervise: " + why;
    case step::exec: return "cannot execute " + o.command.front() + ": " + why;
    }
    return why;
}

int exit_code_of(step s) {
    if (s == step::exec) return exit_code::exec_failed;
    if (s == step::write_pidfile) return exit_code::pidfile_error;
    return exit_code::setup_failed;
}

// Where a step's failure goes: the launcher's report pipe (detached), or straight to the original
// stderr (--foreground, where there is no launcher).
class reporter {
public:
    reporter(const options& o, ospp::fd pipe_end, ospp::fd direct) noexcept
        : o_(o), pipe_(std::move(pipe_end)), direct_(std::move(direct)) {}

    [[noreturn]] void fail(step s, int err) {
        if (pipe_.valid()) {
            const report r{report::failed, s, err, 0};
            (void)!::write(pipe_.get(), &r, sizeof r);
        } else if (direct_.valid()) {
            say(direct_.get(), describe(s, err, o_));
        }
        ::_exit(exit_code_of(s));
    }
    void tell_pid(::pid_t pid) {
        if (!pipe_.valid()) return;
        const report r{report::pid, step::exec, 0, static_cast<std::int32_t>(pid)};
        (void)!::write(pipe_.get(), &r, sizeof r);
    }
    [[nodiscard]] int pipe_fd() const noexcept { return pipe_.get(); }
    // After this, the launcher sees EOF: the start is over (exec mode: the exec closes it instead).
    void done() noexcept {
        pipe_.reset();
        direct_.reset();
    }

private:
    const options& o_;
    ospp::fd pipe_;
    ospp::fd direct_;
};

// ---------------------------------------------------------------------------------------------
// The pidfile: FreeBSD pidfile(3) semantics with flock(2).

struct pidfile_state {
    bool exists = false;
    bool locked = false;             // a live process holds the lock: running
    std::optional<::pid_t> pid;      // what the file says
    int error = 0;                   // errno when the file could not be read
};

std::optional<::pid_t> read_pid(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(buf, &end, 10);
    if (errno != 0 || end == buf || v <= 0 || v > INT32_MAX || (*end != '\n' && *end != '\0')) return std::nullopt;
    return static_cast<::pid_t>(v);
}

// Whether anyone holds a flock(2) lock on the file, read from /proc/locks so that asking takes no
// lock itself (a probe with flock could make a concurrent start fail). Falls back to a shared probe
// lock when /proc is not mounted.
bool is_locked(int fd) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) return false;
    std::ifstream locks("/proc/locks");
    if (!locks) {
        if (::flock(fd, LOCK_SH | LOCK_NB) != 0) return errno == EWOULDBLOCK;
        ::flock(fd, LOCK_UN);
        return false;
    }
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%llu", ::major(st.st_dev), ::minor(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    std::string line;
    while (std::getline(locks, line)) {
        // "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"; "1: -> FLOCK ..." lines are waiters.
        std::istringstream in(line);
        std::string number, type, mode, access, pid, where;
        in >> number >> type;
        if (type != "FLOCK") continue;
        in >> mode >> access >> pid >> where;
        if (where == id) return true;
    }
    return false;
}

pidfile_state probe_pidfile(const std::string& path) {
    pidfile_state s;
    ospp::fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!f.valid()) {
        if (errno != ENOENT) s.error = errno;
        return s;
    }
    s.exists = true;
    s.locked = is_locked(f.get());
    s.pid = read_pid(f.get());
    return s;
}

// Removes the file at `path` if it is still the file open as `fd` (never someone else's new one).
void unlink_if_same(const std::string& path, int fd) {
    struct ::stat mine {}, now {};
    if (::fstat(fd, &mine) != 0 || ::lstat(path.c_str(), &now) != 0) return;
    if (mine.st_dev == now.st_dev && mine.st_ino == now.st_ino) ::unlink(path.c_str());
}

// Opens and locks the pidfile for a start. Exits with the launcher's code on failure.
ospp::fd lock_pidfile(const options& o) {
    ospp::fd f(::open(o.pidfile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644));
    if (!f.valid()) {
        say(2, "cannot open pidfile " + o.pidfile + ": " + std::strerror(errno));
        std::exit(exit_code::pidfile_error);
    }
    if (::flock(f.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            const auto pid = read_pid(f.get());
            say(2, "already running" + (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                       ", pidfile " + o.pidfile);
            std::exit(exit_code::already_running);
        }
        say(2, "cannot lock pidfile " + o.pidfile + ": " + std::strerror(errno));
        std::exit(exit_code::pidfile_error);
    }
    // Locked by us: a leftover file is stale and taken over. Not writable by others, whoever made it.
    struct ::stat st {};
    if (::fstat(f.get(), &st) == 0 && (st.st_mode & 0022) != 0) ::fchmod(f.get(), st.st_mode & ~0022U & 07777);
    return f;
}

bool write_pid(int fd, ::pid_t pid) {
    const std::string text = std::to_string(pid) + "\n";
    if (::ftruncate(fd, 0) != 0) return false;
    return ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

// ---------------------------------------------------------------------------------------------
// The daemonizing steps (run after fork, in a single-threaded process).

void reset_signals() {
    struct ::sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigemptyset(&sa.sa_mask);
    for (int s = 1; s <= SIGRTMAX; ++s) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        ::sigaction(s, &sa, nullptr);  // EINVAL for the C library's reserved signals: fine
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Closes every fd from 3 up except `keep` (sorted, unique), with close_range over the gaps.
int close_all_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    unsigned first = 3;
    for (int k : keep) {
        if (k < static_cast<int>(first)) continue;
        if (static_cast<unsigned>(k) > first && ::close_range(first, static_cast<unsigned>(k) - 1, 0) != 0) return errno;
        first = static_cast<unsigned>(k) + 1;
    }
    if (::close_range(first, ~0U, 0) != 0) return errno;
    return 0;
}

void set_inheritable(int fd, bool inheritable) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC);
}

// Opens `path` onto fd `target` (0-2), inheritable.
int open_onto(const std::string& path, int flags, int target) {
    const int f = ::open(path.c_str(), flags | O_NOCTTY | O_CLOEXEC, 0666);
    if (f < 0) return errno;
    if (f != target) {
        if (::dup2(f, target) < 0) {
            const int e = errno;
            ::close(f);
            return e;
        }
        ::close(f);
    } else {
        set_inheritable(target, true);
    }
    return 0;
}

void setup_stdio(const options& o, reporter& r) {
    constexpr int out_flags = O_WRONLY | O_CREAT | O_APPEND;
    if (int e = open_onto(o.stdin_path, O_RDONLY, 0)) r.fail(step::stdin_file, e);
    const std::string& out = o.stdout_path.empty() ? std::string("/dev/null") : o.stdout_path;
    if (int e = open_onto(out, out_flags, 1)) r.fail(step::stdout_file, e);
    if (o.stderr_path.empty()) {
        if (::dup2(1, 2) < 0) r.fail(step::stderr_file, errno);
    } else if (int e = open_onto(o.stderr_path, out_flags, 2)) {
        r.fail(step::stderr_file, e);
    }
}

void drop_privileges(const ids& who, reporter& r) {
    if (who.gid) {
        if (!who.user_name.empty()) {
            if (::initgroups(who.user_name.c_str(), *who.gid) != 0) r.fail(step::setgroups, errno);
        } else if (::geteuid() == 0 && ::setgroups(0, nullptr) != 0) {
            r.fail(step::setgroups, errno);
        }
        if (::setgid(*who.gid) != 0) r.fail(step::setgid, errno);
    }
    if (who.uid) {
        if (::setuid(*who.uid) != 0) r.fail(step::setuid, errno);
        // A drop that can be undone is no drop.
        if (*who.uid != 0 && ::setuid(0) == 0) r.fail(step::setuid, EPERM);
    }
}

void setup_environment(const options& o, reporter& r) {
    if (o.clear_env && ::clearenv() != 0) r.fail(step::environment, errno);
    for (const auto& kv : o.env) {
        const auto eq = kv.find('=');
        if (::setenv(kv.substr(0, eq).c_str(), kv.c_str() + eq + 1, 1) != 0) r.fail(step::environment, errno);
    }
}

std::vector<char*> exec_argv(const options& o) {
    std::vector<char*> argv;
    for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    return argv;
}

// ---------------------------------------------------------------------------------------------
// --respawn: the supervisor.

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "was killed by SIG" + ospp::signal_name(ospp::signum{WTERMSIG(status)});
    return "ended";
}

// Forks and execs COMMAND with a clean signal mask. Returns the child's pid, or -errno when it could
// not be started (fork failed, or exec failed: the child says so through a close-on-exec pipe).
::pid_t spawn(const std::vector<char*>& argv) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -errno;
    const ::pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(p[0]);
        ::close(p[1]);
        return -e;
    }
    if (pid == 0) {
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(argv[0], argv.data());
        const int e = errno;
        (void)!::write(p[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(p[1]);
    int e = 0;
    ssize_t n;
    while ((n = ::read(p[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    ::close(p[0]);
    if (n == sizeof e) {
        ::waitpid(pid, nullptr, 0);
        return -e;
    }
    return pid;
}

[[noreturn]] void supervise(const options& o, reporter& r, int pidfile_fd) {
    const std::vector<char*> argv = exec_argv(o);
    const ospp::signal_set handled{ospp::signum::term, ospp::signum::intr, ospp::signum::hup, ospp::signum::chld};
    if (::sigprocmask(SIG_BLOCK, &handled.native(), nullptr) != 0) r.fail(step::supervise, errno);
    ospp::fd signals(::signalfd(-1, &handled.native(), SFD_CLOEXEC));
    if (!signals.valid()) r.fail(step::supervise, errno);

    const auto finish = [&](int code) {
        if (pidfile_fd >= 0) unlink_if_same(o.pidfile, pidfile_fd);
        ::_exit(code);
    };
    ::pid_t child = spawn(argv);
    if (child < 0) {
        if (pidfile_fd >= 0) unlink_if_same(o.pidfile, pidfile_fd);
        r.fail(step::exec, -child);
    }
    r.done();  // started: the launcher may exit 0

    std::deque<clock_type::time_point> exits;
    bool stopping = false;
    std::optional<clock_type::time_point> restart_at;
    const auto delay = std::chrono::duration_cast<clock_type::duration>(*o.respawn);
    for (;;) {
        int timeout_ms = -1;
        if (restart_at) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*restart_at - clock_type::now());
            timeout_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
        }
        ::pollfd pfd{signals.get(), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno != EINTR) finish(exit_code::failure);
        if (ready == 0 && restart_at) {
            restart_at.reset();
            child = spawn(argv);
            if (child < 0) {
                say(2, describe(step::exec, -child, o));
                exits.push_back(clock_type::now());
                child = 0;
            } else {
                continue;
            }
        } else if (ready > 0) {
            ::signalfd_siginfo info{};
            if (::read(signals.get(), &info, sizeof info) != sizeof info) continue;
            const int sig = static_cast<int>(info.ssi_signo);
            if (sig == SIGCHLD) {
                int status = 0;
                ::pid_t pid;
                while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
                    if (pid != child) continue;
                    child = 0;
                    if (stopping) finish(exit_code::ok);
                    say(2, o.command.front() + " (pid " + std::to_string(pid) + ") " + describe_status(status));
                    exits.push_back(clock_type::now());
                }
                if (child != 0) continue;
            } else if (sig == SIGHUP) {
                if (child != 0) ::kill(child, SIGHUP);
                continue;
            } else {  // TERM, INT: pass it on, and end when the command has ended
                stopping = true;
                if (child == 0) finish(exit_code::ok);
                ::kill(child, sig);
                continue;
            }
        } else {
            continue;
        }
        // The command is gone: restart it, unless it keeps failing.
        while (!exits.empty() && clock_type::now() - exits.front() > burst_window) exits.pop_front();
        if (static_cast<int>(exits.size()) >= burst_limit) {
            say(2, o.command.front() + " ended " + std::to_string(burst_limit) + " times within " +
                       std::to_string(burst_window.count()) + " s; giving up");
            finish(exit_code::failure);
        }
        restart_at = clock_type::now() + delay;
    }
}

// ---------------------------------------------------------------------------------------------
// Start

// Everything after the detaching forks (or, with --foreground, instead of them): stdio, umask,
// chroot, chdir, core limit, pid, privileges, environment; then exec or supervise.
[[noreturn]] void become_daemon(const options& o, const ids& who, reporter& r, ospp::fd pidfile) {
    setup_stdio(o, r);
    ::umask(o.umask);
    if (!o.chroot_directory.empty()) {
        if (::chroot(o.chroot_directory.c_str()) != 0) r.fail(step::chroot, errno);
        if (::chdir("/") != 0) r.fail(step::chroot, errno);
    }
    if (::chdir(o.working_directory.c_str()) != 0) r.fail(step::chdir, errno);
    if (!o.core) {
        const ::rlimit zero{0, 0};
        if (::setrlimit(RLIMIT_CORE, &zero) != 0) r.fail(step::core_limit, errno);
    }
    if (pidfile.valid() && !write_pid(pidfile.get(), ::getpid())) r.fail(step::write_pidfile, errno);
    drop_privileges(who, r);
    setup_environment(o, r);
    r.tell_pid(::getpid());
    if (o.respawn) supervise(o, r, pidfile.get());
    // Exec mode: the command inherits the pidfile's lock (see the top of this file).
    if (pidfile.valid()) set_inheritable(pidfile.release(), true);
    const std::vector<char*> argv = exec_argv(o);
    ::execvp(argv[0], argv.data());
    r.fail(step::exec, errno);
}

// The launcher's side of a detached start: wait for the report pipe to say how it went.
// `timed_out` tells that the daemon may still be alive.
int await_start(const options& o, ospp::fd reports, ::pid_t first_child, bool& timed_out) {
    const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(o.ready_timeout);
    std::optional<::pid_t> daemon_pid;
    int code = -1;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
        ::pollfd pfd{reports.get(), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count())));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) {
            say(2, "the daemon" + (daemon_pid ? " (pid " + std::to_string(*daemon_pid) + ")" : std::string()) +
                       " did not start " + command_line(o) + " within --ready-timeout");
            code = exit_code::failure;
            timed_out = true;
            break;
        }
        report r{};
        ssize_t n;
        while ((n = ::read(reports.get(), &r, sizeof r)) < 0 && errno == EINTR) {}
        if (n == 0) {  // EOF: every writer is gone
            if (daemon_pid) {
                code = exit_code::ok;
            } else {
                say(2, "the daemon died before executing " + o.command.front());
                code = exit_code::failure;
            }
            break;
        }
        if (n != sizeof r) continue;
        if (r.kind == report::pid) daemon_pid = r.value;
        if (r.kind == report::failed) {
            say(2, describe(r.where, r.error, o));
            code = exit_code_of(r.where);
            break;
        }
    }
    ::waitpid(first_child, nullptr, 0);
    return code;
}

// Makes sure 0-2 are open, so that nothing opened later lands on them by accident.
void ensure_stdio_open() {
    for (int f = 0; f <= 2; ++f) {
        if (::fcntl(f, F_GETFD) >= 0 || errno != EBADF) continue;
        const int n = ::open("/dev/null", O_RDWR);
        if (n >= 0 && n != f) ::close(n);
    }
}

int start(const options& o) {
    const auto who = resolve_ids(o);
    if (!who) return usage_failure(who.error().message);
    for (int k : o.keep_fds) {
        if (::fcntl(k, F_GETFD) < 0) {
            say(2, "--keep-fd " + std::to_string(k) + ": " + std::strerror(errno));
            return exit_code::setup_failed;
        }
    }
    ospp::fd pidfile;
    if (!o.pidfile.empty()) pidfile = lock_pidfile(o);
    std::fflush(nullptr);

    if (o.foreground) {
        ospp::fd direct(::fcntl(2, F_DUPFD_CLOEXEC, 3));
        reset_signals();
        std::vector<int> keep = o.keep_fds;
        keep.push_back(pidfile.get());
        keep.push_back(direct.get());
        reporter r(o, ospp::fd(), std::move(direct));
        if (int e = close_all_except(keep)) r.fail(step::close_fds, e);
        for (int k : o.keep_fds) set_inheritable(k, true);
        become_daemon(o, *who, r, std::move(pidfile));
    }

    auto pipe = ospp::pipe();
    if (!pipe) {
        say(2, "cannot create a pipe: " + pipe.error().message());
        return exit_code::setup_failed;
    }
    const ::pid_t first = ::fork();
    if (first < 0) {
        say(2, describe(step::fork, errno, o));
        return exit_code::setup_failed;
    }
    if (first > 0) {
        pipe->write_end.reset();
        bool timed_out = false;
        const int code = await_start(o, std::move(pipe->read_end), first, timed_out);
        // A failed start leaves no pidfile behind: the daemon is dead and we still hold the lock.
        if (code != exit_code::ok && !timed_out && pidfile.valid()) unlink_if_same(o.pidfile, pidfile.get());
        return code;
    }
    // First child.
    reporter r(o, std::move(pipe->write_end), ospp::fd());
    pipe->read_end.reset();
    reset_signals();
    ::signal(SIGHUP, SIG_IGN);  // the first child's exit must not hang up the daemon
    std::vector<int> keep = o.keep_fds;
    keep.push_back(pidfile.get());
    keep.push_back(r.pipe_fd());
    if (int e = close_all_except(keep)) r.fail(step::close_fds, e);
    for (int k : o.keep_fds) set_inheritable(k, true);
    if (::setsid() < 0) r.fail(step::setsid, errno);
    const ::pid_t second = ::fork();
    if (second < 0) r.fail(step::fork, errno);
    if (second > 0) ::_exit(0);
    ::signal(SIGHUP, SIG_DFL);
    become_daemon(o, *who, r, std::move(pidfile));
}

// ---------------------------------------------------------------------------------------------
// Control verbs

int status(const options& o) {
    const pidfile_state s = probe_pidfile(o.pidfile);
    if (s.error != 0) {
        say(2, "cannot read pidfile " + o.pidfile + ": " + std::strerror(s.error));
        return exit_code::status_unknown;
    }
    if (s.locked) {
        std::printf("running (pid %s)\n", s.pid ? std::to_string(*s.pid).c_str() : "unknown");
        return exit_code::ok;
    }
    if (s.exists) {
        std::printf("not running (stale pidfile %s)\n", o.pidfile.c_str());
        return exit_code::dead_with_pidfile;
    }
    std::printf("not running\n");
    return exit_code::not_running;
}

// A process handle that cannot be confused with a later process of the same pid.
ospp::fd open_daemon(const options& o, const pidfile_state& s) {
    if (!s.pid) return ospp::fd();
    ospp::fd pidfd(pidfd_open(*s.pid));
    // Between reading the file and opening the pidfd the daemon may have ended and its pid been
    // reused: trust the pidfd only if the lock is still held.
    if (pidfd.valid() && !probe_pidfile(o.pidfile).locked) return ospp::fd();
    return pidfd;
}

// Waits until nobody holds the pidfile's lock (the daemon and everything that inherited it ended),
// for at most `limit`. Takes the lock then, and removes the stale file.
bool await_unlock(const std::string& path, seconds limit) {
    ospp::fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!f.valid()) return errno == ENOENT;
    // A blocking flock interrupted by a one-shot timer: the lock itself says when the daemon is gone.
    struct ::sigaction sa {}, old {};
    sa.sa_handler = [](int) {};
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &old);  // no SA_RESTART: flock returns EINTR at the deadline
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(limit).count();
    ::itimerval t{{0, 0}, {static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)}};
    if (us == 0) t.it_value.tv_usec = 1;
    ::setitimer(ITIMER_REAL, &t, nullptr);
    const bool got = ::flock(f.get(), LOCK_EX) == 0;
    const ::itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old, nullptr);
    if (got) unlink_if_same(path, f.get());
    return got;
}

// probe_pidfile for --stop and --signal, telling why it cannot be read.
std::optional<pidfile_state> probe_or_say(const options& o) {
    const pidfile_state s = probe_pidfile(o.pidfile);
    if (s.error == 0) return s;
    say(2, "cannot read pidfile " + o.pidfile + ": " + std::strerror(s.error));
    return std::nullopt;
}

int stop(const options& o) {
    const auto probed = probe_or_say(o);
    if (!probed) return exit_code::failure;
    const pidfile_state& s = *probed;
    if (!s.locked) {
        if (s.exists) await_unlock(o.pidfile, seconds(0));  // stale: remove it
        std::printf("not running\n");
        return exit_code::ok;
    }
    const ospp::fd daemon = open_daemon(o, s);
    if (!daemon.valid()) {
        say(2, "cannot signal the daemon: pidfile " + o.pidfile + " names no live process");
        return exit_code::failure;
    }
    if (pidfd_send_signal(daemon.get(), SIGTERM) != 0 && errno != ESRCH) {
        say(2, "cannot signal pid " + std::to_string(*s.pid) + ": " + std::strerror(errno));
        return exit_code::failure;
    }
    if (await_unlock(o.pidfile, o.stop_timeout)) return exit_code::ok;
    say(2, "pid " + std::to_string(*s.pid) + " still running after " + std::to_string(o.stop_timeout.count()) +
               " s; sending SIGKILL");
    pidfd_send_signal(daemon.get(), SIGKILL);
    if (await_unlock(o.pidfile, o.stop_timeout)) return exit_code::ok;
    say(2, "pidfile " + o.pidfile + " is still locked after SIGKILL");
    return exit_code::failure;
}

int send_signal(const options& o) {
    const auto probed = probe_or_say(o);
    if (!probed) return exit_code::failure;
    const pidfile_state& s = *probed;
    if (!s.locked) {
        say(2, "not running, pidfile " + o.pidfile);
        return exit_code::not_running;
    }
    const ospp::fd daemon = open_daemon(o, s);
    if (!daemon.valid() || pidfd_send_signal(daemon.get(), ospp::to_raw(o.signal)) != 0) {
        say(2, "cannot signal the daemon named by " + o.pidfile + ": " + std::strerror(daemon.valid() ? errno : ESRCH));
        return exit_code::failure;
    }
    return exit_code::ok;
}

}  // namespace

int main(int argc, char** argv) {
    ensure_stdio_open();
    const auto parsed = parse_args(argc, argv);
    if (!parsed) return usage_failure(parsed.error().message);
    const options& o = *parsed;
    switch (o.action) {
    case verb::help:
        std::fputs(help_text().data(), stdout);
        return exit_code::ok;
    case verb::version:
        std::fputs(version_text().c_str(), stdout);
        return exit_code::ok;
    case verb::status: return status(o);
    case verb::stop: return stop(o);
    case verb::signal: return send_signal(o);
    case verb::start: return start(o);
    }
    return exit_code::failure;
}
