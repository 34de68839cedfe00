// ospp/daemon.hpp — PEP 3143's DaemonContext, with all of systemd daemon(7)'s SysV steps.
//
//   Python (python-daemon)                         C++
//   import daemon, daemon.pidfile                  #include <ospp/daemon.hpp>
//   ctx = daemon.DaemonContext(                    ospp::daemon::daemon_context ctx({
//       working_directory="/var/lib/foo",              .working_directory = "/var/lib/foo",
//       umask=0o002,                                   .umask = 0002,
//       pidfile=daemon.pidfile.PIDLockFile(            .pidfile = "/run/foo.pid"});
//           "/run/foo.pid"))
//   ctx.signal_map[signal.SIGHUP] = reload         ctx.signal_map[ospp::signum::hup] = signal_action::deliver();
//   ctx.open()                                     if (auto r = ctx.open(); !r) { report(r.error()); return 1; }
//   with daemon.DaemonContext(): run()             if (auto s = ctx.enter()) run();
//   ctx.is_open / ctx.close()                      ctx.is_open() / ctx.close()
//   ctx.pidfile (the lock object)                  ctx.locked_pidfile()   // nullptr: None
//   (none: python-daemon's parent does not wait)   ctx.ready_timeout = std::chrono::seconds(10);  // unset: no limit
//
// open() runs these steps, in this order (each failure is an errno_error whose call() is the step):
//   in the calling process ("the launcher"), before any fork — everything that allocates:
//     fds 0-2 opened on /dev/null if closed ("stdio") so nothing below lands on them by accident;
//     "pidfile" opened and locked (EEXIST: already running, see pidfile::read_pid); stdin, stdout
//     and stderr given as fds copied ("stdin", "stdout", "stderr"); signal_map checked ("sigaction":
//     EINVAL naming a signal no action can be set for, 'SIGKILL', 'SIGSTOP'); the fds to keep sorted;
//     supplementary groups looked up (an unknown user has none); NOTIFY_SOCKET connected; the
//     readiness pipe ("pipe") made; stdio flushed; SIGCHLD's SIG_IGN or SA_NOCLDWAIT lifted, and
//     SIGCHLD blocked in the calling thread, until the launcher has waited ("sigaction",
//     "sigprocmask": see ready_timeout).
//   after fork() — async-signal-safe and allocation-free up to open()'s return, as POSIX requires
//   of a forked child (what the launcher built is freed with the daemon_context, or by the next
//   open() before it forks; not in the daemon's open()):
//     "fork"; every signal handler reset to SIG_DFL and the signal mask cleared ("sigaction",
//     "sigprocmask"); every fd closed except the kept ones, with close_range() over the gaps,
//     /proc/self/fd when close_range fails (ENOSYS before Linux 5.9, EPERM from a seccomp
//     filter), every number below the hard RLIMIT_NOFILE without /proc either ("close_fds");
//     stdin, stdout and stderr given as paths opened ("stdin", "stdout", "stderr": here, not in
//     the launcher, because opening a FIFO or terminal can block); the environment replaced when `environment` is set; SIGHUP
//     ignored; "setsid"; "fork" again, the intermediate _exit()s so the daemon can never
//     reacquire a terminal; in the daemon: SIGHUP back to default, 0-2 dup2'ed
//     from the stdio files and inheritable ("dup2"), "umask", "chroot", "prevent_core"
//     (setrlimit RLIMIT_CORE 0), "chdir", the final pid written to the pidfile, "setgroups",
//     "setgid", "setuid" (all three ids, so a set-id program cannot regain privilege), the
//     signal_map applied ("sigaction"), then readiness reported.
// The launcher waits on the readiness pipe: on "ready" it _exit(0)s inside open(), so open()
// returns success only in the daemon; when a step fails in the daemon, the daemon sends
// {step, errno}, exits, and open() returns that error *in the launcher*, which should print it and
// exit non-zero. End of file without a message means the daemon died: errno_error(EPIPE, "ready").
// With ready_timeout set, no report in time is errno_error(ETIMEDOUT, "ready") and the daemon is
// killed (see ready_timeout).
// If the daemon cannot deliver "ready" (the launcher is gone, or the write fails), the launcher has
// reported a failure, so open() in the daemon releases the pidfile and returns that "ready" error
// too: the daemon should exit rather than run on behind a start that was reported as failed.
// With NOTIFY_SOCKET set, the daemon also sends sd_notify "MAINPID=<pid>\nREADY=1" (or "ERRNO=<n>");
// sd_notify is advisory, so an unusable NOTIFY_SOCKET is ignored, as libsystemd's callers do.
// Without detaching, the same steps (minus setsid and the forks) run in the calling process and a
// failure is returned there, with 0-2 put back as they were so that it can be printed. Call open() before starting threads (the child of a multi-threaded
// fork() may find a lock held forever), and open one daemon_context per process: the signal
// actions refer to the open one.
//
// Signals. A signal handler may only call async-signal-safe functions, and C++ cannot throw out of
// one, so Python's terminate() (raise SystemExit) has no direct equivalent. signal_map's actions:
//   ignore()          SIG_IGN (Python's None)
//   default_action()  SIG_DFL
//   terminate()       the default for SIGTERM: removes the pidfile (stat + unlink, checking it is
//                     still ours) and dies of the same signal (SIG_DFL + raise), so the parent or
//                     systemd sees "killed by SIGTERM", a clean stop. No destructor or atexit
//                     handler runs: use deliver() when the program must clean up itself.
//   handler(f)        your plain `void f(int)`, installed with SA_RESTART; it must be
//                     async-signal-safe (set a volatile sig_atomic_t flag, write to a pipe).
//   deliver()         the signal is queued to the program's own loop: poll signal_fd() and call
//                     read_signal(). A self-pipe, not a signalfd: a signalfd needs the signal blocked
//                     in every thread, and that mask would leak into every program the daemon execs
//                     (daemon(7)'s step 3 exists precisely because of inherited masks).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/pidfile.hpp"
#include "ospp/signal.hpp"

namespace ospp::daemon {

// What signal_map does with a signal (see the header comment for why these five).
class signal_action {
public:
    enum class kind { ignore, default_action, terminate, handler, deliver };
    using handler_type = void (*)(int);

    // default_action(), so that signal_map[s] = ... works on a new key.
    constexpr signal_action() noexcept = default;

    static constexpr signal_action ignore() noexcept { return signal_action(kind::ignore); }
    static constexpr signal_action default_action() noexcept { return signal_action(kind::default_action); }
    static constexpr signal_action terminate() noexcept { return signal_action(kind::terminate); }
    static constexpr signal_action deliver() noexcept { return signal_action(kind::deliver); }
    static constexpr signal_action handler(handler_type f) noexcept { return signal_action(kind::handler, f); }

    [[nodiscard]] constexpr kind what() const noexcept { return kind_; }
    [[nodiscard]] constexpr handler_type function() const noexcept { return handler_; }
    friend constexpr bool operator==(signal_action, signal_action) noexcept = default;

private:
    constexpr explicit signal_action(kind k, handler_type f = nullptr) noexcept : kind_(k), handler_(f) {}
    kind kind_ = kind::default_action;
    handler_type handler_ = nullptr;
};

// PEP 3143's default signal_map: SIGTSTP, SIGTTIN, SIGTTOU ignored, SIGTERM terminates.
std::map<signum, signal_action> default_signal_map();

// Where one of fds 0-2 goes: unset = /dev/null, an fd to dup2 from, or a path to open
// (stdin read-only; stdout/stderr O_WRONLY|O_CREAT|O_APPEND, mode 0666 less the launcher's umask:
// they are opened before the daemon's umask is set). Opened after the first fork (so that
// ready_timeout covers a FIFO that blocks), before chroot and chdir. A directory is refused, stdin
// too: errno_error EISDIR "stdin". Streams with the same path and flags share one open file (the
// default /dev/null for all three, or stdout and stderr to one log, like `>log 2>&1`).
using stream_target = std::variant<std::monostate, fd_ref, std::filesystem::path>;

// PEP 3143's keyword arguments, with its defaults. daemon_context inherits them as public members.
struct daemon_options {
    // Fds to leave open, besides 0-2 (Python's files_preserve). Everything else is closed. A number
    // that is not open when open() starts is ignored (python-daemon skips closed files likewise).
    std::vector<fd_ref> files_preserve{};
    // chroot(2) to this directory first, when set; needs root. Paths below (working_directory)
    // are then inside it; pidfile and stdio paths were opened before, outside it.
    std::optional<std::filesystem::path> chroot_directory{};
    std::filesystem::path working_directory = "/";
    ::mode_t umask = 0;
    // The pid file's path, locked before detaching (see pidfile.hpp).
    std::optional<std::filesystem::path> pidfile{};
    // Fork into the background. Unset = Python's guess: not when the parent is init (pid 1) or
    // stdin is a socket (inetd). The guess misleads under a systemd Type=forking unit (the parent
    // is pid 1, so nothing forks and systemd waits in vain: set true there), under a subreaper
    // such as a user manager or a container init that is not pid 1 (forks when it need not), and
    // for a Type=notify service (set false and rely on sd_notify).
    std::optional<bool> detach_process{};
    std::map<signum, signal_action> signal_map = default_signal_map();
    // Ids to run as. Unset = the real ids (getuid/getgid): a set-id program drops its privilege.
    std::optional<::uid_t> uid{};
    std::optional<::gid_t> gid{};
    // Supplementary groups: those of uid's user and gid (initgroups) when true; when false and
    // running as root, none at all (python-daemon keeps root's). Unprivileged, the groups are left
    // alone unless initgroups asks for different ones ("setgroups" then fails with EPERM); gid
    // itself is no difference, as the process's group grants it with or without the list.
    bool initgroups = false;
    bool prevent_core = true;  // RLIMIT_CORE 0 (soft and hard): no core dump of secrets
    // Python's stdin/stdout/stderr ("stdin" is a macro in C, hence the suffix). Made inheritable.
    stream_target stdin_file{};
    stream_target stdout_file{};
    stream_target stderr_file{};
    // ospp's additions, beyond PEP 3143:
    // The whole environment ("NAME=value" strings) when set; unset keeps it (daemon(7) step 4).
    // An entry with no '=' after its first character, or with a NUL byte, fails open() before
    // anything is done: errno_error EINVAL "environment" naming the entry.
    std::optional<std::vector<std::string>> environment{};
    // When true, open() does not report readiness: the program calls notify_ready() once it
    // really serves (after binding its sockets, say); until then the launcher waits.
    bool notify_ready_manually = false;
    // How long the launcher waits for the readiness report, from the first fork; unset waits
    // forever. When it passes, the not-ready daemon is killed (SIGKILL to the first child and to
    // the process group of the session it made, which the daemon is in unless it left it; SIGCHLD
    // ignored or SA_NOCLDWAIT, which would reap that child at once, is lifted until then, and
    // SIGCHLD is blocked in the calling thread, so that the program's own handler does not reap it
    // either: another child of the launcher that ends meanwhile stays a zombie until the handler
    // runs, after open() returns; a handler another thread takes still reaps), the
    // launcher releases the pidfile and open() returns errno_error ETIMEDOUT "ready" there:
    // "ready: [Errno 110] Connection timed out: 'no report within 200 ms'". Only when detaching.
    std::optional<std::chrono::milliseconds> ready_timeout{};
};

// PEP 3143's DaemonContext. Set the options (designated initializers, or later as members), then
// open(). Options are read by open(); changing them while open has no effect.
//   ospp::daemon::daemon_context ctx({.working_directory = "/srv", .pidfile = "/run/srv.pid"});
//   ctx.umask = 027;
class daemon_context : public daemon_options {
public:
    daemon_context() = default;
    explicit daemon_context(daemon_options options) noexcept : daemon_options(std::move(options)) {}
    daemon_context(const daemon_context&) = delete;
    daemon_context& operator=(const daemon_context&) = delete;
    // close()
    ~daemon_context();

    // Becomes the daemon (Python's open()); a no-op when already open. Returns success in the
    // daemon only. In the launching process it either _exit(0)s once the daemon is ready, or
    // returns the failed step: any call named in the header comment, with its errno and path.
    // In the daemon it fails only with "ready" (readiness could not be reported; see above).
    // Its two forks are fork(2) itself: ospp::register_at_fork hooks do not run around them
    // (Python's os.fork runs os.register_at_fork's): the children must not run code between the
    // steps, and a hook in the daemon would run after close_fds and the stdio redirection.
    [[nodiscard]] result<void> open();
    // Releases the pidfile and marks the context closed (Python's close()); a no-op when closed.
    // The process stays a daemon: closing does not undo the steps. The signal_map stays installed:
    // terminate() still ends the process, with no pidfile left to remove; deliver() drops its
    // signal. close() first waits for those handlers running on other threads to finish with the
    // pidfile and the self-pipe (a few instructions: they never block); not from a signal handler.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return open_; }
    // The pidfile open() locked, held from a successful open() (in the daemon) until close();
    // nullptr before, after, and without the `pidfile` option. PEP 3143's `pidfile` attribute is
    // this lock object; here the option of that name is its path. A daemon that execs another
    // program hands the lock on by making get() inheritable (ospp::set_inheritable) first.
    [[nodiscard]] const class pidfile* locked_pidfile() const noexcept { return lock_.held() ? &lock_ : nullptr; }
    // What a launcher prints when open() failed: e.message(), and when the pidfile is held by a
    // running daemon, its pid: "pidfile: [Errno 17] File exists: '/run/x.pid' (already running,
    // pid 1234)".
    [[nodiscard]] std::string failure_message(const errno_error& e) const;

    // Tells the launcher (and systemd) that the daemon is ready, when notify_ready_manually is set;
    // a no-op otherwise or the second time. Errors: EPIPE (the launcher is gone).
    [[nodiscard]] result<void> notify_ready() noexcept;

    // The read end of the deliver() self-pipe (non-blocking), for poll/epoll; empty when no action
    // is deliver(). Readable when a signal is waiting.
    [[nodiscard]] fd_ref signal_fd() const noexcept { return signal_read_; }
    // The next delivered signal, or nullopt when none is waiting. Errors: EBADF (none delivered).
    [[nodiscard]] result<std::optional<signum>> read_signal() noexcept;

    // Python's `with DaemonContext():` — opens now, closes when the scope ends.
    class scope {
    public:
        scope(scope&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
        scope& operator=(scope&&) = delete;
        ~scope() {
            if (ctx_ != nullptr) ctx_->close();
        }

    private:
        friend class daemon_context;
        explicit scope(daemon_context* ctx) noexcept : ctx_(ctx) {}
        daemon_context* ctx_;
    };
    // Python's __enter__ (open) with __exit__ (close) at the end of the returned scope. Errors:
    // as open().
    [[nodiscard]] result<scope> enter();

private:
    bool open_ = false;
    class pidfile lock_{};
    fd ready_write_{};
    fd signal_read_{};
    fd signal_write_{};
    fd notify_socket_{};
    // What open() built before forking (the environment block environ points into, the list of
    // fds kept, ...), freed with the context, or by the next open() before it forks (all but a
    // block environ still uses): freeing it in the daemon, before open() returns, would break the
    // promise that nothing there allocates or frees. Type-erased through a plain
    // function pointer, not a shared_ptr: a failed open() frees it without a virtual call, which
    // the sanitizers' vptr check cannot verify when no descriptor is left (it probes with a pipe).
    using erased_state = std::unique_ptr<void, void (*)(void*) noexcept>;
    erased_state prepared_{nullptr, nullptr};
};

}  // namespace ospp::daemon
