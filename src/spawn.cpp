// src/spawn.cpp — posix_spawn with Python's options, and the spawn* family on top of it.
#include "ospp/spawn.hpp"

#include <spawn.h>
#include <unistd.h>

#include <cstring>

#include "ospp/environ.hpp"
#include "ospp/process.hpp"
#include "ospp/wait.hpp"
#include "sys.hpp"

namespace ospp {

spawn_file_action spawn_file_action::open(fd_ref target, std::string path, open_flags flags, ::mode_t mode) {
    return {kind::open, target, {}, std::move(path), flags, mode};
}

namespace {

// posix_spawn_file_actions_t and posix_spawnattr_t, destroyed on every path.
struct spawn_actions {
    ::posix_spawn_file_actions_t raw{};
    spawn_actions() { ::posix_spawn_file_actions_init(&raw); }
    ~spawn_actions() { ::posix_spawn_file_actions_destroy(&raw); }
    spawn_actions(const spawn_actions&) = delete;
    spawn_actions& operator=(const spawn_actions&) = delete;
};

struct spawn_attr {
    ::posix_spawnattr_t raw{};
    spawn_attr() { ::posix_spawnattr_init(&raw); }
    ~spawn_attr() { ::posix_spawnattr_destroy(&raw); }
    spawn_attr(const spawn_attr&) = delete;
    spawn_attr& operator=(const spawn_attr&) = delete;
};

int add_action(::posix_spawn_file_actions_t* fa, const spawn_file_action& a) {
    switch (a.what()) {
        case spawn_file_action::kind::open:
            if (std::memchr(a.path().data(), 0, a.path().size()) != nullptr) return EINVAL;
            return ::posix_spawn_file_actions_addopen(fa, a.fd().get(), a.path().c_str(), to_raw(a.flags()), a.mode());
        case spawn_file_action::kind::close:
            return ::posix_spawn_file_actions_addclose(fa, a.fd().get());
        case spawn_file_action::kind::dup2:
            return ::posix_spawn_file_actions_adddup2(fa, a.fd().get(), a.new_fd().get());
        case spawn_file_action::kind::closefrom:
            return ::posix_spawn_file_actions_addclosefrom_np(fa, a.fd().get());
    }
    return EINVAL;
}

// Fills the attributes from Python's keyword arguments; returns an error number or 0.
int set_attributes(::posix_spawnattr_t* attr, const posix_spawn_options& o) {
    short flags = 0;
    int e = 0;
    if (o.setpgroup) {
        flags |= POSIX_SPAWN_SETPGROUP;
        e = ::posix_spawnattr_setpgroup(attr, *o.setpgroup);
    }
    if (o.resetids) flags |= POSIX_SPAWN_RESETIDS;
    if (o.setsid) flags |= POSIX_SPAWN_SETSID;
    if (e == 0 && o.setsigmask) {
        flags |= POSIX_SPAWN_SETSIGMASK;
        e = ::posix_spawnattr_setsigmask(attr, &o.setsigmask->native());
    }
    if (e == 0 && o.setsigdef) {
        flags |= POSIX_SPAWN_SETSIGDEF;
        e = ::posix_spawnattr_setsigdefault(attr, &o.setsigdef->native());
    }
    if (e == 0 && o.scheduler) {
        flags |= POSIX_SPAWN_SETSCHEDULER;
        const ::sched_param param{o.scheduler->param.sched_priority};
        e = ::posix_spawnattr_setschedpolicy(attr, to_raw(o.scheduler->policy));
        if (e == 0) e = ::posix_spawnattr_setschedparam(attr, &param);
    }
    if (e == 0) e = ::posix_spawnattr_setflags(attr, flags);
    return e;
}

// Python's ValueErrors: "embedded null byte", "argv must not be empty", "argv first element cannot
// be empty" (ospp::execv refuses the same).
bool usable_argv(const cstring_array& argv) noexcept { return argv.valid() && !argv.empty() && argv[0][0] != '\0'; }

result<::pid_t> spawn(const char* call, bool search, const path_ref& path, const cstring_array& argv,
                      char* const* envp, bool env_valid, const posix_spawn_options& o) {
    if (!path.valid() || !usable_argv(argv) || !env_valid) return sys::fail_with(EINVAL, call, path);
    // A file action or attribute refused before anything starts (a bad descriptor, a policy glibc
    // does not take) names no path, as Python's posix_error() there.
    spawn_actions actions;
    for (const auto& a : o.file_actions) {
        if (const int e = add_action(&actions.raw, a); e != 0) return sys::fail_with(e, call);
    }
    spawn_attr attr;
    if (const int e = set_attributes(&attr.raw, o); e != 0) return sys::fail_with(e, call);
    ::pid_t pid = 0;
    const auto fn = search ? ::posix_spawnp : ::posix_spawn;
    const int e = sys::retry_code([&] { return fn(&pid, path.c_str(), &actions.raw, &attr.raw, argv.data(), envp); });
    if (e != 0) return sys::fail_with(e, call, path);
    return pid;
}

}  // namespace

result<::pid_t> posix_spawn(path_ref path, const cstring_array& argv, const cstring_array& env,
                            const posix_spawn_options& options) {
    return spawn("posix_spawn", false, path, argv, env.data(), env.valid(), options);
}

result<::pid_t> posix_spawn(path_ref path, const cstring_array& argv, std::nullopt_t,
                            const posix_spawn_options& options) {
    return spawn("posix_spawn", false, path, argv, ::environ, true, options);
}

result<::pid_t> posix_spawnp(path_ref file, const cstring_array& argv, const cstring_array& env,
                             const posix_spawn_options& options) {
    return spawn("posix_spawnp", true, file, argv, env.data(), env.valid(), options);
}

result<::pid_t> posix_spawnp(path_ref file, const cstring_array& argv, std::nullopt_t,
                             const posix_spawn_options& options) {
    return spawn("posix_spawnp", true, file, argv, ::environ, true, options);
}

// ---- spawn* -----------------------------------------------------------------------------------

namespace {

// Python's os.spawn* fork and exec. ospp's use posix_spawn, which is faster; but glibc's (2.34+)
// makes its child with clone3 and falls back to clone only on ENOSYS, so a seccomp filter that
// predates clone3 (EPERM: container runtimes older than it) fails every posix_spawn. Then fork and
// exec, as Python. A real EPERM (from the exec) comes again from the exec.
result<::pid_t> spawn_or_fork(const char* call, const path_ref& path, const cstring_array& argv, char* const* envp,
                              bool env_valid) {
    auto pid = spawn(call, false, path, argv, envp, env_valid, {});
    if (pid || pid.error().code() != EPERM) return pid;
    auto report = exec_error_pipe::create();
    if (!report) return sys::fail_with(report.error().code(), call, path);
    const ::pid_t child = ::fork();  // no register_at_fork hooks: posix_spawn runs none either
    if (child < 0) return sys::fail(call, path);
    if (child == 0) {
        ::execve(path.c_str(), argv.data(), envp);
        report->fail(errno, call);
    }
    if (auto started = report->wait_exec(); !started) {
        (void)waitpid(child);  // it _exited after its report
        return sys::fail_with(started.error().code(), call, path);
    }
    return child;
}

// P_WAIT: Python's loop, which ignores stops and returns waitstatus_to_exitcode.
result<int> finish(spawn_mode mode, result<::pid_t> pid) {
    if (!pid) return tl::unexpected(std::move(pid.error()));
    if (mode == spawn_mode::nowait) return *pid;
    for (;;) {
        auto w = waitpid(*pid);
        if (!w) return tl::unexpected(std::move(w.error()));
        if (!w->status.stopped()) return w->status.to_exitcode();
    }
}

// Python's _execvpe search, with posix_spawn: each PATH entry in turn, keeping the first error
// that is not "not here" (ENOENT, ENOTDIR).
result<::pid_t> spawn_search(const char* call, const path_ref& file, const cstring_array& argv,
                             const cstring_array* env) {
    char* const* envp = env != nullptr ? env->data() : ::environ;
    const bool env_valid = env == nullptr || env->valid();
    if (!file.valid() || !usable_argv(argv) || !env_valid || std::strchr(file.c_str(), '/') != nullptr)
        return spawn_or_fork(call, file, argv, envp, env_valid);
    std::optional<errno_error> saved;
    std::optional<errno_error> last;
    for (const std::string& dir : env != nullptr ? get_exec_path(*env) : get_exec_path()) {
        const std::string candidate = dir + std::string(sys::path_separator(dir)) + std::string(file.view());
        auto pid = spawn_or_fork(call, candidate, argv, envp, env_valid);
        if (pid) return pid;
        const int e = pid.error().code();
        if (e != ENOENT && e != ENOTDIR && !saved) saved = pid.error();
        last = std::move(pid.error());
    }
    if (saved) return tl::unexpected(std::move(*saved));
    if (last) return tl::unexpected(errno_error(last->code(), call, file.view()));
    return sys::fail_with(ENOENT, call, file);
}

}  // namespace

result<int> spawnv(spawn_mode mode, path_ref path, const cstring_array& argv) {
    return finish(mode, spawn_or_fork("spawnv", path, argv, ::environ, true));
}

result<int> spawnve(spawn_mode mode, path_ref path, const cstring_array& argv, const cstring_array& env) {
    return finish(mode, spawn_or_fork("spawnve", path, argv, env.data(), env.valid()));
}

result<int> spawnvp(spawn_mode mode, path_ref file, const cstring_array& argv) {
    return finish(mode, spawn_search("spawnvp", file, argv, nullptr));
}

result<int> spawnvpe(spawn_mode mode, path_ref file, const cstring_array& argv, const cstring_array& env) {
    return finish(mode, spawn_search("spawnvpe", file, argv, &env));
}

}  // namespace ospp
