// test/stat_test.cpp — stat_result, mode helpers, filemode, statvfs, against the real files.
#include "ospp/stat.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "ospp/fd_ops.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp_test::temp_dir;

namespace {
struct ::stat raw_lstat(const std::string& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}
std::int64_t ns(const ::timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }
}  // namespace

TEST_CASE("stat fills every field like stat(2)") {
    temp_dir dir;
    const std::string f = dir / "f";
    ospp_test::write_file(f, "12345");
    REQUIRE(::chmod(f.c_str(), 0640) == 0);
    auto st = ospp::stat(f);
    REQUIRE(st.has_value());
    const struct ::stat raw = raw_lstat(f);
    CHECK(st->st_mode == raw.st_mode);
    CHECK(st->st_ino == raw.st_ino);
    CHECK(st->st_dev == raw.st_dev);
    CHECK(st->st_nlink == raw.st_nlink);
    CHECK(st->st_uid == raw.st_uid);
    CHECK(st->st_gid == raw.st_gid);
    CHECK(st->st_size == 5);
    CHECK(st->st_atime_ns == ns(raw.st_atim));
    CHECK(st->st_mtime_ns == ns(raw.st_mtim));
    CHECK(st->st_ctime_ns == ns(raw.st_ctim));
    CHECK(st->st_blocks == raw.st_blocks);
    CHECK(st->st_blksize == raw.st_blksize);
    CHECK(st->mtime().time_since_epoch().count() == st->st_mtime_ns);
    CHECK(st->is_file());
    CHECK_FALSE(st->is_dir());
    if (st->has_birthtime) CHECK(st->st_birthtime_ns <= st->st_mtime_ns);
}

TEST_CASE("stat follows symlinks unless told not to; lstat never does") {
    temp_dir dir;
    ospp_test::write_file(dir / "target", "x");
    REQUIRE(::symlink("target", (dir / "link").c_str()) == 0);
    auto followed = ospp::stat(dir / "link");
    REQUIRE(followed.has_value());
    CHECK(followed->is_file());
    auto own = ospp::stat(dir / "link", {.follow_symlinks = false});
    REQUIRE(own.has_value());
    CHECK(own->is_symlink());
    CHECK(own->st_size == 6);  // the length of "target"
    auto l = ospp::lstat(dir / "link");
    REQUIRE(l.has_value());
    CHECK(l->same_file(*own));
    CHECK_FALSE(l->same_file(*followed));
}

TEST_CASE("stat and lstat take dir_fd; fstat takes an fd") {
    temp_dir dir;
    ospp_test::write_file(dir / "inside", "abc");
    auto d = ospp::open(dir.path(), ospp::open_flags::rdonly | ospp::open_flags::directory);
    REQUIRE(d.has_value());
    auto st = ospp::stat("inside", {.dir_fd = *d});
    REQUIRE(st.has_value());
    CHECK(st->st_size == 3);
    auto l = ospp::lstat("inside", {.dir_fd = *d});
    REQUIRE(l.has_value());
    CHECK(l->same_file(*st));
    auto fs = ospp::fstat(*d);
    REQUIRE(fs.has_value());
    CHECK(fs->is_dir());
    CHECK(fs->st_ino == raw_lstat(dir.path()).st_ino);
}

TEST_CASE("stat errors name the call and the path") {
    temp_dir dir;
    const std::string missing = dir / "missing";
    CHECK_ERRNO(ospp::stat(missing), ENOENT, "stat: [Errno 2] No such file or directory: '" + missing + "'");
    CHECK_ERRNO(ospp::lstat(missing), ENOENT, "lstat: [Errno 2] No such file or directory: '" + missing + "'");
    ospp_test::write_file(dir / "file", "");
    CHECK_ERRNO(ospp::stat(dir / "file/below"), ENOTDIR,
                "stat: [Errno 20] Not a directory: " + ospp::quote_path(dir / "file/below"));
    CHECK_ERRNO(ospp::fstat(ospp::fd_ref(-1)), EBADF, "fstat: [Errno 9] Bad file descriptor");
    // AT_FDCWD is no descriptor: os.fstat(-100) is EBADF, not the working directory's status.
    CHECK_ERRNO(ospp::fstat(ospp::cwd_fd), EBADF, "fstat: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::stat(std::string("a\0b", 3)), EINVAL, "stat: [Errno 22] Invalid argument: 'a\\x00b'");
}

// Python's os.stat calls fstatat, which such a filter lets through: so must ospp's, rather than
// fail every stat, lstat, fstat, scandir and walk of the process with statx's errno.
TEST_CASE("stat falls back to fstatat when statx is missing (ENOSYS) or refused by seccomp (EPERM)") {
    temp_dir dir;
    const std::string f = dir / "f";
    ospp_test::write_file(f, "12345");
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    const std::string missing = dir / "missing";
    for (const int err : {ENOSYS, EPERM}) {
        CAPTURE(err);
        const std::string report = ospp_test::in_child([&]() -> std::string {
            if (!ospp_test::refuse_syscall(SYS_statx, err)) return "cannot install the seccomp filter";
            struct ::statx x {};  // the system call itself: glibc's statx emulates it on ENOSYS
            if (::syscall(SYS_statx, AT_FDCWD, f.c_str(), 0, STATX_BASIC_STATS, &x) == 0 || errno != err) {
                return "statx got through";
            }
            const struct ::stat raw = raw_lstat(f);
            auto st = ospp::stat(f);
            if (!st) return st.error().message();
            if (st->st_ino != raw.st_ino || st->st_size != 5 || st->st_mtime_ns != ns(raw.st_mtim)) return "stat differs";
            if (st->has_birthtime) return "a birth time without statx";
            auto l = ospp::lstat(dir / "l");
            if (!l) return l.error().message();
            if (!l->is_symlink()) return "lstat followed the link";
            const int fd = ::open(f.c_str(), O_PATH | O_CLOEXEC);
            auto fs = ospp::fstat(ospp::fd_ref(fd));
            ::close(fd);
            if (!fs) return fs.error().message();
            if (!fs->same_file(*st)) return "fstat differs";
            auto gone = ospp::stat(missing);  // a real error is still the real errno
            if (gone || gone.error().message() != "stat: [Errno 2] No such file or directory: '" + missing + "'") {
                return "stat of a missing file: " + (gone ? std::string("succeeded") : gone.error().message());
            }
            return "";
        });
        CHECK(report == "");
    }
}

TEST_CASE("stat does not trigger an automount, as stat(2) and Python's os.stat do not") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string point = dir / "tracing";
    // debugfs carries an automount point, "tracing", that mounts tracefs when a walk crosses it.
    // In a child's own mount namespace, so that nothing outlives the test.
    const std::string report = ospp_test::in_child([&]() -> std::string {
        struct ::stat before {}, after {};
        if (!ospp_test::private_mount_namespace() ||
            ::mount("none", dir.path().c_str(), "debugfs", 0, nullptr) != 0 || ::stat(point.c_str(), &before) != 0) {
            return "skip";
        }
        auto st = ospp::stat(point);
        auto l = ospp::lstat(point);
        if (!st || !l) return "stat failed";
        if (::stat(point.c_str(), &after) != 0 || after.st_dev != before.st_dev) return "tracefs was mounted";
        if (st->st_dev != before.st_dev || l->st_dev != before.st_dev) return "stat saw the automounted filesystem";
        return "";
    });
    if (report == "skip") OSPP_SKIP("no mount namespace or no debugfs with a tracing automount point");
    CHECK(report == "");
}

TEST_CASE("a timestamp beyond int64 nanoseconds is EOVERFLOW, never a wrapped value") {
    ospp_test::temp_dir dir;
    const std::string f = dir / "future";
    ospp_test::write_file(f, "x");
    // 2262-01-01 still fits in int64 nanoseconds; 2400-01-01 does not (ext4 stores up to 2446).
    constexpr std::int64_t fits = 9'183'110'400, too_far = 13'569'465'600;
    auto set_mtime = [&](std::int64_t sec) {
        const struct ::timespec times[2] = {{0, UTIME_OMIT}, {static_cast<::time_t>(sec), 5}};
        struct ::stat st {};
        return ::utimensat(AT_FDCWD, f.c_str(), times, 0) == 0 && ::stat(f.c_str(), &st) == 0 && st.st_mtim.tv_sec == sec;
    };
    if (!set_mtime(too_far)) OSPP_SKIP("the file system under TMPDIR does not store dates after 2262");
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK_ERRNO(ospp::stat(f), EOVERFLOW, "stat: [Errno 75] Value too large for defined data type: '" + f + "'");
    CHECK_ERRNO(ospp::fstat(ospp::fd_ref(fd)), EOVERFLOW, "fstat: [Errno 75] Value too large for defined data type");
    REQUIRE(set_mtime(fits));
    auto st = ospp::fstat(ospp::fd_ref(fd));
    ::close(fd);
    REQUIRE(st.has_value());
    CHECK(st->st_mtime_ns == fits * 1'000'000'000 + 5);
}

// Python 3.11 on Linux has no st_birthtime: its os.stat of such a file succeeds. A birth time
// comes only from the clock at creation, so it cannot be set by utimensat; ext4 stores it up to
// 2446, and debugfs writes one there, as a clock that was wrong at creation or a foreign disk would.
TEST_CASE("a birth time beyond int64 nanoseconds is no birth time, not a failed stat") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string image = dir / "image", mnt = dir / "mnt";
    REQUIRE(::mkdir(mnt.c_str(), 0700) == 0);
    // 256-byte inodes: the 128-byte ones of a small file system have no room for a birth time.
    const std::string make = "mkfs.ext4 -q -F -I 256 '" + image + "' 1M >/dev/null 2>&1 && printf '" +
                             "write /dev/null late\\nwrite /dev/null now\\nset_inode_field late crtime 24000101000000\\n'" +
                             " | debugfs -w -f - '" + image + "' >/dev/null 2>&1";
    if (std::system(make.c_str()) != 0) OSPP_SKIP("no mkfs.ext4 or debugfs");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (auto why = ospp_test::loop_mount(image, mnt); !why.empty()) return why;
        auto now = ospp::stat(mnt + "/now");
        if (!now) return now.error().message();
        if (!now->has_birthtime) return "ext4 gave no birth time";  // else this test proves nothing
        const struct ::stat raw = raw_lstat(mnt + "/late");
        auto late = ospp::stat(mnt + "/late");
        if (!late) return late.error().message();
        // debugfs answers 0 even when a command fails: then the birth time is the creation's.
        if (late->has_birthtime && late->st_birthtime_ns / 1'000'000'000 == raw.st_ctim.tv_sec) return "not set";
        if (late->has_birthtime || late->st_birthtime_ns != 0) return "a birth time that does not fit";
        if (late->st_mtime_ns != ns(raw.st_mtim) || late->st_ino != raw.st_ino) return "the other fields differ";
        return "";
    });
    if (report == "no mount namespace" || report == "no loop mount") OSPP_SKIP(report);
    if (report == "not set") OSPP_SKIP("this debugfs cannot set a birth time after 2262");
    CHECK(report == "");
}

TEST_CASE("times before 1970 down to the first int64 nanosecond, as Python's st_*_ns") {
    // A memfd lives on tmpfs, which stores any 64-bit second (ext4 stops at 1901).
    ospp::fd f(::memfd_create("old", MFD_CLOEXEC));
    REQUIRE(f.valid());
    auto set_times = [&](std::int64_t sec, long nsec) {
        const struct ::timespec t = {static_cast<::time_t>(sec), nsec};
        const struct ::timespec times[2] = {t, t};
        return ::futimens(f.get(), times) == 0;
    };
    REQUIRE(set_times(-1, 999'999'999));  // os.utime(ns=(-1, -1)): 1969-12-31 23:59:59.999999999
    auto st = ospp::fstat(f);
    REQUIRE(st.has_value());
    CHECK(st->st_mtime_ns == -1);
    CHECK(st->atime().time_since_epoch().count() == -1);
    // INT64_MIN ns is -9223372037 s + 145224192 ns (1677-09-21): the first time *_ns can hold.
    if (!set_times(-9'223'372'037, 145'224'192)) OSPP_SKIP("tmpfs does not store dates before 1678");
    st = ospp::fstat(f);
    REQUIRE(st.has_value());
    CHECK(st->st_mtime_ns == INT64_MIN);
    CHECK(st->st_atime_ns == INT64_MIN);
    REQUIRE(set_times(-9'223'372'037, 145'224'191));  // one nanosecond earlier
    CHECK_ERRNO(ospp::fstat(f), EOVERFLOW, "fstat: [Errno 75] Value too large for defined data type");
}

TEST_CASE("edge sizes and device numbers: a 2^62-byte sparse file, majors and minors past 255") {
    ospp::fd m(::memfd_create("sparse", MFD_CLOEXEC));
    REQUIRE(m.valid());
    REQUIRE(::ftruncate(m.get(), std::int64_t{1} << 62) == 0);
    auto st = ospp::fstat(m);
    REQUIRE(st.has_value());
    CHECK(st->st_size == std::int64_t{1} << 62);
    CHECK(st->st_blocks == 0);
    REQUIRE(::ftruncate(m.get(), INT64_MAX) == 0);  // tmpfs's MAX_LFS_FILESIZE
    CHECK(ospp::fstat(m).value().st_size == INT64_MAX);

    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string node = dir / "blk";
    // os.makedev(4000, 1048575): a 12-bit major and a 20-bit minor, both split across dev_t.
    if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(4000, 1048575)) != 0) OSPP_SKIP("mknod refused");
    st = ospp::stat(node);
    REQUIRE(st.has_value());
    CHECK(ospp::s_isblk(st->st_mode));
    CHECK(st->st_rdev == 0xffffa0ffU);  // Python's os.stat(node).st_rdev
    CHECK(ospp::device_major(st->st_rdev) == 4000);
    CHECK(ospp::device_minor(st->st_rdev) == 1048575);
    CHECK(ospp::filemode(st->st_mode) == "brw-------");
}

TEST_CASE("mode predicates agree with the macros, for every file type") {
    const ::mode_t types[] = {S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK};
    for (::mode_t t : types) {
        const ::mode_t m = t | 0755;
        CHECK(ospp::s_isreg(m) == S_ISREG(m));
        CHECK(ospp::s_isdir(m) == S_ISDIR(m));
        CHECK(ospp::s_islnk(m) == S_ISLNK(m));
        CHECK(ospp::s_ischr(m) == S_ISCHR(m));
        CHECK(ospp::s_isblk(m) == S_ISBLK(m));
        CHECK(ospp::s_isfifo(m) == S_ISFIFO(m));
        CHECK(ospp::s_issock(m) == S_ISSOCK(m));
        CHECK(ospp::s_ifmt(m) == t);
        CHECK(ospp::s_imode(m | S_ISUID) == (0755 | S_ISUID));
    }
}

TEST_CASE("filemode matches Python's stat.filemode") {
    CHECK(ospp::filemode(S_IFREG | 0644) == "-rw-r--r--");
    CHECK(ospp::filemode(S_IFDIR | 0755) == "drwxr-xr-x");
    CHECK(ospp::filemode(S_IFLNK | 0777) == "lrwxrwxrwx");
    CHECK(ospp::filemode(S_IFREG | S_ISUID | 0755) == "-rwsr-xr-x");
    CHECK(ospp::filemode(S_IFREG | S_ISUID | 0644) == "-rwSr--r--");
    // setgid looks at the group's x, not the owner's.
    CHECK(ospp::filemode(S_IFREG | S_ISGID | 0740) == "-rwxr-S---");
    CHECK(ospp::filemode(S_IFREG | S_ISGID | 0610) == "-rw---s---");
    CHECK(ospp::filemode(S_IFDIR | S_ISVTX | 01777) == "drwxrwxrwt");
    CHECK(ospp::filemode(S_IFDIR | S_ISVTX | 0776) == "drwxrwxrwT");
    CHECK(ospp::filemode(S_IFREG | S_ISGID | 0640) == "-rw-r-S---");
    CHECK(ospp::filemode(S_IFCHR | 0620) == "crw--w----");
    CHECK(ospp::filemode(S_IFBLK | 0660) == "brw-rw----");
    CHECK(ospp::filemode(S_IFIFO | 0600) == "prw-------");
    CHECK(ospp::filemode(S_IFSOCK | 0755) == "srwxr-xr-x");
    // The oracle: Python's own filemode for a few modes at once.
    const std::string py = "python3 -c 'import stat; print(stat.filemode(0o104755), stat.filemode(0o060640))'";
    FILE* p = ::popen(py.c_str(), "r");
    REQUIRE(p != nullptr);
    char line[64] = {};
    REQUIRE(std::fgets(line, sizeof line, p) != nullptr);
    ::pclose(p);
    CHECK(std::string(line) == ospp::filemode(0104755) + " " + ospp::filemode(0060640) + "\n");
}

TEST_CASE("device_major, device_minor and make_device match glibc's macros") {
    const unsigned pairs[][2] = {{0, 0}, {8, 1}, {259, 3}, {4095, 255}, {4096, 256}, {0xfffff, 0xfffff}};
    for (const auto& p : pairs) {
        const ::dev_t d = ospp::make_device(p[0], p[1]);
        CHECK(d == makedev(p[0], p[1]));
        CHECK(ospp::device_major(d) == p[0]);
        CHECK(ospp::device_minor(d) == p[1]);
    }
    auto st = ospp::stat("/dev/null");
    REQUIRE(st.has_value());
    CHECK(ospp::device_major(st->st_rdev) == 1);
    CHECK(ospp::device_minor(st->st_rdev) == 3);
}

TEST_CASE("statvfs and fstatvfs report the filesystem") {
    temp_dir dir;
    auto v = ospp::statvfs(dir.path());
    REQUIRE(v.has_value());
    struct ::statvfs raw {};
    REQUIRE(::statvfs(dir.path().c_str(), &raw) == 0);
    CHECK(v->f_bsize == raw.f_bsize);
    CHECK(v->f_frsize == raw.f_frsize);
    CHECK(v->f_blocks == raw.f_blocks);
    CHECK(v->f_namemax == raw.f_namemax);
    CHECK(ospp::to_raw(v->f_flag) == raw.f_flag);
    CHECK(v->f_fsid == raw.f_fsid);
    auto d = ospp::open(dir.path(), ospp::open_flags::rdonly | ospp::open_flags::directory);
    REQUIRE(d.has_value());
    auto fv = ospp::fstatvfs(*d);
    REQUIRE(fv.has_value());
    CHECK(fv->f_blocks == v->f_blocks);
    CHECK_ERRNO(ospp::statvfs(dir / "missing"), ENOENT,
                "statvfs: [Errno 2] No such file or directory: '" + (dir / "missing") + "'");
    CHECK_ERRNO(ospp::fstatvfs(ospp::fd_ref(-1)), EBADF, "fstatvfs: [Errno 9] Bad file descriptor");
    // The errors the header lists beyond ENOENT, as os.statvfs gives them.
    const std::string long_name = dir / std::string(256, 'n');
    CHECK_ERRNO(ospp::statvfs(long_name), ENAMETOOLONG, "statvfs: [Errno 36] File name too long: '" + long_name + "'");
    REQUIRE(::symlink("loop", (dir / "loop").c_str()) == 0);
    CHECK_ERRNO(ospp::statvfs(dir / "loop"), ELOOP,
                "statvfs: [Errno 40] Too many levels of symbolic links: '" + (dir / "loop") + "'");
    CHECK_ERRNO(ospp::statvfs(std::string("a\0b", 3)), EINVAL, "statvfs: [Errno 22] Invalid argument: 'a\\x00b'");
    // An O_PATH descriptor is enough, as for os.fstatvfs.
    const int path_fd = ::open(dir.path().c_str(), O_PATH | O_CLOEXEC);
    REQUIRE(path_fd >= 0);
    auto pv = ospp::fstatvfs(ospp::fd_ref(path_fd));
    ::close(path_fd);
    REQUIRE(pv.has_value());
    CHECK(pv->f_blocks == v->f_blocks);
}
