// test/scandir_test.cpp — scandir's range, entries and PEP 471 caching rules.
#include "ospp/scandir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <ranges>
#include <set>
#include <type_traits>

#include "child.hpp"
#include "counting_new.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "support.hpp"

using ospp_test::temp_dir;

// An entry views the range's buffer and fd, which the next entry reuses: keeping a copy past the
// loop body would read another entry's name, so copying one must not compile. The range is still
// a std input range (the iterator hands out references).
static_assert(!std::is_copy_constructible_v<ospp::dir_entry>);
static_assert(!std::is_copy_assignable_v<ospp::dir_entry>);
static_assert(std::ranges::input_range<ospp::scandir_range>);

namespace {
// name -> (is_dir, is_file, is_symlink, is_dir without following)
struct kinds {
    bool dir, file, link, dir_nofollow;
    bool operator==(const kinds&) const = default;
};
std::map<std::string, kinds> scan(const std::string& path) {
    std::map<std::string, kinds> out;
    auto it = ospp::scandir(path);
    REQUIRE(it.has_value());
    for (const ospp::dir_entry& e : *it) {
        out[std::string(e.name())] = {e.is_dir(), e.is_file(), e.is_symlink(), e.is_dir({.follow_symlinks = false})};
    }
    CHECK_FALSE(it->error().has_value());
    return out;
}
}  // namespace

TEST_CASE("scandir yields every entry with its type, following symlinks as Python does") {
    temp_dir dir;
    ospp_test::write_file(dir / "file", "x");
    REQUIRE(::mkdir((dir / "dir").c_str(), 0700) == 0);
    REQUIRE(::symlink("file", (dir / "to_file").c_str()) == 0);
    REQUIRE(::symlink("dir", (dir / "to_dir").c_str()) == 0);
    REQUIRE(::symlink("nowhere", (dir / "dangling").c_str()) == 0);
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    const auto got = scan(dir.path());
    const std::map<std::string, kinds> want = {
        {"file", {false, true, false, false}},    {"dir", {true, false, false, true}},
        {"to_file", {false, true, true, false}},  {"to_dir", {true, false, true, false}},
        {"dangling", {false, false, true, false}}, {"fifo", {false, false, false, false}},
    };
    CHECK(got == want);
}

TEST_CASE("close ends the iteration and closes the directory at once, like ScandirIterator.close") {
    temp_dir dir;
    for (const char* name : {"a", "b", "c"}) ospp_test::write_file(dir / name, "");
    auto r = ospp::scandir(dir.path());
    REQUIRE(r.has_value());
    auto it = r->begin();
    REQUIRE_FALSE(it == r->end());  // one entry read, two left
    const int raw = r->dir_fd().get();
    CHECK(::fcntl(raw, F_GETFD) == FD_CLOEXEC);  // as every fd ospp opens
    r->close();
    CHECK(it == r->end());
    CHECK(r->dir_fd().get() == -1);
    CHECK(::fcntl(raw, F_GETFD) == -1);  // closed now, not when the range goes
    CHECK_FALSE(r->error().has_value());
    r->close();  // a second close does nothing, as Python's
    CHECK(r->begin() == r->end());
}

TEST_CASE("dir_entry path, inode and stat") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "hello");
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    auto it = ospp::scandir(dir.path());
    REQUIRE(it.has_value());
    int seen = 0;
    for (const auto& e : *it) {
        struct ::stat raw {};
        REQUIRE(::lstat((dir / std::string(e.name())).c_str(), &raw) == 0);
        CHECK(e.path() == dir / std::string(e.name()));
        CHECK(e.inode() == raw.st_ino);
        auto own = e.stat({.follow_symlinks = false});
        REQUIRE(own.has_value());
        CHECK(own->st_ino == raw.st_ino);
        auto followed = e.stat();
        REQUIRE(followed.has_value());
        CHECK(followed->st_size == 5);
        ++seen;
    }
    CHECK(seen == 2);
    // A path ending in '/' is not doubled; scandir(fd) paths are bare names.
    auto slash = ospp::scandir(dir.path() + "/");
    REQUIRE(slash.has_value());
    for (const auto& e : *slash) CHECK(e.path() == dir / std::string(e.name()));
    auto d = ospp::open(dir.path(), ospp::open_flags::rdonly | ospp::open_flags::directory);
    REQUIRE(d.has_value());
    auto by_fd = ospp::scandir(*d);
    REQUIRE(by_fd.has_value());
    for (const auto& e : *by_fd) CHECK(e.path() == std::string(e.name()));
}

TEST_CASE("type checks use d_type and stat results are cached (PEP 471)") {
    temp_dir dir;
    ospp_test::write_file(dir / "f", "abc");
    auto it = ospp::scandir(dir.path());
    REQUIRE(it.has_value());
    auto e = it->begin();
    REQUIRE(e != it->end());
    CHECK(e->name() == "f");
    auto first = e->stat();
    REQUIRE(first.has_value());
    CHECK(first->st_size == 3);
    // Change and then remove the file: the entry answers from its cache and d_type, no system call.
    ospp_test::write_file(dir / "f", "abcdef");
    REQUIRE(::unlink((dir / "f").c_str()) == 0);
    CHECK(e->stat().value().st_size == 3);
    CHECK(e->stat({.follow_symlinks = false}).value().st_size == 3);  // lstat == stat for a non-link
    CHECK(e->is_file());
    ++e;
    CHECK(e == it->end());
}

TEST_CASE("dir_entry stat reports a vanished entry with its path") {
    temp_dir dir;
    ospp_test::write_file(dir / "gone", "");
    auto it = ospp::scandir(dir.path());
    REQUIRE(it.has_value());
    for (const auto& e : *it) {
        REQUIRE(::unlink((dir / "gone").c_str()) == 0);
        CHECK_ERRNO(e.stat(), ENOENT, "stat: [Errno 2] No such file or directory: '" + (dir / "gone") + "'");
        CHECK_FALSE(e.is_dir());  // d_type answers; still no error
        // stat() is noexcept: without memory for the path, the error names the entry's name.
        ospp_test::fail_allocations_from = 16;  // the path's string; not the error's copy of "gone"
        auto no_memory = e.stat();
        ospp_test::fail_allocations_from = 0;
        CHECK_ERRNO(no_memory, ENOENT, "stat: [Errno 2] No such file or directory: 'gone'");
    }
}

TEST_CASE("scandir(fd) and listdir(fd) read a directory that may be read but not searched") {
    // openat(fd, ".") needs search permission; listing (Python's dup + fdopendir) needs only read.
    if (ospp_test::is_root()) OSPP_SKIP("root searches any directory: needs an ordinary user");
    temp_dir dir;
    ospp_test::write_file(dir / "a", "");
    ospp_test::write_file(dir / "b", "");
    REQUIRE(::chmod(dir.path().c_str(), 0400) == 0);
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    auto names = ospp::listdir(ospp::fd_ref(d));
    auto range = ospp::scandir(ospp::fd_ref(d));  // reopened through /proc/self/fd: close-on-exec too
    REQUIRE(::chmod(dir.path().c_str(), 0700) == 0);
    REQUIRE(range.has_value());
    CHECK(::fcntl(range->dir_fd().get(), F_GETFD) == FD_CLOEXEC);
    ::close(d);
    REQUIRE(names.has_value());
    std::sort(names->begin(), names->end());
    CHECK(*names == std::vector<std::string>{"a", "b"});
}

TEST_CASE("scandir(fd) and listdir(fd) read a directory that may no longer be read at all") {
    // The directory was readable when it was opened; its mode changed since (or the process gave up
    // its ids). Python reads through the open file description (dup + fdopendir), which keeps the
    // access it was opened with; reopening it is refused. Found by test/differential as nobody:
    // listdir: [Errno 13] Permission denied, where Python lists it.
    if (ospp_test::is_root()) OSPP_SKIP("root reads any directory: needs an ordinary user");
    temp_dir dir, dir2;
    ospp_test::write_file(dir / "a", "");
    ospp_test::write_file(dir / "b", "");
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    // Move d's position past the first entries: it must be where it was afterwards.
    alignas(8) char buf[64];
    REQUIRE(::syscall(SYS_getdents64, d, buf, sizeof buf) > 0);
    const ::off_t pos = ::lseek(d, 0, SEEK_CUR);
    REQUIRE(::chmod(dir.path().c_str(), 0) == 0);
    auto names = ospp::listdir(ospp::fd_ref(d));
    std::vector<std::string> scanned;
    {
        auto range = ospp::scandir(ospp::fd_ref(d));
        if (range) {
            for (const auto& e : *range) scanned.emplace_back(e.name());
        }
    }
    CHECK(::lseek(d, 0, SEEK_CUR) == pos);  // given back by the destructor
    {
        // ... and by a move assignment over the borrowing range, at once.
        auto range = ospp::scandir(ospp::fd_ref(d));
        REQUIRE(range.has_value());
        (void)range->begin();
        CHECK(::lseek(d, 0, SEEK_CUR) != pos);
        auto other = ospp::scandir(dir2.path());
        REQUIRE(other.has_value());
        *range = std::move(*other);
        CHECK(::lseek(d, 0, SEEK_CUR) == pos);
    }
    REQUIRE(::chmod(dir.path().c_str(), 0700) == 0);
    CHECK(::lseek(d, 0, SEEK_CUR) == pos);
    CHECK(::fcntl(d, F_GETFD) == FD_CLOEXEC);
    ::close(d);
    REQUIRE(names.has_value());
    std::sort(names->begin(), names->end());
    CHECK(*names == std::vector<std::string>{"a", "b"});
    std::sort(scanned.begin(), scanned.end());
    CHECK(scanned == std::vector<std::string>{"a", "b"});
}

TEST_CASE("scandir(fd) and listdir(fd) of a /proc directory whose process has exited list nothing") {
    // Such a directory can no longer be looked up in (openat(d, ".") fails with ESRCH), but the
    // descriptor still reads, as Python's dup + fdopendir does: os.listdir(d) is []. Found by
    // test/systrees on /proc: listdir: [Errno 3] No such process.
    if (::access("/proc/self/task", F_OK) != 0) OSPP_SKIP("needs /proc");
    for (const char* sub : {"", "/task"}) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
        const std::string path = "/proc/" + std::to_string(pid) + sub;
        const int d = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(::kill(pid, SIGKILL) == 0);
        REQUIRE(::waitpid(pid, nullptr, 0) == pid);
        REQUIRE(d >= 0);
        CAPTURE(path);
        const auto names = ospp::listdir(ospp::fd_ref(d));
        CHECK(names.has_value());
        if (!names) MESSAGE(names.error().message());
        auto range = ospp::scandir(ospp::fd_ref(d));
        CHECK(range.has_value());
        if (range) {
            int n = 0;
            for (const auto& e : *range) n += e.name().empty() ? 0 : 1;
            CHECK(n == 0);
            CHECK_FALSE(range->error().has_value());
        }
        ::close(d);
    }
}

TEST_CASE("scandir open errors and an iteration error are reported") {
    temp_dir dir;
    CHECK_ERRNO(ospp::scandir(dir / "nope"), ENOENT,
                "scandir: [Errno 2] No such file or directory: '" + (dir / "nope") + "'");
    ospp_test::write_file(dir / "f", "");
    CHECK_ERRNO(ospp::scandir(dir / "f"), ENOTDIR,
                "scandir: [Errno 20] Not a directory: " + ospp::quote_path(dir / "f"));
    CHECK_ERRNO(ospp::scandir(ospp::fd_ref(-1)), EBADF, "scandir: [Errno 9] Bad file descriptor");
    // cwd_fd (AT_FDCWD, -100) is no descriptor: Python's os.scandir(-100) fails with EBADF;
    // openat(AT_FDCWD, ".") would list the working directory instead.
    CHECK_ERRNO(ospp::scandir(ospp::cwd_fd), EBADF, "scandir: [Errno 9] Bad file descriptor");
    // A directory removed while open was empty: the kernel's ENOENT is its end, not an error, as
    // for Python (glibc's readdir); the same through an fd and with listdir.
    REQUIRE(::mkdir((dir / "d").c_str(), 0700) == 0);
    auto it = ospp::scandir(dir / "d");
    REQUIRE(it.has_value());
    const int open_d = ::open((dir / "d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(open_d >= 0);
    REQUIRE(::rmdir((dir / "d").c_str()) == 0);
    int n = 0;
    for (const auto& e : *it) n += e.name().empty() ? 0 : 1;
    CHECK(n == 0);
    CHECK_FALSE(it->error().has_value());
    CHECK(ospp::listdir(ospp::fd_ref(open_d)).value().empty());
    ::close(open_d);
    // close() ends an iteration early and releases the fd.
    auto again = ospp::scandir(dir.path());
    REQUIRE(again.has_value());
    auto b = again->begin();
    CHECK(b != again->end());
    again->close();
    CHECK(again->dir_fd().get() == -1);
}

TEST_CASE("scandir(fd) opens a descriptor of its own: EMFILE at the limit, the caller's fd stays open") {
    temp_dir dir;
    ospp_test::write_file(dir / "a", "");
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    const std::string at_limit = ospp_test::in_child([&]() -> std::string {
        if (!ospp_test::allow_only_more_fds(0)) return "no fd limit";
        const auto r = ospp::scandir(ospp::fd_ref(d));
        return r ? "opened" : r.error().message();
    });
    CHECK(at_limit == "scandir: [Errno 24] Too many open files");
    {
        auto it = ospp::scandir(ospp::fd_ref(d));
        REQUIRE(it.has_value());
        CHECK(::fcntl(it->dir_fd().get(), F_GETFD) == FD_CLOEXEC);
        std::vector<std::string> names;
        for (const auto& e : *it) names.emplace_back(e.name());
        CHECK(names == std::vector<std::string>{"a"});
        CHECK(it->dir_fd().get() == -1);  // its own descriptor is closed once the iteration ended
    }
    CHECK(::fcntl(d, F_GETFD) >= 0);  // still open, like the fd given to Python's os.scandir
    CHECK(::lseek(d, 0, SEEK_CUR) == 0);
    ::close(d);
}

TEST_CASE("scandir handles 10,000 entries and odd names") {
    temp_dir dir;
    std::set<std::string> want;
    for (int i = 0; i < 10'000; ++i) {
        std::string name = "entry " + std::to_string(i);
        if (i % 1000 == 1) name += "\nnewline";
        if (i % 1000 == 2) name += "\xff\xfe";  // not UTF-8
        const int f = ::open((dir / name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        REQUIRE(f >= 0);
        ::close(f);
        want.insert(name);
    }
    for (const char* dots : {".x", "..x", "..."}) {  // dots, but neither "." nor ".."
        ospp_test::write_file(dir / dots, "");
        want.insert(dots);
    }
    std::set<std::string> got;
    auto it = ospp::scandir(dir.path());
    REQUIRE(it.has_value());
    for (const auto& e : *it) {
        got.emplace(e.name());
        CHECK(e.is_file());
    }
    CHECK(got == want);
}
