// test/child.hpp — running a piece of a test in a forked child.
//
// Assertions in a child are not seen by the parent's doctest, so a child function returns an exit
// code instead: 0 when all was as expected, otherwise a small number naming the check that failed
// (CHECK(ospp_test::exit_code(...) == 0) then prints which one).
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace ospp_test
