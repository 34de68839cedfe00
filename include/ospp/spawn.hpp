// ospp/spawn.hpp — starting a program in one call: posix_spawn with Python's options, and spawn*.
//
//   Python                                             C++
//   os.posix_spawn(path, argv, env,                    ospp::posix_spawn(path, argv, env, {
//       file_actions=[(os.POSIX_SPAWN_DUP2, w, 1),         .file_actions = {ospp::spawn_file_action::dup2(w, ospp::stdout_fd),
//                     (os.POSIX_SPAWN_CLOSE, r)],                       ospp::spawn_file_action::close(r)},
//       setpgroup=0, setsid=False,                         .setpgroup = 0,
//       setsigdef={signal.SIGPIPE})                        .setsigdef = ospp::signal_set{ospp::signum::pipe}})
//   os.posix_spawnp("ls", ["ls"], os.environ)          ospp::posix_spawnp("ls", {"ls"}, std::nullopt)  // current env
//   os.spawnlp(os.P_WAIT, "sh", "sh", "-c", "exit 3")  ospp::spawnlp(ospp::spawn_mode::wait, "sh", "sh", "-c", "exit 3")
//   pid = os.spawnv(os.P_NOWAIT, path, args)           ospp::spawnv(ospp::spawn_mode::nowait, path, args)
//
// glibc's posix_spawn creates the child with CLONE_VFORK and reports a failed exec as the call's
// error, so a missing program is ENOENT here instead of a child that exits 127. The same holds for
// the spawn* family (Python's os.spawn* fork and exit 127 in the child instead).
// Descriptors ospp creates are close-on-exec; to pass one, dup2 it in file_actions (dup2 clears
// FD_CLOEXEC on the target, and even dup2(fd, fd) does so since glibc 2.29).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ospp/argv.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/path.hpp"
#include "ospp/sched.hpp"
#include "ospp/signal.hpp"

namespace ospp {

// One step the child takes before exec, in order: Python's file_actions tuples.
class spawn_file_action {
public:
    enum class kind { open, close, dup2, closefrom };

    // (os.POSIX_SPAWN_OPEN, fd, path, flags, mode): open `path` as descriptor `target`.
    static spawn_file_action open(fd_ref target, std::string path, open_flags flags, ::mode_t mode = 0666);
    // (os.POSIX_SPAWN_CLOSE, fd).
    static spawn_file_action close(fd_ref f) noexcept { return {kind::close, f, {}, {}, open_flags{}, 0}; }
    // (os.POSIX_SPAWN_DUP2, fd, new_fd): new_fd becomes a copy of fd, inheritable.
    static spawn_file_action dup2(fd_ref f, fd_ref new_fd) noexcept { return {kind::dup2, f, new_fd, {}, open_flags{}, 0}; }
    // (os.POSIX_SPAWN_CLOSEFROM, fd) (Python 3.13): closes every descriptor >= lowest, a bound
    // like closerange's (an int: no descriptor need be open there; fd() returns it). glibc uses
    // close_range, or lists /proc/self/fd where that fails (Linux < 5.9, seccomp); with neither, the
    // spawn fails with ENOENT (from opening /proc/self/fd, though the error names the program).
    static spawn_file_action closefrom(int lowest) noexcept {
        return {kind::closefrom, fd_ref{lowest}, {}, {}, open_flags{}, 0};
    }

    [[nodiscard]] kind what() const noexcept { return kind_; }
    [[nodiscard]] fd_ref fd() const noexcept { return fd_; }
    [[nodiscard]] fd_ref new_fd() const noexcept { return new_fd_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] open_flags flags() const noexcept { return flags_; }
    [[nodiscard]] ::mode_t mode() const noexcept { return mode_; }

private:
    spawn_file_action(kind k, fd_ref f, fd_ref new_fd, std::string path, open_flags flags, ::mode_t mode)
        : kind_(k), fd_(f), new_fd_(new_fd), path_(std::move(path)), flags_(flags), mode_(mode) {}
    kind kind_;
    fd_ref fd_;
    fd_ref new_fd_;
    std::string path_;
    open_flags flags_;
    ::mode_t mode_;
};

// Python's scheduler=(policy, sched_param) keyword. glibc accepts only other, fifo and rr here
// (EINVAL otherwise), as for Python.
struct spawn_scheduler {
    sched_policy policy = sched_policy::other;
    sched_param param{};
};

// Python's keyword arguments of os.posix_spawn, in Python's order.
struct posix_spawn_options {
    std::vector<spawn_file_action> file_actions{};  // run in order in the child
    std::optional<::pid_t> setpgroup{};           // 0: a new group led by the child
    bool resetids = false;                        // effective ids := real ids
    bool setsid = false;                          // a new session (POSIX_SPAWN_SETSID)
    std::optional<signal_set> setsigmask{};       // the child's signal mask
    std::optional<signal_set> setsigdef{};        // these signals start with SIG_DFL
    std::optional<spawn_scheduler> scheduler{};   // policy and priority
};

// Python's os.posix_spawn(path, argv, env, **options): the child's pid. std::nullopt as env means
// the current environment (Python 3.13's env=None).
// Errors name the path, as Python's do, but those refused before anything starts: a file action's
// descriptor that is negative or past the limit (EBADF), a NUL byte in a file action's path, a
// scheduler policy glibc does not take (EINVAL).
// Errors: whatever the exec gives (ENOENT, EACCES, ENOEXEC...), a file action's (EBADF, ENOENT),
// EPERM (setsid/setpgroup/scheduler; or a seccomp filter that refuses clone3, which glibc
// 2.34+'s posix_spawn needs, as Python's), EAGAIN, ENOMEM; EINVAL for a NUL byte in a string, an
// env built by from_env with an illegal key (see cstring_array::valid()), an empty argv or an
// empty argv[0] (Python's ValueErrors).
[[nodiscard]] result<::pid_t> posix_spawn(path_ref path, const cstring_array& argv, const cstring_array& env,
                                          const posix_spawn_options& options = {});
[[nodiscard]] result<::pid_t> posix_spawn(path_ref path, const cstring_array& argv, std::nullopt_t env,
                                          const posix_spawn_options& options = {});
// Python's os.posix_spawnp: searches PATH (the caller's, as posix_spawnp(3) does) when `file`
// has no '/'.
[[nodiscard]] result<::pid_t> posix_spawnp(path_ref file, const cstring_array& argv, const cstring_array& env,
                                           const posix_spawn_options& options = {});
[[nodiscard]] result<::pid_t> posix_spawnp(path_ref file, const cstring_array& argv, std::nullopt_t env,
                                           const posix_spawn_options& options = {});

// ---- Python's os.spawn* -----------------------------------------------------------------------

// Python's os.P_WAIT and os.P_NOWAIT.
enum class spawn_mode : int {
    wait = 0,    // wait for the child: the result is its exit code, or -signum if a signal killed it
    nowait = 1,  // return the child's pid at once (reap it with waitpid)
};

// Python's os.spawnv(mode, path, args). Errors: as posix_spawn, plus ECHILD from the wait. Where
// posix_spawn says EPERM (a seccomp filter refusing clone3), fork and exec, as Python's spawn*.
[[nodiscard]] result<int> spawnv(spawn_mode mode, path_ref path, const cstring_array& argv);
// Python's os.spawnve(mode, path, args, env).
[[nodiscard]] result<int> spawnve(spawn_mode mode, path_ref path, const cstring_array& argv, const cstring_array& env);
// Python's os.spawnvp(mode, file, args): searches the current PATH.
[[nodiscard]] result<int> spawnvp(spawn_mode mode, path_ref file, const cstring_array& argv);
// Python's os.spawnvpe(mode, file, args, env): searches the PATH in `env`, like Python.
[[nodiscard]] result<int> spawnvpe(spawn_mode mode, path_ref file, const cstring_array& argv, const cstring_array& env);

// Python's os.spawnl(mode, path, arg0, ...): arguments convert to std::string_view; the path is
// anything a path_ref accepts.
template <class P, class... A>
[[nodiscard]] result<int> spawnl(spawn_mode mode, const P& path, const A&... args) {
    return spawnv(mode, path, cstring_array{std::string_view(args)...});
}
// Python's os.spawnlp(mode, file, arg0, ...).
template <class P, class... A>
[[nodiscard]] result<int> spawnlp(spawn_mode mode, const P& file, const A&... args) {
    return spawnvp(mode, file, cstring_array{std::string_view(args)...});
}
// Python's os.spawnle(mode, path, arg0, ..., env): the last argument is a cstring_array.
template <class P, class... A>
[[nodiscard]] result<int> spawnle(spawn_mode mode, const P& path, const A&... args_then_env);
// Python's os.spawnlpe(mode, file, arg0, ..., env).
template <class P, class... A>
[[nodiscard]] result<int> spawnlpe(spawn_mode mode, const P& file, const A&... args_then_env);

namespace detail {
// Splits (arg0, ..., env) into a cstring_array of the leading arguments and the env.
template <class... A>
struct split_env;
template <class Last>
struct split_env<Last> {
    static void collect(std::vector<std::string_view>&, const Last&) {}
    static const cstring_array& env(const Last& last) { return last; }
};
template <class First, class... Rest>
struct split_env<First, Rest...> {
    static void collect(std::vector<std::string_view>& out, const First& first, const Rest&... rest) {
        out.emplace_back(first);
        split_env<Rest...>::collect(out, rest...);
    }
    static const cstring_array& env(const First&, const Rest&... rest) { return split_env<Rest...>::env(rest...); }
};
}  // namespace detail

template <class P, class... A>
[[nodiscard]] result<int> spawnle(spawn_mode mode, const P& path, const A&... args_then_env) {
    std::vector<std::string_view> args;
    detail::split_env<A...>::collect(args, args_then_env...);
    return spawnve(mode, path, cstring_array(args), detail::split_env<A...>::env(args_then_env...));
}

template <class P, class... A>
[[nodiscard]] result<int> spawnlpe(spawn_mode mode, const P& file, const A&... args_then_env) {
    std::vector<std::string_view> args;
    detail::split_env<A...>::collect(args, args_then_env...);
    return spawnvpe(mode, file, cstring_array(args), detail::split_env<A...>::env(args_then_env...));
}

}  // namespace ospp
