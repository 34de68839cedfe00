// src/daemon.cpp — daemon_context: PEP 3143 plus daemon(7)'s SysV steps.
//
// open() has two halves. prepare() runs in the calling process and does everything that can
// allocate or read configuration (pidfile lock, stdio files, group list, NOTIFY_SOCKET, pipes, the
// sorted list of fds to keep). become_daemon() runs after fork() and uses only async-signal-safe
// system calls on what prepare() left in a `plan`, as POSIX requires of a forked child.
#include "ospp/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "ospp/ids.hpp"
#include "ospp/signal_state.hpp"
#include "sys.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace ospp::daemon {

namespace {

// The steps that can fail, in the order open() runs them; their names are errno_error::call().
enum class step : int {
    stdio, pidfile, pipe, fork, sigaction, sigprocmask, close_fds, stdin_file, stdout_file,
    stderr_file, setsid, dup2, chroot, prevent_core, chdir, pidfile_write, setgroups, setgid,
    setuid, count,
};
constexpr const char* step_names[] = {
    "stdio",  "pidfile", "pipe",   "fork",         "sigaction", "sigprocmask", "close_fds",
    "stdin",  "stdout",  "stderr", "setsid",       "dup2",      "chroot",      "prevent_core",
    "chdir",  "pidfile", "setgroups", "setgid",    "setuid",
};
static_assert(sizeof step_names / sizeof step_names[0] == static_cast<std::size_t>(step::count));

// What the daemon tells the launcher through the readiness pipe: one write, atomic (< PIPE_BUF).
struct report {
    std::int32_t ready;  // 1: ready; 0: `step` failed with `error`
    std::int32_t step;
    std::int32_t error;
};

// State the signal handlers read. One daemon per process, so one of each.
std::atomic<const class pidfile*> g_terminate_pidfile{nullptr};
std::atomic<int> g_deliver_fd{-1};
// How many of those handlers are between reading that state and their last use of it, on any
// thread. close() clears the state, then waits for none to be left before it closes the fd and
// releases the pidfile: a handler that read the fd just before could otherwise write its byte into
// a file opened since on the same number, or use a pidfile being released or freed. Every access
// is seq_cst: a handler that read the old state counted itself first, so close() sees it.
std::atomic<int> g_handlers_in_use{0};

struct handler_in_use {
    handler_in_use() noexcept { g_handlers_in_use.fetch_add(1); }
    ~handler_in_use() { g_handlers_in_use.fetch_sub(1); }
    handler_in_use(const handler_in_use&) = delete;
    handler_in_use& operator=(const handler_in_use&) = delete;
};

// Digits of a non-negative number, for messages built after fork (no snprintf there).
std::size_t append_number(char* out, long v) noexcept {
    char digits[24];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (std::size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
    return n;
}

std::size_t append_text(char* out, const char* text) noexcept {
    const std::size_t n = std::strlen(text);
    std::copy_n(text, n, out);  // no NUL: the caller goes on appending
    return n;
}

// Writes to a pipe whose reader may be gone without dying of SIGPIPE: the signal is blocked for
// the write and a SIGPIPE it raised is consumed. Async-signal-safe.
bool write_quietly(int fd, const void* data, std::size_t size) noexcept {
    sigset_t pipe_only, old;
    ::sigemptyset(&pipe_only);
    ::sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    const ssize_t n = sys::retry([&] { return ::write(fd, data, size); });
    const int err = errno;
    if (n < 0 && err == EPIPE) {
        const timespec zero{};
        ::sigtimedwait(&pipe_only, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n == static_cast<ssize_t>(size);
}

// sd_notify(3) without libsystemd: one datagram on a socket connected before fork.
void sd_notify(int socket, const char* state, std::size_t size) noexcept {
    if (socket >= 0) (void)sys::retry([&] { return ::send(socket, state, size, MSG_NOSIGNAL); });
}

void on_terminate(int sig) {
    {
        const handler_in_use in_use;
        if (const class pidfile* p = g_terminate_pidfile.load()) (void)p->remove_file();
    }
    struct ::sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    sigset_t just_this;
    ::sigemptyset(&just_this);
    ::sigaddset(&just_this, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig);  // only if the signal's default action does not end the process
}

void on_deliver(int sig) {
    const int saved = errno;
    const auto byte = static_cast<unsigned char>(sig);
    {
        const handler_in_use in_use;
        const int fd = g_deliver_fd.load();
        if (fd >= 0) {
            // A full pipe drops the signal, as a second pending one is dropped: nothing to do.
            [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
        }
    }
    errno = saved;
}

// Everything the forked child needs, built before the first fork.
struct plan {
    bool detach = false;
    std::vector<int> keep;  // sorted, all >= 3
    int stdio[3] = {-1, -1, -1};  // a copy of a given fd, or what open_stdio opened from stdio_path
    const char* stdio_path[3] = {nullptr, nullptr, nullptr};  // opened after the first fork
    int stdio_flags[3] = {0, 0, 0};
    int ready = -1;   // readiness pipe, write end
    int notify = -1;  // connected NOTIFY_SOCKET
    ::mode_t umask = 0;
    const char* chroot = nullptr;
    const char* chdir = nullptr;
    bool prevent_core = true;
    class pidfile* lock = nullptr;
    bool set_groups = false;
    std::vector<::gid_t> groups;
    ::uid_t uid = 0;
    ::gid_t gid = 0;
    char** environment = nullptr;
    std::vector<std::pair<int, signal_action>> signals;
};

// close_range(2) is in glibc 2.34, but call the system call so an older kernel's ENOSYS is seen.
int close_range(unsigned first, unsigned last) noexcept {
    return static_cast<int>(::syscall(SYS_close_range, first, last, 0U));
}

bool kept(const plan& p, int fd) noexcept { return std::binary_search(p.keep.begin(), p.keep.end(), fd); }

// The fallback when close_range is missing: list /proc/self/fd, closing as we go; without /proc,
// try every number below the hard limit: fds above the soft one are common (inherited from a
// parent that raised its own soft limit and lowered it again for its children, as systemd advises).
int close_listed_fds(const plan& p) noexcept {
    if (sys::for_each_listed_fd([&](int n) {
            if (n > 2 && !kept(p, n)) ::close(n);
        })) {
        return 0;
    }
    struct ::rlimit lim {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) return errno;
    // The kernel keeps RLIMIT_NOFILE within fs.nr_open (at most INT_MAX): never infinite.
    for (long n = 3; n < static_cast<long>(lim.rlim_max); ++n) {
        if (!kept(p, static_cast<int>(n))) ::close(static_cast<int>(n));
    }
    return 0;
}

// daemon(7) step 1: every fd above 2 closed except the kept ones, in O(kept) system calls.
int close_fds(const plan& p) noexcept {
    unsigned from = 3;
    for (int k : p.keep) {
        const auto u = static_cast<unsigned>(k);
        if (u > from && close_range(from, u - 1) < 0) return close_listed_fds(p);
        from = u + 1;
    }
    if (close_range(from, ~0U) < 0) return close_listed_fds(p);
    return 0;
}

int set_action(int sig, void (*handler)(int), int flags) noexcept {
    struct ::sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    ::sigfillset(&sa.sa_mask);  // a handler is never interrupted by another of ours
    return ::sigaction(sig, &sa, nullptr);
}

// daemon(7) steps 2 and 3: no inherited handler or ignored signal, no blocked signal.
bool reset_signals(step& failed) noexcept {
    if (auto r = reset_signal_handlers(); !r) {
        errno = r.error().code();
        failed = step::sigaction;
        return false;
    }
    if (auto r = set_signal_mask(signal_set()); !r) {
        errno = r.error().code();
        failed = step::sigprocmask;
        return false;
    }
    return true;
}

bool apply_signal_map(const plan& p) noexcept {
    for (const auto& [sig, action] : p.signals) {
        int r = 0;
        switch (action.what()) {
        case signal_action::kind::ignore: r = set_action(sig, SIG_IGN, 0); break;
        case signal_action::kind::default_action: r = set_action(sig, SIG_DFL, 0); break;
        case signal_action::kind::terminate: r = set_action(sig, on_terminate, 0); break;
        case signal_action::kind::handler: r = set_action(sig, action.function(), SA_RESTART); break;
        case signal_action::kind::deliver: r = set_action(sig, on_deliver, SA_RESTART); break;
        }
        if (r < 0) return false;
    }
    return true;
}

// Opens the stdio files given as paths, in the first child (or, without detaching, the caller):
// opening a FIFO or a terminal can block, and there the launcher's ready_timeout covers it.
// The earlier of 0-2's sources opened from the same path with the same flags, or -1.
int same_source(const plan& p, int i) noexcept {
    for (int j = 0; j < i; ++j) {
        if (p.stdio_path[j] != nullptr && p.stdio_flags[j] == p.stdio_flags[i] &&
            std::strcmp(p.stdio_path[j], p.stdio_path[i]) == 0) {
            return j;
        }
    }
    return -1;
}

// Streams with the same path and flags (the default /dev/null, or `>log 2>&1`) share one open
// file, as a shell's redirections do: one fd fewer each, which a low RLIMIT_NOFILE may not have.
bool open_stdio(plan& p, step& failed) noexcept {
    static constexpr step steps[] = {step::stdin_file, step::stdout_file, step::stderr_file};
    for (int i = 0; i < 3; ++i) {
        if (p.stdio_path[i] == nullptr) continue;
        if (const int j = same_source(p, i); j >= 0) {
            p.stdio[i] = p.stdio[j];
            continue;
        }
        p.stdio[i] = sys::retry([&] { return ::open(p.stdio_path[i], p.stdio_flags[i], 0666); });
        // O_RDONLY opens a directory too (stdout and stderr, O_WRONLY, fail with EISDIR): refuse it
        // as Python's open() does, rather than start a daemon whose stdin cannot be read.
        struct ::stat st {};
        if (i == 0 && p.stdio[i] >= 0 && ::fstat(p.stdio[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            ::close(p.stdio[i]);
            p.stdio[i] = -1;
            errno = EISDIR;
        }
        if (p.stdio[i] < 0) {
            failed = steps[i];
            return false;
        }
    }
    return true;
}

// Closes what open_stdio opened (once on 0-2, or when a later step failed), keeping errno.
void close_opened_stdio(plan& p) noexcept {
    const int saved = errno;
    for (int i = 0; i < 3; ++i) {
        if (p.stdio_path[i] != nullptr && p.stdio[i] >= 0 && same_source(p, i) < 0) ::close(p.stdio[i]);
    }
    for (int i = 0; i < 3; ++i) {
        if (p.stdio_path[i] != nullptr) p.stdio[i] = -1;
    }
    errno = saved;
}

// The first child: reset, close, new session, fork again. Returns only in the grandchild (or,
// without detaching, in the calling process); false with `failed` set on error.
bool detach_steps(plan& p, step& failed) noexcept {
    if (!reset_signals(failed)) return false;
    if (close_fds(p) != 0) {
        failed = step::close_fds;
        return false;
    }
    if (!open_stdio(p, failed)) {
        close_opened_stdio(p);
        return false;
    }
    if (p.environment != nullptr) environ = p.environment;
    if (!p.detach) return true;
    // The session leader's exit would send SIGHUP to its session if it had a terminal; the
    // grandchild must not die of that, so SIGHUP is ignored until it runs on its own.
    if (set_action(SIGHUP, SIG_IGN, 0) < 0) {
        failed = step::sigaction;
        return false;
    }
    if (::setsid() < 0) {
        failed = step::setsid;
        return false;
    }
    // Nothing to flush: only this function ran since the launcher flushed stdio.
    const pid_t pid = ::fork();
    if (pid < 0) {
        failed = step::fork;
        return false;
    }
    if (pid > 0) ::_exit(0);
    if (set_action(SIGHUP, SIG_DFL, 0) < 0) {
        failed = step::sigaction;
        return false;
    }
    return true;
}

// The grandchild's steps, daemon(7) 9 to 13 plus PEP 3143's chroot, core limit and ids.
bool daemon_steps(plan& p, step& failed) noexcept {
    auto fail = [&](step s) {
        failed = s;
        return false;
    };
    bool wired = true;
    for (int i = 0; i < 3 && wired; ++i) wired = sys::retry([&] { return ::dup2(p.stdio[i], i); }) >= 0;
    close_opened_stdio(p);
    if (!wired) return fail(step::dup2);
    ::umask(p.umask);
    // chroot(2) leaves the cwd where it was, outside the jail: "/" at once, so that a relative
    // working_directory is looked up inside it (python-daemon: chdir(root), then chroot(root)).
    if (p.chroot != nullptr && (::chroot(p.chroot) < 0 || ::chdir("/") < 0)) return fail(step::chroot);
    if (p.prevent_core) {
        const struct ::rlimit zero {};
        if (::setrlimit(RLIMIT_CORE, &zero) < 0) return fail(step::prevent_core);
    }
    if (::chdir(p.chdir) < 0) return fail(step::chdir);
    if (p.lock != nullptr && !p.lock->write()) return fail(step::pidfile_write);
    if (p.set_groups && ::setgroups(p.groups.size(), p.groups.data()) < 0) return fail(step::setgroups);
    if (::setresgid(p.gid, p.gid, p.gid) < 0) return fail(step::setgid);
    if (::setresuid(p.uid, p.uid, p.uid) < 0) return fail(step::setuid);
    return true;
}

// After a failed step in a forked process: tell the launcher and systemd, and die.
[[noreturn]] void report_failure(const plan& p, step s, int error) noexcept {
    const report r{0, static_cast<std::int32_t>(s), error};
    if (p.ready >= 0) (void)write_quietly(p.ready, &r, sizeof r);
    char msg[32];
    std::size_t n = append_text(msg, "ERRNO=");
    n += append_number(msg + n, error);
    sd_notify(p.notify, msg, n);
    ::_exit(1);
}

// Python's is_detach_process_context_required(): not under init, not under a super-server.
bool detach_by_default() noexcept {
    if (::getppid() == 1) return false;
    struct ::stat st {};
    return !(::fstat(0, &st) == 0 && S_ISSOCK(st.st_mode));
}

// fds 0-2 must be open before anything else is, or a file opened next would become stdin.
bool fill_stdio() noexcept {
    for (int n = 0; n < 3; ++n) {
        if (::fcntl(n, F_GETFD) >= 0 || errno != EBADF) continue;
        const int got = ::open("/dev/null", O_RDWR | O_NOCTTY);  // lowest free number: n
        if (got < 0) return false;
        if (got != n) {
            ::close(got);
            errno = EBADF;
            return false;
        }
    }
    return true;
}

// A pre-connected datagram socket to $NOTIFY_SOCKET ("/path" or "@abstract"), or an invalid fd.
// sd_notify is advisory: a missing or unusable socket is not a start-up failure.
fd connect_notify_socket() noexcept {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (name == nullptr || (name[0] != '/' && name[0] != '@')) return fd();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(name);
    if (len >= sizeof addr.sun_path) return fd();
    std::memcpy(addr.sun_path, name, len);
    if (name[0] == '@') addr.sun_path[0] = '\0';
    fd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    if (!s.valid() || sys::retry([&] { return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), size); }) < 0) {
        return fd();
    }
    return s;
}

// The supplementary groups of uid's user with gid (getgrouplist), read before fork since NSS
// allocates. An unknown user has none, as in python-daemon.
std::vector<::gid_t> user_groups(::uid_t uid, ::gid_t gid) {
    const auto user = getpwuid(uid);
    if (!user) return {};
    auto groups = getgrouplist(user->pw_name, gid);
    return groups ? std::move(*groups) : std::vector<::gid_t>{};
}

// Whether `groups` give what this process's supplementary groups give once its gid is `gid`: the
// same groups in any order, `gid` itself aside, which the effective gid grants with or without it.
// A process run as uid:gid with no supplementary groups (a container's `--user`) and its user's
// initgroups list {gid} are no change: no setgroups, which only root may call.
bool same_groups(std::vector<::gid_t> groups, ::gid_t gid) {
    auto now = getgroups().value_or(std::vector<::gid_t>{});
    for (auto* v : {&groups, &now}) {
        std::erase(*v, gid);
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    return groups == now;
}

// One of 0-2's sources: a given fd is copied now; a path (unset: /dev/null) is only recorded in
// the plan, for open_stdio after the fork. Returns the copy, or an invalid fd for a path.
result<fd> prepare_stream(const stream_target& target, int which, plan& p) {
    static constexpr step steps[] = {step::stdin_file, step::stdout_file, step::stderr_file};
    if (const auto* given = std::get_if<fd_ref>(&target)) {
        // A copy above 2, so that wiring 0-2 in order never overwrites a source still needed.
        fd copy(::fcntl(given->get(), F_DUPFD_CLOEXEC, 3));
        // EINVAL: 3 is not below RLIMIT_NOFILE, i.e. no fd is left, which dup() calls EMFILE.
        if (!copy.valid() && errno == EINVAL) errno = EMFILE;
        if (!copy.valid()) return sys::fail(step_names[static_cast<int>(steps[which])]);
        return copy;
    }
    const auto* path = std::get_if<std::filesystem::path>(&target);
    const int flags = path == nullptr ? O_RDWR : which == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND;
    p.stdio_path[which] = path != nullptr ? path->c_str() : "/dev/null";
    p.stdio_flags[which] = flags | O_CLOEXEC | O_NOCTTY;
    return fd();
}

}  // namespace

std::map<signum, signal_action> default_signal_map() {
    return {
        {signum::tstp, signal_action::ignore()},
        {signum::ttin, signal_action::ignore()},
        {signum::ttou, signal_action::ignore()},
        {signum::term, signal_action::terminate()},
    };
}

daemon_context::~daemon_context() { close(); }

namespace {

// The error open() returns for a step, with the path the step used where it has one.
errno_error step_error(const daemon_options& o, step s, int error) {
    const char* name = step_names[static_cast<int>(s)];
    auto with_stream = [&](const stream_target& t) {
        if (std::holds_alternative<fd_ref>(t)) return errno_error(error, name);
        const auto* p = std::get_if<std::filesystem::path>(&t);
        return errno_error(error, name, p != nullptr ? p->native() : "/dev/null");
    };
    switch (s) {
    case step::chdir: return errno_error(error, name, o.working_directory.native());
    case step::chroot: return errno_error(error, name, o.chroot_directory.value_or("").native());
    case step::pidfile:
    case step::pidfile_write: return errno_error(error, name, o.pidfile.value_or("").native());
    case step::stdin_file: return with_stream(o.stdin_file);
    case step::stdout_file: return with_stream(o.stdout_file);
    case step::stderr_file: return with_stream(o.stderr_file);
    default: return errno_error(error, name);
    }
}

using steady = std::chrono::steady_clock;

// Waits until `f` is readable (a report, or end of file): false when `budget` (a time since
// `start`, clamped to >= 0) ran out first. Without a budget it returns at once, and the read
// that follows blocks. (No deadline time_point: start + milliseconds::max() would overflow.)
bool readable_within(int f, steady::time_point start, std::optional<std::chrono::milliseconds> budget) noexcept {
    if (!budget) return true;
    for (;;) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
        const long long left = budget->count() - elapsed.count();
        pollfd pfd{f, POLLIN, 0};
        const int n = ::poll(&pfd, 1, static_cast<int>(std::clamp<long long>(left, 0, INT_MAX)));
        if (n > 0 || (n < 0 && errno != EINTR)) return true;  // poll failed (ENOMEM): read blocks
        if (n == 0 && left <= 0) return false;
    }
}

// A daemon that did not report in time must not run on unsupervised: SIGKILL to the first child
// (ours and unreaped, so its pid is not reused) keeps it from forking the daemon, and waiting for
// it without reaping (WNOWAIT) pins its pid — the id of the session and process group setsid()
// gave it, which the daemon inherits — while that group is killed too.
void kill_unready(pid_t child) noexcept {
    (void)::kill(child, SIGKILL);
    siginfo_t info{};
    // (ECHILD: SIGCHLD is ignored, the child was reaped already and its pid may be anyone's.)
    if (sys::retry([&] { return ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT); }) == 0) {
        (void)::kill(-child, SIGKILL);
    }
}

// What the launcher changes about SIGCHLD until its wait for the first child is over.
struct launcher_sigchld {
    struct ::sigaction action {};
    bool action_changed = false;
    std::optional<signal_set> mask;  // the thread's mask before, once SIGCHLD is blocked
};

// Puts back what keep_first_child changed (best effort: errno is kept for the caller's report).
void give_back_sigchld(const launcher_sigchld& saved) noexcept {
    const int error = errno;
    if (saved.action_changed) (void)::sigaction(SIGCHLD, &saved.action, nullptr);
    if (saved.mask) (void)set_signal_mask(*saved.mask);
    errno = error;
}

// SIGCHLD ignored, or with SA_NOCLDWAIT (inherited from the launcher's parent: exec keeps SIG_IGN),
// has the kernel reap the first child as it exits, and so does a handler of the program's own that
// reaps every child (waitpid(-1), as a server that forks workers has): kill_unready could then
// neither pin its pid, which names the daemon's session, nor kill that session (ECHILD), and its
// SIGKILL would go to a pid anyone may have by then. Until the launcher has waited, SIGCHLD keeps
// its disposition without those two flags, and is blocked in this thread (the daemon's
// reset_signals unblocks it; a handler in another thread that takes it still reaps). Returns the
// call that failed ("sigaction", "sigprocmask", errno set), or nullptr.
const char* keep_first_child(launcher_sigchld& saved) noexcept {
    if (::sigaction(SIGCHLD, nullptr, &saved.action) < 0) return "sigaction";
    if (saved.action.sa_handler == SIG_IGN || (saved.action.sa_flags & SA_NOCLDWAIT) != 0) {
        struct ::sigaction kept = saved.action;
        if (kept.sa_handler == SIG_IGN) kept.sa_handler = SIG_DFL;
        kept.sa_flags &= ~SA_NOCLDWAIT;
        if (::sigaction(SIGCHLD, &kept, nullptr) < 0) return "sigaction";
        saved.action_changed = true;
    }
    auto old = pthread_sigmask(sigmask_how::block, {signum::chld});
    if (!old) {
        give_back_sigchld(saved);
        errno = old.error().code();
        return "sigprocmask";
    }
    saved.mask = *old;
    return nullptr;
}

// The launcher's side: wait for the daemon's report, reap the first child, exit on success.
result<void> wait_for_daemon(const daemon_options& o, pid_t child, fd ready_read) {
    const steady::time_point start = steady::now();
    std::optional<std::chrono::milliseconds> budget;
    if (o.ready_timeout) budget = std::max(*o.ready_timeout, std::chrono::milliseconds(0));
    report r{};
    std::size_t got = 0;
    int read_error = 0;
    while (got < sizeof r) {
        if (!readable_within(ready_read.get(), start, budget)) {
            kill_unready(child);
            (void)sys::retry([&] { return ::waitpid(child, nullptr, 0); });
            const std::string waited = "no report within " + std::to_string(budget->count()) + " ms";
            return tl::unexpected(errno_error(ETIMEDOUT, "ready", waited));
        }
        const ssize_t n = sys::retry([&] {
            return ::read(ready_read.get(), reinterpret_cast<char*>(&r) + got, sizeof r - got);
        });
        if (n < 0) read_error = errno;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    (void)sys::retry([&] { return ::waitpid(child, nullptr, 0); });
    if (got == sizeof r && r.ready == 1) ::_exit(0);
    if (got == sizeof r && r.step >= 0 && r.step < static_cast<int>(step::count)) {
        return tl::unexpected(step_error(o, static_cast<step>(r.step), r.error));
    }
    if (read_error != 0) return sys::fail_with(read_error, "ready");
    return sys::fail_with(EPIPE, "ready");  // the daemon died before saying anything
}

}  // namespace

namespace {

// What prepare() opens and open() hands over to the daemon_context (or drops on failure).
struct prepared {
    plan p;
    class pidfile lock;
    fd stdio[3];
    fd notify;
    fd deliver_read, deliver_write;
    fd ready_read, ready_write;
    fd saved_stdio[3];  // without detaching: 0-2 as they were, to put back when a step fails
    std::vector<std::string> env_strings;  // a copy: environ must not depend on `environment`
    std::vector<char*> env;
    // A context opened before: what it held, so that the daemon replaces it without freeing it.
    std::unique_ptr<void, void (*)(void*) noexcept> previous{nullptr, nullptr};
    class pidfile previous_lock;
};

// Everything that may allocate, in the launcher: steps 1-5 of docs/daemon.md.
result<void> prepare(const daemon_options& o, prepared& r) {
    plan& p = r.p;
    // "NAME=value" each: an entry with no '=' after its first character names no variable, and a
    // NUL byte would cut it short. Python's os.execve refuses both (ValueError); so does exec here.
    if (o.environment) {
        for (const std::string& entry : *o.environment) {
            if (entry.find('=', 1) == std::string::npos || entry.find('\0') != std::string::npos)
                return sys::fail_with(EINVAL, "environment", entry);
        }
    }
    p.detach = o.detach_process.value_or(detach_by_default());
    if (!fill_stdio()) return sys::fail("stdio", "/dev/null");
    if (o.pidfile) {
        auto acquired = pidfile::acquire(*o.pidfile);
        if (!acquired) return tl::unexpected(std::move(acquired.error()));
        r.lock = std::move(*acquired);
        p.lock = &r.lock;
        p.keep.push_back(r.lock.get().get());
    }
    const stream_target* targets[] = {&o.stdin_file, &o.stdout_file, &o.stderr_file};
    for (int i = 0; i < 3; ++i) {
        auto f = prepare_stream(*targets[i], i, p);
        if (!f) return tl::unexpected(std::move(f.error()));
        if (!f->valid()) continue;
        r.stdio[i] = std::move(*f);
        p.stdio[i] = r.stdio[i].get();
        p.keep.push_back(p.stdio[i]);
    }
    p.uid = o.uid.value_or(::getuid());
    p.gid = o.gid.value_or(::getgid());
    if (o.initgroups) p.groups = user_groups(p.uid, p.gid);
    // Root always sets them (none, or the user's). Others cannot: asking for a change fails with
    // EPERM, asking for the groups the process already has is not a change.
    p.set_groups = ::geteuid() == 0 || (o.initgroups && !same_groups(p.groups, p.gid));
    r.notify = connect_notify_socket();
    p.notify = r.notify.get();
    p.keep.push_back(p.notify);
    for (const auto& [sig, action] : o.signal_map) {
        // What sigaction(2) would refuse (EINVAL) in the daemon, refused here, before anything is
        // done, naming the signal: SIGKILL, SIGSTOP, glibc's reserved 32 and 33, non-signals.
        const int raw = to_raw(sig);
        if (raw == SIGKILL || raw == SIGSTOP || raw < 1 || raw >= NSIG || (raw > SIGSYS && raw < SIGRTMIN)) {
            const std::string name = signal_name(sig);
            const bool named = !name.empty() && (name[0] < '0' || name[0] > '9');
            return tl::unexpected(errno_error(EINVAL, "sigaction", named ? "SIG" + name : std::to_string(raw)));
        }
        p.signals.emplace_back(raw, action);
        if (action.what() == signal_action::kind::deliver && !r.deliver_read.valid()) {
            int raw[2];
            if (::pipe2(raw, O_CLOEXEC | O_NONBLOCK) < 0) return sys::fail("pipe");
            r.deliver_read.reset(raw[0]);
            r.deliver_write.reset(raw[1]);
            p.keep.insert(p.keep.end(), {raw[0], raw[1]});
        }
    }
    if (o.environment) {
        r.env_strings = *o.environment;
        for (auto& entry : r.env_strings) r.env.push_back(entry.data());
        r.env.push_back(nullptr);
        p.environment = r.env.data();
    }
    p.umask = o.umask;
    p.chroot = o.chroot_directory ? o.chroot_directory->c_str() : nullptr;
    p.chdir = o.working_directory.c_str();
    p.prevent_core = o.prevent_core;
    // Only what is open: a closed number would keep whatever open() puts there next (the
    // launcher's end of the readiness pipe, below). The fds opened above are kept anyway.
    for (fd_ref f : o.files_preserve) {
        if (::fcntl(f.get(), F_GETFD) >= 0) p.keep.push_back(f.get());
    }
    if (!p.detach) {
        // A failed step returns to the caller, who prints it on stderr: not on /dev/null, where
        // the steps may have wired it already. (Best effort: without a spare fd, no copy.)
        for (int i = 0; i < 3; ++i) {
            r.saved_stdio[i].reset(::fcntl(i, F_DUPFD_CLOEXEC, 3));
            if (r.saved_stdio[i].valid()) p.keep.push_back(r.saved_stdio[i].get());
        }
    }
    if (p.detach) {
        int raw[2];
        if (::pipe2(raw, O_CLOEXEC) < 0) return sys::fail("pipe");
        r.ready_read.reset(raw[0]);
        r.ready_write.reset(raw[1]);
        p.ready = raw[1];
        p.keep.push_back(raw[1]);
    }
    std::sort(p.keep.begin(), p.keep.end());
    p.keep.erase(std::unique(p.keep.begin(), p.keep.end()), p.keep.end());
    p.keep.erase(p.keep.begin(), std::upper_bound(p.keep.begin(), p.keep.end(), 2));
    return {};
}

// prepared_'s deleter: the context's header does not know the type.
void delete_prepared(void* state) noexcept { delete static_cast<prepared*>(state); }

// Whether environ still uses `state`'s environment block: the array itself, or one of its strings
// (setenv and putenv copy the pointers into an array of their own).
bool environment_in_use(const prepared& state) noexcept {
    if (state.env.empty()) return false;
    if (environ == state.env.data()) return true;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        if (std::find(state.env.begin(), state.env.end(), *e) != state.env.end()) return true;
    }
    return false;
}

// What earlier open()s left (`head` and the states it chains through `previous`), cut down to the
// states whose environment block environ still uses; the rest is freed. open() calls it before it
// forks, in the program's own time: the daemon, after the fork, only hands states on (prepared_).
void drop_unused_states(std::unique_ptr<void, void (*)(void*) noexcept>& head) noexcept {
    std::unique_ptr<void, void (*)(void*) noexcept> kept{nullptr, nullptr};
    auto* tail = &kept;
    for (auto state = std::move(head); state;) {
        auto& p = *static_cast<prepared*>(state.get());
        auto next = std::move(p.previous);
        if (environment_in_use(p)) {
            *tail = std::move(state);
            tail = &p.previous;
        }
        state = std::move(next);
    }
    head = std::move(kept);
}

}  // namespace

result<void> daemon_context::open() {
    if (open_) return {};
    const daemon_options& o = *this;
    drop_unused_states(prepared_);
    // On the heap, to be handed to the daemon_context: the daemon must not free it (see prepared_).
    auto state = std::make_unique<prepared>();
    prepared& r = *state;
    if (auto ok = prepare(o, r); !ok) return ok;
    plan& p = r.p;

    step failed = step::count;
    if (p.detach) {
        (void)std::fflush(nullptr);  // or both processes would write what is buffered now
        std::cout.flush();
        std::cerr.flush();
        std::clog.flush();
        launcher_sigchld launcher_chld;
        if (const char* call = keep_first_child(launcher_chld)) return sys::fail(call);
        const pid_t child = ::fork();
        // The launcher gets its SIGCHLD back when open() returns there (the daemon has reset_signals').
        if (child < 0) {
            give_back_sigchld(launcher_chld);
            return sys::fail("fork");
        }
        if (child > 0) {
            r.ready_write.reset();
            auto outcome = wait_for_daemon(o, child, std::move(r.ready_read));
            give_back_sigchld(launcher_chld);
            return outcome;
        }
        // close_fds closes the launcher's end; forget the number so no destructor closes it again.
        (void)r.ready_read.release();
        if (!detach_steps(p, failed) || !daemon_steps(p, failed)) report_failure(p, failed, errno);
    } else if (char** const saved_environ = environ; !detach_steps(p, failed) || !daemon_steps(p, failed)) {
        const int error = errno;
        environ = saved_environ;  // the block built here dies with this call
        for (int i = 0; i < 3; ++i) {
            if (r.saved_stdio[i].valid()) (void)::dup2(r.saved_stdio[i].get(), i);
        }
        return tl::unexpected(step_error(o, failed, error));
    }

    // The daemon, set up: keep what must outlive open(), then install the signal_map. Moves only:
    // what an earlier open() left in the members goes into `r`, which the context keeps.
    r.previous = std::move(prepared_);
    r.previous_lock = std::move(lock_);
    lock_ = std::move(r.lock);
    ready_write_ = std::move(r.ready_write);
    notify_socket_ = std::move(r.notify);
    signal_read_ = std::move(r.deliver_read);
    signal_write_ = std::move(r.deliver_write);
    for (fd& copy : r.stdio) copy.reset();  // on 0-2 now
    for (fd& saved : r.saved_stdio) saved.reset();  // the caller's 0-2, needed only had a step failed
    prepared_ = erased_state(state.release(), &delete_prepared);  // environ may point into it
    g_terminate_pidfile.store(lock_.held() ? &lock_ : nullptr);
    g_deliver_fd.store(signal_write_.valid() ? signal_write_.get() : -1);
    p.ready = ready_write_.get();
    p.notify = notify_socket_.get();
    if (!apply_signal_map(p)) {
        const int error = errno;
        if (p.detach) report_failure(p, step::sigaction, error);
        return tl::unexpected(step_error(o, step::sigaction, error));
    }
    open_ = true;
    if (!notify_ready_manually) {
        // If the launcher cannot be told, it has reported a failure (EOF): a daemon must not run on
        // behind a failed start, so give back the pidfile and say why.
        if (auto ready = notify_ready(); !ready) {
            close();
            return ready;
        }
    }
    return {};
}

result<void> daemon_context::notify_ready() noexcept {
    char msg[48];
    std::size_t n = append_text(msg, "MAINPID=");
    n += append_number(msg + n, ::getpid());
    n += append_text(msg + n, "\nREADY=1");
    sd_notify(notify_socket_.get(), msg, n);
    notify_socket_.reset();
    if (!ready_write_.valid()) return {};
    const report r{1, 0, 0};
    const bool sent = write_quietly(ready_write_.get(), &r, sizeof r);
    const int error = errno;
    ready_write_.reset();
    if (!sent) return sys::fail_with(error, "ready");
    return {};
}

void daemon_context::close() noexcept {
    if (!open_) return;
    g_terminate_pidfile.store(nullptr);
    g_deliver_fd.store(-1);
    // The handlers never block (the pipe is non-blocking), so this waits a few instructions.
    while (g_handlers_in_use.load() != 0) ::sched_yield();
    (void)lock_.release();
    signal_write_.reset();
    signal_read_.reset();
    open_ = false;
}

result<std::optional<signum>> daemon_context::read_signal() noexcept {
    unsigned char sig = 0;
    const ssize_t n = sys::retry([&] { return ::read(signal_read_.get(), &sig, 1); });
    if (n < 0) {
        if (errno == EAGAIN) return std::optional<signum>();
        return sys::fail("read_signal");
    }
    if (n == 0) return std::optional<signum>();
    return std::optional<signum>(signum{sig});
}

std::string daemon_context::failure_message(const errno_error& e) const {
    std::string text = e.message();
    if (e.code() == EEXIST && std::strcmp(e.call(), "pidfile") == 0 && pidfile) {
        if (auto pid = pidfile::read_pid(*pidfile, std::chrono::milliseconds(200)))
            text += " (already running, pid " + std::to_string(*pid) + ")";
    }
    return text;
}

result<daemon_context::scope> daemon_context::enter() {
    auto opened = open();
    if (!opened) return tl::unexpected(std::move(opened.error()));
    return scope(this);
}

}  // namespace ospp::daemon
