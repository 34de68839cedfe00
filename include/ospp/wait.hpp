// ospp/wait.hpp — waiting for children: wait_status instead of the W* macros, and EX_* codes.
//
//   Python                                   C++
//   child, st = os.waitpid(pid, 0)           auto [child, st] = ospp::waitpid(pid).value();
//   os.WIFEXITED(st), os.WEXITSTATUS(st)     st.exited(), st.exit_code()
//   os.WIFSIGNALED(st), os.WTERMSIG(st)      st.signaled(), st.term_signal()
//   os.WCOREDUMP(st)                         st.core_dumped()
//   os.WIFSTOPPED(st), os.WSTOPSIG(st)       st.stopped(), st.stop_signal()
//   os.WIFCONTINUED(st)                      st.continued()
//   os.waitstatus_to_exitcode(st)            st.to_exitcode()         // -signum when killed
//   os.waitpid(pid, os.WNOHANG)              ospp::waitpid(pid, ospp::wait_flags::nohang)  // pid 0: still running
//   child, st, ru = os.wait4(pid, 0)         auto [child, st, ru] = ospp::wait4(pid).value();
//   os.waitid(os.P_PID, pid, os.WEXITED)     ospp::waitid(ospp::id_type::pid, pid, ospp::wait_flags::exited)
//   os._exit(os.EX_USAGE)                    ospp::_exit(ospp::ex::usage)
//
// A signal that killed a child is never folded into an exit code: exited() and signaled() are
// different states, so SIGKILL and exit(9) cannot be confused. Waits are retried on EINTR.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>

#include <optional>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/resource.hpp"
#include "ospp/signal.hpp"

namespace ospp {

// A wait status as waitpid(2) reports it, decoded without the W* macros.
class wait_status {
public:
    constexpr wait_status() noexcept = default;
    constexpr explicit wait_status(int raw) noexcept : raw_(raw) {}
    // The raw int (Python's `status`).
    [[nodiscard]] constexpr int raw() const noexcept { return raw_; }

    // WIFEXITED: the child called exit or _exit (or returned from main).
    [[nodiscard]] constexpr bool exited() const noexcept { return (raw_ & 0x7f) == 0; }
    // WEXITSTATUS: 0..255, meaningful when exited().
    [[nodiscard]] constexpr int exit_code() const noexcept { return (raw_ >> 8) & 0xff; }
    // WIFSIGNALED: a signal terminated the child.
    [[nodiscard]] constexpr bool signaled() const noexcept {
        return (raw_ & 0x7f) != 0 && (raw_ & 0x7f) != 0x7f;
    }
    // WTERMSIG: the signal that terminated it, meaningful when signaled().
    [[nodiscard]] constexpr signum term_signal() const noexcept { return signum{raw_ & 0x7f}; }
    // WCOREDUMP: the terminating signal also produced a core dump. False unless signaled():
    // the macro, and so Python's os.WCOREDUMP, tests the 0x80 bit alone and says True for a
    // continued status (0xffff), where that bit is part of the marker, not a core dump.
    [[nodiscard]] constexpr bool core_dumped() const noexcept { return signaled() && (raw_ & 0x80) != 0; }
    // WIFSTOPPED: the child is stopped (reported with wait_flags::untraced, or when traced).
    [[nodiscard]] constexpr bool stopped() const noexcept { return (raw_ & 0xff) == 0x7f; }
    // WSTOPSIG: the signal that stopped it, meaningful when stopped().
    [[nodiscard]] constexpr signum stop_signal() const noexcept { return signum{(raw_ >> 8) & 0xff}; }
    // WIFCONTINUED: resumed by SIGCONT (reported with wait_flags::continued).
    [[nodiscard]] constexpr bool continued() const noexcept { return raw_ == 0xffff; }

    // Python's os.waitstatus_to_exitcode(status): the exit code, or -signum when a signal killed
    // the child. Errors: EINVAL for a stopped or continued status (Python's ValueError).
    [[nodiscard]] result<int> to_exitcode() const noexcept;

    friend constexpr bool operator==(wait_status, wait_status) noexcept = default;

private:
    int raw_ = 0;
};

// Python's os.waitstatus_to_exitcode(status).
[[nodiscard]] inline result<int> waitstatus_to_exitcode(wait_status status) noexcept { return status.to_exitcode(); }

// The options of waitpid/wait3/wait4/waitid: Python's os.WNOHANG, WUNTRACED, ...
enum class wait_flags : int {
    none = 0,
    nohang = WNOHANG,        // return at once (pid 0 / nullopt) when no child has changed state
    untraced = WUNTRACED,    // also report stopped children (waitpid/wait3/wait4)
    continued = WCONTINUED,  // also report children resumed by SIGCONT
    exited = WEXITED,        // waitid: report children that terminated
    stopped = WSTOPPED,      // waitid: report stopped children
    nowait = WNOWAIT,        // waitid: leave the child waitable (do not reap)
};
template <>
struct enable_bitmask<wait_flags> : std::true_type {};

// What wait and waitpid return: Python's (pid, status). pid is 0 under nohang when no child
// changed state.
struct wait_result {
    ::pid_t pid = 0;
    wait_status status;
};

// What wait3 and wait4 return: Python's (pid, status, rusage), the rusage as resource.getrusage
// gives it (times as std::chrono durations).
struct wait_rusage_result {
    ::pid_t pid = 0;
    wait_status status;
    resource::rusage rusage;
};

// Python's os.wait(): waits for any child. Errors: ECHILD (no children).
[[nodiscard]] result<wait_result> wait() noexcept;
// Python's os.waitpid(pid, options): pid > 0 one child, 0 the caller's group, -1 any child,
// < -1 the group -pid. Errors: ECHILD, EINVAL (bad options), ESRCH (INT_MIN, which negates to no
// group; Python's ProcessLookupError).
[[nodiscard]] result<wait_result> waitpid(::pid_t pid, wait_flags options = wait_flags::none) noexcept;
// Python's os.wait3(options): any child, with its resource usage. Errors: ECHILD, EINVAL.
[[nodiscard]] result<wait_rusage_result> wait3(wait_flags options = wait_flags::none) noexcept;
// Python's os.wait4(pid, options). Errors: ECHILD, EINVAL, ESRCH (pid INT_MIN).
[[nodiscard]] result<wait_rusage_result> wait4(::pid_t pid, wait_flags options = wait_flags::none) noexcept;

// Which children waitid waits for: Python's os.P_PID, P_PGID, P_ALL, P_PIDFD.
enum class id_type : int {
    all = P_ALL,
    pid = P_PID,
    pgid = P_PGID,
    pidfd = P_PIDFD,
};

// How a child changed state, in waitid_result::si_code: Python's os.CLD_*.
enum class cld_code : int {
    exited = CLD_EXITED,
    killed = CLD_KILLED,
    dumped = CLD_DUMPED,
    trapped = CLD_TRAPPED,
    stopped = CLD_STOPPED,
    continued = CLD_CONTINUED,
};

// Python's os.waitid_result. Its si_pid, si_uid, si_signo, si_status, si_code are macros in
// <signal.h>, so the fields drop the si_ prefix.
struct waitid_result {
    ::pid_t pid = 0;
    ::uid_t uid = 0;
    signum signo{};   // always SIGCHLD
    int status = 0;   // the exit code (cld_code::exited) or the signal number (the others)
    cld_code code{};
};

// Python's os.waitid(idtype, id, options): options must hold exited, stopped or continued.
// nullopt under nohang when no child has changed state (Python's None).
// Errors: ECHILD, EINVAL (no state flag, or a bad id type).
[[nodiscard]] result<std::optional<waitid_result>> waitid(id_type idtype, ::id_t id, wait_flags options) noexcept;
// waitid(P_PIDFD, fd, options): waits through a pidfd (see pidfd_open).
// Errors: ECHILD (the process is not a child of the caller), EBADF (not an open descriptor, or not
// a pidfd), EINVAL (a negative descriptor, no state flag; and on kernels before 5.4, which lack
// P_PIDFD), EAGAIN (a pidfd opened with PIDFD_NONBLOCK, which never waits, while the child runs).
[[nodiscard]] result<std::optional<waitid_result>> waitid(fd_ref pidfd, wait_flags options) noexcept;

// Python's os.EX_* exit codes (<sysexits.h>), for _exit(ospp::ex::usage).
enum class ex : int {
    ok = EX_OK,
    usage = EX_USAGE,
    dataerr = EX_DATAERR,
    noinput = EX_NOINPUT,
    nouser = EX_NOUSER,
    nohost = EX_NOHOST,
    unavailable = EX_UNAVAILABLE,
    software = EX_SOFTWARE,
    oserr = EX_OSERR,
    osfile = EX_OSFILE,
    cantcreat = EX_CANTCREAT,
    ioerr = EX_IOERR,
    tempfail = EX_TEMPFAIL,
    protocol = EX_PROTOCOL,
    noperm = EX_NOPERM,
    config = EX_CONFIG,
};

}  // namespace ospp
