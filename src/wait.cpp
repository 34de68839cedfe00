// src/wait.cpp — waiting for children.
#include "ospp/wait.hpp"

#include "sys.hpp"

namespace ospp {

result<int> wait_status::to_exitcode() const noexcept {
    if (exited()) return exit_code();
    if (signaled()) return -to_raw(term_signal());
    return sys::fail_with(EINVAL, "waitstatus_to_exitcode");
}

result<wait_result> wait() noexcept {
    int status = 0;
    const ::pid_t pid = sys::retry([&] { return ::waitpid(-1, &status, 0); });
    if (pid < 0) return sys::fail("wait");
    return wait_result{pid, wait_status(status)};
}

result<wait_result> waitpid(::pid_t pid, wait_flags options) noexcept {
    int status = 0;
    const ::pid_t got = sys::retry([&] { return ::waitpid(pid, &status, to_raw(options)); });
    if (got < 0) return sys::fail("waitpid");
    return wait_result{got, wait_status(status)};
}

result<wait_rusage_result> wait3(wait_flags options) noexcept {
    wait_rusage_result out;
    int status = 0;
    out.pid = sys::retry([&] { return ::wait4(-1, &status, to_raw(options), &out.rusage); });
    if (out.pid < 0) return sys::fail("wait3");
    out.status = wait_status(status);
    return out;
}

result<wait_rusage_result> wait4(::pid_t pid, wait_flags options) noexcept {
    wait_rusage_result out;
    int status = 0;
    out.pid = sys::retry([&] { return ::wait4(pid, &status, to_raw(options), &out.rusage); });
    if (out.pid < 0) return sys::fail("wait4");
    out.status = wait_status(status);
    return out;
}

result<std::optional<waitid_result>> waitid(id_type idtype, ::id_t id, wait_flags options) noexcept {
    ::siginfo_t info{};
    // si_pid stays 0 when nohang finds no child that changed state (waitid(2)).
    if (sys::retry([&] { return ::waitid(static_cast<::idtype_t>(idtype), id, &info, to_raw(options)); }) < 0)
        return sys::fail("waitid");
    if (info.si_pid == 0) return std::optional<waitid_result>();
    return waitid_result{info.si_pid, info.si_uid, signum{info.si_signo}, info.si_status, cld_code{info.si_code}};
}

result<std::optional<waitid_result>> waitid(fd_ref pidfd, wait_flags options) noexcept {
    return waitid(id_type::pidfd, static_cast<::id_t>(pidfd.get()), options);
}

}  // namespace ospp
