// test/fd_ops_test.cpp — Python's file descriptor operations, checked against their real effect.
#include "ospp/fd_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support.hpp"

using ospp::open_flags;
using ospp_test::temp_dir;

// ---- a counting operator new, to prove the success path of path calls does not allocate ----
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {
bool cloexec(int n) { return (::fcntl(n, F_GETFD) & FD_CLOEXEC) != 0; }
}  // namespace

TEST_CASE("open creates, writes and reads back a file") {
    temp_dir dir;
    const std::string path = dir / "hello.txt";
    {
        auto f = ospp::open(path, open_flags::wronly | open_flags::creat | open_flags::excl, 0640);
        REQUIRE(f.has_value());
        CHECK(cloexec(f->get()));
        auto n = ospp::write(*f, "hello, world");
        REQUIRE(n.has_value());
        CHECK(*n == 12);
    }
    CHECK(ospp_test::read_file(path) == "hello, world");
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    const mode_t mask = ::umask(0);
    ::umask(mask);
    CHECK((st.st_mode & 0777) == (0640 & ~mask));

    auto f = ospp::open(path, open_flags::rdonly);
    REQUIRE(f.has_value());
    auto first = ospp::read(*f, 5);
    REQUIRE(first.has_value());
    CHECK(*first == "hello");
    std::byte buf[64];
    auto rest = ospp::read(*f, buf);
    REQUIRE(rest.has_value());
    CHECK(std::string(reinterpret_cast<const char*>(buf), *rest) == ", world");
    auto eof = ospp::read(*f, 10);
    REQUIRE(eof.has_value());
    CHECK(eof->empty());
}

TEST_CASE("open reports errno and the path like Python") {
    temp_dir dir;
    CHECK_ERRNO(ospp::open(dir / "missing", open_flags::rdonly), ENOENT,
                "open: [Errno 2] No such file or directory: '" + (dir / "missing") + "'");
    ospp_test::write_file(dir / "exists", "x");
    CHECK_FAILS_WITH(ospp::open(dir / "exists", open_flags::wronly | open_flags::creat | open_flags::excl),
                     EEXIST);
    CHECK_ERRNO(ospp::open(std::string("bad\0path", 8), open_flags::rdonly), EINVAL,
                "open: [Errno 22] Invalid argument: 'bad\\x00path'");
}

TEST_CASE("open honours dir_fd") {
    temp_dir dir;
    ospp_test::write_file(dir / "inside", "data");
    auto d = ospp::open(dir.path(), open_flags::rdonly | open_flags::directory);
    REQUIRE(d.has_value());
    auto f = ospp::open("inside", open_flags::rdonly, 0, {.dir_fd = *d});
    REQUIRE(f.has_value());
    CHECK(ospp::read(*f, 10).value() == "data");
    CHECK_FAILS_WITH(ospp::open("not-there", open_flags::rdonly, 0, {.dir_fd = *d}), ENOENT);
}

TEST_CASE("read and write fail with EBADF on a closed descriptor") {
    auto p = ospp::pipe();
    REQUIRE(p.has_value());
    const int raw = p->read_end.get();
    REQUIRE(p->read_end.close().has_value());
    CHECK_ERRNO(ospp::read(ospp::fd_ref(raw), 1), EBADF, "read: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::write(ospp::fd_ref(-1), "x"), EBADF, "write: [Errno 9] Bad file descriptor");
}

TEST_CASE("pipe carries bytes and both ends are close-on-exec") {
    auto p = ospp::pipe();
    REQUIRE(p.has_value());
    auto& [r, w] = *p;
    CHECK(cloexec(r.get()));
    CHECK(cloexec(w.get()));
    REQUIRE(ospp::write(w, "ping").value() == 4);
    CHECK(ospp::read(r, 16).value() == "ping");
}

TEST_CASE("pipe2 adds the requested flags") {
    auto p = ospp::pipe2(open_flags::nonblock);
    REQUIRE(p.has_value());
    CHECK((::fcntl(p->read_end.get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK(cloexec(p->write_end.get()));
    CHECK_FAILS_WITH(ospp::read(p->read_end, 1), EAGAIN);
    CHECK_ERRNO(ospp::pipe2(open_flags{0x7fff0000}), EINVAL, "pipe2: [Errno 22] Invalid argument");
}

TEST_CASE("dup gives a close-on-exec duplicate of the same open file") {
    auto p = ospp::pipe().value();
    auto d = ospp::dup(p.write_end);
    REQUIRE(d.has_value());
    CHECK(d->get() != p.write_end.get());
    CHECK(cloexec(d->get()));
    REQUIRE(ospp::write(*d, "via dup").has_value());
    CHECK(ospp::read(p.read_end, 16).value() == "via dup");
    CHECK_ERRNO(ospp::dup(ospp::fd_ref(-1)), EBADF, "dup: [Errno 9] Bad file descriptor");
}

TEST_CASE("dup2 is inheritable by default, close-on-exec on request") {
    auto p = ospp::pipe().value();
    auto target = ospp::dup(p.read_end).value();  // a number we own to overwrite

    auto r = ospp::dup2(p.write_end, target);
    REQUIRE(r.has_value());
    CHECK(r->get() == target.get());
    CHECK_FALSE(cloexec(target.get()));

    REQUIRE(ospp::dup2(p.write_end, target, false).has_value());
    CHECK(cloexec(target.get()));
    REQUIRE(ospp::write(target, "x").has_value());
    CHECK(ospp::read(p.read_end, 4).value() == "x");

    // Same descriptor on both sides: no error, flags as asked.
    REQUIRE(ospp::dup2(target, target, false).has_value());
    CHECK(cloexec(target.get()));
    CHECK_ERRNO(ospp::dup2(ospp::fd_ref(-1), target), EBADF, "dup2: [Errno 9] Bad file descriptor");
}

TEST_CASE("open, read, write and close allocate nothing on success") {
    temp_dir dir;
    const std::string path = dir / "noalloc";
    ospp_test::write_file(path, "abc");
    const char* c_path = path.c_str();
    std::byte buf[8];

    g_allocations = 0;
    g_counting = true;
    bool ok = true;
    {
        auto a = ospp::open(c_path, open_flags::rdwr);
        ok = ok && a.has_value() && ospp::read(*a, buf).has_value() && ospp::write(*a, "d").has_value() &&
             a->close().has_value();
        auto b = ospp::open(path, open_flags::rdonly);
        ok = ok && b.has_value() && ospp::read(*b, buf).has_value() && ospp::close(std::move(*b)).has_value();
        auto c = ospp::open(std::string_view(path), open_flags::rdonly);
        ok = ok && c.has_value();
    }
    g_counting = false;
    CHECK(ok);
    CHECK(g_allocations.load() == 0);
}
