// src/ids.cpp — user and group ids, process groups, sessions, user and group lookup.
#include "ospp/ids.hpp"

#include <limits.h>
#include <stdio.h>

#include <memory>

#include "sys.hpp"

namespace ospp {

namespace {

// The shape of the id setters: 0 or -1 with errno.
result<void> check(int r, const char* call) noexcept {
    if (r < 0) return sys::fail(call);
    return {};
}

}  // namespace

result<resuid> getresuid() noexcept {
    resuid ids{};
    if (::getresuid(&ids.ruid, &ids.euid, &ids.suid) < 0) return sys::fail("getresuid");
    return ids;
}

result<resgid> getresgid() noexcept {
    resgid ids{};
    if (::getresgid(&ids.rgid, &ids.egid, &ids.sgid) < 0) return sys::fail("getresgid");
    return ids;
}

result<void> setuid(::uid_t uid) noexcept { return check(::setuid(uid), "setuid"); }
result<void> setgid(::gid_t gid) noexcept { return check(::setgid(gid), "setgid"); }
result<void> seteuid(::uid_t euid) noexcept { return check(::seteuid(euid), "seteuid"); }
result<void> setegid(::gid_t egid) noexcept { return check(::setegid(egid), "setegid"); }
result<void> setreuid(::uid_t ruid, ::uid_t euid) noexcept { return check(::setreuid(ruid, euid), "setreuid"); }
result<void> setregid(::gid_t rgid, ::gid_t egid) noexcept { return check(::setregid(rgid, egid), "setregid"); }
result<void> setresuid(::uid_t ruid, ::uid_t euid, ::uid_t suid) noexcept {
    return check(::setresuid(ruid, euid, suid), "setresuid");
}
result<void> setresgid(::gid_t rgid, ::gid_t egid, ::gid_t sgid) noexcept {
    return check(::setresgid(rgid, egid, sgid), "setresgid");
}

result<std::vector<::gid_t>> getgroups() {
    const int n = ::getgroups(0, nullptr);
    if (n < 0) return sys::fail("getgroups");
    // As CPython: none is the answer. A second call with no room would only count the groups
    // that another thread's setgroups may have added meanwhile, filling nothing.
    if (n == 0) return std::vector<::gid_t>{};
    std::vector<::gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    if (got < 0) return sys::fail("getgroups");
    groups.resize(static_cast<std::size_t>(got));
    return groups;
}

result<void> setgroups(std::span<const ::gid_t> groups) noexcept {
    return check(::setgroups(groups.size(), groups.data()), "setgroups");
}

result<void> setgroups(std::initializer_list<::gid_t> groups) noexcept {
    return setgroups(std::span<const ::gid_t>(groups.begin(), groups.size()));
}

result<std::vector<::gid_t>> getgrouplist(std::string_view user, ::gid_t group) {
    const path_ref name(user);
    if (!name.valid()) return sys::bad_path("getgrouplist", name);
    int n = 32;
    std::vector<::gid_t> groups;
    for (;;) {
        groups.resize(static_cast<std::size_t>(n));
        int count = n;
        // Returns -1 and sets count to the size it needs when the buffer is too small.
        if (::getgrouplist(name.c_str(), group, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        if (count <= n) return sys::fail_with(ENOMEM, "getgrouplist", name);
        n = count;
    }
}

result<void> initgroups(std::string_view user, ::gid_t group) {
    const path_ref name(user);
    if (!name.valid()) return sys::bad_path("initgroups", name);
    if (::initgroups(name.c_str(), group) < 0) return sys::fail("initgroups", name);
    return {};
}

result<::pid_t> getpgid(::pid_t pid) noexcept {
    const ::pid_t r = ::getpgid(pid);
    if (r < 0) return sys::fail("getpgid");
    return r;
}

result<void> setpgrp() noexcept { return check(::setpgid(0, 0), "setpgrp"); }

result<void> setpgid(::pid_t pid, ::pid_t pgrp) noexcept { return check(::setpgid(pid, pgrp), "setpgid"); }

result<::pid_t> getsid(::pid_t pid) noexcept {
    const ::pid_t r = ::getsid(pid);
    if (r < 0) return sys::fail("getsid");
    return r;
}

result<::pid_t> setsid() noexcept {
    const ::pid_t r = ::setsid();
    if (r < 0) return sys::fail("setsid");
    return r;
}

std::string ctermid() {
    char buf[L_ctermid];
    return ::ctermid(buf);
}

result<std::string> getlogin() {
    std::string name(64, '\0');
    for (;;) {
        const int e = ::getlogin_r(name.data(), name.size());
        if (e == 0) {
            name.resize(std::char_traits<char>::length(name.c_str()));
            return name;
        }
        if (e != ERANGE) return sys::fail_with(e, "getlogin");
        name.resize(name.size() * 2);
    }
}

namespace {

// NSS modules may leave a field null (Python's pwd gives None): it becomes empty, since a
// std::string cannot be made from a null pointer.
std::string text(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

passwd_entry to_entry(const struct ::passwd& p) {
    return {text(p.pw_name), text(p.pw_passwd), p.pw_uid, p.pw_gid, text(p.pw_gecos), text(p.pw_dir), text(p.pw_shell)};
}

group_entry to_entry(const struct ::group& g) {
    group_entry out{text(g.gr_name), text(g.gr_passwd), g.gr_gid, {}};
    for (char** m = g.gr_mem; m != nullptr && *m != nullptr; ++m) out.gr_mem.emplace_back(*m);
    return out;
}

// Runs a getpw*_r / getgr*_r call with a buffer that grows while the entry does not fit (ERANGE),
// and converts the entry (which points into the buffer) before the buffer goes.
// `lookup(entry, buf, size, &found)` returns the error number, like the _r functions do.
// Not found (found == null, or one of the errnos POSIX allows for it) becomes ENOENT, naming `key`.
template <class Raw, class Lookup>
auto lookup_r(const char* call, std::string_view key, Lookup lookup) -> result<decltype(to_entry(Raw{}))> {
    const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::size_t size = hint > 0 ? static_cast<std::size_t>(hint) : 1024;
    for (;;) {
        auto buf = std::make_unique<char[]>(size);
        Raw entry{};
        Raw* found = nullptr;
        const int e = sys::retry_code([&] { return lookup(&entry, buf.get(), size, &found); });
        if (e == ERANGE) {
            size *= 2;
            continue;
        }
        if (e == 0 && found != nullptr) return to_entry(entry);
        const bool missing = e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
        return sys::failure(errno_error(missing ? ENOENT : e, call, key));
    }
}

}  // namespace

result<passwd_entry> getpwnam(std::string_view name) {
    const path_ref key(name);
    if (!key.valid()) return sys::bad_path("getpwnam", key);
    return lookup_r<struct ::passwd>("getpwnam", name, [&](auto* e, char* b, std::size_t n, auto** f) {
        return ::getpwnam_r(key.c_str(), e, b, n, f);
    });
}

result<passwd_entry> getpwuid(::uid_t uid) {
    return lookup_r<struct ::passwd>("getpwuid", std::to_string(uid), [&](auto* e, char* b, std::size_t n, auto** f) {
        return ::getpwuid_r(uid, e, b, n, f);
    });
}

result<group_entry> getgrnam(std::string_view name) {
    const path_ref key(name);
    if (!key.valid()) return sys::bad_path("getgrnam", key);
    return lookup_r<struct ::group>("getgrnam", name, [&](auto* e, char* b, std::size_t n, auto** f) {
        return ::getgrnam_r(key.c_str(), e, b, n, f);
    });
}

result<group_entry> getgrgid(::gid_t gid) {
    return lookup_r<struct ::group>("getgrgid", std::to_string(gid), [&](auto* e, char* b, std::size_t n, auto** f) {
        return ::getgrgid_r(gid, e, b, n, f);
    });
}

}  // namespace ospp
