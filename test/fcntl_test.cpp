// test/fcntl_test.cpp — fcntl/ioctl raw and typed, locks between processes, pipes, seals, owners.
//
// This file includes <fcntl.h> as well as ospp/fcntl.hpp on purpose: the C function ::fcntl and the
// namespace ospp::fcntl must both stay callable in one translation unit.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>  // MFD_*
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "ospp/fcntl.hpp"
#include "child.hpp"
#include "support.hpp"

namespace fc = ospp::fcntl;
using fc::lock_op;
using fc::lock_type;
using fc::record_lock;
using ospp::open_flags;
using ospp_test::in_child;
using ospp_test::temp_dir;

namespace {

ospp::fd open_file(const std::string& path, open_flags flags = open_flags::rdwr) {
    auto f = ospp::open(path, flags | open_flags::creat, 0644);
    REQUIRE(f.has_value());
    return std::move(*f);
}

// The errno of a result<void> ("" on success), for reports from a child.
template <class R>
std::string outcome(const R& r) {
    return r ? std::string("ok") : r.error().message();
}

bool would_block(int code) { return code == EAGAIN || code == EACCES; }

// A file that gets locked, and a child that tries the same lock on its own descriptor.
struct lock_fixture {
    temp_dir dir;
    std::string path = dir / "locked";
    lock_fixture() { ospp_test::write_file(path, std::string(100, 'x')); }

    // The outcome of `attempt(fd)` in a child process that opened the file itself.
    template <class F>
    std::string from_other_process(F attempt) const {
        return in_child([&]() -> std::string {
            auto f = ospp::open(path, open_flags::rdwr);
            if (!f) return "open failed";
            return attempt(ospp::fd_ref(*f));
        });
    }
};

// Whether process `pid` is waiting for a lock: /proc/locks lists waiters with "->".
bool waiting_for_lock(pid_t pid) {
    std::ifstream in("/proc/locks");
    std::string line;
    std::string needle = " ";  // appended: `" " + to_string()` trips GCC 12's -Wrestrict at -O3
    needle += std::to_string(pid);
    needle += " ";
    while (std::getline(in, line))
        if (line.find("->") != std::string::npos && line.find(needle) != std::string::npos) return true;
    return false;
}

// Polls `condition` until it holds (1 ms apart, up to 10 s); false if it never did.
template <class F>
bool eventually(F condition) {
    for (int i = 0; i < 10000; ++i) {
        if (condition()) return true;
        const timespec ms{0, 1000000};
        ::nanosleep(&ms, nullptr);
    }
    return false;
}

}  // namespace

// ---- names ----

TEST_CASE("ospp::fcntl::fcntl and the C ::fcntl both compile and work in one translation unit") {
    auto p = ospp::pipe().value();
    const int raw = p.read_end.get();
    CHECK(::fcntl(raw, F_GETFD) == FD_CLOEXEC);
    CHECK(ospp::fcntl::fcntl(p.read_end, F_GETFD).value() == FD_CLOEXEC);
    {
        using namespace ospp::fcntl;
        CHECK(fcntl(raw, F_GETFD) == FD_CLOEXEC);                           // the C function (int)
        CHECK(fcntl(ospp::fd_ref(raw), F_GETFD).value() == FD_CLOEXEC);     // ospp's (fd_ref)
        CHECK(flock(raw, LOCK_SH) == 0);                                    // C's flock(int, int) ...
        CHECK(flock(ospp::fd_ref(raw), lock_op::un).has_value());           // ... and ospp's
        struct flock c {};                                                  // the C struct is still reachable
        c.l_type = F_UNLCK;
        CHECK(c.l_type == F_UNLCK);
    }
    {
        using namespace ospp;  // now `fcntl` alone names the namespace: C's call is spelled ::fcntl
        CHECK(::fcntl(raw, F_GETFD) == FD_CLOEXEC);
        CHECK(fcntl::fcntl(p.read_end, F_GETFD).value() == FD_CLOEXEC);
        CHECK(fcntl::get_fd_flags(p.read_end).value() == fcntl::fd_flags::cloexec);
    }
}

// ---- raw forms ----

TEST_CASE("fcntl with an int: F_SETFL/F_GETFL round trip and errors") {
    auto p = ospp::pipe().value();
    const int before = fc::fcntl(p.read_end, F_GETFL).value();
    CHECK((before & O_NONBLOCK) == 0);
    CHECK(fc::fcntl(p.read_end, F_SETFL, before | O_NONBLOCK).value() == 0);
    CHECK((::fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK_ERRNO(fc::fcntl(ospp::fd_ref(-1), F_GETFL), EBADF, "fcntl: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::fcntl(p.read_end, 0x7fff), EINVAL, "fcntl: [Errno 22] Invalid argument");
}

TEST_CASE("fcntl with an int: a negative answer (F_GETOWN of a process group) is an answer, not an error") {
    // glibc's fcntl(F_GETOWN) answers minus the group id and leaves errno alone. Python's
    // fcntl.fcntl raises OSError(0, 'Error') here; a stale EINTR in errno made ospp retry forever.
    auto p = ospp::pipe().value();
    REQUIRE(fc::set_owner(p.read_end, -::getpgrp()).has_value());
    errno = 0;
    auto owner = fc::fcntl(p.read_end, F_GETOWN);
    CHECK(owner.value_or(0) == -::getpgrp());
    errno = EINTR;  // left over from an earlier interrupted call
    owner = fc::fcntl(p.read_end, F_GETOWN);
    CHECK(owner.value_or(0) == -::getpgrp());
    errno = EINTR;
    CHECK_ERRNO(fc::fcntl(ospp::fd_ref(-1), F_GETOWN), EBADF, "fcntl: [Errno 9] Bad file descriptor");
}

TEST_CASE("fcntl with bytes: a packed struct flock goes in and the kernel's answer comes out") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    struct ::flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    auto out = fc::fcntl(f, F_GETLK, std::as_bytes(std::span(&probe, 1)));
    REQUIRE(out.has_value());
    REQUIRE(out->size() == sizeof probe);
    struct ::flock answer {};
    std::memcpy(&answer, out->data(), sizeof answer);
    CHECK(answer.l_type == F_UNLCK);  // nobody holds a lock
    CHECK(probe.l_type == F_WRLCK);   // the caller's bytes are not touched

    // A string argument (Python's str) takes the same path.
    auto as_text = fc::fcntl(f, F_GETLK, std::string_view(reinterpret_cast<const char*>(&probe), sizeof probe));
    REQUIRE(as_text.has_value());
    CHECK(*as_text == *out);

    CHECK_ERRNO(fc::fcntl(f, F_GETLK, std::string(1025, '\0')), EINVAL, "fcntl: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::fcntl(ospp::fd_ref(-1), F_GETLK, std::as_bytes(std::span(&probe, 1))), EBADF,
                "fcntl: [Errno 9] Bad file descriptor");
}

TEST_CASE("ioctl: FIONREAD through ioctl<int>, a mutable buffer and an immutable one") {
    auto p = ospp::pipe().value();
    REQUIRE(ospp::write(p.write_end, "hello").value() == 5);

    int n = -1;
    CHECK(fc::ioctl<int>(p.read_end, FIONREAD, n).value() == 0);
    CHECK(n == 5);

    std::byte buf[sizeof(int)] = {};
    CHECK(fc::ioctl(p.read_end, FIONREAD, std::span<std::byte>(buf)).value() == 0);
    int from_buf = 0;
    std::memcpy(&from_buf, buf, sizeof from_buf);
    CHECK(from_buf == 5);

    auto copy = fc::ioctl(p.read_end, FIONREAD, std::string(sizeof(int), '\0'));
    REQUIRE(copy.has_value());
    int from_copy = 0;
    std::memcpy(&from_copy, copy->data(), sizeof from_copy);
    CHECK(from_copy == 5);

    // By value: FIONCLEX/FIOCLEX take no argument and flip close-on-exec.
    REQUIRE(fc::ioctl(p.read_end, FIONCLEX).has_value());
    CHECK(::fcntl(p.read_end.get(), F_GETFD) == 0);
    REQUIRE(fc::ioctl(p.read_end, FIOCLEX, 0).has_value());
    CHECK(::fcntl(p.read_end.get(), F_GETFD) == FD_CLOEXEC);

    pid_t pgrp = 0;
    CHECK_ERRNO(fc::ioctl<pid_t>(p.read_end, TIOCGPGRP, pgrp), ENOTTY,
                "ioctl: [Errno 25] Inappropriate ioctl for device");
    CHECK_ERRNO(fc::ioctl(ospp::fd_ref(-1), FIONREAD, std::string(4, '\0')), EBADF,
                "ioctl: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::ioctl(p.read_end, FIONREAD, std::string(1025, '\0')), EINVAL,
                "ioctl: [Errno 22] Invalid argument");
}

TEST_CASE("ioctl with a mutable buffer goes through Python's 1024-byte copy: no write past the span") {
    // Python: b = bytearray(2); fcntl.ioctl(r, termios.FIONREAD, b) -> 0, b == b'\x03\x00'; the
    // kernel's four bytes land in the copy, not past the caller's two.
    auto p = ospp::pipe().value();
    REQUIRE(ospp::write(p.write_end, "abc").value() == 3);
    std::array<unsigned char, 8> memory{};
    memory.fill(0xAA);
    const std::span<std::byte> two(reinterpret_cast<std::byte*>(memory.data()), 2);
    CHECK(fc::ioctl(p.read_end, FIONREAD, two).value() == 0);
    CHECK(memory == std::array<unsigned char, 8>{0x03, 0x00, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA});
    // An empty buffer still passes the copy's address (Python: bytearray() -> 0), not a null pointer.
    CHECK(fc::ioctl(p.read_end, FIONREAD, std::span<std::byte>()).value() == 0);
    // Above 1024 bytes the buffer is passed in place, as Python does.
    std::vector<std::byte> big(2000, std::byte{0xAA});
    CHECK(fc::ioctl(p.read_end, FIONREAD, std::span<std::byte>(big)).value() == 0);
    CHECK(big[0] == std::byte{0x03});
    CHECK(big[4] == std::byte{0xAA});
    // Nothing is copied back when the call fails.
    pid_t pgrp_bytes = 0;
    CHECK_ERRNO(fc::ioctl(p.read_end, TIOCGPGRP, std::as_writable_bytes(std::span(&pgrp_bytes, 1))), ENOTTY,
                "ioctl: [Errno 25] Inappropriate ioctl for device");
    CHECK(pgrp_bytes == 0);
}

// ---- flags and dup ----

TEST_CASE("fd flags and status flags, typed") {
    auto p = ospp::pipe().value();
    CHECK(fc::get_fd_flags(p.write_end).value() == fc::fd_flags::cloexec);
    REQUIRE(fc::set_fd_flags(p.write_end, fc::fd_flags{}).has_value());
    CHECK(::fcntl(p.write_end.get(), F_GETFD) == 0);
    REQUIRE(fc::set_fd_flags(p.write_end, fc::fd_flags::cloexec).has_value());
    CHECK(::fcntl(p.write_end.get(), F_GETFD) == FD_CLOEXEC);

    const open_flags st = fc::get_status_flags(p.write_end).value();
    CHECK((st & open_flags::accmode) == open_flags::wronly);
    CHECK_FALSE(ospp::has(st, open_flags::nonblock));
    REQUIRE(fc::set_status_flags(p.write_end, st | open_flags::nonblock).has_value());
    CHECK(ospp::has(fc::get_status_flags(p.write_end).value(), open_flags::nonblock));
    CHECK((::fcntl(p.write_end.get(), F_GETFL) & O_NONBLOCK) != 0);

    CHECK_ERRNO(fc::get_fd_flags(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETFD): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::set_fd_flags(ospp::fd_ref(-1), fc::fd_flags::cloexec), EBADF,
                "fcntl(F_SETFD): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::get_status_flags(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETFL): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::set_status_flags(ospp::fd_ref(-1), open_flags::nonblock), EBADF,
                "fcntl(F_SETFL): [Errno 9] Bad file descriptor");
}

TEST_CASE("dupfd: at or above the lowest number, close-on-exec unless inheritable") {
    auto p = ospp::pipe().value();
    auto d = fc::dupfd(p.write_end, 100);
    REQUIRE(d.has_value());
    CHECK(d->get() >= 100);
    CHECK(::fcntl(d->get(), F_GETFD) == FD_CLOEXEC);
    auto i = fc::dupfd(p.write_end, 100, true);
    REQUIRE(i.has_value());
    CHECK(i->get() > d->get());
    CHECK(::fcntl(i->get(), F_GETFD) == 0);
    REQUIRE(ospp::write(*i, "via dupfd").has_value());
    CHECK(ospp::read(p.read_end, 32).value() == "via dupfd");
    CHECK_ERRNO(fc::dupfd(p.write_end, -1), EINVAL, "fcntl(F_DUPFD_CLOEXEC): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::dupfd(ospp::fd_ref(-1), 0, true), EBADF, "fcntl(F_DUPFD): [Errno 9] Bad file descriptor");
}

// ---- record locks between processes ----

TEST_CASE("POSIX record locks: conflict, the holder seen by F_GETLK, non-blocking errno, unlock") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    REQUIRE(fc::set_lock(f, {.type = lock_type::write, .start = 0, .len = 10}).has_value());
    // Our own lock never conflicts with us.
    CHECK_FALSE(fc::get_lock(f, {.type = lock_type::write}).value().has_value());

    const pid_t me = ::getpid();
    CHECK(fx.from_other_process([&](ospp::fd_ref g) -> std::string {
        auto held = fc::get_lock(g, {.type = lock_type::read, .start = 5, .len = 1});
        if (!held || !*held) return "F_GETLK saw no conflict";
        if (**held != record_lock{lock_type::write, fc::whence::set, 0, 10, me}) return "wrong holder";
        auto r = fc::set_lock(g, {.type = lock_type::write, .start = 9, .len = 2});
        if (r || !would_block(r.error().code())) return "expected EAGAIN/EACCES: " + outcome(r);
        if (r.error().call() != std::string("fcntl(F_SETLK)")) return r.error().message();
        return outcome(fc::set_lock(g, {.type = lock_type::write, .start = 10, .len = 5}));  // next to it
    }) == "ok");

    REQUIRE(fc::set_lock(f, {.type = lock_type::unlock, .start = 0, .len = 10}).has_value());
    CHECK(fx.from_other_process([](ospp::fd_ref g) { return outcome(fc::set_lock(g, {})); }) == "ok");

    // A write lock needs a descriptor open for writing.
    auto ro = open_file(fx.path, open_flags::rdonly);
    CHECK_ERRNO(fc::set_lock(ro, {.type = lock_type::write}), EBADF, "fcntl(F_SETLK): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::get_lock(ospp::fd_ref(-1), {}), EBADF, "fcntl(F_GETLK): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::set_lock_wait(f, {.whence = fc::whence{7}}), EINVAL,
                "fcntl(F_SETLKW): [Errno 22] Invalid argument");
}

TEST_CASE("the POSIX trap: closing ANY descriptor of the file drops the process's locks") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    REQUIRE(fc::set_lock(f, {}).has_value());
    auto probe = [](ospp::fd_ref g) { return outcome(fc::set_lock(g, {})); };
    CHECK(fx.from_other_process(probe) != "ok");

    auto other = open_file(fx.path, open_flags::rdonly);  // e.g. a library reading the same file
    REQUIRE(other.close().has_value());
    CHECK(fx.from_other_process(probe) == "ok");  // the lock through f is gone
}

TEST_CASE("OFD locks survive closing another descriptor and conflict between open()s") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    REQUIRE(fc::ofd_set_lock(f, {.type = lock_type::write, .len = 50}).has_value());

    auto other = open_file(fx.path, open_flags::rdonly);
    REQUIRE(other.close().has_value());
    CHECK(fx.from_other_process([](ospp::fd_ref g) {
        auto r = fc::ofd_set_lock(g, {.type = lock_type::write});
        return r ? std::string("ok") : r.error().name();
    }) == "EAGAIN");
    // A POSIX lock from another process conflicts with it too.
    CHECK(fx.from_other_process([](ospp::fd_ref g) {
        auto r = fc::set_lock(g, {.type = lock_type::read, .start = 49, .len = 1});
        return r ? std::string("ok") : r.error().name();
    }) == "EAGAIN");

    // Same process, second open file description: a conflict, and the holder's pid is -1.
    auto second = open_file(fx.path);
    CHECK_ERRNO(fc::ofd_set_lock(second, {.type = lock_type::read}), EAGAIN,
                "fcntl(F_OFD_SETLK): [Errno 11] Resource temporarily unavailable");
    auto held = fc::ofd_get_lock(second, {.type = lock_type::read});
    REQUIRE(held.has_value());
    REQUIRE(held->has_value());
    CHECK(**held == record_lock{lock_type::write, fc::whence::set, 0, 50, -1});
    CHECK_FALSE(fc::ofd_get_lock(second, {.type = lock_type::read, .start = 50}).value().has_value());
    // A query of lock_type::unlock: on newer kernels, the lock the description itself holds in
    // the range (none for second); EINVAL on older ones, as for get_lock.
    if (auto own = fc::ofd_get_lock(f, {.type = lock_type::unlock})) {
        REQUIRE(own->has_value());
        CHECK(**own == record_lock{lock_type::write, fc::whence::set, 0, 50, -1});
        CHECK_FALSE(fc::ofd_get_lock(second, {.type = lock_type::unlock}).value().has_value());
    } else {
        CHECK(own.error().code() == EINVAL);
    }

    REQUIRE(fc::ofd_set_lock(f, {.type = lock_type::unlock}).has_value());
    CHECK(fc::ofd_set_lock_wait(second, {.type = lock_type::read}).has_value());
    CHECK_ERRNO(fc::ofd_get_lock(ospp::fd_ref(-1), {}), EBADF, "fcntl(F_OFD_GETLK): [Errno 9] Bad file descriptor");
    // A write lock needs a descriptor open for writing, also when it would wait.
    auto ro = open_file(fx.path, open_flags::rdonly);
    CHECK_ERRNO(fc::ofd_set_lock_wait(ro, {.type = lock_type::write}), EBADF,
                "fcntl(F_OFD_SETLKW): [Errno 9] Bad file descriptor");
}

TEST_CASE("set_lock_wait blocks until the holder unlocks") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    REQUIRE(fc::set_lock(f, {}).has_value());

    int done[2];
    REQUIRE(::pipe2(done, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        auto g = ospp::open(fx.path, open_flags::rdwr);
        const char c = g && fc::set_lock_wait(*g, {}) ? 'y' : 'n';
        (void)!::write(done[1], &c, 1);
        ::_exit(0);
    }
    ::close(done[1]);
    CHECK(eventually([&] { return waiting_for_lock(pid); }));
    REQUIRE(fc::set_lock(f, {.type = lock_type::unlock}).has_value());
    char c = 0;
    CHECK(::read(done[0], &c, 1) == 1);
    CHECK(c == 'y');
    ::close(done[0]);
    REQUIRE(::waitpid(pid, nullptr, 0) == pid);
}

// ---- lockf and flock ----

TEST_CASE("lockf: Python's fcntl.lockf on POSIX record locks") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    REQUIRE(fc::lockf(f, lock_op::ex | lock_op::nb, 10, 20).has_value());

    auto held = fx.from_other_process([](ospp::fd_ref g) -> std::string {
        auto h = fc::get_lock(g, {.type = lock_type::read});
        if (!h || !*h) return "no lock seen";
        if ((*h)->start != 20 || (*h)->len != 10 || (*h)->type != lock_type::write) return "wrong range";
        auto r = fc::lockf(g, lock_op::sh | lock_op::nb, 1, 25);
        if (r || !would_block(r.error().code())) return "expected EAGAIN/EACCES: " + outcome(r);
        if (r.error().call() != std::string("lockf")) return r.error().message();
        return outcome(fc::lockf(g, lock_op::ex | lock_op::nb, 10, 0));  // bytes 0..9 are free
    });
    CHECK(held == "ok");

    // Shared from the end: whence::end with a negative start.
    REQUIRE(fc::lockf(f, lock_op::un, 10, 20).has_value());
    REQUIRE(fc::lockf(f, lock_op::sh, 10, -10, fc::whence::end).has_value());
    CHECK(fx.from_other_process([](ospp::fd_ref g) {
        return outcome(fc::lockf(g, lock_op::sh | lock_op::nb, 0, 0));  // shared locks coexist
    }) == "ok");
    CHECK(fx.from_other_process([](ospp::fd_ref g) {
        auto r = fc::lockf(g, lock_op::ex | lock_op::nb, 1, 95);
        return r ? std::string("ok") : r.error().message();
    }) == "lockf: [Errno 11] Resource temporarily unavailable");

    CHECK_ERRNO(fc::lockf(f, lock_op::nb), EINVAL, "lockf: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::lockf(f, lock_op::un | lock_op::nb), EINVAL, "lockf: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::lockf(ospp::fd_ref(-1), lock_op::ex), EBADF, "lockf: [Errno 9] Bad file descriptor");
    auto ro = open_file(fx.path, open_flags::rdonly);  // (closing it later drops f's locks: the trap)
    CHECK_ERRNO(fc::lockf(ro, lock_op::ex | lock_op::nb), EBADF, "lockf: [Errno 9] Bad file descriptor");
    // A range before byte 0 or past the largest offset (Python: the same OSError from the kernel).
    CHECK_ERRNO(fc::lockf(f, lock_op::ex | lock_op::nb, 10, -1), EINVAL, "lockf: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::lockf(f, lock_op::ex | lock_op::nb, -30, 20), EINVAL, "lockf: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::lockf(f, lock_op::ex | lock_op::nb, std::numeric_limits<off_t>::max(), 5), EOVERFLOW,
                "lockf: [Errno 75] Value too large for defined data type");
    CHECK_ERRNO(fc::set_lock(f, {.start = 5, .len = std::numeric_limits<off_t>::max()}), EOVERFLOW,
                "fcntl(F_SETLK): [Errno 75] Value too large for defined data type");
    CHECK_ERRNO(fc::get_lock(f, {.start = -1}), EINVAL, "fcntl(F_GETLK): [Errno 22] Invalid argument");
    // A query asks about a lock to place: unlock is none (Python: the same OSError; but see
    // ofd_get_lock's).
    CHECK_ERRNO(fc::get_lock(f, {.type = lock_type::unlock}), EINVAL, "fcntl(F_GETLK): [Errno 22] Invalid argument");
}

TEST_CASE("flock: per open file description, EWOULDBLOCK with nb, conversion and unlock") {
    lock_fixture fx;
    auto a = open_file(fx.path);
    auto b = open_file(fx.path);
    REQUIRE(fc::flock(a, lock_op::sh).has_value());
    REQUIRE(fc::flock(b, lock_op::sh | lock_op::nb).has_value());  // shared with shared
    CHECK_ERRNO(fc::flock(b, lock_op::ex | lock_op::nb), EWOULDBLOCK,
                "flock: [Errno 11] Resource temporarily unavailable");
    REQUIRE(fc::flock(b, lock_op::un).has_value());
    REQUIRE(fc::flock(a, lock_op::ex | lock_op::nb).has_value());  // converted to exclusive

    // A dup shares the description, and so the lock; another process's open does not.
    auto dup = ospp::dup(a).value();
    CHECK(fc::flock(dup, lock_op::ex | lock_op::nb).has_value());
    CHECK(fx.from_other_process([](ospp::fd_ref g) {
        auto r = fc::flock(g, lock_op::sh | lock_op::nb);
        return r ? std::string("ok") : r.error().name();
    }) == "EAGAIN");
    // flock and POSIX record locks do not see each other on Linux.
    CHECK(fx.from_other_process([](ospp::fd_ref g) { return outcome(fc::set_lock(g, {})); }) == "ok");

    REQUIRE(fc::flock(a, lock_op::un).has_value());
    CHECK(fc::flock(b, lock_op::ex | lock_op::nb).has_value());
    CHECK_ERRNO(fc::flock(b, lock_op::nb), EINVAL, "flock: [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::flock(ospp::fd_ref(-1), lock_op::ex), EBADF, "flock: [Errno 9] Bad file descriptor");
}

// ---- guards ----

TEST_CASE("flock_guard unlocks at scope exit, on unlock(), and moves") {
    lock_fixture fx;
    auto a = open_file(fx.path);
    auto b = open_file(fx.path);
    auto try_b = [&] { return fc::flock(b, lock_op::ex | lock_op::nb); };
    {
        auto g = fc::flock_guard::lock(a, lock_op::ex);
        REQUIRE(g.has_value());
        CHECK(g->owns_lock());
        CHECK(g->file() == ospp::fd_ref(a));
        CHECK_ERRNO(try_b(), EWOULDBLOCK, "flock: [Errno 11] Resource temporarily unavailable");

        fc::flock_guard moved = std::move(*g);
        CHECK_FALSE(g->owns_lock());
        CHECK(moved.owns_lock());
        CHECK_ERRNO(try_b(), EWOULDBLOCK, "flock: [Errno 11] Resource temporarily unavailable");
    }
    REQUIRE(try_b().has_value());
    {
        auto g = fc::flock_guard::lock(a, lock_op::sh | lock_op::nb);
        CHECK_ERRNO(g, EWOULDBLOCK, "flock: [Errno 11] Resource temporarily unavailable");
    }
    REQUIRE(fc::flock(b, lock_op::un).has_value());

    auto g = fc::flock_guard::lock(a, lock_op::ex | lock_op::nb);
    REQUIRE(g.has_value());
    REQUIRE(g->unlock().has_value());
    CHECK_FALSE(g->owns_lock());
    CHECK(try_b().has_value());
    CHECK_ERRNO(fc::flock_guard::lock(a, lock_op::un), EINVAL, "flock: [Errno 22] Invalid argument");

    // unlock() reports flock's error (here the borrowed descriptor closed under the guard), and
    // the guard holds nothing afterwards all the same.
    REQUIRE(fc::flock(b, lock_op::un).has_value());
    auto dup = ospp::dup(a).value();
    auto closed_under = fc::flock_guard::lock(dup, lock_op::ex | lock_op::nb);
    REQUIRE(closed_under.has_value());
    REQUIRE(dup.close().has_value());  // the lock stays: `a` still refers to the description
    CHECK_ERRNO(closed_under->unlock(), EBADF, "flock: [Errno 9] Bad file descriptor");
    CHECK_FALSE(closed_under->owns_lock());
    CHECK(closed_under->unlock().has_value());  // nothing left to unlock

    // Move-assigning onto a guard that holds a lock gives up that lock first.
    REQUIRE(fc::flock(b, lock_op::un).has_value());
    ospp_test::write_file(fx.dir / "other", "");
    auto other = open_file(fx.dir / "other");
    auto other_too = open_file(fx.dir / "other");
    auto held = fc::flock_guard::lock(a, lock_op::ex | lock_op::nb);
    auto taken = fc::flock_guard::lock(other, lock_op::ex | lock_op::nb);
    REQUIRE((held.has_value() && taken.has_value()));
    *held = std::move(*taken);
    CHECK(held->file() == ospp::fd_ref(other));
    CHECK(try_b().has_value());  // a's lock went with the assignment
    CHECK_ERRNO(fc::flock(other_too, lock_op::ex | lock_op::nb), EWOULDBLOCK,
                "flock: [Errno 11] Resource temporarily unavailable");
}

TEST_CASE("record_lock_guard: OFD by default, POSIX on request, the range unlocked at scope exit") {
    lock_fixture fx;
    auto f = open_file(fx.path);
    auto second = open_file(fx.path);
    const record_lock range{.type = lock_type::write, .start = 10, .len = 10};
    {
        auto g = fc::record_lock_guard::lock(f, range);
        REQUIRE(g.has_value());
        CHECK(g->range() == range);
        CHECK_ERRNO(fc::ofd_set_lock(second, {.start = 15, .len = 1}), EAGAIN,
                    "fcntl(F_OFD_SETLK): [Errno 11] Resource temporarily unavailable");
        CHECK_ERRNO(fc::record_lock_guard::lock(second, range, {.wait = false}), EAGAIN,
                    "fcntl(F_OFD_SETLK): [Errno 11] Resource temporarily unavailable");
    }
    CHECK(fc::ofd_set_lock(second, {.start = 15, .len = 1}).has_value());
    REQUIRE(fc::ofd_set_lock(second, {.type = lock_type::unlock}).has_value());

    auto probe = [](ospp::fd_ref g) { return outcome(fc::set_lock(g, {.start = 19, .len = 1})); };
    {
        auto g = fc::record_lock_guard::lock(f, range, {.ofd = false});
        REQUIRE(g.has_value());
        CHECK(fx.from_other_process(probe) != "ok");
        auto moved = std::move(*g);
        CHECK(fx.from_other_process(probe) != "ok");
    }
    CHECK(fx.from_other_process(probe) == "ok");
    {
        // Move-assigning onto a guard that holds a range unlocks that range first.
        auto held = fc::record_lock_guard::lock(f, range);
        auto taken = fc::record_lock_guard::lock(f, {.type = lock_type::write, .start = 40, .len = 5});
        REQUIRE((held.has_value() && taken.has_value()));
        *held = std::move(*taken);
        CHECK(held->range().start == 40);
        CHECK(fc::ofd_set_lock(second, {.start = 15, .len = 1}).has_value());
        REQUIRE(fc::ofd_set_lock(second, {.type = lock_type::unlock}).has_value());
        CHECK_ERRNO(fc::ofd_set_lock(second, {.start = 42, .len = 1}), EAGAIN,
                    "fcntl(F_OFD_SETLK): [Errno 11] Resource temporarily unavailable");
    }
    // Refused under the name of the call the guard would have made, like its other errors.
    CHECK_ERRNO(fc::record_lock_guard::lock(f, {.type = lock_type::unlock}), EINVAL,
                "fcntl(F_OFD_SETLKW): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::record_lock_guard::lock(f, {.type = lock_type::unlock}, {.ofd = false, .wait = false}), EINVAL,
                "fcntl(F_SETLK): [Errno 22] Invalid argument");

    // unlock() reports the unlock's error (the borrowed descriptor closed under the guard: the OFD
    // lock lives on through `f`) and holds nothing afterwards all the same.
    auto dup = ospp::dup(f).value();
    auto closed_under = fc::record_lock_guard::lock(dup, range);
    REQUIRE(closed_under.has_value());
    REQUIRE(dup.close().has_value());
    CHECK_ERRNO(closed_under->unlock(), EBADF, "fcntl(F_OFD_SETLK): [Errno 9] Bad file descriptor");
    CHECK_FALSE(closed_under->owns_lock());
    CHECK(closed_under->unlock().has_value());
}

TEST_CASE("record_lock_guard fixes a cur or end range when it locks, and unlocks that range") {
    // With whence cur or end the kernel measures the range from the offset or the size at each
    // call: an unlock with the same whence after the offset moved or the file grew would release
    // other bytes and leave the lock held until close. The guard locks (and unlocks) the absolute
    // range instead. Checked for both kinds of lock from a second open file description, whose
    // F_OFD_GETLK sees POSIX locks of this process too.
    constexpr auto set = fc::whence::set, cur = fc::whence::cur, end = fc::whence::end;
    lock_fixture fx;  // 100 bytes
    auto f = open_file(fx.path);
    auto other = open_file(fx.path);
    auto is_free = [&other](::off_t start, ::off_t len) {
        auto r = fc::ofd_get_lock(other, {.type = lock_type::write, .start = start, .len = len});
        REQUIRE(r.has_value());
        return !r->has_value();
    };
    for (const bool ofd : {true, false}) {
        CAPTURE(ofd);
        REQUIRE(ospp::lseek(f, 0, ospp::whence::set).has_value());
        {
            auto g = fc::record_lock_guard::lock(f, {.whence = cur, .start = 0, .len = 10}, {.ofd = ofd});
            REQUIRE(g.has_value());
            CHECK(g->range() == record_lock{.type = lock_type::write, .whence = set, .start = 0, .len = 10});
            CHECK_FALSE(is_free(0, 10));
            REQUIRE(ospp::lseek(f, 100, ospp::whence::set).has_value());
        }
        CHECK(is_free(0, 10));

        REQUIRE(ospp::ftruncate(f, 100).has_value());
        {
            auto g = fc::record_lock_guard::lock(f, {.whence = end, .start = -10, .len = 10}, {.ofd = ofd});
            REQUIRE(g.has_value());
            CHECK(g->range() == record_lock{.type = lock_type::write, .whence = set, .start = 90, .len = 10});
            CHECK_FALSE(is_free(90, 10));
            REQUIRE(ospp::ftruncate(f, 200).has_value());
        }
        CHECK(is_free(90, 10));
        CHECK(is_free(0, 0));  // nothing left anywhere

        // A negative start counts back from the offset.
        REQUIRE(ospp::lseek(f, 20, ospp::whence::set).has_value());
        {
            auto g = fc::record_lock_guard::lock(f, {.whence = cur, .start = -5, .len = 10}, {.ofd = ofd});
            REQUIRE(g.has_value());
            CHECK(g->range().start == 15);
            CHECK_FALSE(is_free(15, 1));
            CHECK(is_free(25, 1));
            REQUIRE(ospp::lseek(f, 0, ospp::whence::set).has_value());
            REQUIRE(g->unlock().has_value());
        }
        CHECK(is_free(0, 0));
    }

    // Errors of the offset and size look-ups come under the lock call's name, as the kernel's would.
    auto p = ospp::pipe().value();
    CHECK_ERRNO(fc::record_lock_guard::lock(p.read_end, {.type = lock_type::read, .whence = cur}), ESPIPE,
                "fcntl(F_OFD_SETLKW): [Errno 29] Illegal seek");
    CHECK_ERRNO(fc::record_lock_guard::lock(ospp::fd_ref(-1), {.whence = end}, {.ofd = false, .wait = false}), EBADF,
                "fcntl(F_SETLK): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::record_lock_guard::lock(ospp::fd_ref(-1), {.whence = cur}), EBADF,
                "fcntl(F_OFD_SETLKW): [Errno 9] Bad file descriptor");
    // A start beyond the largest offset once the size is added: EOVERFLOW, as the kernel says it.
    const ::off_t off_max = std::numeric_limits<::off_t>::max();
    CHECK_ERRNO(fc::record_lock_guard::lock(f, {.whence = end, .start = off_max, .len = 1}), EOVERFLOW,
                "fcntl(F_OFD_SETLKW): [Errno 75] Value too large for defined data type");
    CHECK_ERRNO(fc::ofd_set_lock(f, {.whence = end, .start = off_max, .len = 1}), EOVERFLOW,
                "fcntl(F_OFD_SETLK): [Errno 75] Value too large for defined data type");
}

// ---- pipes, seals, owner, signal, lease, notify, hints ----

TEST_CASE("pipe size: changed and read back; EBUSY below the data, EBADF on a non-pipe") {
    auto p = ospp::pipe().value();
    CHECK(fc::get_pipe_size(p.read_end).value() > 0);
    auto set = fc::set_pipe_size(p.write_end, 100000);
    REQUIRE(set.has_value());
    CHECK(*set == 131072);  // rounded up to a power-of-two number of pages
    CHECK(fc::get_pipe_size(p.read_end).value() == 131072);

    REQUIRE(ospp::write(p.write_end, std::string(10000, 'x')).value() == 10000);
    CHECK_ERRNO(fc::set_pipe_size(p.write_end, 4096), EBUSY,
                "fcntl(F_SETPIPE_SZ): [Errno 16] Device or resource busy");
    // Beyond what the kernel's unsigned int and fcntl's int answer can carry: refused, never
    // truncated (Python passes 2**32 on as 0 and gets a one-page pipe).
    CHECK_ERRNO(fc::set_pipe_size(p.write_end, std::size_t{1} << 32), EINVAL,
                "fcntl(F_SETPIPE_SZ): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::set_pipe_size(p.write_end, std::size_t{1} << 31), EINVAL,
                "fcntl(F_SETPIPE_SZ): [Errno 22] Invalid argument");
    CHECK(fc::get_pipe_size(p.read_end).value() == 131072);
    temp_dir dir;
    auto file = open_file(dir / "not-a-pipe");
    CHECK_ERRNO(fc::get_pipe_size(file), EBADF, "fcntl(F_GETPIPE_SZ): [Errno 9] Bad file descriptor");
}

TEST_CASE("seals on a memfd stop writes and growth with EPERM") {
    const int raw = static_cast<int>(::syscall(SYS_memfd_create, "ospp-seals", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    REQUIRE(raw >= 0);
    ospp::fd m(raw);
    REQUIRE(ospp::write(m, "hello").value() == 5);
    CHECK(fc::get_seals(m).value() == fc::seals{});

    REQUIRE(fc::add_seals(m, fc::seals::grow | fc::seals::shrink).has_value());
    CHECK(fc::get_seals(m).value() == (fc::seals::grow | fc::seals::shrink));
    CHECK_ERRNO(ospp::write(m, "!"), EPERM, "write: [Errno 1] Operation not permitted");  // past the end
    CHECK(::ftruncate(m.get(), 100) == -1);
    CHECK(errno == EPERM);
    CHECK(::pwrite(m.get(), "J", 1, 0) == 1);  // in place is still fine

    REQUIRE(fc::add_seals(m, fc::seals::write | fc::seals::seal).has_value());
    CHECK(::pwrite(m.get(), "j", 1, 0) == -1);
    CHECK(errno == EPERM);
    CHECK_ERRNO(fc::add_seals(m, fc::seals::future_write), EPERM,
                "fcntl(F_ADD_SEALS): [Errno 1] Operation not permitted");

    // A file that cannot be sealed (not tmpfs or hugetlbfs): a pipe, whatever TMPDIR is on.
    auto p = ospp::pipe().value();
    CHECK_ERRNO(fc::add_seals(p.write_end, fc::seals::grow), EINVAL, "fcntl(F_ADD_SEALS): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_seals(p.write_end), EINVAL, "fcntl(F_GET_SEALS): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_seals(ospp::fd_ref(-1)), EBADF, "fcntl(F_GET_SEALS): [Errno 9] Bad file descriptor");
}

TEST_CASE("seals: a memfd without MFD_ALLOW_SEALING is born sealed; EPERM without write access, EINVAL for unknown bits") {
    // The kernel starts every tmpfs file with F_SEAL_SEAL and memfd_create clears it only for
    // MFD_ALLOW_SEALING, so these get EPERM, not EINVAL.
    const int raw = static_cast<int>(::syscall(SYS_memfd_create, "ospp-sealed", MFD_CLOEXEC));
    REQUIRE(raw >= 0);
    ospp::fd sealed(raw);
    CHECK(fc::get_seals(sealed).value() == fc::seals::seal);
    CHECK_ERRNO(fc::add_seals(sealed, fc::seals::grow), EPERM, "fcntl(F_ADD_SEALS): [Errno 1] Operation not permitted");

    const int raw2 = static_cast<int>(::syscall(SYS_memfd_create, "ospp-sealable", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    REQUIRE(raw2 >= 0);
    ospp::fd sealable(raw2);
    auto read_only = ospp::open("/proc/self/fd/" + std::to_string(raw2), open_flags::rdonly);
    REQUIRE(read_only.has_value());
    CHECK_ERRNO(fc::add_seals(*read_only, fc::seals::grow), EPERM,
                "fcntl(F_ADD_SEALS): [Errno 1] Operation not permitted");
    CHECK_ERRNO(fc::add_seals(sealable, fc::seals{0x1000}), EINVAL, "fcntl(F_ADD_SEALS): [Errno 22] Invalid argument");
    CHECK(fc::get_seals(sealable).value() == fc::seals{});
}

TEST_CASE("owner: F_SETOWN/F_GETOWN and the _EX forms with a thread or a process group") {
    auto p = ospp::pipe().value();
    CHECK(fc::get_owner(p.read_end).value() == 0);
    REQUIRE(fc::set_owner(p.read_end, ::getpid()).has_value());
    CHECK(fc::get_owner(p.read_end).value() == ::getpid());
    CHECK(fc::get_owner_ex(p.read_end).value() == fc::owner{fc::owner_type::pid, ::getpid()});

    const fc::owner thread{fc::owner_type::tid, static_cast<pid_t>(::gettid())};
    REQUIRE(fc::set_owner_ex(p.read_end, thread).has_value());
    CHECK(fc::get_owner_ex(p.read_end).value() == thread);
    const fc::owner group{fc::owner_type::pgrp, ::getpgrp()};
    REQUIRE(fc::set_owner_ex(p.read_end, group).has_value());
    CHECK(fc::get_owner_ex(p.read_end).value() == group);
    CHECK(fc::get_owner(p.read_end).value() == -::getpgrp());

    CHECK_ERRNO(fc::set_owner(p.read_end, 0x7fffffff), ESRCH, "fcntl(F_SETOWN): [Errno 3] No such process");
    // INT_MIN has no positive group id to name (the kernel's own overflow check).
    CHECK_ERRNO(fc::set_owner(p.read_end, std::numeric_limits<pid_t>::min()), EINVAL,
                "fcntl(F_SETOWN): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::set_owner_ex(p.read_end, {fc::owner_type{99}, ::getpid()}), EINVAL,
                "fcntl(F_SETOWN_EX): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_owner_ex(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETOWN_EX): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::get_owner(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETOWN): [Errno 9] Bad file descriptor");
}

TEST_CASE("signal: F_SETSIG/F_GETSIG with the default as nullopt") {
    auto p = ospp::pipe().value();
    CHECK(fc::get_signal(p.read_end).value() == std::nullopt);
    REQUIRE(fc::set_signal(p.read_end, ospp::signum::usr1).has_value());
    CHECK(fc::get_signal(p.read_end).value() == ospp::signum::usr1);
    REQUIRE(fc::set_signal(p.read_end, std::nullopt).has_value());
    CHECK(::fcntl(p.read_end.get(), F_GETSIG) == 0);
    CHECK_ERRNO(fc::set_signal(p.read_end, ospp::signum{1000}), EINVAL, "fcntl(F_SETSIG): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_signal(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETSIG): [Errno 9] Bad file descriptor");
}

TEST_CASE("leases: taken, read back and released") {
    temp_dir dir;
    ospp_test::write_file(dir / "leased", "data");
    {
        auto f = open_file(dir / "leased", open_flags::rdonly);
        CHECK(fc::get_lease(f).value() == lock_type::unlock);
        REQUIRE(fc::set_lease(f, lock_type::read).has_value());
        CHECK(fc::get_lease(f).value() == lock_type::read);
        REQUIRE(fc::set_lease(f, lock_type::unlock).has_value());
        // A write lease while only this descriptor is open.
        REQUIRE(fc::set_lease(f, lock_type::write).has_value());
        CHECK(fc::get_lease(f).value() == lock_type::write);
        REQUIRE(fc::set_lease(f, lock_type::unlock).has_value());

        // A write lease needs the file open nowhere else.
        auto other = open_file(dir / "leased", open_flags::rdonly);
        CHECK_ERRNO(fc::set_lease(f, lock_type::write), EAGAIN,
                    "fcntl(F_SETLEASE): [Errno 11] Resource temporarily unavailable");
    }
    auto p = ospp::pipe().value();
    CHECK_ERRNO(fc::set_lease(p.read_end, lock_type::read), EINVAL, "fcntl(F_SETLEASE): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_lease(ospp::fd_ref(-1)), EBADF, "fcntl(F_GETLEASE): [Errno 9] Bad file descriptor");
}

TEST_CASE("notify: a file created in the watched directory raises SIGIO") {
    temp_dir dir;
    auto d = ospp::open(dir.path(), open_flags::rdonly | open_flags::directory).value();
    sigset_t io, old;
    ::sigemptyset(&io);
    ::sigaddset(&io, SIGIO);
    REQUIRE(::sigprocmask(SIG_BLOCK, &io, &old) == 0);

    REQUIRE(fc::notify(d, fc::notify_events::create | fc::notify_events::remove).has_value());
    ospp_test::write_file(dir / "new", "x");
    sigset_t pending;
    REQUIRE(::sigpending(&pending) == 0);
    const bool raised = ::sigismember(&pending, SIGIO) == 1;
    const timespec zero{0, 0};
    if (raised) ::sigtimedwait(&io, nullptr, &zero);  // consume it before unblocking
    REQUIRE(fc::notify(d, fc::notify_events{}).has_value());
    REQUIRE(::sigprocmask(SIG_SETMASK, &old, nullptr) == 0);
    CHECK(raised);

    auto file = open_file(dir / "plain");
    CHECK_ERRNO(fc::notify(file, fc::notify_events::modify), ENOTDIR, "fcntl(F_NOTIFY): [Errno 20] Not a directory");
}

TEST_CASE("read/write hints: the inode's hint set and read back") {
    temp_dir dir;
    auto f = open_file(dir / "hinted");
    CHECK(fc::get_rw_hint(f).value() == fc::rw_hint::write_life_not_set);
    REQUIRE(fc::set_rw_hint(f, fc::rw_hint::write_life_short).has_value());
    CHECK(fc::get_rw_hint(f).value() == fc::rw_hint::write_life_short);
    CHECK(fc::get_rw_hint(open_file(dir / "hinted")).value() == fc::rw_hint::write_life_short);  // the inode's
    CHECK_ERRNO(fc::set_rw_hint(f, fc::rw_hint{99}), EINVAL, "fcntl(F_SET_RW_HINT): [Errno 22] Invalid argument");
    CHECK_ERRNO(fc::get_rw_hint(ospp::fd_ref(-1)), EBADF, "fcntl(F_GET_RW_HINT): [Errno 9] Bad file descriptor");
    // Only the owner (or CAP_FOWNER) may set the hint: "/" belongs to root, tried as nobody.
    CHECK(in_child([]() -> std::string {
              auto root_dir = ospp::open("/", open_flags::rdonly | open_flags::directory);
              if (!root_dir) return "open /: " + root_dir.error().message();
              if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) return "setresuid failed";
              auto r = fc::set_rw_hint(*root_dir, fc::rw_hint::write_life_short);
              if (r) return "set the hint of another user's inode";
              return r.error().message() == "fcntl(F_SET_RW_HINT): [Errno 1] Operation not permitted"
                         ? ""
                         : r.error().message();
          }) == "");

    // The per-description hints were removed in Linux 5.17.
    ::utsname u{};
    REQUIRE(::uname(&u) == 0);
    int major = 0, minor = 0;
    REQUIRE(std::sscanf(u.release, "%d.%d", &major, &minor) == 2);
    if (major > 5 || (major == 5 && minor >= 17)) {
        CHECK_ERRNO(fc::get_file_rw_hint(f), EINVAL, "fcntl(F_GET_FILE_RW_HINT): [Errno 22] Invalid argument");
        CHECK_ERRNO(fc::set_file_rw_hint(f, fc::rw_hint::write_life_long), EINVAL,
                    "fcntl(F_SET_FILE_RW_HINT): [Errno 22] Invalid argument");
    } else {
        REQUIRE(fc::set_file_rw_hint(f, fc::rw_hint::write_life_long).has_value());
        CHECK(fc::get_file_rw_hint(f).value() == fc::rw_hint::write_life_long);
    }
}

// ---- reflinks ----

TEST_CASE("FICLONE and FICLONERANGE share data where the filesystem can reflink") {
    temp_dir dir;
    const std::string data(8192, 'r');
    ospp_test::write_file(dir / "source", data);
    auto src = open_file(dir / "source", open_flags::rdonly);
    auto dst = open_file(dir / "dest", open_flags::wronly);
    CHECK_ERRNO(fc::clone_file(dst, ospp::fd_ref(-1)), EBADF, "ioctl(FICLONE): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::clone_file_range(dst, ospp::fd_ref(-1), 0, 0, 0), EBADF,
                "ioctl(FICLONERANGE): [Errno 9] Bad file descriptor");
    CHECK_ERRNO(fc::clone_file(dst, dst), EBADF, "ioctl(FICLONE): [Errno 9] Bad file descriptor");  // wronly source

    auto r = fc::clone_file(dst, src);
    if (!r) {
        const int code = r.error().code();
        CHECK((code == EOPNOTSUPP || code == EXDEV || code == EINVAL));
        OSPP_SKIP("the filesystem of the temporary directory cannot reflink: " + r.error().message());
    }
    CHECK(ospp_test::read_file(dir / "dest") == data);
    auto part = open_file(dir / "part", open_flags::wronly);
    REQUIRE(fc::clone_file_range(part, src, 4096, 0, 0).has_value());
    CHECK(ospp_test::read_file(dir / "part") == data.substr(4096));
}
