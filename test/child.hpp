// test/child.hpp — running a piece of a test in a forked child: for what can only be observed
// from another process (resource limits that cannot be raised again, locks held by another owner,
// ids that cannot be regained).
//
// Assertions in a child are not seen by the parent's doctest, so a child reports instead:
//   - exit_code_of(fn): fn returns 0 when all was as expected, otherwise a small number naming the
//     check that failed (CHECK(ospp_test::exit_code_of(...) == 0) then prints which one);
//   - in_child(fn): fn returns "" when its checks passed, else a sentence saying what went wrong.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <string>

namespace ospp_test {

// Forks, runs fn() in the child and _exits with its result; returns the child's raw wait status.
template <class F>
int run_in_child(F&& fn) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(fn());
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
}

// The exit code of run_in_child(fn), or 1000 + the signal number when the child was killed.
template <class F>
int exit_code_of(F&& fn) {
    const int status = run_in_child(static_cast<F&&>(fn));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

// Runs `body` (returning "" when its checks passed, else what went wrong) in a forked child and
// returns its report. The child writes the report to a pipe and _exits; the parent reaps it.
template <class F>
std::string in_child(F body) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(p[0]);
        const std::string report = body();
        const ssize_t n = ::write(p[1], report.data(), report.size());
        ::_exit(n == static_cast<ssize_t>(report.size()) ? 0 : 1);
    }
    ::close(p[1]);
    std::string report;
    char buf[256];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) report += " (child did not exit cleanly)";
    return report;
}

// In a child: lowers RLIMIT_NOFILE so that exactly `more` further descriptors can be opened: they
// get the lowest free numbers, so the limit goes just above the last of those. False if it could not.
inline bool allow_only_more_fds(int more) {
    int fds[64];
    if (more < 0 || more >= 64) return false;
    for (int i = 0; i <= more; ++i) fds[i] = ::open("/", O_RDONLY | O_CLOEXEC);
    const int limit = fds[more];  // the first number that must not be handed out
    for (int i = 0; i <= more; ++i) ::close(fds[i]);
    struct ::rlimit lim {};
    if (limit < 0 || ::getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
    lim.rlim_cur = static_cast<rlim_t>(limit);
    return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

// In a child: makes every call of system call `nr` fail with `err` from now on (a seccomp filter),
// as a kernel without it does (ENOSYS) or a container runtime whose filter predates it (EPERM:
// Docker before 18.04 refused statx so). glibc's emulations then show: it calls other system
// calls. False if the filter could not be installed.
inline bool refuse_syscall(long nr, int err) {
    ::sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(::seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<unsigned>(err)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const ::sock_fprog program{sizeof filter / sizeof filter[0], filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// This process in a mount namespace of its own, with nothing propagated back: what it mounts
// vanishes with it. False without CAP_SYS_ADMIN.
inline bool private_mount_namespace() {
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

// In a private mount namespace: mounts the file system image `image` on `dir` through a loop
// device (mount(8) finds a free one). "" when mounted, else why not.
inline std::string loop_mount(const std::string& image, const std::string& dir) {
    if (!private_mount_namespace()) return "no mount namespace";
    const std::string mount = "mount -o loop '" + image + "' '" + dir + "' >/dev/null 2>&1";
    return std::system(mount.c_str()) == 0 ? "" : "no loop mount";
}

}  // namespace ospp_test
