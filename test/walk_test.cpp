// test/walk_test.cpp — walk and fwalk against Python's os.walk/os.fwalk on the same trees; rmtree.
#include "ospp/walk.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <ranges>
#include <string>
#include <type_traits>

#include "child.hpp"
#include "ospp/scandir.hpp"
#include "counting_new.hpp"
#include "support.hpp"

using ospp_test::temp_dir;

// A step views the walker's per-depth buffers, which the next step reuses: a copy kept past the
// loop body (list(os.walk(top)) in Python) would show another directory's names, so copying one
// must not compile. Binding a step as the range-for does still works (a prvalue needs no copy).
static_assert(!std::is_copy_constructible_v<ospp::walk_step>);
static_assert(!std::is_copy_assignable_v<ospp::walk_step>);
static_assert(!std::is_copy_constructible_v<ospp::fwalk_step>);
static_assert(!std::is_copy_assignable_v<ospp::fwalk_step>);
static_assert(std::ranges::input_range<ospp::walk_range>);
static_assert(std::ranges::input_range<ospp::fwalk_range>);

namespace {

void touch(const std::string& p) {
    const int f = ::open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE(f >= 0);
    ::close(f);
}
void make_dir(const std::string& p) { REQUIRE(::mkdir(p.c_str(), 0755) == 0); }
void make_link(const char* target, const std::string& p) { REQUIRE(::symlink(target, p.c_str()) == 0); }
std::string enoent_of(const std::string& p) { return "scandir: [Errno 2] No such file or directory: '" + p + "'"; }
bool exists(const std::string& p) {
    struct ::stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

// A tree with every kind of entry walk must sort: files with odd names, nested dirs, symlinks to a
// file, to a dir, dangling, and (unless `no_cycle`) a symlink cycle; a directory of 10,000 files;
// as an ordinary user, an unreadable directory.
void build_tree(const std::string& top, bool no_cycle = false, bool no_locked = false) {
    touch(top + "/plain");
    touch(top + "/with space");
    touch(top + "/new\nline");
    touch(top + "/bad\xff\xfe");
    touch(top + "/..dots");  // dots, but neither "." nor ".."
    make_dir(top + "/...");
    touch(top + "/.../.x");
    make_dir(top + "/sub");
    touch(top + "/sub/inner");
    make_dir(top + "/sub/deeper");
    touch(top + "/sub/deeper/leaf");
    make_dir(top + "/empty");
    make_dir(top + "/dir \xff odd");
    touch(top + "/dir \xff odd/x");
    make_link("plain", top + "/to_file");
    make_link("sub", top + "/to_dir");
    make_link("nowhere", top + "/dangling");
    if (!no_cycle) make_link("..", top + "/sub/cycle");
    if (!no_locked && !ospp_test::is_root()) {  // unreadable for an ordinary user: both walks report it
        make_dir(top + "/locked");
        touch(top + "/locked/hidden");
        REQUIRE(::chmod((top + "/locked").c_str(), 0) == 0);
    }
    make_dir(top + "/many");
    for (int i = 0; i < 10'000; ++i) touch(top + "/many/f" + std::to_string(i));
}

// One line per step: dirpath \0 dirnames joined by '/' \0 filenames joined by '/' \n (names cannot
// contain '/' or NUL, so this is unambiguous even with newlines in names). Errors: "E" \0 path \n.
std::string line(std::string_view dirpath, const std::vector<std::string_view>& dirs,
                 const std::vector<std::string_view>& files) {
    std::string out(dirpath);
    out += '\0';
    for (std::size_t i = 0; i < dirs.size(); ++i) (out += i ? "/" : "") += dirs[i];
    out += '\0';
    for (std::size_t i = 0; i < files.size(); ++i) (out += i ? "/" : "") += files[i];
    out += '\n';
    return out;
}

constexpr const char* python_script = R"PY(
import os, sys
top, fn, topdown, follow = os.fsencode(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
out = sys.stdout.buffer
def onerror(e):
    # fwalk's errors name the directory relative to its parent's fd: compare the last component.
    name = os.fsencode(e.filename)
    out.write(b"E\0" + (os.path.basename(name) if fn == "fwalk" else name) + b"\n")
if fn == "walk":
    steps = ((d, n, f) for d, n, f in os.walk(top, topdown, onerror, follow))
else:
    steps = ((d, n, f) for d, n, f, _ in os.fwalk(top, topdown, onerror, follow_symlinks=follow))
for d, n, f in steps:
    out.write(d + b"\0" + b"/".join(n) + b"\0" + b"/".join(f) + b"\n")
)PY";

std::string python_walk(const temp_dir& scratch, const std::string& top, const char* fn, bool topdown,
                        bool follow) {
    ospp_test::write_file(scratch / "walk.py", python_script);
    const std::string cmd = "python3 '" + (scratch / "walk.py") + "' '" + top + "' " + fn + " " +
                            (topdown ? "1" : "0") + " " + (follow ? "1" : "0") + " > '" + (scratch / "out") + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return ospp_test::read_file(scratch / "out");
}

std::string ospp_walk(const std::string& top, bool topdown, bool follow) {
    std::string out;
    auto onerror = [&](const ospp::errno_error& e) { ((out += "E") += '\0') += std::string(e.path()) + "\n"; };
    for (auto [dirpath, dirnames, filenames] :
         ospp::walk(top, {.topdown = topdown, .onerror = onerror, .followlinks = follow})) {
        out += line(dirpath, dirnames, filenames);
    }
    return out;
}

std::string ospp_fwalk(const std::string& top, bool topdown, bool follow) {
    std::string out;
    auto onerror = [&](const ospp::errno_error& e) {
        const std::string_view p = e.path();
        ((out += "E") += '\0') += std::string(p.substr(p.rfind('/') + 1)) + "\n";
    };
    for (auto [dirpath, dirnames, filenames, dirfd] :
         ospp::fwalk(top, {.follow_symlinks = follow, .topdown = topdown, .onerror = onerror})) {
        // The fd is the directory named by dirpath.
        struct ::stat by_fd {}, by_path {};
        REQUIRE(::fstat(dirfd.get(), &by_fd) == 0);
        REQUIRE(::stat(std::string(dirpath).c_str(), &by_path) == 0);
        CHECK(by_fd.st_ino == by_path.st_ino);
        CHECK(::fcntl(dirfd.get(), F_GETFD) == FD_CLOEXEC);  // the top's and every subdirectory's
        out += line(dirpath, dirnames, filenames);
    }
    return out;
}

// Python's output can interleave errors differently only if they happen; both print in walk order.
void compare(const std::string& ours, const std::string& python) {
    CHECK(python.size() > 50000);  // the 10,000 names of many/ are in it: the oracle ran
    CHECK(ours.size() == python.size());
    CHECK(ours == python);
}

}  // namespace

TEST_CASE("walk yields what Python's os.walk yields, top-down and bottom-up") {
    temp_dir dir, scratch;
    build_tree(dir.path());
    for (bool topdown : {true, false}) {
        CAPTURE(topdown);
        compare(ospp_walk(dir.path(), topdown, false), python_walk(scratch, dir.path(), "walk", topdown, false));
    }
}

TEST_CASE("walk with followlinks matches Python on a tree without cycles") {
    temp_dir dir, scratch;
    build_tree(dir.path(), true);
    for (bool topdown : {true, false}) {
        CAPTURE(topdown);
        compare(ospp_walk(dir.path(), topdown, true), python_walk(scratch, dir.path(), "walk", topdown, true));
    }
}

TEST_CASE("fwalk yields what Python's os.fwalk yields, with a usable dirfd") {
    temp_dir dir, scratch;
    build_tree(dir.path());
    for (bool topdown : {true, false}) {
        CAPTURE(topdown);
        compare(ospp_fwalk(dir.path(), topdown, false), python_walk(scratch, dir.path(), "fwalk", topdown, false));
    }
}

TEST_CASE("walk with followlinks ends on a symlink cycle and reports it") {
    temp_dir dir;
    make_dir(dir / "a");
    make_dir(dir / "a/b");
    make_link("../..", dir / "a/b/up");  // points back at the top
    make_link(".", dir / "self");
    std::vector<std::string> paths;
    std::vector<std::string> loops;
    auto onerror = [&](const ospp::errno_error& e) {
        CHECK(e.code() == ELOOP);
        CHECK(e.message().starts_with("walk: [Errno 40] Too many levels of symbolic links: '"));  // not "scandir"
        loops.emplace_back(e.path());
    };
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path(), {.onerror = onerror, .followlinks = true})) {
        paths.emplace_back(dirpath);
    }
    CHECK(paths == std::vector<std::string>{dir.path(), dir / "a", dir / "a/b"});
    std::sort(loops.begin(), loops.end());
    CHECK(loops == std::vector<std::string>{dir / "a/b/up", dir / "self"});
}

TEST_CASE("walk prunes by editing dirnames in top-down mode") {
    temp_dir dir;
    build_tree(dir.path(), true);
    std::vector<std::string> visited;
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path())) {
        visited.emplace_back(dirpath);
        std::erase(dirnames, "many");
        std::erase(dirnames, "sub");
    }
    std::sort(visited.begin(), visited.end());
    CHECK(visited == std::vector<std::string>{dir.path(), dir / "...", dir / "dir \xff odd", dir / "empty"});
    // A name the caller adds is walked too (resolved relative to the parent's fd).
    std::string extra = "sub";
    std::vector<std::string> seen;
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir / "sub")) {
        seen.emplace_back(dirpath);
        if (dirpath == dir / "sub") {
            dirnames.clear();
            dirnames.push_back("deeper");
        }
    }
    CHECK(seen == std::vector<std::string>{dir / "sub", dir / "sub/deeper"});
}

TEST_CASE("walk takes names added to dirnames as Python does: whole names only, top-down only") {
    temp_dir dir, elsewhere;
    make_dir(dir / "ab");
    make_dir(dir / "ab/e");
    std::vector<std::string> errors, seen;
    auto onerror = [&](const ospp::errno_error& e) { errors.push_back(e.message()); };
    // Part of a listed name is its own name ('a', 'b'), not the listed directory "ab"; an absolute
    // name is walked under its own path, as os.path.join gives it.
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path(), {.onerror = onerror})) {
        seen.emplace_back(dirpath);
        if (dirpath != dir.path()) continue;
        const std::string_view listed = dirnames.at(0);
        dirnames.push_back(listed.substr(0, 1));
        dirnames.push_back(listed.substr(1));
        dirnames.push_back(elsewhere.path());
    }
    CHECK(seen == std::vector<std::string>{dir.path(), dir / "ab", dir / "ab/e", elsewhere.path()});
    CHECK(errors == std::vector<std::string>{enoent_of(dir / "a"), enoent_of(dir / "b")});
    // Bottom-up, a directory's subdirectories are those it listed: a name added once it was
    // handed out is not walked.
    errors.clear();
    seen.clear();
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir / "ab", {.topdown = false, .onerror = onerror})) {
        seen.emplace_back(dirpath);
        dirnames.push_back("e");
    }
    CHECK(seen == std::vector<std::string>{dir / "ab/e", dir / "ab"});
    CHECK(errors.empty());
    // A directory with no entries has no names to compare an added one with (an empty arena).
    seen.clear();
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir / "ab/e", {.onerror = onerror})) {
        seen.emplace_back(dirpath);
        if (dirpath == dir / "ab/e") dirnames.push_back(elsewhere.path());
    }
    CHECK(seen == std::vector<std::string>{dir / "ab/e", elsewhere.path()});
    CHECK(errors.empty());
}

TEST_CASE("walk and fwalk refuse a top with a NUL byte, as Python does") {
    for (const bool f : {false, true}) {
        std::vector<std::string> errors;
        auto onerror = [&](const ospp::errno_error& e) { errors.push_back(e.message()); };
        int steps = 0;
        const std::string top(".\0junk", 6);
        if (f) {
            for (const auto& step : ospp::fwalk(top, {.onerror = onerror})) (void)step, ++steps;
        } else {
            for (const auto& step : ospp::walk(top, {.onerror = onerror})) (void)step, ++steps;
        }
        CHECK(steps == 0);
        CHECK(errors == std::vector<std::string>{"scandir: [Errno 22] Invalid argument: '.\\x00junk'"});
    }
}

TEST_CASE("walk and fwalk refuse a name with a NUL byte put into dirnames, instead of walking its prefix") {
    // Python's scandir of such a name raises ValueError; the C string would end at the NUL and
    // open "a" while dirpath said "a\0b".
    temp_dir dir;
    make_dir(dir / "a");
    make_dir(dir / "a/inner");
    static const std::string evil("a\0b", 3);
    for (const bool f : {false, true}) {
        CAPTURE(f);
        std::vector<std::string> errors, seen;
        auto onerror = [&](const ospp::errno_error& e) { errors.push_back(e.message()); };
        auto visit = [&](std::string_view dirpath, std::vector<std::string_view>& dirnames) {
            seen.emplace_back(dirpath);
            if (dirpath == dir.path()) dirnames = {evil};
        };
        if (f) {
            for (auto [dirpath, dirnames, filenames, dirfd] : ospp::fwalk(dir.path(), {.onerror = onerror})) {
                visit(dirpath, dirnames);
            }
        } else {
            for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path(), {.onerror = onerror})) {
                visit(dirpath, dirnames);
            }
        }
        CHECK(seen == std::vector<std::string>{dir.path()});
        CHECK(errors ==
              std::vector<std::string>{"scandir: [Errno 22] Invalid argument: " + ospp::quote_path(dir / evil)});
    }
}

TEST_CASE("walk reports unreadable directories to onerror and goes on") {
    temp_dir dir;
    make_dir(dir / "a");
    make_dir(dir / "b");
    make_dir(dir / "c");
    touch(dir / "c/f");
    std::vector<std::string> errors;
    std::vector<std::string> visited;
    auto onerror = [&](const ospp::errno_error& e) { errors.push_back(e.message()); };
    if (ospp_test::is_root()) {
        // Root reads any directory: remove one while the walk is on its parent instead.
        for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path(), {.onerror = onerror})) {
            visited.emplace_back(dirpath);
            if (dirpath == dir.path()) REQUIRE(::rmdir((dir / "b").c_str()) == 0);
        }
        CHECK(errors == std::vector<std::string>{"scandir: [Errno 2] No such file or directory: '" + (dir / "b") + "'"});
    } else {
        REQUIRE(::chmod((dir / "b").c_str(), 0) == 0);
        for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path(), {.onerror = onerror})) {
            visited.emplace_back(dirpath);
        }
        CHECK(errors == std::vector<std::string>{"scandir: [Errno 13] Permission denied: '" + (dir / "b") + "'"});
    }
    std::sort(visited.begin(), visited.end());
    CHECK(visited == std::vector<std::string>{dir.path(), dir / "a", dir / "c"});
    // A missing top: one error, nothing yielded.
    errors.clear();
    int steps = 0;
    for (auto step : ospp::walk(dir / "nope", {.onerror = onerror})) steps += step.dirpath.empty() ? 0 : 1;
    CHECK(steps == 0);
    CHECK(errors == std::vector<std::string>{"scandir: [Errno 2] No such file or directory: '" + (dir / "nope") + "'"});
}

TEST_CASE("fwalk does not walk a symlink top unless following, and honours dir_fd") {
    temp_dir dir;
    make_dir(dir / "real");
    touch(dir / "real/f");
    make_link("real", dir / "link");
    int errors = 0;
    int steps = 0;
    for (auto step : ospp::fwalk(dir / "link", {.onerror = [&](const ospp::errno_error&) { ++errors; }})) {
        steps += step.dirpath.empty() ? 0 : 1;
    }
    CHECK(steps == 0);
    CHECK(errors == 1);
    // Python's fwalk yields nothing, silently, for a file top, and raises for a missing one: both
    // go to onerror here, as os.walk's do.
    touch(dir / "file");
    for (const char* top : {"file", "missing"}) {
        std::vector<std::string> messages;
        for (auto step : ospp::fwalk(dir / top, {.onerror = [&](const ospp::errno_error& e) {
                                                     messages.push_back(e.message());
                                                 }})) {
            steps += step.dirpath.empty() ? 0 : 1;
        }
        CHECK(steps == 0);
        CHECK(messages == std::vector<std::string>{std::string("scandir: [Errno ") +
                                                   (top[0] == 'f' ? "20] Not a directory" : "2] No such file or directory") +
                                                   ": '" + (dir / top) + "'"});
    }
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    std::vector<std::string> files;
    for (auto [dirpath, dirnames, filenames, dirfd] :
         ospp::fwalk("link", {.dir_fd = ospp::fd_ref(d), .follow_symlinks = true})) {
        CHECK(dirpath == "link");
        for (auto f : filenames) files.emplace_back(f);
    }
    ::close(d);
    CHECK(files == std::vector<std::string>{"f"});
}

TEST_CASE("rmtree removes a tree and never follows a symlink out of it") {
    temp_dir dir, outside;
    touch(outside / "precious");
    make_dir(dir / "t");
    build_tree(dir / "t", false, true);
    make_link(outside.path().c_str(), dir / "t/sub/escape");
    REQUIRE(ospp::rmtree(dir / "t"));
    CHECK_FALSE(exists(dir / "t"));
    CHECK(exists(outside / "precious"));
    // Refusals and errors.
    make_link(outside.path().c_str(), dir / "link");
    CHECK_ERRNO(ospp::rmtree(dir / "link"), ENOTDIR,
                "scandir: [Errno 20] Not a directory: " + ospp::quote_path(dir / "link"));
    CHECK(exists(outside / "precious"));
    CHECK_ERRNO(ospp::rmtree(dir / "nope"), ENOENT,
                "scandir: [Errno 2] No such file or directory: '" + (dir / "nope") + "'");
}

TEST_CASE("rmtree with dir_fd, and stopping at or ignoring an error") {
    temp_dir dir;
    make_dir(dir / "t");
    make_dir(dir / "t/locked");
    touch(dir / "t/locked/f");
    touch(dir / "t/g");
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    if (!ospp_test::is_root()) {
        REQUIRE(::chmod((dir / "t/locked").c_str(), 0500) == 0);
        CHECK_ERRNO(ospp::rmtree("t", {.dir_fd = ospp::fd_ref(d)}), EACCES,
                    "unlink: [Errno 13] Permission denied: 't/locked/f'");
        CHECK(ospp::rmtree("t", {.dir_fd = ospp::fd_ref(d), .ignore_errors = true}));
        CHECK(exists(dir / "t/locked/f"));
        CHECK_FALSE(exists(dir / "t/g"));
        REQUIRE(::chmod((dir / "t/locked").c_str(), 0700) == 0);
    }
    CHECK(ospp::rmtree("t", {.dir_fd = ospp::fd_ref(d)}));
    CHECK_FALSE(exists(dir / "t"));
    ::close(d);
}

TEST_CASE("rmtree needs one fd per level (EMFILE past the limit) and refuses a NUL byte") {
    temp_dir dir;
    std::string deep = dir / "t";
    make_dir(deep);
    for (int i = 0; i < 8; ++i) make_dir(deep += "/d");
    // Room for three fds: the top and two levels below it open, the third level does not.
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (!ospp_test::allow_only_more_fds(3)) return "no fd limit";
        const auto removed = ospp::rmtree(dir / "t");
        return removed ? "removed" : removed.error().message();
    });
    CHECK(report == "scandir: [Errno 24] Too many open files: '" + (dir / "t/d/d/d") + "'");
    CHECK(ospp::rmtree(dir / "t"));
    CHECK_ERRNO(ospp::rmtree(std::string("t\0x", 3)), EINVAL, "rmtree: [Errno 22] Invalid argument: 't\\x00x'");
}

TEST_CASE("rmtree reports the errno of the failed unlink, not one left by building the message") {
    // A file rmtree cannot remove: read-only directory for an ordinary user (EACCES), immutable
    // file for root (EPERM). Building the path for the error allocates, and a successful malloc
    // may set errno: the unlink's errno must be read before.
    temp_dir dir;
    make_dir(dir / "t");
    touch(dir / "t/stuck");
    const bool root = ospp_test::is_root();
    int flags = 0;
    const int f = ::open((dir / "t/stuck").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(f >= 0);
    if (root) {
        const int immutable = FS_IMMUTABLE_FL;
        if (::ioctl(f, FS_IOC_GETFLAGS, &flags) != 0 || ::ioctl(f, FS_IOC_SETFLAGS, &immutable) != 0) {
            ::close(f);
            OSPP_SKIP("no immutable flag on this file system");
        }
    } else {
        REQUIRE(::chmod((dir / "t").c_str(), 0500) == 0);
    }
    ospp_test::errno_set_by_new = EXDEV;
    const auto removed = ospp::rmtree(dir / "t");
    ospp_test::errno_set_by_new = 0;
    if (root) {
        REQUIRE(::ioctl(f, FS_IOC_SETFLAGS, &flags) == 0);
    } else {
        REQUIRE(::chmod((dir / "t").c_str(), 0700) == 0);
    }
    ::close(f);
    const int code = root ? EPERM : EACCES;
    CHECK_ERRNO(removed, code,
                std::string("unlink: [Errno ") + std::to_string(code) + "] " + std::strerror(code) + ": '" +
                    (dir / "t/stuck") + "'");
}

TEST_CASE("scandir's dir_entry stat reports the errno of the failed stat, not one left by building the message") {
    // (Here for the errno-setting operator new of counting_new.hpp.) The message names the entry's path, built on the failure path: a successful malloc may set
    // errno, so the stat's errno must be kept before.
    temp_dir dir;
    ospp_test::write_file(dir / "a_name_long_enough_to_need_the_heap_for_its_path", "");
    auto it = ospp::scandir(dir.path());
    REQUIRE(it.has_value());
    for (const auto& e : *it) {
        REQUIRE(::unlink(e.path().c_str()) == 0);
        ospp_test::errno_set_by_new = EXDEV;
        const auto st = e.stat();
        ospp_test::errno_set_by_new = 0;
        CHECK_ERRNO(st, ENOENT, "stat: [Errno 2] No such file or directory: '" + e.path() + "'");
    }
}

TEST_CASE("walk never enters a directory swapped (for another one or a symlink) after it was listed") {
    temp_dir dir, outside;
    make_dir(dir / "a");
    make_dir(dir / "b");
    make_dir(dir / "spare");
    touch(dir / "spare/secret");
    touch(outside / "secret");
    std::vector<std::string> visited;
    for (auto [dirpath, dirnames, filenames] : ospp::walk(dir.path())) {
        visited.emplace_back(dirpath);
        if (dirpath != dir.path()) {
            for (auto f : filenames) visited.emplace_back(f);
            continue;
        }
        // After the listing: "a" becomes another directory, "b" a symlink leading out of the tree.
        REQUIRE(::rmdir((dir / "a").c_str()) == 0);
        REQUIRE(::rename((dir / "spare").c_str(), (dir / "a").c_str()) == 0);
        REQUIRE(::rmdir((dir / "b").c_str()) == 0);
        make_link(outside.path().c_str(), dir / "b");
        std::erase(dirnames, "spare");
    }
    CHECK(visited == std::vector<std::string>{dir.path()});
}

TEST_CASE("walk, fwalk and rmtree enter mount points, a bind mount of the same file system too, as Python does") {
    // A mount point's entry carries the covered directory's inode, not the mounted root's: the
    // swapped-directory check must not take the mount for a swap.
    OSPP_REQUIRE_ROOT();
    temp_dir dir, scratch;
    const std::string top = dir / "t";
    make_dir(top);
    make_dir(top + "/bound");
    make_dir(top + "/tmpfs");
    touch(top + "/g");
    make_dir(dir / "src");
    make_dir(dir / "src/inner");
    touch(dir / "src/inner/f");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        // A private mount namespace: the mounts vanish with the child.
        if (!ospp_test::private_mount_namespace() ||
            ::mount((dir / "src").c_str(), (top + "/bound").c_str(), nullptr, MS_BIND, nullptr) != 0 ||
            ::mount("tmpfs", (top + "/tmpfs").c_str(), "tmpfs", 0, "size=1m") != 0) {
            return "no mount namespace";
        }
        touch(top + "/tmpfs/on_tmpfs");
        const std::string walked = ospp_walk(top, true, false);
        if (walked.find(top + std::string("/bound/inner\0\0f\n", 16)) == std::string::npos) return "bind mount not walked: " + walked;
        if (walked.find(top + std::string("/tmpfs\0\0on_tmpfs\n", 17)) == std::string::npos) return "tmpfs not walked: " + walked;
        if (walked != python_walk(scratch, top, "walk", true, false)) return "walk differs from os.walk";
        if (ospp_fwalk(top, true, false) != python_walk(scratch, top, "fwalk", true, false)) return "fwalk differs";
        // Where a container's seccomp filter refuses statx (EPERM, as older Docker did), the
        // mount-point check falls back to fstat, as it does without statx (ENOSYS): a change of
        // device is a mount, so the tmpfs is walked; the bind mount of the same file system
        // cannot be told from a swapped directory then, and is left out (docs/files.md).
        for (const int refused : {EPERM, ENOSYS}) {
            const std::string without_statx = ospp_test::in_child([&]() -> std::string {
                if (!ospp_test::refuse_syscall(SYS_statx, refused)) return "cannot install the seccomp filter";
                const std::string again = ospp_walk(top, true, false);
                std::string shown = again;
                std::replace(shown.begin(), shown.end(), '\0', '|');
                const bool tmpfs_walked = again.find(top + std::string("/tmpfs\0\0on_tmpfs\n", 17)) != std::string::npos;
                const bool errors = again.find(std::string("E\0", 2)) != std::string::npos;
                return tmpfs_walked && !errors ? "" : "walk without statx: " + shown;
            });
            if (!without_statx.empty()) return without_statx + " (statx refused with " + std::to_string(refused) + ")";
        }
        // rmtree empties both mounts, as shutil.rmtree does, and cannot remove the mount points.
        const auto removed = ospp::rmtree(top);
        if (removed || removed.error().code() != EBUSY) return "rmtree did not stop with EBUSY at a mount point";
        if (!ospp::rmtree(top, {.ignore_errors = true})) return "rmtree with ignore_errors failed";
        if (exists(top + "/g") || exists(top + "/tmpfs/on_tmpfs") || exists(dir / "src/inner")) return "rmtree left entries";
        if (!exists(top + "/bound") || !exists(top + "/tmpfs")) return "a mount point went away";
        // A read-only file system: EROFS from the first unlink.
        make_dir(dir / "ro");
        if (::mount("tmpfs", (dir / "ro").c_str(), "tmpfs", 0, "size=1m") != 0) return "tmpfs not mounted";
        touch(dir / "ro/f");
        if (::mount(nullptr, (dir / "ro").c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) return "no remount";
        const auto read_only = ospp::rmtree(dir / "ro");
        if (read_only || read_only.error().message() != "unlink: [Errno 30] Read-only file system: '" + (dir / "ro/f") + "'") {
            return "rmtree on a read-only file system: " + (read_only ? std::string("removed") : read_only.error().message());
        }
        return "";
    });
    if (report == "no mount namespace") OSPP_SKIP("cannot make a private mount namespace here (needs CAP_SYS_ADMIN)");
    CHECK(report == "");
}

TEST_CASE("on a file system without d_type (DT_UNKNOWN), scandir, walk, fwalk and rmtree still match Python") {
    // ext4 made without the filetype feature reports every entry as DT_UNKNOWN: each type then
    // comes from an lstat (scandir's dir_entry::type, walk's append), a path no other file system
    // here takes. Needs root for the loop mount, in a private mount namespace.
    OSPP_REQUIRE_ROOT();
    temp_dir dir, scratch, outside;
    touch(outside / "precious");
    const std::string image = dir / "image", mnt = dir / "mnt", top = dir / "mnt/t";
    make_dir(mnt);
    const std::string mkfs = "mkfs.ext4 -q -F -O ^filetype '" + image + "' 1M >/dev/null 2>&1";
    if (std::system(mkfs.c_str()) != 0) OSPP_SKIP("no mkfs.ext4");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (auto why = ospp_test::loop_mount(image, mnt); !why.empty()) return why;
        // Every kind of entry (build_tree's 10,000 files would not fit): no cycle, so that walk
        // with followlinks is compared too.
        for (const char* d : {"", "/sub", "/sub/deeper", "/empty", "/dir \xff odd"}) make_dir(top + d);
        for (const char* f : {"/plain", "/new\nline", "/bad\xff\xfe", "/sub/inner", "/sub/deeper/leaf", "/dir \xff odd/x"}) {
            touch(top + f);
        }
        make_link("plain", top + "/to_file");
        make_link("sub", top + "/to_dir");
        make_link("nowhere", top + "/dangling");
        make_link(outside.path().c_str(), top + "/sub/escape");
        if (::mkfifo((top + "/fifo").c_str(), 0600) != 0) return "no fifo";
        {  // The file system really says DT_UNKNOWN, or this test proves nothing.
            auto it = ospp::scandir(top);
            if (!it) return it.error().message();
            struct ::dirent64 raw[64];
            const long n = ::getdents64(it->dir_fd().get(), raw, sizeof raw);
            if (n <= 0 || raw[0].d_type != DT_UNKNOWN) return "the file system reports entry types";
        }
        for (bool topdown : {true, false}) {
            for (bool follow : {false, true}) {
                if (ospp_walk(top, topdown, follow) != python_walk(scratch, top, "walk", topdown, follow)) {
                    return "walk differs from os.walk, topdown " + std::to_string(topdown) + ", followlinks " +
                           std::to_string(follow);
                }
            }
            if (ospp_fwalk(top, topdown, false) != python_walk(scratch, top, "fwalk", topdown, false)) {
                return "fwalk differs from os.fwalk";
            }
        }
        // scandir's answers and caches, entry by entry, against os.scandir's.
        std::string ours;
        auto it = ospp::scandir(top);
        if (!it) return it.error().message();
        const auto bit = [](bool v) { return v ? '1' : '0'; };
        for (const ospp::dir_entry& e : *it) {
            const auto st = e.stat(), lst = e.stat({.follow_symlinks = false});
            ((ours += e.name()) += ' ') += {bit(e.is_dir()), bit(e.is_file()), bit(e.is_symlink()),
                                            bit(e.is_dir({.follow_symlinks = false})),
                                            bit(e.is_file({.follow_symlinks = false}))};
            ours += " " + std::to_string(e.inode()) + " " + (st ? std::to_string(st->st_ino) : "-") + " " +
                    (lst ? std::to_string(lst->st_ino) : "-") + "\n";
        }
        ospp_test::write_file(scratch / "scandir.py", R"PY(
import os, sys
b = lambda v: str(int(v))
for e in os.scandir(sys.argv[1]):
    try: st = str(e.stat().st_ino)
    except OSError: st = "-"
    flags = b(e.is_dir()) + b(e.is_file()) + b(e.is_symlink()) + b(e.is_dir(follow_symlinks=False)) + b(e.is_file(follow_symlinks=False))
    sys.stdout.buffer.write(os.fsencode(e.name) + f" {flags} {e.inode()} {st} {e.stat(follow_symlinks=False).st_ino}\n".encode())
)PY");
        const auto theirs = ospp_test::command_output(("python3 '" + (scratch / "scandir.py") + "' '" + top + "'").c_str());
        if (!theirs) return "python3 failed";
        if (ours.empty() || ours != *theirs) return "scandir differs from os.scandir:\n" + ours + "---\n" + *theirs;
        // rmtree removes it all and does not follow the link out.
        if (const auto removed = ospp::rmtree(top); !removed) return "rmtree: " + removed.error().message();
        if (exists(top) || !exists(outside / "precious")) return "rmtree left the tree or went outside";
        return "";
    });
    if (report == "no mount namespace" || report == "no loop mount") OSPP_SKIP(report);
    CHECK(report == "");
}

// ---- walking allocates nothing per entry ----
namespace {
long allocations_walking(const std::string& top) {
    std::size_t entries = 0;
    const long n = ospp_test::allocations_during([&] {
        for (auto [dirpath, dirnames, filenames] : ospp::walk(top)) entries += dirnames.size() + filenames.size();
    });
    CHECK(entries > 0);
    return n;
}
}  // namespace

TEST_CASE("walk's allocations grow with the tree's shape, not with its number of entries") {
    temp_dir small, large;
    for (const auto* t : {&small, &large}) {
        make_dir(*t / "sub");
        for (int i = 0; i < (t == &small ? 100 : 10'000); ++i) {
            touch(*t / ("a_long_enough_file_name_to_leave_the_small_string_buffer_" + std::to_string(i)));
            if (i % 10 == 0) touch(*t / ("sub/another_long_file_name_outside_any_small_buffer_" + std::to_string(i)));
        }
    }
    const long few = allocations_walking(small.path());
    const long many = allocations_walking(large.path());
    CAPTURE(few);
    CAPTURE(many);
    // 100x the entries: only the arenas' and vectors' geometric growth adds allocations.
    MESSAGE("allocations: " << few << " for 110 entries, " << many << " for 11,000");
    CHECK(many - few < 40);
}
