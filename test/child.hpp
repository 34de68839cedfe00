// test/child.hpp — run a check in a forked child: for what can only be observed from another process
// (resource limits that cannot be raised again, locks held by a different owner).
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "support.hpp"

namespace ospp_test {

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

}  // namespace ospp_test
