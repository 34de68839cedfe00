// ospp/ids.hpp — who a process is: user and group ids, supplementary groups, process groups and
// sessions, and looking users and groups up by name.
//
//   Python                                   C++
//   os.getuid(), os.geteuid()                ospp::getuid(), ospp::geteuid()
//   os.getresuid()                           auto [r, e, s] = ospp::getresuid().value();
//   os.setgroups([]); os.setgid(65534)       ospp::setgroups({}); ospp::setgid(65534);
//   os.setreuid(-1, 1000)                    ospp::setreuid(ospp::id_unchanged, 1000)
//   os.getgrouplist("alice", 100)            ospp::getgrouplist("alice", 100)
//   os.initgroups("alice", 100)              ospp::initgroups("alice", 100)
//   os.setsid(); os.getsid(0)                ospp::setsid(); ospp::getsid(0)
//   pwd.getpwnam("nobody").pw_uid            ospp::getpwnam("nobody")->pw_uid
//   grp.getgrnam("staff").gr_mem             ospp::getgrnam("staff")->gr_mem
//
// Dropping privileges, in this order (the supplementary groups first, while still root), and
// stopping at the first failure — a program that carries on after one keeps what it meant to drop:
//   ospp::setgroups({}) or initgroups(name, gid);  ospp::setresgid(gid, gid, gid);  ospp::setresuid(uid, uid, uid);
// The lookups use the thread-safe getpwnam_r family and grow their buffer until the entry fits.
// They may load NSS modules, so they are NOT async-signal-safe: look up before fork, change ids after.
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ospp/error.hpp"
#include "ospp/path.hpp"

namespace ospp {

// Python's -1 in setreuid/setresuid/...: leave this id as it is. Valid as a uid_t and a gid_t.
inline constexpr ::uid_t id_unchanged = static_cast<::uid_t>(-1);

// ---- process ids (never fail) ----------------------------------------------------------------
// These are the C functions themselves (using-declarations), so `using namespace ospp;` cannot
// make a call to getpid() ambiguous. (It does make others so, or pick C's: see ospp.hpp.)

// Python's os.getpid(), os.getppid().
using ::getpid;
using ::getppid;
// Python's os.getuid(), os.geteuid(), os.getgid(), os.getegid().
using ::getegid;
using ::geteuid;
using ::getgid;
using ::getuid;

// Python's os.getresuid() / os.getresgid(): real, effective and saved ids.
struct resuid {
    ::uid_t ruid;
    ::uid_t euid;
    ::uid_t suid;
};
struct resgid {
    ::gid_t rgid;
    ::gid_t egid;
    ::gid_t sgid;
};
// Errors: none in practice (EFAULT cannot happen).
[[nodiscard]] result<resuid> getresuid() noexcept;
[[nodiscard]] result<resgid> getresgid() noexcept;

// ---- changing ids (EPERM unless privileged; EINVAL for an id the user namespace cannot map) ---

// Python's os.setuid(uid): as root sets all three uids, so root cannot come back.
// Errors: EPERM, EINVAL, EAGAIN (the real uid changes and the kernel cannot allocate for it).
[[nodiscard]] result<void> setuid(::uid_t uid) noexcept;
// Python's os.setgid(gid). Errors: EPERM, EINVAL.
[[nodiscard]] result<void> setgid(::gid_t gid) noexcept;
// Python's os.seteuid(euid), os.setegid(egid). Errors: EPERM, EINVAL.
[[nodiscard]] result<void> seteuid(::uid_t euid) noexcept;
[[nodiscard]] result<void> setegid(::gid_t egid) noexcept;
// Python's os.setreuid(ruid, euid), os.setregid(rgid, egid); id_unchanged keeps one.
// Errors: EPERM, EINVAL; setreuid also EAGAIN (as setuid).
[[nodiscard]] result<void> setreuid(::uid_t ruid, ::uid_t euid) noexcept;
[[nodiscard]] result<void> setregid(::gid_t rgid, ::gid_t egid) noexcept;
// Python's os.setresuid(ruid, euid, suid), os.setresgid(rgid, egid, sgid): the unambiguous way to
// drop privileges for good (all three at once). Errors: EPERM, EINVAL; setresuid also EAGAIN (as
// setuid). RLIMIT_NPROC is not checked here (since Linux 3.1): the next execve fails with EAGAIN.
[[nodiscard]] result<void> setresuid(::uid_t ruid, ::uid_t euid, ::uid_t suid) noexcept;
[[nodiscard]] result<void> setresgid(::gid_t rgid, ::gid_t egid, ::gid_t sgid) noexcept;

// ---- supplementary groups ---------------------------------------------------------------------

// Python's os.getgroups(). Errors: EINVAL only if the list changes size between the two calls.
[[nodiscard]] result<std::vector<::gid_t>> getgroups();
// Python's os.setgroups(groups): replaces the supplementary groups; setgroups({}) clears them.
// Errors: EPERM (not root), EINVAL (more than NGROUPS_MAX). The kernel checks the privilege
// first: too many groups without it is EPERM, where Python's ValueError "too many groups" comes
// before the call.
[[nodiscard]] result<void> setgroups(std::span<const ::gid_t> groups) noexcept;
[[nodiscard]] result<void> setgroups(std::initializer_list<::gid_t> groups) noexcept;
// Python's os.getgrouplist(user, group): every group `user` is a member of, plus `group`
// (normally the user's primary group). Errors: ENOMEM; EINVAL for a name with a NUL byte.
[[nodiscard]] result<std::vector<::gid_t>> getgrouplist(std::string_view user, ::gid_t group);
// Python's os.initgroups(username, gid): sets the supplementary groups to
// getgrouplist(username, gid). Errors: EPERM (not root), ENOMEM; EINVAL for a name with a NUL.
[[nodiscard]] result<void> initgroups(std::string_view user, ::gid_t group);

// ---- process groups and sessions --------------------------------------------------------------

// Python's os.getpgid(pid) (0: the caller). Errors: ESRCH.
[[nodiscard]] result<::pid_t> getpgid(::pid_t pid) noexcept;
// Python's os.getpgrp(): the caller's process group (never fails).
using ::getpgrp;
// Python's os.setpgrp(): makes the caller the leader of a new group (setpgid(0, 0)). Errors: EPERM.
[[nodiscard]] result<void> setpgrp() noexcept;
// Python's os.setpgid(pid, pgrp): 0 means the caller / pgrp = pid.
// Errors: EACCES (child already exec'd), EINVAL, EPERM (other session, or session leader), ESRCH.
[[nodiscard]] result<void> setpgid(::pid_t pid, ::pid_t pgrp) noexcept;
// Python's os.getsid(pid) (0: the caller). Errors: ESRCH, EPERM.
[[nodiscard]] result<::pid_t> getsid(::pid_t pid) noexcept;
// Python's os.setsid(): a new session and group led by the caller, with no controlling terminal;
// returns the new session id. Errors: EPERM (already a group leader: fork first).
[[nodiscard]] result<::pid_t> setsid() noexcept;

// ---- terminal and login -----------------------------------------------------------------------

// Python's os.ctermid(): the path of the controlling terminal ("/dev/tty" on Linux).
std::string ctermid();
// Python's os.getlogin(): the user logged in on the controlling terminal (from utmp).
// Errors: ENOTTY, ENXIO, ENOENT (no utmp entry) — often fails in daemons and containers;
// prefer getpwuid(geteuid()).
[[nodiscard]] result<std::string> getlogin();

// ---- user and group database (Python's pwd and grp modules) ------------------------------------

// Python's pwd.struct_passwd. A field the NSS module leaves null (Python's None) is empty.
struct passwd_entry {
    std::string pw_name;
    std::string pw_passwd;
    ::uid_t pw_uid = 0;
    ::gid_t pw_gid = 0;
    std::string pw_gecos;
    std::string pw_dir;
    std::string pw_shell;
};

// Python's grp.struct_group. A null gr_passwd or gr_mem from the NSS module is empty.
struct group_entry {
    std::string gr_name;
    std::string gr_passwd;
    ::gid_t gr_gid = 0;
    std::vector<std::string> gr_mem;
};

// Python's pwd.getpwnam(name). Errors: ENOENT when there is no such user (Python's KeyError),
// with the name in the message; EIO, EMFILE, ENOMEM from the lookup; EINVAL for a NUL byte.
[[nodiscard]] result<passwd_entry> getpwnam(std::string_view name);
// Python's pwd.getpwuid(uid). Errors: ENOENT (no such uid), EIO, EMFILE, ENOMEM.
[[nodiscard]] result<passwd_entry> getpwuid(::uid_t uid);
// Python's grp.getgrnam(name). Errors: ENOENT (no such group), EIO, EMFILE, ENOMEM, EINVAL.
[[nodiscard]] result<group_entry> getgrnam(std::string_view name);
// Python's grp.getgrgid(gid). Errors: ENOENT (no such gid), EIO, EMFILE, ENOMEM.
[[nodiscard]] result<group_entry> getgrgid(::gid_t gid);

}  // namespace ospp
