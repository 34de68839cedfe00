// src/process.cpp — fork, exec, signals, priorities, pidfds, namespaces.
#include "ospp/process.hpp"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/times.h>
#include <utmp.h>

// glibc 2.36's <sys/pidfd.h> has no extern "C" of its own; the block is harmless where it has one.
extern "C" {
#include <sys/pidfd.h>
}

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sys.hpp"

namespace ospp {

// ---- fork and its hooks -----------------------------------------------------------------------

namespace {

// One register_at_fork call's hooks. Nodes are never freed (hooks cannot be removed), so fork walks
// the list without a lock and without a copy: the child neither takes a mutex another thread may
// have held at the fork nor frees anything (a copy destroyed there would call free).
struct hook_node {
    at_fork_hooks hooks;
    hook_node* older = nullptr;               // registered just before this one
    std::atomic<hook_node*> newer{nullptr};   // registered just after; set before `newest` moves on
};

constinit std::atomic<hook_node*> g_oldest{nullptr};
constinit std::atomic<hook_node*> g_newest{nullptr};  // published last: what fork() walks up to
// Serialises register_at_fork only. A flag, not a std::mutex, so that every forked child can clear
// it: fork copies it as it is, held when another thread was registering at that moment, and that
// thread does not exist in the child, whose own register_at_fork (Python's children may call it)
// would wait for ever. The list is consistent at every step of a registration: whatever a thread
// left half done, the child's walks end at `g_newest` and its next registration relinks from there.
constinit std::atomic_flag g_registering{};
constinit std::atomic<bool> g_child_clears_registering{false};  // the pthread_atfork handler is in

void forget_registering_in_child() noexcept { g_registering.clear(std::memory_order_relaxed); }

// Runs one hook. An exception it throws is ignored, as Python ignores (after printing) one a hook
// raises: thrown out of fork, it would lose the child's pid in the parent, or run the caller's
// code in the child, and it would skip the other hooks.
void run_hook(const std::function<void()>& hook) noexcept {
    if (!hook) return;
    try {
        hook();
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
}

// Forks with the hooks run around it: `before` newest first, the others oldest first, as Python.
// `call` names the wrapper in the error ("fork", "forkpty").
template <class Fork>
result<fork_result> fork_with_hooks(const char* call, Fork do_fork) noexcept {
    hook_node* const newest = g_newest.load(std::memory_order_acquire);
    for (hook_node* n = newest; n != nullptr; n = n->older)
        run_hook(n->hooks.before);
    const ::pid_t pid = do_fork();
    const int saved = errno;
    // Only up to `newest`: a node registered since (by a hook, or another thread) waits for the next fork.
    for (hook_node* n = newest != nullptr ? g_oldest.load(std::memory_order_acquire) : nullptr; n != nullptr;
         n = n != newest ? n->newer.load(std::memory_order_acquire) : nullptr) {
        run_hook(pid == 0 ? n->hooks.after_in_child : n->hooks.after_in_parent);
    }
    if (pid < 0) return sys::fail_with(saved, call);
    return fork_result(pid);
}

}  // namespace

result<fork_result> fork() noexcept {
    return fork_with_hooks("fork", [] { return ::fork(); });
}

result<void> register_at_fork(at_fork_hooks h) {
    if (!h.before && !h.after_in_parent && !h.after_in_child) return sys::fail_with(EINVAL, "register_at_fork");
    // In every child of every fork (a raw fork(2) or another library's too), not just ospp::fork's.
    // Not a function-local static: its guard is a lock a fork could copy held. Two first calls at
    // once may both install the handler; clearing twice is harmless.
    if (!g_child_clears_registering.load(std::memory_order_acquire)) {
        if (const int e = ::pthread_atfork(nullptr, nullptr, forget_registering_in_child); e != 0)
            return sys::fail_with(e, "register_at_fork");
        g_child_clears_registering.store(true, std::memory_order_release);
    }
    auto* node = new hook_node{std::move(h)};  // never freed: see hook_node
    // Held for a few loads and stores, with no call inside: spinning (yielding) is enough.
    while (g_registering.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    hook_node* const newest = g_newest.load(std::memory_order_relaxed);
    node->older = newest;
    if (newest != nullptr) {
        newest->newer.store(node, std::memory_order_release);
    } else {
        g_oldest.store(node, std::memory_order_release);
    }
    g_newest.store(node, std::memory_order_release);
    g_registering.clear(std::memory_order_release);
    return {};
}

result<forkpty_result> forkpty() noexcept {
    // posix_openpt + O_CLOEXEC makes the master close-on-exec atomically, which forkpty(3) cannot.
    fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master.valid()) return sys::fail("forkpty");
    char name[128];
    if (::grantpt(master.get()) < 0 || ::unlockpt(master.get()) < 0) return sys::fail("forkpty");
    if (const int e = ::ptsname_r(master.get(), name, sizeof name); e != 0) return sys::fail_with(e, "forkpty");
    fd slave(sys::retry([&] { return ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC); }));
    if (!slave.valid()) return sys::fail("forkpty");
    // The child moves onto the terminal inside the fork, before its after_in_child hooks run:
    // Python runs them after forkpty(3), so a hook sees the new session and the terminal as stdio.
    auto f = fork_with_hooks("forkpty", [&] {
        const ::pid_t pid = ::fork();
        if (pid == 0) {
            master.reset();  // the child has only the slave side, as with forkpty(3)
            // When the parent had 0, 1 or 2 closed, the slave is one of them, and login_tty's
            // dup2(slave, slave) keeps its FD_CLOEXEC: that stdio fd would vanish at exec. The
            // child's 0, 1 and 2 must survive exec, as Python's os.forkpty gives them; the parent's
            // fds keep their flag (this runs in the child only).
            if (::fcntl(slave.get(), F_SETFD, 0) < 0 || ::login_tty(slave.release()) < 0) ::_exit(127);
        }
        return pid;
    });
    if (!f) return tl::unexpected(std::move(f.error()));
    if (f->is_child()) return forkpty_result{*f, fd()};
    return forkpty_result{*f, std::move(master)};
}

// ---- signals and priority ---------------------------------------------------------------------

result<void> kill(::pid_t pid, signum sig) noexcept {
    if (::kill(pid, to_raw(sig)) < 0) return sys::fail("kill");
    return {};
}

result<void> killpg(::pid_t pgid, signum sig) noexcept {
    if (::killpg(pgid, to_raw(sig)) < 0) return sys::fail("killpg");
    return {};
}

result<int> nice(int increment) noexcept {
    // glibc's nice(3) adds the increment to the niceness in an int: INT_MAX from niceness 1 wrapped
    // to INT_MIN and asked for -20. Clamped to +-40 first, as the kernel's nice(2) does, the sum
    // cannot overflow and the kernel clamps it to -20..19, as the man page promises.
    increment = std::clamp(increment, -40, 40);
    // -1 is a valid niceness: errno tells success from failure.
    errno = 0;
    const int r = ::nice(increment);
    if (r == -1 && errno != 0) return sys::fail("nice");
    return r;
}

result<int> getpriority(prio_which which, ::id_t who) noexcept {
    errno = 0;
    const int r = ::getpriority(static_cast<__priority_which_t>(which), who);
    if (r == -1 && errno != 0) return sys::fail("getpriority");
    return r;
}

result<void> setpriority(prio_which which, ::id_t who, int priority) noexcept {
    if (::setpriority(static_cast<__priority_which_t>(which), who, priority) < 0) return sys::fail("setpriority");
    return {};
}

// ---- pidfd, times, namespaces -----------------------------------------------------------------

result<fd> pidfd_open(::pid_t pid, unsigned int flags) noexcept {
    const int r = ::pidfd_open(pid, flags);
    if (r < 0) return sys::fail("pidfd_open");
    return fd(r);
}

result<void> pidfd_send_signal(fd_ref pidfd, signum sig) noexcept {
    if (::pidfd_send_signal(pidfd.get(), to_raw(sig), nullptr, 0) < 0) return sys::fail("pidfd_send_signal");
    return {};
}

namespace {

// The tick rate (sysconf(_SC_CLK_TCK), the kernel's USER_HZ) is fixed for the life of the process,
// so it is asked once: a sysconf call and five 64-bit divisions per times() were 12% of the call's
// cost (bench/process_bench.cpp). It is kept in an atomic, not a function-local static: the guard
// of a static that one thread is initialising while another forks stays taken in the child, whose
// first times() would then wait for ever. Threads that ask at once store the same number.
std::atomic<long> g_clock_ticks{0};  // 0: not asked yet

long clock_ticks_per_second() noexcept {
    long hz = g_clock_ticks.load(std::memory_order_relaxed);
    if (hz == 0) {
        hz = ::sysconf(_SC_CLK_TCK);
        if (hz <= 0) hz = 100;  // cannot fail on Linux, where USER_HZ is 100; and no division by 0
        g_clock_ticks.store(hz, std::memory_order_relaxed);
    }
    return hz;
}

std::chrono::nanoseconds from_ticks(::clock_t n, long hz) noexcept {
    constexpr long long second = 1'000'000'000;
    const auto ticks = static_cast<long long>(n);
    if (hz == 100) return std::chrono::nanoseconds(ticks * (second / 100));  // Linux: a multiplication
    return std::chrono::nanoseconds(ticks / hz * second + ticks % hz * second / hz);
}

}  // namespace

result<times_result> times() noexcept {
    const long hz = clock_ticks_per_second();
    struct ::tms t {};
    const ::clock_t elapsed = ::times(&t);
    if (elapsed == static_cast<::clock_t>(-1)) return sys::fail("times");
    return times_result{from_ticks(t.tms_utime, hz), from_ticks(t.tms_stime, hz), from_ticks(t.tms_cutime, hz),
                        from_ticks(t.tms_cstime, hz), from_ticks(elapsed, hz)};
}

result<void> unshare(clone_flags flags) noexcept {
    if (::unshare(to_raw(flags)) < 0) return sys::fail("unshare");
    return {};
}

result<void> setns(fd_ref ns, clone_flags nstype) noexcept {
    if (::setns(ns.get(), to_raw(nstype)) < 0) return sys::fail("setns");
    return {};
}

// ---- exec -------------------------------------------------------------------------------------

namespace {

// The PATH entry of an environment block, or Python's os.defpath when there is none.
const char* path_of(char* const* envp) noexcept {
    for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
        if (std::strncmp(*e, "PATH=", 5) == 0) return *e + 5;
    }
    return "/bin:/usr/bin";
}

// What a PATH search reports: the error and the directory whose candidate gave it ("" for the
// current directory), so that the error can name "dir/file" as Python's does.
struct search_failure {
    int code;
    std::string_view dir;
};

// Python's os._execvpe: try every PATH directory; report the first error that is not "not
// here" (ENOENT, ENOTDIR), or else the last one. Builds each candidate in a stack buffer.
search_failure exec_search(const char* file, char* const* argv, char* const* envp) noexcept {
    const std::size_t file_len = std::strlen(file);
    std::optional<search_failure> saved;
    search_failure last{ENOENT, {}};
    const char* dir = path_of(envp);
    for (;;) {
        const char* colon = std::strchr(dir, ':');
        const std::size_t dir_len = colon != nullptr ? static_cast<std::size_t>(colon - dir) : std::strlen(dir);
        const std::string_view sep = sys::path_separator({dir, dir_len});
        char candidate[PATH_MAX];
        if (dir_len + sep.size() + file_len + 1 > sizeof candidate) {
            last = {ENAMETOOLONG, {dir, dir_len}};
        } else {
            std::memcpy(candidate, dir, dir_len);
            std::memcpy(candidate + dir_len, sep.data(), sep.size());
            const std::size_t n = dir_len + sep.size();
            std::memcpy(candidate + n, file, file_len);
            candidate[n + file_len] = '\0';
            ::execve(candidate, argv, envp);
            last = {errno, {dir, dir_len}};
        }
        if (last.code != ENOENT && last.code != ENOTDIR && !saved) saved = last;
        if (colon == nullptr) break;
        dir = colon + 1;
    }
    return saved ? *saved : last;
}

}  // namespace

// Python's os.execve names its path in the error, os.execv does not; os.execvpe names the
// candidate whose error it reports. Naming copies the path: that is the only allocation here, on
// the failure path, and glibc's fork leaves malloc usable in the child.
errno_error detail::execve_raw(const char* call, const path_ref& path, char* const* argv, char* const* envp,
                               bool search, bool name_path) noexcept {
    const auto error = [&](int code, std::string_view named) {
        return name_path ? errno_error(code, call, named) : errno_error(code, call);
    };
    if (!path.valid() || argv[0] == nullptr || argv[0][0] == '\0') return error(EINVAL, path.view());
    if (search && std::strchr(path.c_str(), '/') == nullptr) {
        const search_failure f = exec_search(path.c_str(), argv, envp);
        if (!name_path || f.dir.empty()) return error(f.code, path.view());
        // "dir/file", put together on the stack so that errno_error's copy is the one allocation.
        const std::string_view file = path.view();
        const std::string_view sep = sys::path_separator(f.dir);
        const std::size_t size = f.dir.size() + sep.size() + file.size();
        char named[PATH_MAX];
        if (size > sizeof named) {  // the kernel said ENAMETOOLONG
            try {
                return error(f.code, std::string(f.dir) + std::string(sep) + std::string(file));
            } catch (const std::bad_alloc&) {  // noexcept: without memory, name the file alone
                return error(f.code, file);
            }
        }
        std::memcpy(named, f.dir.data(), f.dir.size());
        std::memcpy(named + f.dir.size(), sep.data(), sep.size());
        std::memcpy(named + f.dir.size() + sep.size(), file.data(), file.size());
        return error(f.code, std::string_view(named, size));
    }
    ::execve(path.c_str(), argv, envp);
    return error(errno, path.view());
}

namespace {

errno_error exec_checked(const char* call, const path_ref& path, const cstring_array& argv, const cstring_array* env,
                         bool search) noexcept {
    const bool name_path = env != nullptr;  // execve and execvpe, as Python's
    if (!argv.valid() || (env != nullptr && !env->valid()))
        return name_path ? errno_error(EINVAL, call, path.view()) : errno_error(EINVAL, call);
    return detail::execve_raw(call, path, argv.data(), env != nullptr ? env->data() : ::environ, search, name_path);
}

}  // namespace

errno_error execv(path_ref path, const cstring_array& argv) noexcept {
    return exec_checked("execv", path, argv, nullptr, false);
}

errno_error execve(path_ref path, const cstring_array& argv, const cstring_array& env) noexcept {
    return exec_checked("execve", path, argv, &env, false);
}

errno_error execvp(path_ref file, const cstring_array& argv) noexcept {
    return exec_checked("execvp", file, argv, nullptr, true);
}

errno_error execvpe(path_ref file, const cstring_array& argv, const cstring_array& env) noexcept {
    return exec_checked("execvpe", file, argv, &env, true);
}

// ---- exec_error_pipe --------------------------------------------------------------------------

namespace {

// What a failing child sends: fits in PIPE_BUF, so it arrives whole or not at all.
struct exec_failure {
    int code;
    const char* call;  // static storage: the same address in the parent after fork
};

}  // namespace

result<exec_error_pipe> exec_error_pipe::create() noexcept {
    int raw[2];
    if (::pipe2(raw, O_CLOEXEC) < 0) return sys::fail("pipe2");
    return exec_error_pipe(fd(raw[0]), fd(raw[1]));
}

void exec_error_pipe::fail(const errno_error& error, int exit_code) const noexcept {
    fail(error.code(), error.call(), exit_code);
}

void exec_error_pipe::fail(int code, const char* call, int exit_code) const noexcept {
    const exec_failure msg{code, call};
    (void)sys::retry([&] { return ::write(write_.get(), &msg, sizeof msg); });
    ::_exit(exit_code);
}

result<void> exec_error_pipe::wait_exec() noexcept {
    write_.reset();
    exec_failure msg{};
    const ssize_t n = sys::retry([&] { return ::read(read_.get(), &msg, sizeof msg); });
    read_.reset();
    if (n < 0) return sys::fail("exec_error_pipe");
    if (n == 0) return {};
    if (static_cast<std::size_t>(n) != sizeof msg) return sys::fail_with(ECHILD, "exec_error_pipe");
    return sys::fail_with(msg.code, msg.call);
}

}  // namespace ospp
