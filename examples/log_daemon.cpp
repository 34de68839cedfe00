// examples/log_daemon.cpp — a daemon that writes to a log, reopens it on SIGHUP (after logrotate
// moved it) and exits cleanly on SIGTERM; and the commands that check and stop it.
//
//   log_daemon start  PIDFILE LOG    exit 0 once the daemon runs; 1 with the reason otherwise
//   log_daemon status PIDFILE        exit 0 and its pid when running, 3 when not (LSB's codes)
//   log_daemon stop   PIDFILE        SIGTERM, then wait (10 s at most) for it to end
//
// The Python version (python-daemon), for comparison:
//   ctx = daemon.DaemonContext(pidfile=daemon.pidfile.PIDLockFile(pidfile), stdout=log, stderr=log,
//                              signal_map={signal.SIGTERM: on_term, signal.SIGHUP: on_hup})
//   with ctx:
//       while True: time.sleep(3600)        # on_term raises SystemExit; on_hup dup2s a new log
//
// In C++ the handlers cannot do that work (a signal handler may only call async-signal-safe
// functions), so signal_action::deliver() queues the signals to the loop, which does it.
// The pidfile's lock, not the file, says whether the daemon runs: status and stop ask the lock.
#include <ospp/daemon.hpp>
#include <ospp/fd_ops.hpp>
#include <ospp/ids.hpp>
#include <ospp/process.hpp>

#include <poll.h>

#include <chrono>
#include <cstdio>
#include <string_view>

namespace {

using ospp::open_flags;
using ospp::signum;
using ospp::daemon::signal_action;

int fail(const ospp::errno_error& e) {
    std::fprintf(stderr, "log_daemon: %s\n", e.message().c_str());
    return 1;
}

int start(const char* pidfile, const char* log) {
    ospp::daemon::daemon_context ctx({.pidfile = pidfile, .stdout_file = log, .stderr_file = log});
    ctx.signal_map[signum::term] = signal_action::deliver();
    ctx.signal_map[signum::hup] = signal_action::deliver();
    auto scope = ctx.enter();  // returns only in the daemon, or with the error in the launcher
    if (!scope) {
        std::fprintf(stderr, "log_daemon: %s\n", ctx.failure_message(scope.error()).c_str());
        return 1;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // stdout is a file now: flush each line
    std::printf("started, pid %d\n", ospp::getpid());
    for (;;) {
        pollfd fds[] = {{ctx.signal_fd().get(), POLLIN, 0}};  // and the program's own fds
        ::poll(fds, 1, -1);
        while (auto sig = ctx.read_signal().value_or(std::nullopt)) {
            if (*sig == signum::term) {
                std::printf("stopping\n");
                return 0;  // ~scope releases and removes the pidfile
            }
            // SIGHUP: open the log path again and make it fds 1 and 2.
            auto f = ospp::open(log, open_flags::wronly | open_flags::creat | open_flags::append, 0666);
            if (!f) {
                fail(f.error());  // goes to the old log, still open
                continue;
            }
            std::fflush(stdout);
            if (!ospp::dup2(*f, ospp::stdout_fd) || !ospp::dup2(*f, ospp::stderr_fd)) continue;
            std::printf("log reopened\n");
        }
    }
}

// The pid of the daemon that holds the pidfile's lock, or 0 when none runs. status() reads the
// lock's holder from /proc and takes no lock, so a start at this moment is not disturbed; its
// patience covers a daemon that took the lock a moment ago and has not written its pid yet.
pid_t running_pid(const char* pidfile) {
    using ospp::daemon::pidfile_state;
    const auto found = ospp::daemon::pidfile::status(pidfile, std::chrono::milliseconds(200));
    return found && found->state == pidfile_state::running ? found->pid : 0;
}

int status(const char* pidfile) {
    if (pid_t pid = running_pid(pidfile)) {
        std::printf("running, pid %d\n", pid);
        return 0;
    }
    std::printf("not running\n");
    return 3;
}

int stop(const char* pidfile) {
    const pid_t pid = running_pid(pidfile);
    if (pid == 0) return 0;
    // A pidfd names this process, never a later one that reuses the number; the second look at the
    // lock makes sure the daemon had not already ended when it was opened.
    auto process = ospp::pidfd_open(pid);
    if (!process) return process.error() == std::errc::no_such_process ? 0 : fail(process.error());
    if (running_pid(pidfile) != pid) return 0;
    if (auto r = ospp::pidfd_send_signal(*process, signum::term); !r) return fail(r.error());
    pollfd ended{process->get(), POLLIN, 0};  // readable once the process has ended
    if (::poll(&ended, 1, 10'000) == 1) return 0;
    std::fprintf(stderr, "log_daemon: pid %d still runs after 10 s\n", pid);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "start" && argc == 4) return start(argv[2], argv[3]);
    if (command == "status" && argc == 3) return status(argv[2]);
    if (command == "stop" && argc == 3) return stop(argv[2]);
    std::fprintf(stderr, "usage: log_daemon start PIDFILE LOG | status PIDFILE | stop PIDFILE\n");
    return 2;
}
