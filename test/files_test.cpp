// test/files_test.cpp — the path operations of os, each checked for its effect and an error.
#include "ospp/files.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <sstream>
#include <sched.h>
#include <thread>

#include "ospp/fd_ops.hpp"
#include "ospp/terminal.hpp"
#include "ospp/scandir.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp::access_mode;
using ospp_test::temp_dir;

namespace {
bool exists(const std::string& p) {
    struct ::stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}
::mode_t mode_of(const std::string& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode;
}
std::string enoent(const char* call, const std::string& p) {
    return std::string(call) + ": [Errno 2] No such file or directory: '" + p + "'";
}
ospp::fd open_dir(const std::string& p) {
    auto d = ospp::open(p, ospp::open_flags::rdonly | ospp::open_flags::directory);
    REQUIRE(d.has_value());
    return std::move(*d);
}
}  // namespace

TEST_CASE("access checks existence and permissions") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    CHECK(ospp::access(dir / "f", access_mode::f_ok));
    CHECK(ospp::access(dir / "f", access_mode::r_ok | access_mode::w_ok));
    CHECK(ospp::access(dir / "f", access_mode::r_ok, {.effective_ids = true}));
    CHECK_ERRNO(ospp::access(dir / "nope", access_mode::f_ok), ENOENT, enoent("access", dir / "nope"));
    REQUIRE(::symlink("nope", (dir / "dangling").c_str()) == 0);
    CHECK_ERRNO(ospp::access(dir / "dangling", access_mode::f_ok), ENOENT,
                "access: [Errno 2] No such file or directory: " + ospp::quote_path(dir / "dangling"));
    auto d = open_dir(dir.path());
    CHECK(ospp::access("dangling", access_mode::f_ok, {.dir_fd = d, .follow_symlinks = false}));
    if (!ospp_test::is_root()) {
        REQUIRE(::chmod((dir / "f").c_str(), 0400) == 0);
        CHECK_ERRNO(ospp::access(dir / "f", access_mode::w_ok), EACCES,
                    "access: [Errno 13] Permission denied: " + ospp::quote_path(dir / "f"));
    }
}

// glibc 2.33+'s faccessat tries faccessat2 (Linux 5.8) first and falls back only on ENOSYS; a
// container whose seccomp filter predates faccessat2 refuses it with EPERM. Python's os.access
// without keywords calls access(2), which such a filter lets through: so must ospp's.
TEST_CASE("access without flags works where faccessat2 is missing (ENOSYS) or refused (EPERM)") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    for (const int err : {ENOSYS, EPERM}) {
        CAPTURE(err);
        const std::string report = ospp_test::in_child([&]() -> std::string {
            if (!ospp_test::refuse_syscall(SYS_faccessat2, err)) return "cannot install the seccomp filter";
            if (auto r = ospp::access(dir / "f", access_mode::r_ok); !r) return r.error().message();
            auto gone = ospp::access(dir / "nope", access_mode::f_ok);  // a real error is still the real errno
            if (gone || gone.error().code() != ENOENT) return "no ENOENT for a missing file";
            // With keywords, faccessat as in Python: glibc emulates faccessat2 on ENOSYS, and the
            // filter's EPERM stands, as for Python's os.access(..., effective_ids=True).
            const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            auto in_dir = ospp::access("f", access_mode::f_ok, {.dir_fd = ospp::fd_ref(d)});
            ::close(d);
            auto eff = ospp::access(dir / "f", access_mode::r_ok, {.effective_ids = true});
            for (const auto* r : {&in_dir, &eff}) {
                if (err == ENOSYS && !*r) return r->error().message();
                if (err == EPERM && (*r || r->error().code() != EPERM)) return "with keywords: not the filter's EPERM";
            }
            return "";
        });
        CHECK(report == "");
    }
}

TEST_CASE("chdir, fchdir and getcwd") {
    temp_dir dir;
    auto before = ospp::getcwd();
    REQUIRE(before.has_value());
    REQUIRE(ospp::chdir(dir.path()));
    auto now = ospp::getcwd();
    REQUIRE(now.has_value());
    char real[PATH_MAX];
    REQUIRE(::realpath(dir.path().c_str(), real) != nullptr);
    CHECK(*now == real);
    auto back = open_dir(*before);
    REQUIRE(ospp::fchdir(back));
    CHECK(ospp::getcwd().value() == *before);
    CHECK_ERRNO(ospp::chdir(dir / "nope"), ENOENT, enoent("chdir", dir / "nope"));
    CHECK_ERRNO(ospp::fchdir(ospp::fd_ref(-1)), EBADF, "fchdir: [Errno 9] Bad file descriptor");
}

TEST_CASE("getcwd grows its buffer past 256 bytes and reports a removed cwd") {
    temp_dir dir;
    std::string deep = dir.path();
    for (int i = 0; i < 20; ++i) {
        deep += "/" + std::string(40, static_cast<char>('a' + i));
        REQUIRE(::mkdir(deep.c_str(), 0700) == 0);
    }
    auto back = open_dir(".");
    REQUIRE(ospp::chdir(deep));
    auto cwd = ospp::getcwd();
    REQUIRE(cwd.has_value());
    CHECK(cwd->size() > 800);
    CHECK(cwd->ends_with(std::string(40, 't')));
    REQUIRE(::rmdir(deep.c_str()) == 0);
    const auto removed = ospp::getcwd();
    REQUIRE(ospp::fchdir(back));  // first, so that a failed check below leaves the cwd usable
    CHECK_ERRNO(removed, ENOENT, "getcwd: [Errno 2] No such file or directory");
}

TEST_CASE("chmod sets the mode; follow_symlinks=false cannot change a symlink on Linux") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    REQUIRE(ospp::chmod(dir / "f", 0604));
    CHECK((mode_of(dir / "f") & 07777) == 0604);
    auto d = open_dir(dir.path());
    REQUIRE(ospp::chmod("f", 0640, {.dir_fd = d}));
    CHECK((mode_of(dir / "f") & 07777) == 0640);
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    CHECK_ERRNO(ospp::chmod(dir / "l", 0600, {.follow_symlinks = false}), EOPNOTSUPP,
                "chmod: [Errno 95] Operation not supported: " + ospp::quote_path(dir / "l"));
    CHECK_ERRNO(ospp::chmod(dir / "nope", 0600), ENOENT, enoent("chmod", dir / "nope"));
}

TEST_CASE("chmod with follow_symlinks=false without /proc: EOPNOTSUPP for every path, as the header says (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (!ospp_test::private_mount_namespace() || ::umount2("/proc", MNT_DETACH) != 0) return "cannot unmount /proc";
        auto r = ospp::chmod(dir / "f", 0600, {.follow_symlinks = false});
        if (r || r.error().code() != EOPNOTSUPP) return r ? "changed without /proc" : r.error().message();
        auto followed = ospp::chmod(dir / "f", 0600);  // follow_symlinks=true needs no /proc
        return followed ? "" : followed.error().message();
    });
    CHECK(report == "");
    CHECK((mode_of(dir / "f") & 07777) == 0600);
}

TEST_CASE("chown and lchown change (or keep) the owner") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    const ::uid_t keep_uid = static_cast<::uid_t>(-1);
    const ::gid_t keep_gid = static_cast<::gid_t>(-1);
    // Changing to one's own ids is always allowed.
    REQUIRE(ospp::chown(dir / "f", ::geteuid(), ::getegid()));
    REQUIRE(ospp::lchown(dir / "l", keep_uid, ::getegid()));
    CHECK_ERRNO(ospp::lchown(dir / "nope", keep_uid, keep_gid), ENOENT, enoent("lchown", dir / "nope"));
    if (!ospp_test::is_root()) {
        CHECK_ERRNO(ospp::chown(dir / "f", 0, keep_gid), EPERM,
                    "chown: [Errno 1] Operation not permitted: " + ospp::quote_path(dir / "f"));
        OSPP_SKIP("giving a file to another owner needs root (euid 0)");
    }
    REQUIRE(ospp::chown(dir / "f", 1234, 5678));
    struct ::stat st {};
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_uid == 1234);
    CHECK(st.st_gid == 5678);
    REQUIRE(ospp::lchown(dir / "l", 4321, keep_gid));
    REQUIRE(::lstat((dir / "l").c_str(), &st) == 0);
    CHECK(st.st_uid == 4321);
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_uid == 1234);  // the target is untouched
    REQUIRE(ospp::chown(dir / "l", 99, keep_gid, {.follow_symlinks = false}));
    REQUIRE(::lstat((dir / "l").c_str(), &st) == 0);
    CHECK(st.st_uid == 99);
}

TEST_CASE("chroot confines a child process") {
    temp_dir dir;
    CHECK_ERRNO(ospp::chroot(dir / "nope"), ENOENT, enoent("chroot", dir / "nope"));
    if (!ospp_test::is_root()) {
        CHECK_ERRNO(ospp::chroot(dir.path()), EPERM,
                    "chroot: [Errno 1] Operation not permitted: " + ospp::quote_path(dir.path()));
        OSPP_SKIP("chroot needs root (CAP_SYS_CHROOT)");
    }
    ospp_test::write_file(dir / "marker", "");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // In the child: after chroot, "/marker" is the file made above.
        const bool ok = ospp::chroot(dir.path()) && ::chdir("/") == 0 && ::access("/marker", F_OK) == 0;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("link makes a hard link, following a symlink source by default") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "data");
    REQUIRE(ospp::link(dir / "f", dir / "h"));
    CHECK(ospp_test::read_file(dir / "h") == "data");
    struct ::stat st {};
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_nlink == 2);
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    auto d = open_dir(dir.path());
    REQUIRE(ospp::link("l", "via_follow", {.src_dir_fd = d, .dst_dir_fd = d}));
    CHECK(S_ISREG(mode_of(dir / "via_follow")));
    REQUIRE(ospp::link("l", "link_itself", {.src_dir_fd = d, .dst_dir_fd = d, .follow_symlinks = false}));
    CHECK(S_ISLNK(mode_of(dir / "link_itself")));
    REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
    auto sub = open_dir(dir / "sub");
    REQUIRE(ospp::link("f", "h2", {.src_dir_fd = d, .dst_dir_fd = sub}));
    CHECK(ospp_test::read_file(dir / "sub/h2") == "data");
    CHECK_ERRNO(ospp::link(dir / "f", dir / "h"), EEXIST,
                "link: [Errno 17] File exists: '" + (dir / "f") + "' -> '" + (dir / "h") + "'");
}

TEST_CASE("symlink and readlink round-trip any target, including long ones") {
    temp_dir dir;
    REQUIRE(ospp::symlink("some/target", dir / "l"));
    CHECK(ospp::readlink(dir / "l").value() == "some/target");
    const std::string long_target(1000, 'x');
    auto d = open_dir(dir.path());
    REQUIRE(ospp::symlink(long_target, "long", {.dir_fd = d}));
    CHECK(ospp::readlink("long", {.dir_fd = d}).value() == long_target);
    CHECK_ERRNO(ospp::symlink("x", dir / "l"), EEXIST,
                "symlink: [Errno 17] File exists: 'x' -> '" + (dir / "l") + "'");
    ospp_test::write_file(dir / "f", "");
    CHECK_ERRNO(ospp::readlink(dir / "f"), EINVAL, "readlink: [Errno 22] Invalid argument: '" + (dir / "f") + "'");
}

TEST_CASE("listdir lists names without . and .., by path and by fd") {
    temp_dir dir;
    ospp_test::write_file(dir / "a", "");
    ospp_test::write_file(dir / "b c", "");
    REQUIRE(::mkdir((dir / "d").c_str(), 0700) == 0);
    auto names = ospp::listdir(dir.path());
    REQUIRE(names.has_value());
    std::sort(names->begin(), names->end());
    CHECK(*names == std::vector<std::string>{"a", "b c", "d"});
    auto d = open_dir(dir.path());
    auto again = ospp::listdir(d);
    REQUIRE(again.has_value());
    CHECK(again->size() == 3);
    CHECK(ospp::listdir(d).value().size() == 3);  // from the start each time
    // d's own position is left where it was (Python's listdir(fd) rewinds it to the start).
    std::array<char, 4096> entries;
    REQUIRE(::syscall(SYS_getdents64, d.get(), entries.data(), entries.size()) > 0);
    const ::off_t at = ::lseek(d.get(), 0, SEEK_CUR);
    CHECK(ospp::listdir(d).value().size() == 3);
    CHECK(::lseek(d.get(), 0, SEEK_CUR) == at);
    CHECK_ERRNO(ospp::listdir(dir / "nope"), ENOENT, enoent("listdir", dir / "nope"));
    CHECK_ERRNO(ospp::listdir(""), ENOENT, "listdir: [Errno 2] No such file or directory: ''");  // as Python
    CHECK_ERRNO(ospp::listdir(dir / "a"), ENOTDIR,
                "listdir: [Errno 20] Not a directory: " + ospp::quote_path(dir / "a"));
    CHECK_ERRNO(ospp::listdir(ospp::fd_ref(-1)), EBADF, "listdir: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::listdir(ospp::cwd_fd), EBADF, "listdir: [Errno 9] Bad file descriptor");  // as os.listdir(-100)
}

TEST_CASE("mkdir, mkfifo, mknod create what they say") {
    temp_dir dir;
    const ::mode_t mask = ::umask(022);
    REQUIRE(ospp::mkdir(dir / "d", 0750));
    CHECK(mode_of(dir / "d") == (S_IFDIR | 0750));
    auto d = open_dir(dir.path());
    REQUIRE(ospp::mkdir("e", 0777, {.dir_fd = d}));
    CHECK(mode_of(dir / "e") == (S_IFDIR | 0755));
    REQUIRE(ospp::mkfifo(dir / "fifo", 0640));
    CHECK(mode_of(dir / "fifo") == (S_IFIFO | 0640));
    REQUIRE(ospp::mknod(dir / "node", S_IFREG | 0600));
    CHECK(mode_of(dir / "node") == (S_IFREG | 0600));
    REQUIRE(ospp::mknod("fifo2", S_IFIFO | 0600, 0, {.dir_fd = d}));
    CHECK(S_ISFIFO(mode_of(dir / "fifo2")));
    ::umask(mask);
    CHECK_ERRNO(ospp::mkdir(dir / "d"), EEXIST, "mkdir: [Errno 17] File exists: '" + (dir / "d") + "'");
    CHECK_ERRNO(ospp::mkfifo(dir / "fifo"), EEXIST,
                "mkfifo: [Errno 17] File exists: " + ospp::quote_path(dir / "fifo"));
    CHECK_ERRNO(ospp::mkdir(dir / "no/such"), ENOENT,
                "mkdir: [Errno 2] No such file or directory: " + ospp::quote_path(dir / "no/such"));
    if (ospp_test::is_root()) {
        REQUIRE(ospp::mknod(dir / "null", S_IFCHR | 0600, ospp::make_device(1, 3)));
        struct ::stat st {};
        REQUIRE(::stat((dir / "null").c_str(), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(ospp::device_major(st.st_rdev) == 1);
        CHECK(ospp::device_minor(st.st_rdev) == 3);
    } else {
        CHECK_ERRNO(ospp::mknod(dir / "null", S_IFCHR | 0600, ospp::make_device(1, 3)), EPERM,
                    "mknod: [Errno 1] Operation not permitted: " + ospp::quote_path(dir / "null"));
    }
}

TEST_CASE("makedirs creates parents, honours exist_ok, and refuses a file in the way") {
    temp_dir dir;
    const ::mode_t mask = ::umask(0);
    REQUIRE(ospp::makedirs(dir / "a/b/c", 0700));
    CHECK(mode_of(dir / "a/b/c") == (S_IFDIR | 0700));
    CHECK(mode_of(dir / "a/b") == (S_IFDIR | 0777));  // parents get 0777 like Python 3.7+
    ::umask(mask);
    CHECK_ERRNO(ospp::makedirs(dir / "a/b/c"), EEXIST,
                "makedirs: [Errno 17] File exists: '" + (dir / "a/b/c") + "'");
    CHECK(ospp::makedirs(dir / "a/b/c", 0777, {.exist_ok = true}));
    CHECK(ospp::makedirs(dir / "x/y/", 0777));
    CHECK(S_ISDIR(mode_of(dir / "x/y")));
    ospp_test::write_file(dir / "file", "");
    CHECK_ERRNO(ospp::makedirs(dir / "file", 0777, {.exist_ok = true}), EEXIST,
                "makedirs: [Errno 17] File exists: " + ospp::quote_path(dir / "file"));
    CHECK_ERRNO(ospp::makedirs(dir / "file/sub"), ENOTDIR,
                "makedirs: [Errno 20] Not a directory: " + ospp::quote_path(dir / "file/sub"));
}

TEST_CASE("makedirs of a path of 100,000 components is an error, not a stack overflow") {
    temp_dir dir;
    // Python's makedirs recurses once per missing parent (RecursionError past 1000); ospp's must
    // not recurse at all: this path crashed it with SIGSEGV. Under a file, nothing gets created.
    ospp_test::write_file(dir / "file", "");
    std::string deep = dir / "file";
    for (int i = 0; i < 100000; ++i) deep += "/a";
    CHECK_ERRNO(ospp::makedirs(deep), ENOTDIR,
                "makedirs: [Errno 20] Not a directory: " + ospp::quote_path(dir / "file/a"));
    // The "." of a missing parent is skipped once the directory before it is made, as in Python.
    REQUIRE(ospp::makedirs(dir / "n/./m//"));
    CHECK(S_ISDIR(mode_of(dir / "n/m")));
}

TEST_CASE("remove, unlink, rmdir") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    ospp_test::write_file(dir / "g", "");
    REQUIRE(::mkdir((dir / "d").c_str(), 0700) == 0);
    REQUIRE(ospp::remove(dir / "f"));
    CHECK_FALSE(exists(dir / "f"));
    auto d = open_dir(dir.path());
    REQUIRE(ospp::unlink("g", {.dir_fd = d}));
    CHECK_FALSE(exists(dir / "g"));
    CHECK_ERRNO(ospp::unlink(dir / "g"), ENOENT, enoent("unlink", dir / "g"));
    CHECK_ERRNO(ospp::remove(dir / "g"), ENOENT, enoent("remove", dir / "g"));
    CHECK_ERRNO(ospp::unlink(dir / "d"), EISDIR, "unlink: [Errno 21] Is a directory: " + ospp::quote_path(dir / "d"));
    ospp_test::write_file(dir / "d/x", "");
    CHECK_ERRNO(ospp::rmdir(dir / "d"), ENOTEMPTY, "rmdir: [Errno 39] Directory not empty: '" + (dir / "d") + "'");
    REQUIRE(ospp::unlink(dir / "d/x"));
    REQUIRE(ospp::rmdir("d", {.dir_fd = d}));
    CHECK_FALSE(exists(dir / "d"));
}

TEST_CASE("removedirs removes empty parents and stops at the first non-empty one") {
    temp_dir dir;
    REQUIRE(::mkdir((dir / "a").c_str(), 0700) == 0);
    REQUIRE(::mkdir((dir / "a/b").c_str(), 0700) == 0);
    REQUIRE(::mkdir((dir / "a/b/c").c_str(), 0700) == 0);
    ospp_test::write_file(dir / "keep", "");
    REQUIRE(ospp::removedirs(dir / "a/b/c/"));
    CHECK_FALSE(exists(dir / "a"));
    CHECK(exists(dir.path()));  // not empty: "keep" stops the climb
    CHECK_ERRNO(ospp::removedirs(dir / "a"), ENOENT, enoent("removedirs", dir / "a"));
}

TEST_CASE("rename and replace move atomically and name both paths on error") {
    temp_dir dir;
    ospp_test::write_file(dir / "a", "A");
    ospp_test::write_file(dir / "b", "B");
    REQUIRE(ospp::rename(dir / "a", dir / "c"));
    CHECK(ospp_test::read_file(dir / "c") == "A");
    REQUIRE(ospp::replace(dir / "c", dir / "b"));
    CHECK(ospp_test::read_file(dir / "b") == "A");
    CHECK_FALSE(exists(dir / "c"));
    auto d = open_dir(dir.path());
    REQUIRE(ospp::rename("b", "e", {.src_dir_fd = d, .dst_dir_fd = d}));
    CHECK(exists(dir / "e"));
    // Two different directories: src is looked up in src_dir_fd, dst in dst_dir_fd.
    REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
    auto sub = open_dir(dir / "sub");
    REQUIRE(ospp::rename("e", "moved", {.src_dir_fd = d, .dst_dir_fd = sub}));
    CHECK(ospp_test::read_file(dir / "sub/moved") == "A");
    REQUIRE(ospp::replace("moved", "back", {.src_dir_fd = sub, .dst_dir_fd = d}));
    CHECK(ospp_test::read_file(dir / "back") == "A");
    CHECK_FALSE(exists(dir / "sub/moved"));
    CHECK_ERRNO(ospp::rename(dir / "a", dir / "b"), ENOENT,
                "rename: [Errno 2] No such file or directory: '" + (dir / "a") + "' -> '" + (dir / "b") + "'");
    CHECK_ERRNO(ospp::replace(dir / "a", dir / "b"), ENOENT,
                "replace: [Errno 2] No such file or directory: '" + (dir / "a") + "' -> '" + (dir / "b") + "'");
}

TEST_CASE("two-path calls refuse an embedded NUL in either path, and change nothing") {
    // Python: ValueError (embedded null byte); here EINVAL naming the refused path. Without the
    // check, the kernel would see only the part before the NUL: "b\0c" would be "b".
    temp_dir dir;
    ospp_test::write_file(dir / "a", "A");
    const std::string bad = dir / std::string("b\0c", 3);
    const std::string quoted = ospp::quote_path(bad);
    CHECK_ERRNO(ospp::rename(dir / "a", bad), EINVAL, "rename: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::replace(dir / "a", bad), EINVAL, "replace: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::link(dir / "a", bad), EINVAL, "link: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::symlink("a", bad), EINVAL, "symlink: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::rename(bad, dir / "a"), EINVAL, "rename: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::copy_file(dir / "a", bad), EINVAL, "copy_file: [Errno 22] Invalid argument: " + quoted);
    CHECK_ERRNO(ospp::renames(dir / "a", bad), EINVAL, "renames: [Errno 22] Invalid argument: " + quoted);
    CHECK_FALSE(exists(dir / "b"));
    CHECK(ospp_test::read_file(dir / "a") == "A");
}

TEST_CASE("renames creates the new parents and prunes the old ones") {
    temp_dir dir;
    REQUIRE(::mkdir((dir / "old").c_str(), 0700) == 0);
    REQUIRE(::mkdir((dir / "old/sub").c_str(), 0700) == 0);
    ospp_test::write_file(dir / "old/sub/f", "x");
    REQUIRE(ospp::renames(dir / "old/sub/f", dir / "new/deep/g"));
    CHECK(ospp_test::read_file(dir / "new/deep/g") == "x");
    CHECK_FALSE(exists(dir / "old"));
    // new's parents are made with exist_ok: "made/.." exists once "made" does (Python: FileExistsError).
    REQUIRE(ospp::renames(dir / "new/deep/g", dir / "made/../top"));
    CHECK(ospp_test::read_file(dir / "top") == "x");
    CHECK(S_ISDIR(mode_of(dir / "made")));
    CHECK_ERRNO(ospp::renames(dir / "nope", dir / "other/x"), ENOENT,
                "renames: [Errno 2] No such file or directory: " + ospp::quote_path(dir / "nope") + " -> " +
                    ospp::quote_path(dir / "other/x"));
}

TEST_CASE("truncate shortens and extends; sync returns") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "0123456789");
    REQUIRE(ospp::truncate(dir / "f", 4));
    CHECK(ospp_test::read_file(dir / "f") == "0123");
    REQUIRE(ospp::truncate(dir / "f", 6));
    CHECK(ospp_test::read_file(dir / "f") == std::string("0123\0\0", 6));
    CHECK_ERRNO(ospp::truncate(dir / "nope", 0), ENOENT, enoent("truncate", dir / "nope"));
    CHECK_ERRNO(ospp::truncate(dir / "f", -1), EINVAL,
                "truncate: [Errno 22] Invalid argument: " + ospp::quote_path(dir / "f"));
    ospp::sync();
}

TEST_CASE("utime sets nanosecond times that read back exactly") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "");
    const ospp::file_time a{std::chrono::nanoseconds(1'234'567'890'123'456'789)};
    const ospp::file_time m{std::chrono::nanoseconds(987'654'321'987'654'321)};
    REQUIRE(ospp::utime(dir / "f", a, m));
    struct ::stat st {};
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_atim.tv_sec == 1'234'567'890);
    CHECK(st.st_atim.tv_nsec == 123'456'789);
    CHECK(st.st_mtim.tv_sec == 987'654'321);
    CHECK(st.st_mtim.tv_nsec == 987'654'321);
    // Before the epoch: floor division keeps tv_nsec in range.
    const ospp::file_time before{std::chrono::nanoseconds(-1'500'000'000)};
    REQUIRE(ospp::utime(dir / "f", before, before));
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == -2);
    CHECK(st.st_mtim.tv_nsec == 500'000'000);
    // A symlink's own times, through dir_fd.
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    auto d = open_dir(dir.path());
    REQUIRE(ospp::utime("l", a, a, {.dir_fd = d, .follow_symlinks = false}));
    REQUIRE(::lstat((dir / "l").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_nsec == 123'456'789);
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == -2);  // the target is untouched
    // Now.
    REQUIRE(ospp::utime(dir / "f"));
    REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec > 1'600'000'000);
    CHECK_ERRNO(ospp::utime(dir / "nope"), ENOENT, enoent("utime", dir / "nope"));
}

TEST_CASE("copy_file copies contents (large, empty, from /proc) and refuses the same file") {
    temp_dir dir;
    std::string big;
    for (int i = 0; i < 300'000; ++i) big += static_cast<char>('a' + i % 26);
    ospp_test::write_file(dir / "src", big);
    auto n = ospp::copy_file(dir / "src", dir / "dst");
    REQUIRE(n.has_value());
    CHECK(*n == big.size());
    CHECK(ospp_test::read_file(dir / "dst") == big);
    // An existing, longer dst is truncated first.
    ospp_test::write_file(dir / "small", "xy");
    REQUIRE(ospp::copy_file(dir / "small", dir / "dst"));
    CHECK(ospp_test::read_file(dir / "dst") == "xy");
    ospp_test::write_file(dir / "empty", "");
    CHECK(ospp::copy_file(dir / "empty", dir / "dst").value() == 0);
    CHECK(ospp_test::read_file(dir / "dst").empty());
    // /proc files report size 0 but have content: the fallback copies it.
    REQUIRE(ospp::copy_file("/proc/self/status", dir / "status"));
    CHECK(ospp_test::read_file(dir / "status").starts_with("Name:"));
    // dir_fd, and a symlink copied as a symlink.
    REQUIRE(::symlink("src", (dir / "l").c_str()) == 0);
    auto d = open_dir(dir.path());
    REQUIRE(ospp::copy_file("l", "l2", {.src_dir_fd = d, .dst_dir_fd = d, .follow_symlinks = false}));
    CHECK(ospp::readlink(dir / "l2").value() == "src");
    REQUIRE(ospp::copy_file("l", "via", {.src_dir_fd = d, .dst_dir_fd = d}));
    CHECK(ospp_test::read_file(dir / "via") == big);
    // Errors.
    CHECK_ERRNO(ospp::copy_file(dir / "l", dir / "src"), EINVAL,
                "copy_file: [Errno 22] Invalid argument: '" + (dir / "l") + "' -> '" + (dir / "src") + "'");
    CHECK(ospp_test::read_file(dir / "src") == big);  // not truncated by the refusal
    CHECK_ERRNO(ospp::copy_file(dir / "nope", dir / "x"), ENOENT, enoent("copy_file", dir / "nope"));
    CHECK_ERRNO(ospp::copy_file(dir.path(), dir / "x"), EISDIR,
                "copy_file: [Errno 21] Is a directory: " + ospp::quote_path(dir.path()));
    CHECK_ERRNO(ospp::copy_file(dir / "src", dir / "no/such"), ENOENT,
                "copy_file: [Errno 2] No such file or directory: " + ospp::quote_path(dir / "no/such"));
}

TEST_CASE("every path call fails the lookup of \"file/\" with ENOTDIR, and of a symlink loop with ELOOP") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "data");
    REQUIRE(::symlink("loop", (dir / "loop").c_str()) == 0);
    const std::string f = dir / "f/";
    auto enotdir = [&](const char* call) {
        return std::string(call) + ": [Errno 20] Not a directory: " + ospp::quote_path(f);
    };
    CHECK_ERRNO(ospp::access(f, access_mode::f_ok), ENOTDIR, enotdir("access"));
    CHECK_ERRNO(ospp::chmod(f, 0644), ENOTDIR, enotdir("chmod"));
    CHECK_ERRNO(ospp::unlink(f), ENOTDIR, enotdir("unlink"));
    CHECK_ERRNO(ospp::remove(f), ENOTDIR, enotdir("remove"));
    CHECK_ERRNO(ospp::truncate(f, 0), ENOTDIR, enotdir("truncate"));
    CHECK_ERRNO(ospp::readlink(f), ENOTDIR, enotdir("readlink"));
    CHECK_ERRNO(ospp::utime(f), ENOTDIR, enotdir("utime"));
    CHECK_ERRNO(ospp::copy_file(f, dir / "g"), ENOTDIR, enotdir("copy_file"));
    CHECK_ERRNO(ospp::pathconf(f, ospp::pathconf_name::name_max), ENOTDIR, enotdir("pathconf"));
    CHECK_ERRNO(ospp::listdir(f), ENOTDIR, enotdir("listdir"));
    CHECK(ospp_test::read_file(dir / "f") == "data");
    const std::string loop = dir / "loop";
    auto eloop = [&](const char* call) {
        return std::string(call) + ": [Errno 40] Too many levels of symbolic links: " + ospp::quote_path(loop);
    };
    CHECK_ERRNO(ospp::access(loop, access_mode::f_ok), ELOOP, eloop("access"));
    CHECK_ERRNO(ospp::chmod(loop, 0644), ELOOP, eloop("chmod"));
    CHECK_ERRNO(ospp::truncate(loop, 0), ELOOP, eloop("truncate"));
    CHECK_ERRNO(ospp::utime(loop), ELOOP, eloop("utime"));
    CHECK_ERRNO(ospp::chdir(loop), ELOOP, eloop("chdir"));
    CHECK_ERRNO(ospp::copy_file(loop, dir / "g"), ELOOP, eloop("copy_file"));
    CHECK_ERRNO(ospp::listdir(loop), ELOOP, eloop("listdir"));
    CHECK_ERRNO(ospp::scandir(loop), ELOOP, eloop("scandir"));
    // Not followed, the loop is just a symlink.
    CHECK(ospp::access(loop, access_mode::f_ok, {.follow_symlinks = false}));
    CHECK(ospp::utime(loop, {.follow_symlinks = false}));
}

TEST_CASE("copy_file refuses the same file before trying to open it for writing, like SameFileError") {
    // Python compares src and dst by stat before it opens either. Opening dst for writing first
    // turned the refusal into that open's error: ETXTBSY for a running program, EACCES (as an
    // ordinary user) for a file one may read but not write.
    CHECK_ERRNO(ospp::copy_file("/proc/self/exe", "/proc/self/exe"), EINVAL,
                "copy_file: [Errno 22] Invalid argument: '/proc/self/exe' -> '/proc/self/exe'");
    temp_dir dir;
    ospp_test::write_file(dir / "ro", "data");
    REQUIRE(::chmod((dir / "ro").c_str(), 0444) == 0);
    CHECK_ERRNO(ospp::copy_file(dir / "ro", dir / "ro"), EINVAL,
                "copy_file: [Errno 22] Invalid argument: " + ospp::quote_path(dir / "ro") + " -> " +
                    ospp::quote_path(dir / "ro"));
    CHECK(ospp_test::read_file(dir / "ro") == "data");
}

// A kernel without copy_file_range (before 4.5) says ENOSYS; a seccomp filter that does not know
// it (or sendfile) says EPERM. Python's shutil gives up its fast copy on any first error with
// nothing copied: each refusal must lead to the next method, and the copy be whole.
TEST_CASE("copy_file falls back when copy_file_range and sendfile are missing or refused by seccomp") {
    temp_dir dir;
    std::string data;
    for (int i = 0; i < 200'000; ++i) data += static_cast<char>('a' + i % 26);
    ospp_test::write_file(dir / "src", data);
    for (const int err : {ENOSYS, EPERM}) {
        for (const long nr : {long{SYS_copy_file_range}, long{SYS_sendfile}}) {
            CAPTURE(err);
            CAPTURE(nr);
            const std::string dst = dir / "dst";
            const std::string report = ospp_test::in_child([&]() -> std::string {
                if (!ospp_test::refuse_syscall(SYS_copy_file_range, err)) return "cannot install the seccomp filter";
                if (nr == SYS_sendfile && !ospp_test::refuse_syscall(SYS_sendfile, err)) return "cannot install the seccomp filter";
                auto n = ospp::copy_file(dir / "src", dst);
                if (!n) return n.error().message();
                return *n == data.size() ? "" : "copied " + std::to_string(*n) + " bytes";
            });
            CHECK(report == "");
            CHECK((ospp_test::read_file(dst) == data));  // not decomposed: 200 kB in a failure line
            REQUIRE(::unlink(dst.c_str()) == 0);
        }
    }
}

TEST_CASE("copy_file refuses a named pipe at either end instead of blocking on it") {
    temp_dir dir;
    REQUIRE(::mkfifo((dir / "p").c_str(), 0600) == 0);
    ospp_test::write_file(dir / "f", "data");
    // In a child with an alarm: were a pipe opened, the copy would wait for a peer for good.
    const std::string report = ospp_test::in_child([&]() -> std::string {
        ::alarm(10);
        const auto from = ospp::copy_file(dir / "p", dir / "out");
        if (from || from.error().code() != EINVAL || from.error().message() != "copy_file: [Errno 22] Invalid argument: '" + (dir / "p") + "'") {
            return "from a pipe: " + (from ? std::string("copied") : from.error().message());
        }
        const auto to = ospp::copy_file(dir / "f", dir / "p");
        if (to || to.error().code() != EINVAL || to.error().path() != dir / "p") {
            return "to a pipe: " + (to ? std::string("copied") : to.error().message());
        }
        return "";
    });
    CHECK(report == "");
    struct ::stat st {};
    CHECK(::lstat((dir / "out").c_str(), &st) != 0);  // refused before dst was created
    // A character device is read as opened (blocking): /dev/null copies as empty.
    CHECK(ospp::copy_file("/dev/null", dir / "empty").value() == 0);
}

TEST_CASE("copy_file opens src and dst close-on-exec, so that a concurrent fork and exec inherits neither") {
    // The copy blocks reading a terminal (src) while another thread looks at the descriptors it
    // holds; in a child, whose threads the suite does not share.
    temp_dir dir;
    const std::string dst = dir / "dst";
    const std::string report = ospp_test::in_child([&]() -> std::string {
        auto pty = ospp::openpty().value();
        const std::string src = ospp::ttyname(pty.slave).value();
        std::optional<ospp::result<std::uint64_t>> copied;
        std::atomic<bool> finished = false;  // early, by a failure to open: nothing to wait for
        std::thread copier([&] {
            copied = ospp::copy_file(src, dst);
            finished = true;
        });
        // The flags of the copy's own descriptor for `target`, once it is open.
        auto open_flags_of = [&](const std::string& target) -> std::optional<long> {
            auto fds = ospp::listdir("/proc/self/fd");
            if (!fds) return std::nullopt;
            for (const std::string& name : *fds) {
                if (name == std::to_string(pty.slave.get())) continue;
                auto link = ospp::readlink("/proc/self/fd/" + name);
                if (!link || *link != target) continue;
                std::ifstream info("/proc/self/fdinfo/" + name);
                std::string key, value;
                while (info >> key >> value) {
                    if (key == "flags:") return std::stol(value, nullptr, 8);
                }
            }
            return std::nullopt;
        };
        std::optional<long> src_flags, dst_flags;
        while ((!src_flags || !dst_flags) && !finished) {
            if (!src_flags) src_flags = open_flags_of(src);
            if (!dst_flags) dst_flags = open_flags_of(dst);
            ::sched_yield();
        }
        // A line, then end of file (VEOF at the start of a line): the copy ends with the line.
        (void)ospp::write(pty.master, "hi\n\x04");
        copier.join();
        if (!src_flags || !dst_flags) return "the copy ended before both files were open";
        if ((*src_flags & O_CLOEXEC) == 0) return "src is not close-on-exec";
        if ((*dst_flags & O_CLOEXEC) == 0) return "dst is not close-on-exec";
        if (!copied || !*copied) return "the copy failed";
        return **copied == 3 ? "" : "copied " + std::to_string(**copied) + " bytes";
    });
    CHECK(report == "");
    CHECK(ospp_test::read_file(dst) == "hi\n");
}

TEST_CASE("copy_file from or to a terminal does not make it the caller's controlling terminal") {
    // A session leader without a terminal (a daemon) acquires the first terminal it opens without
    // O_NOCTTY: copying from or to one must not, or the terminal's hangup would later kill it.
    temp_dir dir;
    ospp_test::write_file(dir / "file", "to the tty\n");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (::setsid() < 0) return "setsid failed";
        auto pty = ospp::openpty().value();
        const std::string tty = ospp::ttyname(pty.slave).value();
        auto controlling_tty = [] {
            const std::string stat = ospp_test::read_file("/proc/self/stat");
            std::istringstream fields(stat.substr(stat.rfind(')') + 2));
            std::string state, ppid, pgrp, session, tty_nr;
            fields >> state >> ppid >> pgrp >> session >> tty_nr;
            return tty_nr;
        };
        (void)ospp::write(pty.master, "hi\n\x04");  // a line, then end of file
        auto from = ospp::copy_file(tty, dir / "from_tty");
        if (!from || *from != 3) return "the copy from the terminal failed";
        if (controlling_tty() != "0") return "copying from the terminal made it the controlling terminal";
        auto to = ospp::copy_file(dir / "file", tty);
        if (!to || *to != 11) return "the copy to the terminal failed";
        if (controlling_tty() != "0") return "copying to the terminal made it the controlling terminal";
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("copy_file's read/write fallback runs on a small thread stack") {
    // 128 KiB is musl's default thread stack; /proc files take the read/write path. Run in a child:
    // a stack overflow kills it, not the suite.
    temp_dir dir;
    const int code = ospp_test::exit_code_of([&] {
        struct job {
            std::string dst;
            bool ok = false;
        } j{dir / "status", false};
        ::pthread_attr_t attr;
        ::pthread_attr_init(&attr);
        ::pthread_attr_setstacksize(&attr, std::size_t{128} * 1024);
        ::pthread_t t;
        auto body = [](void* arg) -> void* {
            auto* jp = static_cast<job*>(arg);
            jp->ok = ospp::copy_file("/proc/self/status", jp->dst).has_value();
            return nullptr;
        };
        const int made = ::pthread_create(&t, &attr, body, &j);
        ::pthread_attr_destroy(&attr);
        if (made != 0) return 2;
        ::pthread_join(t, nullptr);
        return j.ok ? 0 : 1;
    });
    CHECK(code == 0);  // 1000 + 11: the thread overflowed its stack (SIGSEGV)
    CHECK(ospp_test::read_file(dir / "status").starts_with("Name:"));
}

TEST_CASE("copy_file waits for a lease on src to be given up, as Python's blocking open does") {
    // Another process holds a write lease on src (as Samba or an NFS server's delegation would):
    // an open breaks it, and a non-blocking open fails with EWOULDBLOCK instead of waiting.
    temp_dir dir;
    ospp_test::write_file(dir / "src", "leased");
    int ready[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    const pid_t holder = ::fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
        ::sigset_t io;
        ::sigemptyset(&io);
        ::sigaddset(&io, SIGIO);  // the lease break's notice, waited for below
        ::sigprocmask(SIG_BLOCK, &io, nullptr);
        const int f = ::open((dir / "src").c_str(), O_RDONLY | O_CLOEXEC);
        const bool leased = f >= 0 && ::fcntl(f, F_SETLEASE, F_WRLCK) == 0;
        if (::write(ready[1], leased ? "y" : "n", 1) != 1 || !leased) ::_exit(1);
        int sig = 0;
        ::sigwait(&io, &sig);
        ::_exit(::fcntl(f, F_SETLEASE, F_UNLCK) == 0 ? 0 : 2);  // gives the lease up: the open goes on
    }
    ::close(ready[1]);
    char leased = 'n';
    CHECK(::read(ready[0], &leased, 1) == 1);
    ::close(ready[0]);
    const auto copied = leased == 'y' ? ospp::copy_file(dir / "src", dir / "dst") : ospp::result<std::uint64_t>(0);
    ::kill(holder, SIGIO);  // in case the copy never opened src
    int status = 0;
    REQUIRE(::waitpid(holder, &status, 0) == holder);
    if (leased != 'y') OSPP_SKIP("F_SETLEASE is refused here (fs.leases-enable=0?)");
    CHECK(WIFEXITED(status));
    INFO((copied ? std::string() : copied.error().message()));
    REQUIRE(copied.has_value());
    CHECK(*copied == 6);
    CHECK(ospp_test::read_file(dir / "dst") == "leased");
}

TEST_CASE("copy_file without following copies the whole target of a symlink that reports size 0") {
    // /proc's links have st_size 0: the target must still be read in full, as readlink does.
    temp_dir dir;
    REQUIRE(ospp::copy_file("/proc/self/cwd", dir / "cwd", {.follow_symlinks = false}));
    CHECK(ospp::readlink(dir / "cwd").value() == ospp::getcwd().value());
}

TEST_CASE("pathconf reads a limit of the file at a path, by typed or Python name") {
    ospp_test::temp_dir dir;
    const auto name_max = ospp::pathconf(dir.path(), ospp::pathconf_name::name_max);
    REQUIRE(name_max.has_value());
    CHECK(*name_max == ::pathconf(dir.path().c_str(), _PC_NAME_MAX));
    CHECK(ospp::pathconf(dir.path(), "PC_NAME_MAX").value() == *name_max);
    // A FIFO's PIPE_BUF is a real limit; no file system here limits SYMLINK_MAX: "no limit".
    CHECK(ospp::pathconf(dir.path(), ospp::pathconf_name::pipe_buf).value() == PIPE_BUF);
    const auto symlink_max = ospp::pathconf(dir.path(), ospp::pathconf_name::symlink_max);
    REQUIRE(symlink_max.has_value());
    CHECK_FALSE(symlink_max->has_value());

    CHECK_ERRNO(ospp::pathconf(dir / "missing", ospp::pathconf_name::name_max), ENOENT,
                "pathconf: [Errno 2] No such file or directory: '" + (dir / "missing") + "'");
    CHECK_ERRNO(ospp::pathconf(dir.path(), "PC_NOPE"), EINVAL,
                "pathconf: [Errno 22] Invalid argument: '" + dir.path() + "'");
}
