// tools/ospp-daemonize.cpp — run any command as a correct daemon, and control it by its pidfile.
// The command line is parsed in daemonize_args.cpp; docs/ospp-daemonize.1 is the user's view and
// docs/daemonize.md the design.
//
// Start, exec mode (the default):
//   launcher: resolve ids, acquire the pidfile (ospp::daemon::pidfile: locked now, so "already
//             running" is told here), open a close-on-exec report pipe, then
//             ospp::daemon::daemon_context::open() with no signal_map, the report pipe, the pidfile
//             and --keep-fd preserved, and readiness left to us (notify_ready_manually): every
//             daemon(7) step, the double fork included, happens in there.
//   daemon:   (open() returned) write the pid, make the pidfile and --keep-fd fds inheritable,
//             report its pid on the report pipe, exec COMMAND; on failure report the errno.
//   launcher: open() comes back with a step's errno_error (a setup step failed), or with EPIPE
//             "ready" once the daemon's readiness pipe is closed — by the exec (close-on-exec) or by
//             its death. The report pipe then tells which: the pid report followed by end of file
//             means the exec succeeded; an exec report carries the errno. Or with ETIMEDOUT "ready":
//             --ready-timeout (daemon_context's ready_timeout) passed, and open() killed the daemon.
// The pidfile's fd stays open across the exec on purpose: the command inherits the lock, so the lock
// lives exactly as long as the daemon and a leftover file is recognisably stale.
//
// --respawn: the daemon becomes a supervisor that holds the lock, names itself in the pidfile,
// restarts COMMAND, forwards every signal it is sent to it (but those it raises itself: faults, PIPE,
// XFSZ, and those a terminal sent the whole job, the command too), ends with the command after TERM/INT, gives up after a burst of exits and removes the
// pidfile when it ends; it reports readiness (notify_ready) once the first run was executed.
// --foreground: open() without detaching; failures go straight to the original stderr.

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "daemonize_args.hpp"
#include "ospp/daemon.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/process.hpp"
#include "ospp/signal.hpp"

namespace {

using namespace ospp_daemonize;
using clock_type = std::chrono::steady_clock;

constexpr const char* program = "ospp-daemonize";
// --respawn gives up when COMMAND ended this many times within burst_window.
constexpr int burst_limit = 5;
constexpr std::chrono::seconds burst_window{10};

// How long --status and --signal wait for a locked pidfile to name its pid (a start in progress:
// the launcher empties the file when it takes the lock, the daemon writes its pid a moment later).
constexpr seconds pid_patience{1.0};

// Sleeps for `d` (less than a second), or less when a signal arrives.
void pause_for(clock_type::duration d) {
    const ::timespec t{0, static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count())};
    ::nanosleep(&t, nullptr);
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

// The steps after daemon_context::open() (its own steps report through its errno_error).
enum class step : std::int32_t { write_pidfile, check_privileges, supervise, exec };

// What the daemon tells the launcher through the report pipe (one atomic write each).
struct report {
    enum kind_type : std::int32_t { pid = 1, failed = 2 } kind;
    step where;
    std::int32_t error;  // errno for failed
    std::int32_t value;  // the daemon's pid for pid
};

std::string describe(step s, int err, const options& o) {
    std::string why = std::strerror(err);
    switch (s) {
    case step::write_pidfile: return "cannot write pidfile " + o.pidfile + ": " + why;
    case step::check_privileges:
        if (err == 0) return "privileges not dropped: setuid(0) succeeded after switching to " + o.user;
        return "cannot check the privilege drop: setuid(0): " + why;
    case step::supervise: return "cannot supervise: " + why;
    case step::exec: {
        const std::string& c = o.command.front();
        // "./run" from a project directory is the classic surprise: the daemon runs in -C (/).
        const bool relative = c.front() != '/' && c.find('/') != std::string::npos;
        if (err == ENOENT && relative) {
            why += " (a relative COMMAND is looked up from the daemon's working directory, " + o.working_directory + ")";
        }
        if (err == ENOEXEC) why += " (not a binary for this machine, nor a script with a #! line)";
        return "cannot execute " + c + ": " + why;
    }
    }
    return why;
}

int exit_code_of(step s) {
    if (s == step::exec) return exit_code::exec_failed;
    if (s == step::write_pidfile) return exit_code::pidfile_error;
    return exit_code::setup_failed;
}

// Where a step's failure goes: the launcher's report pipe (detached: the launcher, which shares the
// lock, then removes the pidfile), or straight to the original stderr (--foreground, where there is
// no launcher: this process removes the pidfile itself, or a failed start would leave it behind).
class reporter {
public:
    reporter(const options& o, ospp::fd pipe_end, ospp::fd direct, ospp::daemon::pidfile& pidfile) noexcept
        : o_(o), pipe_(std::move(pipe_end)), direct_(std::move(direct)), pidfile_(pidfile) {}

    [[noreturn]] void fail(step s, int err) {
        if (pipe_.valid()) {
            const report r{report::failed, s, err, 0};
            (void)!::write(pipe_.get(), &r, sizeof r);
        } else {
            (void)pidfile_.release();
            if (direct_.valid()) say(direct_.get(), describe(s, err, o_));
        }
        ::_exit(exit_code_of(s));
    }
    void tell_pid(::pid_t pid) {
        if (!pipe_.valid()) return;
        const report r{report::pid, step::exec, 0, static_cast<std::int32_t>(pid)};
        (void)!::write(pipe_.get(), &r, sizeof r);
    }
    // After this, the launcher sees EOF: the start is over (exec mode: the exec closes it instead).
    void done() noexcept {
        pipe_.reset();
        direct_.reset();
    }

private:
    const options& o_;
    ospp::fd pipe_;
    ospp::fd direct_;
    ospp::daemon::pidfile& pidfile_;
};

// ---------------------------------------------------------------------------------------------
// The pidfile: FreeBSD pidfile(3) semantics with flock(2), asked through pidfile::status, which
// reads the lock's holders from /proc and takes no lock.

using ospp::daemon::pidfile;
using ospp::daemon::pidfile_state;
using ospp::daemon::pidfile_status;

// pidfile::status, read again for up to `patience` while a start is in progress (the launcher
// empties the file as it takes the lock; the daemon writes its pid once forked, which
// --ready-timeout bounds).
ospp::result<pidfile_status> probe_settled(const std::string& path, seconds patience) {
    return pidfile::status(path, std::chrono::ceil<std::chrono::milliseconds>(patience));
}

// Nobody holds the lock: no file, or a stale one.
bool unlocked(const pidfile_status& s) { return s.state == pidfile_state::absent || s.state == pidfile_state::stale; }

// "pid 12" or "pids 12 34". (Appended one piece at a time: GCC 12 at -O3 takes `" " + to_string()`
// for an overlapping memcpy, -Wrestrict.)
std::string pid_list(const std::vector<::pid_t>& pids) {
    std::string text = pids.size() == 1 ? "pid" : "pids";
    for (::pid_t p : pids) {
        text += ' ';
        text += std::to_string(p);
    }
    return text;
}

// "pid 12, which pidfile P names, is gone, but pids 34 56 hold its lock", for an abandoned lock.
std::string describe_abandoned(const options& o, const pidfile_status& s, const std::vector<::pid_t>& holders) {
    const bool gone = ::kill(s.pid, 0) != 0 && errno == ESRCH;
    std::string text = "pid " + std::to_string(s.pid) + ", which pidfile " + o.pidfile + " names, " +
                       (gone ? "is gone" : "does not hold its lock");
    if (holders.empty()) return text + "; the processes that hold its lock cannot be found (no /proc, or another user's)";
    text += ", but ";
    text += pid_list(holders);
    text += holders.size() == 1 ? " still holds " : " still hold ";
    text += gone ? "its lock" : "it";
    return text;
}

// Removes the file at `path` if it is still the file open as `fd` (never someone else's new one).
void unlink_if_same(const std::string& path, int fd) {
    struct ::stat mine {}, now {};
    if (::fstat(fd, &mine) != 0 || ::lstat(path.c_str(), &now) != 0) return;
    if (mine.st_dev == now.st_dev && mine.st_ino == now.st_ino) ::unlink(path.c_str());
}

// ---------------------------------------------------------------------------------------------
// After daemon_context::open(), in the daemon.

void set_inheritable(int fd, bool inheritable) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC);
}

// COMMAND's argv, built before any fork: ospp::execvp on it does not allocate. ospp::execvp, not
// glibc's: that one hands a file the kernel refuses with ENOEXEC (no #! line, a binary for another
// machine) to /bin/sh, whose run, or its syntax errors, would pass for the command's.
ospp::cstring_array exec_argv(const options& o) { return ospp::cstring_array(o.command); }

// ---------------------------------------------------------------------------------------------
// --respawn: the supervisor.

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "was killed by SIG" + ospp::signal_name(ospp::signum{WTERMSIG(status)});
    return "ended";
}

// Forks and execs COMMAND with a clean signal mask. Returns the child's pid, or -errno when it could
// not be started (fork failed, or exec failed: the child says so through a close-on-exec pipe).
::pid_t spawn(const options& o, const ospp::cstring_array& argv) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -errno;
    const ::pid_t supervisor = ::getpid();
    const ::pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(p[0]);
        ::close(p[1]);
        return -e;
    }
    if (pid == 0) {
        // The command never outlives its supervisor, even one ended by SIGKILL (--stop's last
        // resort): it would run on unsupervised with nobody holding the pidfile.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != supervisor) ::_exit(127);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        const int e = ospp::execvp(o.command.front(), argv).code();
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

// What the supervisor reads from its signalfd: SIGCHLD, and every signal it passes on to the command
// (TERM and INT end the supervisor too, once the command has ended). Left out: KILL and STOP, which
// cannot be caught, and the signals the kernel raises for the supervisor's own doing, which are not
// the command's business: faults (SEGV, BUS, FPE, ILL, TRAP, SYS) and a failed write's PIPE and XFSZ
// (a closed or full --stderr target: supervise() blocks those two without reading them).
// glibc's own two real-time signals are not in a full set.
ospp::signal_set supervised_signals() noexcept {
    ospp::signal_set s = ospp::signal_set::full();
    for (int n : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGPIPE, SIGXFSZ})
        s.remove(ospp::signum{n});
    return s;
}

// Whether a terminal sent `info`'s signal to its foreground process group, which is the supervisor's
// (--foreground at a terminal): the keys' INT, QUIT and TSTP, a resize's WINCH, a background job's
// TTIN and TTOU, and the HUP the kernel sends that group when the session leader ends. The kernel
// sends these with SI_KERNEL, and a kill(2) cannot. The command, in the same group, has received the
// signal already: passing it on would deliver it twice (one Ctrl-C, two SIGINTs). A session leader's
// own HUP, at a hangup, is not the group's: the command has not received that one.
bool sent_to_the_job(const ::signalfd_siginfo& info) noexcept {
    if (info.ssi_code != SI_KERNEL) return false;
    switch (info.ssi_signo) {
    case SIGINT:
    case SIGQUIT:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGWINCH: return true;
    case SIGHUP: return ::getsid(0) != ::getpid();
    default: return false;
    }
}

// Whether the command has to be sent `info`'s signal: it has not received it already as a member
// of the job (it may have left the supervisor's process group).
bool command_needs(const ::signalfd_siginfo& info, ::pid_t child) noexcept {
    return child > 0 && (!sent_to_the_job(info) || ::getpgid(child) != ::getpgrp());
}

// A terminal stopped the job (Ctrl-Z, or a background read or write): the supervisor stops with it,
// or the shell would wait for a job that never stops. It lets the signal take its default action,
// not SIGSTOP: in an orphaned process group the kernel drops a TSTP, TTIN or TTOU, as it did for
// the command, and nobody would be left to continue a stopped supervisor.
void stop_with_the_job(int sig) noexcept {
    sigset_t one;
    ::sigemptyset(&one);
    ::sigaddset(&one, sig);
    ::kill(::getpid(), sig);                      // pending: the supervisor blocks it
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);    // delivered on the way out of this call
    ::sigprocmask(SIG_BLOCK, &one, nullptr);
}

[[noreturn]] void supervise(const options& o, reporter& r, ospp::daemon::daemon_context& ctx,
                            ospp::daemon::pidfile& pidfile) {
    const ospp::cstring_array argv = exec_argv(o);
    const ospp::signal_set handled = supervised_signals();
    // PIPE and XFSZ, raised by its own write to a --stderr target whose reader is gone or that
    // reached RLIMIT_FSIZE, are blocked too, but never read: the write fails (EPIPE, EFBIG), say()
    // drops the line, and the supervisor goes on, instead of dying with its command. (A fork does
    // not inherit pending signals, and spawn() clears the command's mask.)
    ospp::signal_set blocked = handled;
    blocked.add(ospp::signum::pipe).add(ospp::signum::xfsz);
    if (::sigprocmask(SIG_BLOCK, &blocked.native(), nullptr) != 0) r.fail(step::supervise, errno);
    ospp::fd signals(::signalfd(-1, &handled.native(), SFD_CLOEXEC));
    if (!signals.valid()) r.fail(step::supervise, errno);

    const auto finish = [&](int code) {
        (void)pidfile.release();
        ::_exit(code);
    };
    ::pid_t child = spawn(o, argv);
    if (child < 0) {
        (void)pidfile.release();
        r.fail(step::exec, -child);
    }
    r.done();
    (void)ctx.notify_ready();  // the first run was executed: the launcher exits 0

    std::deque<clock_type::time_point> exits;
    bool stopping = false;
    // When to start the command again; no_restart while it runs. (Not a std::optional: GCC 12 at
    // -O3 with _FORTIFY_SOURCE warned that its time_point may be used uninitialized.)
    constexpr clock_type::time_point no_restart = clock_type::time_point::max();
    clock_type::time_point restart_at = no_restart;
    const auto delay = std::chrono::duration_cast<clock_type::duration>(*o.respawn);
    for (;;) {
        int timeout_ms = -1;
        if (restart_at != no_restart) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(restart_at - clock_type::now());
            timeout_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
        }
        ::pollfd pfd{signals.get(), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno != EINTR) finish(exit_code::failure);
        // Due, whether or not signals are pending: reading them all first would let a queue of
        // real-time signals, or a steady stream of them, put the restart off.
        if (restart_at != no_restart && clock_type::now() >= restart_at) {
            restart_at = no_restart;
            child = spawn(o, argv);
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
                // Still running, or a restart already due: a SIGCHLD that reaped nothing (sent by
                // someone, or left by a run that failed to exec) must not put the restart off.
                if (child != 0 || restart_at != no_restart) continue;
            } else if (sig == SIGTERM || sig == SIGINT) {  // pass it on, and end when the command has ended
                stopping = true;
                if (child == 0) finish(exit_code::ok);
                if (command_needs(info, child)) ::kill(child, sig);
                continue;
            } else {  // HUP, USR1, USR2, WINCH, QUIT, CONT...: the command's (lost between two runs)
                if (command_needs(info, child)) ::kill(child, sig);
                if (sent_to_the_job(info) && (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
                    stop_with_the_job(sig);
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

// After a drop from root to another user, no way back may be left (CERT POS37-C): setuid(0) must
// fail with EPERM. It would succeed if the process kept CAP_SETUID, e.g. under the securebit
// SECBIT_NO_SETUID_FIXUP, which survives execve. A success is reported with errno 0.
void check_privileges_dropped(const ids& who, reporter& r) {
    if (!who.uid || *who.uid == 0) return;
    if (::setuid(0) == 0) r.fail(step::check_privileges, 0);
    if (errno != EPERM) r.fail(step::check_privileges, errno);
}

// Everything after daemon_context::open() succeeded, in the daemon: the pid, then exec or supervise.
[[noreturn]] void run_command(const options& o, const ids& who, reporter& r, ospp::daemon::daemon_context& ctx,
                              ospp::daemon::pidfile& pidfile) {
    if (pidfile.held()) {
        if (auto written = pidfile.write(); !written) r.fail(step::write_pidfile, written.error().code());
    }
    check_privileges_dropped(who, r);
    for (int k : o.keep_fds) set_inheritable(k, true);
    r.tell_pid(::getpid());
    if (o.respawn) supervise(o, r, ctx, pidfile);
    // Exec mode: the command inherits the pidfile's lock (see the top of this file).
    if (pidfile.held()) set_inheritable(pidfile.get().get(), true);
    r.fail(step::exec, ospp::execvp(o.command.front(), exec_argv(o)).code());
}

// The launcher, once open() came back with EPIPE "ready" (the daemon's readiness pipe closed): the
// report pipe says whether that was the exec (pid reported, then end of file) or a failure.
int read_reports(const options& o, ospp::fd reports) {
    std::optional<::pid_t> daemon_pid;
    for (;;) {
        report r{};
        ssize_t n;
        while ((n = ::read(reports.get(), &r, sizeof r)) < 0 && errno == EINTR) {}
        if (n == 0) break;  // end of file: every writer is gone
        if (n != sizeof r) continue;
        if (r.kind == report::pid) daemon_pid = r.value;
        if (r.kind == report::failed) {
            say(2, describe(r.where, r.error, o));
            return exit_code_of(r.where);
        }
    }
    if (daemon_pid) return exit_code::ok;
    say(2, "the daemon died before executing " + o.command.front());
    return exit_code::failure;
}

// Makes sure 0-2 are open, so that nothing opened later lands on them by accident.
void ensure_stdio_open() {
    for (int f = 0; f <= 2; ++f) {
        if (::fcntl(f, F_GETFD) >= 0 || errno != EBADF) continue;
        const int n = ::open("/dev/null", O_RDWR);
        if (n >= 0 && n != f) ::close(n);
    }
}

// The environment the command gets: ours (unless --clear-env) with the --env variables set.
std::vector<std::string> command_environment(const options& o) {
    std::vector<std::string> env;
    if (!o.clear_env)
        for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    for (const auto& kv : o.env) {
        const std::string_view name(kv.data(), kv.find('=') + 1);  // "NAME="
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
        env.push_back(kv);
    }
    return env;
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
    // Taken here, not by daemon_context, so that the command can inherit the lock. (Its
    // locked_pidfile() would give the fd to make inheritable, but in exec mode the start ends with
    // the readiness pipe closing unreported, at the exec, and open() in the launcher then releases
    // — unlinks — a pidfile it took: for a library caller that closure means the daemon died.)
    ospp::daemon::pidfile pidfile;
    if (!o.pidfile.empty()) {
        auto acquired = ospp::daemon::pidfile::acquire(o.pidfile);
        if (!acquired) {
            if (acquired.error().code() == EEXIST) {
                const auto pid = ospp::daemon::pidfile::read_pid(o.pidfile, std::chrono::milliseconds(200));
                say(2, "already running" + (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                           ", pidfile " + o.pidfile);
                return exit_code::already_running;
            }
            say(2, acquired.error().message());
            return exit_code::pidfile_error;
        }
        pidfile = std::move(*acquired);
    }
    auto reports = ospp::pipe();
    if (!reports) {
        say(2, reports.error().message());
        return exit_code::setup_failed;
    }
    // With --foreground there is no launcher to report to: failures go to the original stderr.
    ospp::fd direct(o.foreground ? ::fcntl(2, F_DUPFD_CLOEXEC, 3) : -1);
    if (o.foreground) reports->write_end.reset();

    ospp::daemon::daemon_context ctx({
        .chroot_directory = o.chroot_directory.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.chroot_directory),
        .working_directory = o.working_directory,
        .umask = o.umask,
        .detach_process = !o.foreground,
        .signal_map = {},  // every signal at its default: the command must not inherit our choices
        .uid = who->uid,
        .gid = who->gid,
        .initgroups = who->uid.has_value() && !who->user_name.empty(),
        .prevent_core = !o.core,
        .stdin_file = std::filesystem::path(o.stdin_path),
        .stdout_file = std::filesystem::path(o.stdout_path.empty() ? "/dev/null" : o.stdout_path),
        .stderr_file = std::filesystem::path(!o.stderr_path.empty() ? o.stderr_path
                                             : !o.stdout_path.empty() ? o.stdout_path : "/dev/null"),
        .environment = command_environment(o),
        .notify_ready_manually = true,
        // open() kills a daemon that is not ready in time (it has not executed the command).
        .ready_timeout = std::chrono::ceil<std::chrono::milliseconds>(o.ready_timeout),
    });
    for (int k : o.keep_fds) ctx.files_preserve.emplace_back(k);
    if (pidfile.held()) ctx.files_preserve.push_back(pidfile.get());
    if (reports->write_end.valid()) ctx.files_preserve.push_back(reports->write_end);
    if (direct.valid()) ctx.files_preserve.push_back(direct);

    const auto opened = ctx.open();
    if (opened) {  // the daemon
        (void)reports->read_end.release();  // open() closed it: forget the number
        reporter r(o, std::move(reports->write_end), std::move(direct), pidfile);
        run_command(o, *who, r, ctx, pidfile);
    }
    // The launcher (or, with --foreground, the process that failed to become the daemon).
    const ospp::errno_error& e = opened.error();
    int code = exit_code::setup_failed;
    const bool readiness = std::string_view(e.call()) == "ready";
    if (!o.foreground && readiness && e.code() == EPIPE) {
        reports->write_end.reset();
        code = read_reports(o, std::move(reports->read_end));
    } else if (readiness && e.code() == ETIMEDOUT) {
        say(2, "the daemon did not start " + command_line(o) + " within --ready-timeout");
        code = exit_code::failure;
    } else {
        say(direct.valid() ? direct.get() : 2, e.message());
    }
    // A failed start leaves no pidfile behind: the daemon is gone and we still hold the lock.
    if (code != exit_code::ok) (void)pidfile.release();
    else pidfile.close();
    return code;
}

// ---------------------------------------------------------------------------------------------
// Control verbs

int status(const options& o) {
    const auto found = probe_settled(o.pidfile, pid_patience);
    if (!found) {
        say(2, "cannot read pidfile " + o.pidfile + ": " + std::strerror(found.error().code()));
        return exit_code::status_unknown;
    }
    const pidfile_status& s = *found;
    switch (s.state) {
    case pidfile_state::starting:  // it may yet fail: neither running nor not (LSB "unknown")
        if (s.pid == 0) std::printf("starting (pidfile %s is locked but names no pid yet)\n", o.pidfile.c_str());
        else std::printf("starting (pidfile %s is locked, but not by pid %d, which it names)\n", o.pidfile.c_str(), s.pid);
        return exit_code::status_unknown;
    case pidfile_state::abandoned:  // the daemon named is dead; what it left is not it (LSB "dead, pid file exists")
        std::printf("dead (%s)\n", describe_abandoned(o, s, pidfile::lock_holders(s)).c_str());
        return exit_code::dead_with_pidfile;
    case pidfile_state::running:
        std::printf("running (pid %d)\n", s.pid);
        return exit_code::ok;
    case pidfile_state::stale:
        std::printf("not running (stale pidfile %s)\n", o.pidfile.c_str());
        return exit_code::dead_with_pidfile;
    case pidfile_state::absent:
        break;
    }
    std::printf("not running\n");
    return exit_code::not_running;
}

// A pid that has no pidfd though it may live: pidfd_open is Linux 5.3 (ENOSYS before), and a
// seccomp filter that predates it says EPERM. Without a pidfd no signal is safe from a reused pid:
// none is sent, and this says why.
struct no_pidfd {
    ::pid_t pid = 0;
    int error = 0;  // 0: every pid had one, or had ended (ESRCH)
    [[nodiscard]] std::string why() const {
        return "cannot signal pid " + std::to_string(pid) + ": pidfd_open: " + std::strerror(error);
    }
};

// A pidfd for `pid`, or an invalid fd: when the process has ended, or else with `refused` filled in.
ospp::fd open_pidfd(::pid_t pid, no_pidfd& refused) {
    auto pidfd = ospp::pidfd_open(pid);
    if (pidfd) return std::move(*pidfd);
    if (pidfd.error().code() != ESRCH && refused.error == 0) refused = {pid, pidfd.error().code()};
    return ospp::fd();
}

// A process handle that cannot be confused with a later process of the same pid.
ospp::fd open_daemon(const options& o, const pidfile_status& s, no_pidfd& refused) {
    if (s.pid == 0) return ospp::fd();
    ospp::fd pidfd = open_pidfd(s.pid, refused);
    // Between reading the file and opening the pidfd the daemon may have ended and its pid been
    // reused (and a new start may have locked the file): trust the pidfd only if the lock is still
    // held and the file still names that pid.
    if (!pidfd.valid()) return ospp::fd();
    const auto again = pidfile::status(o.pidfile);
    if (!again || again->state != pidfile_state::running || again->pid != s.pid) return ospp::fd();
    return pidfd;
}

// Waits until nobody holds the pidfile's lock (the daemon and everything that inherited it ended),
// for at most `limit`. Takes the lock then, and removes the stale file.
// The lock is tried without blocking against a monotonic deadline, in short pauses: a blocking
// flock cut short by a timer signal would hang for good when the signal came before the flock
// blocked (a zero or tiny --timeout, or a descheduled process), and SIGKILL would never be sent.
bool await_unlock(const std::string& path, seconds limit) {
    ospp::fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW));  // as pidfile::status
    if (!f.valid()) return errno == ENOENT;
    const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(limit);
    clock_type::duration pause = std::chrono::milliseconds(1);
    for (;;) {
        if (::flock(f.get(), LOCK_EX | LOCK_NB) == 0) {
            unlink_if_same(path, f.get());
            return true;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) return false;
        const auto left = deadline - clock_type::now();
        if (left <= clock_type::duration::zero()) return false;
        pause_for(std::min(pause, left));
        pause = std::min<clock_type::duration>(pause * 2, std::chrono::milliseconds(50));
    }
}

// probe_settled for --stop and --signal, telling why the pidfile cannot be read, or names no pid
// (or a pid that does not hold its lock, in a start in progress). An abandoned lock is the
// caller's to tell.
std::optional<pidfile_status> probe_or_say(const options& o, seconds patience) {
    auto found = probe_settled(o.pidfile, patience);
    if (!found) {
        say(2, "cannot read pidfile " + o.pidfile + ": " + std::strerror(found.error().code()));
        return std::nullopt;
    }
    if (found->state == pidfile_state::starting && found->pid == 0) {
        say(2, "pidfile " + o.pidfile + " is locked but names no pid yet (a start in progress); try again");
        return std::nullopt;
    }
    if (found->state == pidfile_state::starting) {
        say(2, "pidfile " + o.pidfile + " names pid " + std::to_string(found->pid) +
                   ", which does not hold its lock (a start in progress?); try again");
        return std::nullopt;
    }
    return std::move(*found);
}

// Processes to stop, each with the pidfd it is signalled through.
using process_list = std::vector<std::pair<::pid_t, ospp::fd>>;

std::string pid_list(const process_list& ps) {
    std::vector<::pid_t> pids;
    for (const auto& p : ps) pids.push_back(p.first);
    return pid_list(pids);
}

// A pidfd for each of `pids` that, once opened, still holds the lock `s` found, taken by the same
// process: a pid reused since the scan, or a later start's process, is left alone (as open_daemon).
process_list open_holders(const pidfile_status& s, const std::vector<::pid_t>& pids, no_pidfd& refused) {
    process_list opened;
    for (::pid_t pid : pids) {
        ospp::fd pidfd = open_pidfd(pid, refused);
        if (pidfd.valid() && pidfile::holds_lock(pid, s) == true) opened.emplace_back(pid, std::move(pidfd));
    }
    return opened;
}

// Whether the process has ended (its pidfd is readable).
bool ended(const ospp::fd& pidfd) {
    ::pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

// Sends `sig` to each; false (said on stderr) when one could not be signalled for another reason
// than having ended.
bool signal_each(const process_list& ps, ospp::signum sig) {
    for (const auto& [pid, pidfd] : ps) {
        if (auto sent = ospp::pidfd_send_signal(pidfd, sig); !sent && sent.error().code() != ESRCH) {
            say(2, "cannot signal pid " + std::to_string(pid) + ": " + std::strerror(sent.error().code()));
            return false;
        }
    }
    return true;
}

// A daemon being stopped by someone else passes through states that each need one more look:
// ended but its lock not yet dropped, then the lock held for a moment by the other --stop (which
// locks the file to remove it). How many more looks --stop and --signal take.
constexpr int further_looks = 3;

// `looks_left`: how many more looks, should the daemon found end before it can be signalled.
int stop(const options& o, int looks_left = further_looks) {
    // A start in progress is given the --timeout (at least pid_patience) to name its daemon.
    const auto probed = probe_or_say(o, std::max(o.stop_timeout, pid_patience));
    if (!probed) return exit_code::failure;
    const pidfile_status& s = *probed;
    if (unlocked(s)) {
        if (s.state == pidfile_state::stale) await_unlock(o.pidfile, seconds(0));  // remove it
        std::printf("not running\n");
        return exit_code::ok;
    }
    process_list targets;
    if (s.state == pidfile_state::abandoned) {  // the daemon is gone: stop what holds its lock, which it left
        const std::vector<::pid_t> holders = pidfile::lock_holders(s);
        const std::string what = describe_abandoned(o, s, holders);
        if (holders.empty()) {
            // Or the lock was on its way out: a daemon that is ending (a concurrent --stop stopped
            // it) has closed its descriptors a moment before the kernel drops the lock.
            if (await_unlock(o.pidfile, pid_patience)) {
                std::printf("not running\n");
                return exit_code::ok;
            }
            say(2, what + ": cannot stop them");
            return exit_code::failure;
        }
        no_pidfd refused;
        targets = open_holders(s, holders, refused);
        if (refused.error != 0) {
            say(2, what + ": " + refused.why());
            return exit_code::failure;
        }
        say(2, what + "; sending SIGTERM to " + (targets.empty() ? "none (they ended)" : pid_list(targets)));
    } else {
        no_pidfd refused;
        ospp::fd daemon = open_daemon(o, s, refused);
        if (!daemon.valid()) {
            // Ended since the probe (a concurrent --stop, or on its own): look again.
            if (refused.error == 0 && looks_left > 0) return stop(o, looks_left - 1);
            say(2, refused.error != 0 ? refused.why() + " (named by pidfile " + o.pidfile + ")"
                                      : "cannot signal the daemon: pidfile " + o.pidfile + " names no live process");
            return exit_code::failure;
        }
        targets.emplace_back(s.pid, std::move(daemon));
    }
    if (!signal_each(targets, ospp::signum::term)) return exit_code::failure;
    // Then SIGCONT, as systemd does: a stopped process keeps a handled SIGTERM pending until it is
    // continued, so a stopped daemon would otherwise sit out the timeout and die of SIGKILL before
    // its handler ran.
    (void)signal_each(targets, ospp::signum::cont);
    if (await_unlock(o.pidfile, o.stop_timeout)) return exit_code::ok;
    // The targets, and whatever else still holds the lock: the children that inherited it.
    no_pidfd refused;  // each target has its pidfd: one refused now is not among them
    for (auto& holder : open_holders(s, pidfile::lock_holders(s), refused)) {
        const bool known = std::ranges::any_of(targets, [&](const auto& t) { return t.first == holder.first; });
        if (!known) targets.push_back(std::move(holder));
    }
    std::erase_if(targets, [](const auto& t) { return ended(t.second); });
    char waited[32];
    (void)std::snprintf(waited, sizeof waited, "%g", o.stop_timeout.count());
    if (targets.empty()) {
        say(2, "pidfile " + o.pidfile + " is still locked after " + waited +
                   " s, by processes that cannot be found (no /proc, or another user's)");
        return exit_code::failure;
    }
    say(2, pid_list(targets) + " still running after " + waited + " s; sending SIGKILL");
    (void)signal_each(targets, ospp::signum::kill);
    // SIGKILL cannot be refused, but exiting takes a moment on a busy machine: a short --timeout
    // must not turn a kill into a failure report.
    if (await_unlock(o.pidfile, std::max(o.stop_timeout, seconds(5)))) return exit_code::ok;
    say(2, "pidfile " + o.pidfile + " is still locked after SIGKILL");
    return exit_code::failure;
}

// Whether nobody holds the pidfile's lock, now or within `patience`, without taking it.
bool unlocked_within(const std::string& path, seconds patience) {
    const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(patience);
    for (;;) {
        const auto s = pidfile::status(path);
        if (s && unlocked(*s)) return true;
        if (!s || clock_type::now() >= deadline) return false;
        pause_for(std::chrono::milliseconds(5));
    }
}

// `looks_left`: as stop's.
int send_signal(const options& o, int looks_left = further_looks) {
    const auto probed = probe_or_say(o, pid_patience);
    if (!probed) return exit_code::failure;
    const pidfile_status& s = *probed;
    if (unlocked(s)) {
        say(2, "not running, pidfile " + o.pidfile);
        return exit_code::not_running;
    }
    if (s.state == pidfile_state::abandoned) {  // not the daemon's processes to be told something: they are what it left
        const std::vector<::pid_t> holders = pidfile::lock_holders(s);
        // Or a daemon caught ending (a concurrent --stop): it has closed its descriptors a moment
        // before the kernel drops the lock.
        if (holders.empty() && looks_left > 0 && unlocked_within(o.pidfile, pid_patience))
            return send_signal(o, looks_left - 1);
        say(2, describe_abandoned(o, s, holders) + "; not signalling them (--stop ends them)");
        return exit_code::failure;
    }
    no_pidfd refused;
    const ospp::fd daemon = open_daemon(o, s, refused);
    if (refused.error != 0) {
        say(2, refused.why() + " (named by pidfile " + o.pidfile + ")");
        return exit_code::failure;
    }
    int err = ESRCH;  // no live process behind the pidfile
    if (daemon.valid()) {
        const auto sent = ospp::pidfd_send_signal(daemon, o.signal);
        if (sent) return exit_code::ok;
        err = sent.error().code();
    }
    // Ended since the probe (a concurrent --stop, or on its own): look again.
    if (err == ESRCH && looks_left > 0) return send_signal(o, looks_left - 1);
    say(2, "cannot signal the daemon named by " + o.pidfile + ": " + std::strerror(err));
    return exit_code::failure;
}

}  // namespace

int main(int argc, char** argv) {
    ensure_stdio_open();
    const auto parsed = parse_args(argc, argv);
    if (!parsed) return usage_failure(parsed.error().message);
    const options& o = *parsed;
    switch (o.action) {
    case verb::help:
        (void)std::fputs(help_text().data(), stdout);
        return exit_code::ok;
    case verb::version:
        (void)std::fputs(version_text().c_str(), stdout);
        return exit_code::ok;
    case verb::status: return status(o);
    case verb::stop: return stop(o);
    case verb::signal: return send_signal(o);
    case verb::start: return start(o);
    }
    return exit_code::failure;
}
