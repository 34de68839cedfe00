// ospp/process.hpp — creating, replacing, signalling and ending processes.
//
//   Python                                   C++
//   pid = os.fork()                          auto f = ospp::fork().value();
//   if pid == 0: ...child...                 if (f.is_child()) { ... }  else f.pid()
//   pid, fd = os.forkpty()                   auto [f, master] = ospp::forkpty().value();
//   os.execv(path, ["ls", "-l"])             ospp::execv(path, {"ls", "-l"})     // returns only on failure
//   os.execlp("ls", "ls", "-l")              ospp::execlp("ls", "ls", "-l")
//   os._exit(os.EX_OK)                       ospp::_exit(ospp::ex::ok)
//   os.kill(pid, signal.SIGTERM)             ospp::kill(pid, ospp::signum::term)
//   os.nice(5)                               ospp::nice(5)
//   os.setpriority(os.PRIO_PROCESS, 0, 10)   ospp::setpriority(ospp::prio_which::process, 0, 10)
//   old = os.umask(0o022)                    ::mode_t old = ospp::umask(022);
//   fd = os.pidfd_open(pid)                  ospp::fd pfd = ospp::pidfd_open(pid).value();
//   signal.pidfd_send_signal(fd, signal.SIGTERM)
//                                            ospp::pidfd_send_signal(pfd, ospp::signum::term)
//   os.register_at_fork(before=f)            ospp::register_at_fork({.before = f})
//   os.times().user                          ospp::times()->user
//   os.unshare(os.CLONE_NEWUTS)              ospp::unshare(ospp::clone_flags::newuts)   // Python 3.12
//
// Between fork and exec in a multi-threaded program, the child may only call async-signal-safe
// functions (another thread may have held a lock, such as malloc's, at the moment of the fork).
// ospp makes that the easy path: build the argv with cstring_array before forking, and report a
// failure to the parent with exec_error_pipe; every call used on the child side below is
// allocation-free, but for the copy of the path an exec failure names (see exec). A whole fork +
// exec with options is simpler with posix_spawn (ospp/spawn.hpp).
#pragma once

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <type_traits>

#include "ospp/argv.hpp"
#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"
#include "ospp/signal.hpp"
#include "ospp/wait.hpp"

namespace ospp {

// ---- fork -------------------------------------------------------------------------------------

// What fork returns: Python's pid, where 0 means "this is the child".
class fork_result {
public:
    constexpr explicit fork_result(::pid_t pid) noexcept : pid_(pid) {}
    [[nodiscard]] constexpr bool is_child() const noexcept { return pid_ == 0; }
    [[nodiscard]] constexpr bool is_parent() const noexcept { return pid_ > 0; }
    // The child's pid in the parent; 0 in the child (use getpid() there).
    [[nodiscard]] constexpr ::pid_t pid() const noexcept { return pid_; }

private:
    ::pid_t pid_;
};

// Python's os.fork(): runs the register_at_fork hooks around fork(2).
// Errors: EAGAIN (process limit), ENOMEM.
[[nodiscard]] result<fork_result> fork() noexcept;

// What forkpty returns: Python's (pid, fd); `master` is valid only in the parent (close-on-exec).
struct forkpty_result {
    fork_result process;
    fd master;
};

// Python's os.forkpty(): forks a child whose controlling terminal, stdin, stdout and stderr are the
// slave side of a new pseudo-terminal; the parent gets the master side. Errors: EAGAIN, ENOMEM,
// ENOENT/EMFILE (no pty).
[[nodiscard]] result<forkpty_result> forkpty() noexcept;

// Hooks that Python's os.register_at_fork(*, before, after_in_parent, after_in_child) takes.
struct at_fork_hooks {
    std::function<void()> before{};           // in the parent, before fork (reverse registration order)
    std::function<void()> after_in_parent{};  // in the parent, after fork (registration order)
    std::function<void()> after_in_child{};   // in the child (registration order)
};
// Python's os.register_at_fork: the hooks run around ospp::fork and ospp::forkpty (like Python,
// not around a raw fork(2), posix_spawn or a fork in another library). They cannot be removed.
// Registering allocates; forking does not: fork reads the hooks without a lock or a copy, so in the
// child only your after_in_child hooks run (async-signal-safe ones, in a multi-threaded program).
// Thread-safe; a forked child can register too, even when another thread was registering at the
// fork (every child clears the registry's lock, through pthread_atfork).
// An exception a hook throws is ignored, as Python ignores one a hook raises: the fork and the
// other hooks go on (thrown out of fork, it would lose the child's pid).
// Errors: EINVAL when all three are empty (Python's TypeError); ENOMEM (pthread_atfork, on the first call).
[[nodiscard]] result<void> register_at_fork(at_fork_hooks hooks);

// ---- ending -----------------------------------------------------------------------------------

// Python's os._exit(n): ends the process at once, without atexit handlers or flushing stdio
// (what a forked child must use). Async-signal-safe.
// (The C function itself, plus an overload for the EX_* codes.)
using ::_exit;
[[noreturn]] inline void _exit(ex status) noexcept { ::_exit(static_cast<int>(status)); }
// Python's os.abort(): SIGABRT, with a core dump where the limits allow.
using ::abort;

// ---- signals and priority ---------------------------------------------------------------------

// Python's os.kill(pid, sig): pid > 0 one process, 0 the caller's group, -1 everything allowed,
// < -1 the group -pid. signum{0} only checks that the process exists. Errors: EPERM, ESRCH, EINVAL.
[[nodiscard]] result<void> kill(::pid_t pid, signum sig) noexcept;
// Python's os.killpg(pgid, sig). Errors: EPERM, ESRCH, EINVAL.
[[nodiscard]] result<void> killpg(::pid_t pgid, signum sig) noexcept;

// Python's os.nice(increment): adds to the niceness, returns the new one, clamped to -20..19 as
// nice(2) says (an increment beyond +-40 counts as +-40, so INT_MAX cannot wrap around to -20 as
// it does through glibc's nice(3) and Python's os.nice). Errors: EPERM (lowering it without
// CAP_SYS_NICE).
[[nodiscard]] result<int> nice(int increment) noexcept;

// The `which` of getpriority/setpriority: Python's os.PRIO_PROCESS, PRIO_PGRP, PRIO_USER.
enum class prio_which : int {
    process = PRIO_PROCESS,
    pgrp = PRIO_PGRP,
    user = PRIO_USER,
};
// Python's os.getpriority(which, who) (who 0: the caller): the niceness, -20..19.
// Errors: ESRCH, EINVAL.
[[nodiscard]] result<int> getpriority(prio_which which, ::id_t who) noexcept;
// Python's os.setpriority(which, who, priority). Errors: EPERM, EACCES (lowering), ESRCH, EINVAL.
[[nodiscard]] result<void> setpriority(prio_which which, ::id_t who, int priority) noexcept;

// Python's os.umask(mask): sets the file mode creation mask, returns the old one (never fails).
using ::umask;

// ---- pidfd, times, namespaces -----------------------------------------------------------------

// Python's os.pidfd_open(pid, flags=0): a file descriptor that refers to the process (poll it:
// readable when the process ends; waitid(pidfd, ...)). Always close-on-exec.
// Errors: ESRCH, EINVAL, EMFILE, ENOSYS (kernel older than 5.3), EPERM (a seccomp filter that
// predates it, as container runtimes' did).
[[nodiscard]] result<fd> pidfd_open(::pid_t pid, unsigned int flags = 0) noexcept;
// Python's signal.pidfd_send_signal(pidfd, sig) with its defaults siginfo=None, flags=0 (Linux
// 6.9's PIDFD_SIGNAL_THREAD, _THREAD_GROUP and _PROCESS_GROUP flags are not offered): kill()
// through a pidfd, so a pid reused after the process ended is never hit. signum{0} only checks
// that the process exists: one that has ended but is not yet reaped (a zombie) still does, and
// takes any signal without effect, as with kill(). Errors: ESRCH (the process has been reaped),
// EBADF (not a pidfd), EPERM (not permitted, or a seccomp filter that predates the call), EINVAL
// (not a signal), ENOSYS (kernel older than 5.1).
[[nodiscard]] result<void> pidfd_send_signal(fd_ref pidfd, signum sig) noexcept;

// Python's os.times_result. Durations rather than float seconds; tick resolution (usually 10 ms).
struct times_result {
    std::chrono::nanoseconds user;
    std::chrono::nanoseconds system;
    std::chrono::nanoseconds children_user;    // of waited-for children
    std::chrono::nanoseconds children_system;
    std::chrono::nanoseconds elapsed;          // since an arbitrary point in the past
};
// Python's os.times(). Errors: none in practice.
[[nodiscard]] result<times_result> times() noexcept;

// CLONE_* flags of unshare and setns: Python's os.CLONE_*.
enum class clone_flags : int {
    none = 0,
    files = CLONE_FILES,
    fs = CLONE_FS,
    newcgroup = CLONE_NEWCGROUP,
    newipc = CLONE_NEWIPC,
    newnet = CLONE_NEWNET,
    newns = CLONE_NEWNS,
    newpid = CLONE_NEWPID,
    newtime = 0x00000080,  // CLONE_NEWTIME (Linux 5.6), not in every libc's headers
    newuser = CLONE_NEWUSER,
    newuts = CLONE_NEWUTS,
    sighand = CLONE_SIGHAND,
    sysvsem = CLONE_SYSVSEM,
    thread = CLONE_THREAD,
    vm = CLONE_VM,
};
template <>
struct enable_bitmask<clone_flags> : std::true_type {};

// Python's os.unshare(flags): moves the caller into new namespaces.
// Errors: EPERM (needs CAP_SYS_ADMIN, except newuser), EINVAL, ENOMEM, ENOSPC, EUSERS.
[[nodiscard]] result<void> unshare(clone_flags flags) noexcept;
// Python's os.setns(fd, nstype=0): joins the namespace `ns` refers to (a /proc/PID/ns/* file or a
// pidfd); nstype restricts the namespace kind (none: any; a pidfd needs at least one). Errors:
// EPERM, EINVAL, EBADF, ESRCH (a pidfd's process has ended, even if not yet reaped: its
// namespaces went with it), ENOMEM.
[[nodiscard]] result<void> setns(fd_ref ns, clone_flags nstype = clone_flags::none) noexcept;

// ---- exec -------------------------------------------------------------------------------------
// They replace the process image and return only on failure, with the error: call name and errno,
// and, as in Python, the path for the calls given an environment (execve, execle: the path;
// execvpe, execlpe: the PATH candidate whose error is reported, "dir/file"); execv, execvp,
// execl and execlp name none, like Python's. With a cstring_array they do not allocate up to the
// failure and are async-signal-safe; a failure that names its path copies it (one malloc, which
// glibc keeps usable in a forked child; a few more for a "dir/file" longer than PATH_MAX, and
// without memory for that name the error names the file alone). EINVAL when a
// string holds a NUL byte, when the env has an illegal name (see cstring_array::valid(); Python's
// ValueError), when argv is empty or its first string is "" (Python's ValueError "first element
// cannot be empty").

// Python's os.execv(path, args): with the current environment.
[[nodiscard]] errno_error execv(path_ref path, const cstring_array& argv) noexcept;
// Python's os.execve(path, args, env).
[[nodiscard]] errno_error execve(path_ref path, const cstring_array& argv, const cstring_array& env) noexcept;
// Python's os.execvp(file, args): searches PATH when `file` has no '/', trying each directory in
// turn; the error is the first one other than ENOENT/ENOTDIR (EACCES typically), else the last.
// Unlike glibc's execvp, a file without #! line is not retried with /bin/sh (Python's rules).
[[nodiscard]] errno_error execvp(path_ref file, const cstring_array& argv) noexcept;
// Python's os.execvpe(file, args, env): the same, searching the PATH in `env`.
[[nodiscard]] errno_error execvpe(path_ref file, const cstring_array& argv, const cstring_array& env) noexcept;

namespace detail {
inline const char* exec_arg(const char* s) noexcept { return s; }
template <class S>
    requires requires(const S& s) { s.c_str(); }
const char* exec_arg(const S& s) noexcept {
    return s.c_str();
}
// True for a std::string argument holding a NUL byte, which c_str() would cut short there: the
// exec is refused (EINVAL), as Python's "embedded null byte". strlen is async-signal-safe.
template <class S>
bool cut_by_nul(const S& s) noexcept {
    if constexpr (requires { s.c_str(); s.size(); }) {
        return std::strlen(s.c_str()) != s.size();
    } else {
        return false;
    }
}
// A stack array view of execl's arguments: no allocation.
template <std::size_t N>
class arg_pointers {
public:
    template <class... A>
    explicit arg_pointers(const A&... args) noexcept : p_{const_cast<char*>(exec_arg(args))..., nullptr} {}
    [[nodiscard]] char* const* data() const noexcept { return p_; }

private:
    char* p_[N + 1];
};
// `name_path`: the error names the path (or the PATH candidate), as Python's execve does.
[[nodiscard]] errno_error execve_raw(const char* call, const path_ref& path, char* const* argv, char* const* envp,
                                     bool search, bool name_path) noexcept;
}  // namespace detail

// Python's os.execl(path, arg0, arg1, ...): arguments are const char* or std::string; a
// std::string holding a NUL byte is an EINVAL. No allocation: async-signal-safe.
template <class... A>
[[nodiscard]] errno_error execl(path_ref path, const A&... args) noexcept {
    if ((detail::cut_by_nul(args) || ...)) return errno_error(EINVAL, "execl");
    const detail::arg_pointers<sizeof...(A)> argv(args...);
    return detail::execve_raw("execl", path, argv.data(), ::environ, false, false);
}
// Python's os.execlp(file, arg0, ...): searching PATH.
template <class... A>
[[nodiscard]] errno_error execlp(path_ref file, const A&... args) noexcept {
    if ((detail::cut_by_nul(args) || ...)) return errno_error(EINVAL, "execlp");
    const detail::arg_pointers<sizeof...(A)> argv(args...);
    return detail::execve_raw("execlp", file, argv.data(), ::environ, true, false);
}
// Python's os.execle(path, arg0, ..., env): the last argument is the environment.
template <class... A>
[[nodiscard]] errno_error execle(path_ref path, const A&... args_then_env) noexcept;
// Python's os.execlpe(file, arg0, ..., env).
template <class... A>
[[nodiscard]] errno_error execlpe(path_ref file, const A&... args_then_env) noexcept;

// ---- reporting a failure between fork and exec ------------------------------------------------

// A close-on-exec pipe over which a forked child tells the parent why it could not exec. The
// parent learns "exec succeeded" from the end of file that the exec itself produces (it closes the
// write end), or reads the errno and call name the child sent:
//
//   auto report = ospp::exec_error_pipe::create().value();
//   auto argv = ospp::cstring_array{"sh", "-c", "echo hi"};       // allocate before fork
//   auto f = ospp::fork().value();
//   if (f.is_child()) {
//       if (auto r = ospp::dup2(out, ospp::stdout_fd); !r) report.fail(r.error());
//       report.fail(ospp::execv("/bin/sh", argv));                 // only reached on failure
//   }
//   auto started = report.wait_exec();   // error: "execv: [Errno 2] No such file or directory"
//   auto st = ospp::waitpid(f.pid());
class exec_error_pipe {
public:
    // Errors: EMFILE, ENFILE.
    [[nodiscard]] static result<exec_error_pipe> create() noexcept;

    // In the child: sends the errno and call name of `error` to the parent, then _exit(exit_code)
    // (127, the shell's "command not found", by default). Async-signal-safe.
    [[noreturn]] void fail(const errno_error& error, int exit_code = 127) const noexcept;
    // The same for an errno value and a call name with static storage.
    [[noreturn]] void fail(int code, const char* call, int exit_code = 127) const noexcept;

    // In the parent, after fork: closes the write end, then waits until the child has exec'd
    // (success) or reported a failure (that error, as the child saw it). A child that ends without
    // exec'ing or reporting also reads as success: its wait status says how it ended.
    // The pipe's write end is close-on-exec, not close-on-fork: a child another thread forks while
    // it is open holds it too, and this waits until that child also execs or ends (as CPython's
    // subprocess waits). Create the pipe just before the fork it serves.
    // Errors: the child's; ECHILD (call "exec_error_pipe") for a truncated report.
    [[nodiscard]] result<void> wait_exec() noexcept;

private:
    exec_error_pipe(fd r, fd w) noexcept : read_(std::move(r)), write_(std::move(w)) {}
    fd read_;
    fd write_;
};

// ---- execle / execlpe definitions -------------------------------------------------------------

namespace detail {
template <class Last>
const cstring_array& last_arg(const Last& last) noexcept {
    return last;
}
template <class First, class... Rest>
    requires(sizeof...(Rest) > 0)
const cstring_array& last_arg(const First&, const Rest&... rest) noexcept {
    return last_arg(rest...);
}
// argv from all arguments but the last.
template <std::size_t N>
class leading_args {
public:
    template <class... A>
    explicit leading_args(const A&... args) noexcept {
        std::size_t i = 0;
        ((i < N ? void(p_[i++] = const_cast<char*>(exec_arg_or_null(args))) : void()), ...);
        p_[N] = nullptr;
    }
    [[nodiscard]] char* const* data() const noexcept { return p_; }

private:
    template <class S>
    static const char* exec_arg_or_null(const S& s) noexcept {
        if constexpr (std::is_same_v<S, cstring_array>) {
            return nullptr;
        } else {
            return exec_arg(s);
        }
    }
    char* p_[N + 1];
};
}  // namespace detail

namespace detail {
template <class... A>
errno_error execl_with_env(const char* call, const path_ref& path, bool search, const A&... args_then_env) noexcept {
    static_assert(sizeof...(A) >= 1, "the environment must be the last argument");
    const leading_args<sizeof...(A) - 1> argv(args_then_env...);
    const cstring_array& env = last_arg(args_then_env...);
    if (!env.valid() || (cut_by_nul(args_then_env) || ...)) return errno_error(EINVAL, call, path.view());
    return execve_raw(call, path, argv.data(), env.data(), search, true);
}
}  // namespace detail

template <class... A>
errno_error execle(path_ref path, const A&... args_then_env) noexcept {
    return detail::execl_with_env("execle", path, false, args_then_env...);
}

template <class... A>
errno_error execlpe(path_ref file, const A&... args_then_env) noexcept {
    return detail::execl_with_env("execlpe", file, true, args_then_env...);
}

}  // namespace ospp
