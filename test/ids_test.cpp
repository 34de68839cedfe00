// test/ids_test.cpp — ids, groups, sessions and user lookup, checked against the kernel's view.
#include "ospp/ids.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child.hpp"
#include "support.hpp"

TEST_CASE("getpid, getuid and getresuid agree with the kernel") {
    CHECK(ospp::getpid() == ::getpid());
    CHECK(ospp::getppid() == ::getppid());
    CHECK(ospp::getuid() == ::getuid());
    CHECK(ospp::geteuid() == ::geteuid());
    CHECK(ospp::getgid() == ::getgid());
    CHECK(ospp::getegid() == ::getegid());
    auto u = ospp::getresuid();
    REQUIRE(u.has_value());
    CHECK(u->ruid == ::getuid());
    CHECK(u->euid == ::geteuid());
    auto g = ospp::getresgid();
    REQUIRE(g.has_value());
    CHECK(g->rgid == ::getgid());
    CHECK(g->egid == ::getegid());
    auto groups = ospp::getgroups();
    REQUIRE(groups.has_value());
    CHECK(static_cast<int>(groups->size()) == ::getgroups(0, nullptr));
    // no error test for ospp::getresuid: getresuid(2) fails only with EFAULT, for pointers ospp owns
    // no error test for ospp::getresgid: as getresuid
    // no error test for ospp::getgroups: EINVAL only if the groups grow between its two calls
}

TEST_CASE("getgroups never reports groups it did not read, while another thread changes them") {
    // glibc's setgroups changes every thread's groups (through a signal to each), so they can
    // change between getgroups' two calls. When the first call counted none, the second, given
    // no room, only counts too: the vector of that many zeros came back as gid 0 (root's group),
    // within a thousand calls here. Python returns [] at once when the count is 0.
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        if (::setgroups(0, nullptr) != 0) return 1;
        std::atomic<bool> stop{false};
        std::thread toggler([&] {
            const ::gid_t some[] = {1, 2, 3};
            while (!stop) {
                ::setgroups(3, some);
                ::setgroups(0, nullptr);
            }
        });
        int bad = 0;
        for (int i = 0; i < 20000 && bad == 0; ++i) {
            auto groups = ospp::getgroups();
            if (!groups) continue;  // EINVAL: they grew between the two calls, as documented
            if (!groups->empty() && *groups != std::vector<::gid_t>{1, 2, 3}) bad = 2;
        }
        stop = true;
        toggler.join();
        return bad;
    });
    CHECK(code == 0);
}

TEST_CASE("privilege drop as root: setgroups, setgid, setuid to 65534, and no way back") {
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::setgroups({})) return 1;
        if (::getgroups(0, nullptr) != 0) return 2;
        if (!ospp::setgid(65534)) return 3;
        if (!ospp::setuid(65534)) return 4;
        auto u = ospp::getresuid();
        if (!u || u->ruid != 65534 || u->euid != 65534 || u->suid != 65534) return 5;
        auto g = ospp::getresgid();
        if (!g || g->rgid != 65534 || g->egid != 65534 || g->sgid != 65534) return 6;
        auto back = ospp::setuid(0);
        if (back || back.error().code() != EPERM) return 7;
        if (back.error().message() != "setuid: [Errno 1] Operation not permitted") return 8;
        if (ospp::setgroups({0})) return 9;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("setresuid/setresgid and setreuid/seteuid as root: saved ids allow a temporary drop") {
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::setresgid(65534, 65534, 0)) return 1;
        if (!ospp::setregid(ospp::id_unchanged, 0)) return 2;  // saved gid 0 allows it
        if (!ospp::setegid(65534)) return 3;
        if (!ospp::seteuid(65534)) return 4;  // euid only: the saved uid stays 0
        auto u = ospp::getresuid();
        if (!u || u->ruid != 0 || u->euid != 65534 || u->suid != 0) return 5;
        if (!ospp::seteuid(0)) return 6;  // back, through the saved uid
        if (!ospp::setreuid(ospp::id_unchanged, 0)) return 9;
        if (!ospp::setresuid(65534, 65534, 65534)) return 7;
        if (ospp::seteuid(0)) return 8;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("setre*id and setres*id as root put each argument in its own slot: distinct ids read back") {
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::setresgid(101, 102, 103)) return 1;
        auto g = ospp::getresgid();
        if (!g || g->rgid != 101 || g->egid != 102 || g->sgid != 103) return 2;
        if (!ospp::setregid(201, 202)) return 3;  // euid 0: any pair; the saved gid follows egid
        g = ospp::getresgid();
        if (!g || g->rgid != 201 || g->egid != 202 || g->sgid != 202) return 4;
        if (!ospp::setresuid(0, 0, 0)) return 5;
        if (!ospp::setreuid(301, 302)) return 6;  // last: it gives up root
        auto u = ospp::getresuid();
        if (!u || u->ruid != 301 || u->euid != 302 || u->suid != 302) return 7;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("setresuid as root puts ruid, euid and suid in their own slots") {
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::setresuid(401, 402, 403)) return 1;
        auto u = ospp::getresuid();
        if (!u || u->ruid != 401 || u->euid != 402 || u->suid != 403) return 2;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("the id setters refuse an id the user namespace cannot map with EINVAL, as Python's os.setuid(-1)") {
    // -1 is id_unchanged for the re/res setters, and no id at all for the others: checked before
    // the privilege, so this holds for root and for everyone else.
    CHECK_ERRNO(ospp::setuid(ospp::id_unchanged), EINVAL, "setuid: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::setgid(ospp::id_unchanged), EINVAL, "setgid: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::seteuid(ospp::id_unchanged), EINVAL, "seteuid: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::setegid(ospp::id_unchanged), EINVAL, "setegid: [Errno 22] Invalid argument");
    CHECK(ospp::setreuid(ospp::id_unchanged, ospp::id_unchanged).has_value());
    CHECK(ospp::setresgid(ospp::id_unchanged, ospp::id_unchanged, ospp::id_unchanged).has_value());
}

TEST_CASE("setgroups refuses more than NGROUPS_MAX groups with EINVAL (Python's 'too many groups')") {
    // Without privilege the kernel answers EPERM first, as the unprivileged tests check.
    OSPP_REQUIRE_ROOT();
    const long max = ::sysconf(_SC_NGROUPS_MAX);
    REQUIRE(max > 0);
    const std::vector<gid_t> too_many(static_cast<std::size_t>(max) + 1, 65534);
    CHECK_ERRNO(ospp::setgroups(too_many), EINVAL, "setgroups: [Errno 22] Invalid argument");
}

TEST_CASE("setresuid does not check RLIMIT_NPROC (Linux >= 3.1): no EAGAIN for it") {
    OSPP_REQUIRE_ROOT();
    const int code = ospp_test::exit_code_of([] {
        const ::rlimit none{0, 0};
        if (::setrlimit(RLIMIT_NPROC, &none) != 0) return 1;
        auto r = ospp::setresuid(65534, 65534, 65534);
        if (!r) return r.error().code() == EAGAIN ? 2 : 3;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("the id setters fail with EPERM, under their own names, without privilege") {
    // In a child that has none (root drops to 65534 first), every request for id 0 is refused.
    if (!ospp_test::is_root() && (::getuid() == 0 || ::getgid() == 0 || ::getegid() == 0)) {
        OSPP_SKIP("a user or group id is 0 without euid 0: nothing to refuse");
    }
    const std::string report = ospp_test::in_child([]() -> std::string {
        if (::geteuid() == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
             ::setresuid(65534, 65534, 65534) != 0)) {
            return "could not drop root";
        }
        const std::pair<const char*, ospp::result<void>> calls[] = {
            {"setgid", ospp::setgid(0)},
            {"seteuid", ospp::seteuid(0)},
            {"setegid", ospp::setegid(0)},
            {"setreuid", ospp::setreuid(0, 0)},
            {"setregid", ospp::setregid(0, 0)},
            {"setresuid", ospp::setresuid(0, 0, 0)},
            {"setresgid", ospp::setresgid(0, 0, 0)},
        };
        std::string wrong;
        for (const auto& [name, r] : calls) {
            const std::string want = std::string(name) + ": [Errno 1] Operation not permitted";
            if (r) wrong += std::string(name) + " succeeded; ";
            else if (r.error().code() != EPERM || r.error().message() != want) wrong += r.error().message() + "; ";
        }
        return wrong;
    });
    CHECK(report == "");
}

TEST_CASE("initgroups sets the groups getgrouplist reports") {
    auto nobody = ospp::getpwnam("nobody");
    REQUIRE(nobody.has_value());
    auto list = ospp::getgrouplist("nobody", nobody->pw_gid);
    REQUIRE(list.has_value());
    CHECK(std::count(list->begin(), list->end(), nobody->pw_gid) == 1);
    auto root_list = ospp::getgrouplist("root", 4242);
    REQUIRE(root_list.has_value());
    CHECK(std::count(root_list->begin(), root_list->end(), 4242u) == 1);
    CHECK_ERRNO(ospp::getgrouplist(std::string("a\0b", 3), 0), EINVAL,
                "getgrouplist: [Errno 22] Invalid argument: 'a\\x00b'");
    if (!ospp_test::is_root()) {
        CHECK_ERRNO(ospp::initgroups("nobody", nobody->pw_gid), EPERM,
                    "initgroups: [Errno 1] Operation not permitted: 'nobody'");
        CHECK_ERRNO(ospp::setgroups({}), EPERM, "setgroups: [Errno 1] Operation not permitted");
        CHECK_ERRNO(ospp::setuid(0), EPERM, "setuid: [Errno 1] Operation not permitted");
        OSPP_SKIP("initgroups success path needs root");
    }
    const std::vector<gid_t> expected = *list;
    const int code = ospp_test::exit_code_of([&] {
        if (!ospp::initgroups("nobody", nobody->pw_gid)) return 1;
        auto now = ospp::getgroups();
        if (!now) return 2;
        std::vector<gid_t> a = *now;
        std::vector<gid_t> b = expected;
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        return a == b ? 0 : 3;
    });
    CHECK(code == 0);
}

TEST_CASE("getpwnam, getpwuid, getgrnam, getgrgid read the user database") {
    auto root = ospp::getpwnam("root");
    REQUIRE(root.has_value());
    CHECK(root->pw_name == "root");
    CHECK(root->pw_uid == 0);
    CHECK(root->pw_gid == 0);
    CHECK(root->pw_dir == "/root");
    CHECK_FALSE(root->pw_shell.empty());
    auto by_uid = ospp::getpwuid(65534);
    REQUIRE(by_uid.has_value());
    CHECK(by_uid->pw_name == "nobody");
    auto group = ospp::getgrnam("root");
    REQUIRE(group.has_value());
    CHECK(group->gr_gid == 0);
    auto by_gid = ospp::getgrgid(0);
    REQUIRE(by_gid.has_value());
    CHECK(by_gid->gr_name == "root");

    CHECK_ERRNO(ospp::getpwnam("no-such-user-ospp"), ENOENT,
                "getpwnam: [Errno 2] No such file or directory: 'no-such-user-ospp'");
    CHECK_ERRNO(ospp::getgrnam("no-such-group-ospp"), ENOENT,
                "getgrnam: [Errno 2] No such file or directory: 'no-such-group-ospp'");
    CHECK_ERRNO(ospp::getpwuid(3999999), ENOENT, "getpwuid: [Errno 2] No such file or directory: '3999999'");
    CHECK_ERRNO(ospp::getgrgid(3999999), ENOENT, "getgrgid: [Errno 2] No such file or directory: '3999999'");
    CHECK_ERRNO(ospp::getpwnam(std::string("ro\0ot", 5)), EINVAL, "getpwnam: [Errno 22] Invalid argument: 'ro\\x00ot'");
}

TEST_CASE("lookups grow their buffers: a private /etc/group and /etc/passwd with huge entries") {
    OSPP_REQUIRE_ROOT();
    ospp_test::temp_dir dir;
    // 3000 members (~30 kB, far beyond the first buffer), a 20 kB gecos, and a user in 100 groups
    // (getgrouplist starts with room for 32).
    std::string group = "big:x:4000:";
    for (int i = 0; i < 3000; ++i) group += (i != 0 ? ",member" : "member") + std::to_string(i);
    group += "\n";
    for (int g = 0; g < 100; ++g) {
        // appended piece by piece: `"g" + std::to_string(g)` trips GCC 12's -Wrestrict at -O3
        group += "g";
        group += std::to_string(g);
        group += ":x:";
        group += std::to_string(5000 + g);
        group += ":joiner\n";
    }
    ospp_test::write_file(dir / "group", group);
    ospp_test::write_file(dir / "passwd", "long:x:4000:4000:" + std::string(20000, 'g') + ":/home/long:/bin/sh\n");
    const std::string group_path = dir / "group";
    const std::string passwd_path = dir / "passwd";
    const int code = ospp_test::exit_code_of([&] {
        // A private mount namespace: the bind mounts vanish with the child.
        if (::unshare(CLONE_NEWNS) != 0) return 77;
        if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
        if (::mount(group_path.c_str(), "/etc/group", nullptr, MS_BIND, nullptr) != 0) return 77;
        if (::mount(passwd_path.c_str(), "/etc/passwd", nullptr, MS_BIND, nullptr) != 0) return 77;
        auto big = ospp::getgrnam("big");
        if (!big || big->gr_gid != 4000 || big->gr_mem.size() != 3000) return 1;
        if (big->gr_mem.front() != "member0" || big->gr_mem.back() != "member2999") return 2;
        auto by_gid = ospp::getgrgid(4000);
        if (!by_gid || by_gid->gr_mem.size() != 3000) return 3;
        auto lng = ospp::getpwnam("long");
        if (!lng || lng->pw_gecos.size() != 20000 || lng->pw_shell != "/bin/sh") return 4;
        auto by_uid = ospp::getpwuid(4000);
        if (!by_uid || by_uid->pw_dir != "/home/long") return 5;
        auto groups = ospp::getgrouplist("joiner", 4000);
        if (!groups || groups->size() != 101) return 6;
        return 0;
    });
    if (code == 77) OSPP_SKIP("cannot make a private mount namespace here (needs CAP_SYS_ADMIN)");
    CHECK(code == 0);
}

TEST_CASE("lookups take a field an NSS module leaves null as empty (pwd's None), without throwing") {
    OSPP_REQUIRE_ROOT();
    // nss_null.c, built beside this test: NSS finds it by its soname once it is loaded.
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe);
    REQUIRE(n > 0);
    const std::string_view exe_path(exe, static_cast<std::size_t>(n));
    const std::string module = std::string(exe_path.substr(0, exe_path.rfind('/'))) + "/libnss_ospptest.so.2";
    if (::access(module.c_str(), F_OK) != 0) OSPP_SKIP("no libnss_ospptest.so.2 (sanitizer builds leave it out)");
    ospp_test::temp_dir dir;
    ospp_test::write_file(dir / "nsswitch.conf", "passwd: ospptest files\ngroup: ospptest files\n");
    const std::string conf = dir / "nsswitch.conf";
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (::dlopen(module.c_str(), RTLD_NOW) == nullptr) return std::string("dlopen: ") + ::dlerror();
        if (!ospp_test::private_mount_namespace() ||
            ::mount(conf.c_str(), "/etc/nsswitch.conf", nullptr, MS_BIND, nullptr) != 0) {
            return "skip";
        }
        try {
            for (auto pw : {ospp::getpwnam("nullfields"), ospp::getpwuid(4321)}) {
                if (!pw) return pw.error().message();
                if (pw->pw_name != "nullfields" || pw->pw_uid != 4321 || pw->pw_gid != 4321) return "wrong user";
                if (!pw->pw_passwd.empty() || !pw->pw_gecos.empty() || !pw->pw_dir.empty() || !pw->pw_shell.empty())
                    return "a null passwd field is not empty";
            }
            for (auto gr : {ospp::getgrnam("nullfields"), ospp::getgrgid(4321)}) {
                if (!gr) return gr.error().message();
                if (gr->gr_name != "nullfields" || gr->gr_gid != 4321) return "wrong group";
                if (!gr->gr_passwd.empty() || !gr->gr_mem.empty()) return "a null group field is not empty";
            }
        } catch (const std::exception& e) {
            return std::string("threw: ") + e.what();
        }
        return "";
    });
    if (report == "skip") OSPP_SKIP("cannot make a private mount namespace here (needs CAP_SYS_ADMIN)");
    CHECK(report == "");
}

TEST_CASE("setsid in a child makes a new session that getsid reads from outside") {
    int ready[2];
    int release[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(release, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(ready[0]);
        ::close(release[1]);
        auto sid = ospp::setsid();
        char c = sid && *sid == ::getpid() && ospp::getpgrp() == ::getpid() ? 'y' : 'n';
        auto again = ospp::setsid();  // a session leader cannot make another session
        if (again || again.error().message() != "setsid: [Errno 1] Operation not permitted") c = 'n';
        if (::write(ready[1], &c, 1) != 1) ::_exit(1);
        ospp_test::wait_for_go(release[0]);  // stays alive until the parent has looked
        ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    char c = 0;
    CHECK(::read(ready[0], &c, 1) == 1);
    CHECK(c == 'y');
    auto sid = ospp::getsid(pid);
    REQUIRE(sid.has_value());
    CHECK(*sid == pid);
    auto pgid = ospp::getpgid(pid);
    REQUIRE(pgid.has_value());
    CHECK(*pgid == pid);
    auto mine = ospp::getsid(0);
    REQUIRE(mine.has_value());
    CHECK(*mine == ::getsid(0));
    CHECK(*mine != pid);
    ::close(release[1]);
    ::close(ready[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
}

TEST_CASE("setpgrp and setpgid move a child into its own process group") {
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::setpgrp()) return 1;
        if (ospp::getpgrp() != ::getpid()) return 2;
        auto pg = ospp::getpgid(0);
        if (!pg || *pg != ::getpid()) return 3;
        if (!ospp::setpgid(0, 0)) return 4;
        return 0;
    });
    CHECK(code == 0);
    CHECK_ERRNO(ospp::setpgid(0, 999999999), EPERM, "setpgid: [Errno 1] Operation not permitted");
    // A session leader cannot leave its process group.
    CHECK(ospp_test::in_child([]() -> std::string {
              if (::setsid() < 0) return "setsid failed";
              auto r = ospp::setpgrp();
              if (r) return "setpgrp succeeded";
              return r.error().code() == EPERM && r.error().message() == "setpgrp: [Errno 1] Operation not permitted"
                         ? ""
                         : r.error().message();
          }) == "");
}

TEST_CASE("getpgid and getsid of a missing process fail with ESRCH") {
    CHECK_ERRNO(ospp::getpgid(999999999), ESRCH, "getpgid: [Errno 3] No such process");
    CHECK_ERRNO(ospp::getsid(999999999), ESRCH, "getsid: [Errno 3] No such process");
}

TEST_CASE("ctermid and getlogin") {
    CHECK(ospp::ctermid() == "/dev/tty");
    auto login = ospp::getlogin();
    if (login) {
        CHECK_FALSE(login->empty());
    } else {
        // No utmp entry or no terminal: the usual case in CI and containers.
        const int e = login.error().code();
        CHECK((e == ENOTTY || e == ENXIO || e == ENOENT));
        CHECK(login.error().message() == "getlogin: [Errno " + std::to_string(e) + "] " + ospp::strerror(e));
    }
}
