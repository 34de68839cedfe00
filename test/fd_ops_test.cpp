// test/fd_ops_test.cpp — Python's file descriptor operations, checked against their real effect.
#include "ospp/fd_ops.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>
#include <array>
#include <string>
#include <vector>

#include "child.hpp"
#include "counting_new.hpp"
#include "support.hpp"

using ospp::open_flags;
using ospp_test::temp_dir;

using ospp_test::cloexec;

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
    CHECK_ERRNO(ospp::open(dir / "exists", open_flags::wronly | open_flags::creat | open_flags::excl), EEXIST,
                "open: [Errno 17] File exists: " + ospp::quote_path(dir / "exists"));
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
    CHECK_ERRNO(ospp::open("not-there", open_flags::rdonly, 0, {.dir_fd = *d}), ENOENT,
                "open: [Errno 2] No such file or directory: 'not-there'");
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

TEST_CASE("pipe fails with EMFILE when no descriptor number is free") {
    // In a child, whose NOFILE limit can be lowered for good: 0 leaves no number for a new fd.
    const std::string report = ospp_test::in_child([]() -> std::string {
        const ::rlimit none{0, 0};
        if (::setrlimit(RLIMIT_NOFILE, &none) != 0) return "setrlimit failed";
        const auto p = ospp::pipe();
        if (p) return "pipe succeeded";
        if (p.error().code() != EMFILE) return "errno " + std::to_string(p.error().code());
        return p.error().message() == "pipe: [Errno 24] Too many open files" ? "" : p.error().message();
    });
    CHECK(report == "");
}

TEST_CASE("pipe2 adds the requested flags") {
    auto p = ospp::pipe2(open_flags::nonblock);
    REQUIRE(p.has_value());
    CHECK((::fcntl(p->read_end.get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK(cloexec(p->write_end.get()));
    CHECK_ERRNO(ospp::read(p->read_end, 1), EAGAIN, "read: [Errno 11] Resource temporarily unavailable");
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

    // Same descriptor on both sides: no error (Python's os.dup2 says EINVAL for inheritable=False),
    // close-on-exec as asked; inheritable=True leaves the flags alone, like Python's and dup2(2).
    REQUIRE(ospp::set_inheritable(target, true).has_value());
    REQUIRE(ospp::dup2(target, target, false).has_value());
    CHECK(cloexec(target.get()));
    REQUIRE(ospp::dup2(target, target).has_value());
    CHECK(cloexec(target.get()));
    CHECK_ERRNO(ospp::dup2(ospp::fd_ref(-1), target), EBADF, "dup2: [Errno 9] Bad file descriptor");
    // A target beyond the descriptor limit is EBADF, in both forms: dup2 has no EMFILE.
    ::rlimit nofile{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &nofile) == 0);
    const ospp::fd_ref beyond(static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, INT_MAX)));
    CHECK_ERRNO(ospp::dup2(p.write_end, beyond), EBADF, "dup2: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::dup2(p.write_end, beyond, false), EBADF, "dup2: [Errno 9] Bad file descriptor");
}

TEST_CASE("open, read, write and close allocate nothing on success") {
    temp_dir dir;
    const std::string path = dir / "noalloc";
    ospp_test::write_file(path, "abc");
    const char* c_path = path.c_str();
    std::byte buf[8];

    bool ok = true;
    const long allocations = ospp_test::allocations_during([&] {
        auto a = ospp::open(c_path, open_flags::rdwr);
        ok = ok && a.has_value() && ospp::read(*a, buf).has_value() && ospp::write(*a, "d").has_value() &&
             a->close().has_value();
        auto b = ospp::open(path, open_flags::rdonly);
        ok = ok && b.has_value() && ospp::read(*b, buf).has_value() && ospp::close(std::move(*b)).has_value();
        auto c = ospp::open(std::string_view(path), open_flags::rdonly);
        ok = ok && c.has_value();
    });
    CHECK(ok);
    CHECK(allocations == 0);
}

// ---- the rest of the fd operations -----------------------------------------------------------

namespace {
// A file in `dir` with `content`, opened read-write.
ospp::fd open_rw(const temp_dir& dir, const char* name, std::string_view content) {
    ospp_test::write_file(dir / name, content);
    auto f = ospp::open(dir / name, open_flags::rdwr);
    REQUIRE(f.has_value());
    return std::move(*f);
}
std::span<std::byte> bytes(std::string& s) { return std::as_writable_bytes(std::span(s)); }
std::span<const std::byte> cbytes(std::string_view s) { return std::as_bytes(std::span(s)); }
}  // namespace

TEST_CASE("write_all writes everything through a pipe that takes it in pieces") {
    auto p = ospp::pipe().value();
    // Bigger than the pipe buffer: a child reads while we write, so write(2) returns short counts.
    const std::string data(256 * 1024, 'z');
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        p.write_end.reset();
        auto got = ospp::read_all(p.read_end);
        ::_exit(got && *got == data ? 0 : 1);
    }
    p.read_end.reset();
    auto r = ospp::write_all(p.write_end, data);
    CHECK(r.has_value());
    p.write_end.reset();
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("write_all reports how much it wrote before the error") {
    auto p = ospp::pipe2(open_flags::nonblock).value();
    const long capacity = ::fcntl(p.write_end.get(), F_GETPIPE_SZ);
    REQUIRE(capacity > 0);
    const std::string data(static_cast<std::size_t>(capacity) + 100, 'x');
    auto r = ospp::write_all(p.write_end, data);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == EAGAIN);
    CHECK(r.error().transferred == static_cast<std::size_t>(capacity));
    CHECK(r.error().message() == "write: [Errno 11] Resource temporarily unavailable");
    // The error is an errno_error, for code that does not care about the count.
    const ospp::errno_error plain = ospp::write_all(ospp::fd_ref(-1), "x").error();
    CHECK(plain.code() == EBADF);
    CHECK(plain.message() == "write: [Errno 9] Bad file descriptor");
}

TEST_CASE("read_all reads to end of file, both forms") {
    temp_dir dir;
    std::string big(100'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    auto f = open_rw(dir, "big", big);
    CHECK(ospp::read_all(f).value() == big);
    CHECK(ospp::read_all(f).value().empty());  // at end of file already

    // A pipe has no size hint: the buffer grows.
    auto p = ospp::pipe().value();
    REQUIRE(ospp::write_all(p.write_end, big.substr(0, 20'000)).has_value());
    p.write_end.reset();
    CHECK(ospp::read_all(p.read_end).value() == big.substr(0, 20'000));

    // Fill form: stops at the end of the buffer, or at end of file.
    REQUIRE(ospp::lseek(f, 0, ospp::whence::set).value() == 0);
    std::string buf(10, '\0');
    CHECK(ospp::read_all(f, bytes(buf)).value() == 10);
    CHECK(buf == "abcdefghij");
    REQUIRE(ospp::lseek(f, -3, ospp::whence::end).has_value());
    CHECK(ospp::read_all(f, bytes(buf)).value() == 3);
    CHECK(buf.substr(0, 3) == big.substr(big.size() - 3));

    CHECK_ERRNO(ospp::read_all(ospp::fd_ref(-1)), EBADF, "read: [Errno 9] Bad file descriptor");
    auto e = ospp::read_all(ospp::fd_ref(-1), bytes(buf));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().transferred == 0);
    CHECK(e.error().code() == EBADF);
}

TEST_CASE("read_all from inside a big file allocates for what is left, not for the whole file") {
    // CPython's FileIO.readall sizes its buffer as st_size - position + 1. Sizing it by st_size
    // alone kept 64 MiB of zeros alive in the string for the 3 bytes read here.
    temp_dir dir;
    auto f = open_rw(dir, "sparse", "");
    constexpr ::off_t size = ::off_t{64} << 20;
    REQUIRE(ospp::ftruncate(f, size).has_value());
    REQUIRE(ospp::pwrite(f, "end", size - 3).value() == 3);
    REQUIRE(ospp::lseek(f, -3, ospp::whence::end).has_value());
    const auto tail = ospp::read_all(f);
    REQUIRE(tail.has_value());
    CHECK(*tail == "end");
    CHECK(tail->capacity() < 4096);
}

TEST_CASE("read(fd, n) and pread(fd, n, offset) return every byte at each buffer size") {
    // The bytes go through a stack buffer up to 4 KiB, a heap buffer up to 64 KiB, and straight
    // into the string beyond: each side of each boundary, full and short.
    temp_dir dir;
    std::string data(std::size_t{1} << 17, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
    auto f = open_rw(dir, "f", data);
    for (const std::size_t n : {std::size_t{1}, std::size_t{4096}, std::size_t{4097}, std::size_t{65536},
                                std::size_t{65537}, data.size(), data.size() + 1}) {
        CAPTURE(n);
        const auto at = ospp::pread(f, n, 3);
        REQUIRE(at.has_value());
        CHECK(*at == data.substr(3, n));
        REQUIRE(ospp::lseek(f, 0, ospp::whence::set).has_value());
        const auto got = ospp::read(f, n);
        REQUIRE(got.has_value());
        CHECK(*got == data.substr(0, n));
    }
    CHECK(ospp::pread(f, 65536, static_cast<::off_t>(data.size()))->empty());
    CHECK_ERRNO(ospp::pread(f, 65536, -1), EINVAL, "pread: [Errno 22] Invalid argument");
}

TEST_CASE("read_all of a file larger than any string runs out of memory as std::bad_alloc") {
#ifdef OSPP_TEST_SANITIZER
    OSPP_SKIP("RLIMIT_AS cannot bound a sanitizer's address space");
#else
    // A memfd (tmpfs) holds a sparse file of INT64_MAX bytes. read_all sized its string from what
    // is left of the file, 2^63 bytes, and std::string threw std::length_error, not the
    // std::bad_alloc its header promises; Python's readall starts small when the size hint is not
    // below SSIZE_MAX. Memory is bounded in the child, so the read of zeros ends quickly.
    ospp::fd m(::memfd_create("huge", MFD_CLOEXEC));
    REQUIRE(m.valid());
    if (::ftruncate(m.get(), INT64_MAX) != 0) OSPP_SKIP("this kernel's tmpfs holds no file of INT64_MAX bytes");
    const int code = ospp_test::exit_code_of([&] {
        long pages = 0;  // the address space in use, in pages: statm's first field
        if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
            std::fclose(statm);
        }
        if (pages == 0) return 3;
        const rlim_t bound = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (256UL << 20);
        const struct ::rlimit lim {bound, bound};
        if (::setrlimit(RLIMIT_AS, &lim) != 0) return 4;
        try {
            (void)ospp::read_all(m);
            return 1;
        } catch (const std::bad_alloc&) {
            return 0;
        } catch (...) {
            return 2;
        }
    });
    CHECK(code == 0);
#endif
}

TEST_CASE("a short read keeps no more memory than its result needs, like Python's bytes") {
    // Python's os.read(fd, n) and readall shrink the bytes object to what was read. A string that
    // kept the whole buffer held a megabyte for each 5-byte message read with read(fd, 1 << 20).
    auto p = ospp::pipe().value();
    REQUIRE(ospp::write_all(p.write_end, "hello").has_value());
    const auto got = ospp::read(p.read_end, std::size_t{1} << 20);
    REQUIRE(got.has_value());
    CHECK(*got == "hello");
    CHECK(got->capacity() < 4096);

    REQUIRE(ospp::write_all(p.write_end, "world").has_value());
    p.write_end.reset();
    const auto all = ospp::read_all(p.read_end);  // starts with an 8 KiB buffer
    REQUIRE(all.has_value());
    CHECK(*all == "world");
    CHECK(all->capacity() < 4096);

    temp_dir dir;
    auto f = open_rw(dir, "f", "hello world");
    const auto at = ospp::pread(f, std::size_t{1} << 20, 6);
    REQUIRE(at.has_value());
    CHECK(*at == "world");
    CHECK(at->capacity() < 4096);
}

TEST_CASE("read and pread of more than SSIZE_MAX bytes are EINVAL, like Python's OverflowError") {
    // os.read(fd, 2**63) raises OverflowError; the string form here threw std::length_error
    // from std::string's constructor instead of returning an error. Up to SSIZE_MAX, a count
    // too big for memory stays std::bad_alloc (Python's MemoryError).
    auto p = ospp::pipe().value();
    const std::size_t over = static_cast<std::size_t>(SSIZE_MAX) + 1;
    CHECK_ERRNO(ospp::read(p.read_end, over), EINVAL, "read: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::read(p.read_end, SIZE_MAX), EINVAL, "read: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::pread(p.read_end, SIZE_MAX, 0), EINVAL, "pread: [Errno 22] Invalid argument");
    temp_dir dir;
    auto f = open_rw(dir, "f", "data");
    CHECK_ERRNO(ospp::pread(f, over, 0), EINVAL, "pread: [Errno 22] Invalid argument");
    CHECK(ospp::pread(f, 4, 0).value() == "data");
}

TEST_CASE("closerange closes [low, high) and ignores holes") {
    auto a = ospp::open("/dev/null", open_flags::rdonly).value();
    // Numbers well above anything in use (but under the fd limit), one left as a hole.
    const long limit = ::sysconf(_SC_OPEN_MAX);
    REQUIRE(limit > 64);
    const int base = static_cast<int>(std::min(900L, limit - 8));
    REQUIRE(::fcntl(a.get(), F_DUPFD_CLOEXEC, base) == base);
    REQUIRE(::fcntl(a.get(), F_DUPFD_CLOEXEC, base + 2) == base + 2);
    REQUIRE(::fcntl(a.get(), F_DUPFD_CLOEXEC, base + 3) == base + 3);
    errno = 1234;
    ospp::closerange(base, base + 3);
    CHECK(errno == 1234);
    CHECK(::fcntl(base, F_GETFD) == -1);
    CHECK(::fcntl(base + 2, F_GETFD) == -1);
    CHECK(::fcntl(base + 3, F_GETFD) >= 0);  // high is exclusive
    ospp::closerange(base + 3, base + 3);    // empty range: nothing
    CHECK(::fcntl(base + 3, F_GETFD) >= 0);
    ospp::closerange(base + 3, base + 4);
    CHECK(::fcntl(base + 3, F_GETFD) == -1);
    CHECK(::fcntl(a.get(), F_GETFD) >= 0);
}

// Where close_range is missing (Linux < 5.9: ENOSYS) or refused by a seccomp filter (EPERM), the
// fallback must still close every fd in the range, as Python's loop of close does: also one above
// the hard descriptor limit, where the limit was lowered after it was opened.
TEST_CASE("closerange without close_range closes the whole range, even above the fd limit") {
    for (const int err : {ENOSYS, EPERM}) {
        CAPTURE(err);
        const int code = ospp_test::exit_code_of([err] {
            const int base = 900;
            for (int n : {base, base + 2, base + 3}) {
                if (::fcntl(0, F_DUPFD_CLOEXEC, n) != n) return 1;
            }
            struct ::rlimit lim {100, 100};  // every fd above is now above the hard limit
            if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return 2;
            if (!ospp_test::refuse_syscall(SYS_close_range, err)) return 3;
            errno = 1234;
            ospp::closerange(base, base + 3);
            if (errno != 1234) return 4;
            if (::fcntl(base, F_GETFD) != -1 || ::fcntl(base + 2, F_GETFD) != -1) return 5;  // left open
            if (::fcntl(base + 3, F_GETFD) < 0 || ::fcntl(0, F_GETFD) < 0) return 6;  // closed beyond the range
            ospp::closerange(base + 3, INT_MAX);
            if (::fcntl(base + 3, F_GETFD) != -1) return 7;
            return 0;
        });
        CHECK(code == 0);
    }
}

TEST_CASE("lseek moves the offset, finds data and holes") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "0123456789");
    CHECK(ospp::lseek(f, 4, ospp::whence::set).value() == 4);
    CHECK(ospp::read(f, 2).value() == "45");
    CHECK(ospp::lseek(f, 1, ospp::whence::cur).value() == 7);
    CHECK(ospp::lseek(f, -1, ospp::whence::end).value() == 9);
    CHECK(ospp::lseek(f, 0, ospp::whence::data).value() == 0);
    CHECK(ospp::lseek(f, 0, ospp::whence::hole).value() == 10);  // end of file counts as a hole
    CHECK_ERRNO(ospp::lseek(f, 20, ospp::whence::data), ENXIO, "lseek: [Errno 6] No such device or address");
    CHECK_ERRNO(ospp::lseek(f, -1, ospp::whence::set), EINVAL, "lseek: [Errno 22] Invalid argument");
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::lseek(p.read_end, 0, ospp::whence::cur), ESPIPE, "lseek: [Errno 29] Illegal seek");
}

TEST_CASE("pread and pwrite work at an offset and leave the file offset alone") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "hello world");
    CHECK(ospp::pread(f, 5, 6).value() == "world");
    std::string buf(3, '\0');
    CHECK(ospp::pread(f, bytes(buf), 1).value() == 3);
    CHECK(buf == "ell");
    CHECK(ospp::pread(f, 5, 100).value().empty());
    CHECK(ospp::pwrite(f, "W", 6).value() == 1);
    CHECK(ospp::pwrite(f, cbytes("!"), 11).value() == 1);
    CHECK(ospp::lseek(f, 0, ospp::whence::cur).value() == 0);
    CHECK(ospp_test::read_file(dir / "f") == "hello World!");
    CHECK_ERRNO(ospp::pread(f, 1, -1), EINVAL, "pread: [Errno 22] Invalid argument");
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::pwrite(p.write_end, "x", 0), ESPIPE, "pwrite: [Errno 29] Illegal seek");
}

TEST_CASE("readv and writev scatter and gather") {
    auto p = ospp::pipe().value();
    const std::string_view parts[] = {"ab", "", "cde"};
    CHECK(ospp::writev(p.write_end, parts).value() == 5);
    const std::span<const std::byte> raw[] = {cbytes("fg")};
    CHECK(ospp::writev(p.write_end, raw).value() == 2);
    std::string a(3, '\0'), b(10, '\0');
    const std::span<std::byte> into[] = {bytes(a), bytes(b)};
    CHECK(ospp::readv(p.read_end, into).value() == 7);
    CHECK(a == "abc");
    CHECK(b.substr(0, 4) == "defg");
    CHECK_ERRNO(ospp::readv(ospp::fd_ref(-1), into), EBADF, "readv: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::writev(ospp::fd_ref(-1), parts), EBADF, "writev: [Errno 9] Bad file descriptor");
    // More buffers than IOV_MAX: EINVAL, like the kernel.
    // (A static array, not a vector: this file replaces operator new, and g++ 12 then warns.)
    static std::array<std::string_view, IOV_MAX + 1> many;
    many.fill("x");
    CHECK_ERRNO(ospp::writev(p.write_end, many), EINVAL, "writev: [Errno 22] Invalid argument");
    // Exactly IOV_MAX is the kernel's limit, not past it.
    const auto all = ospp::writev(p.write_end, std::span(many).first<IOV_MAX>());
    REQUIRE(all.has_value());
    CHECK(*all == IOV_MAX);
    CHECK(ospp::read(p.read_end, IOV_MAX + 1).value() == std::string(IOV_MAX, 'x'));
}

TEST_CASE("preadv and pwritev work at an offset, with RWF flags") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "0123456789");
    const std::string_view parts[] = {"ab", "cd"};
    CHECK(ospp::pwritev(f, parts, 2).value() == 4);
    CHECK(ospp_test::read_file(dir / "f") == "01abcd6789");
    const std::span<const std::byte> raw[] = {cbytes("Z")};
    CHECK(ospp::pwritev(f, raw, 0, ospp::rw_flags::dsync).value() == 1);
    CHECK(ospp_test::read_file(dir / "f") == "Z1abcd6789");
    // RWF_APPEND writes at the end whatever the offset says.
    CHECK(ospp::pwritev(f, raw, 0, ospp::rw_flags::append).value() == 1);
    CHECK(ospp_test::read_file(dir / "f") == "Z1abcd6789Z");

    std::string a(2, '\0'), b(3, '\0');
    const std::span<std::byte> into[] = {bytes(a), bytes(b)};
    CHECK(ospp::preadv(f, into, 3).value() == 5);
    CHECK(a + b == "bcd67");
    CHECK(ospp::preadv(f, into, 0, ospp::rw_flags::hipri | ospp::rw_flags{0}).has_value());
    CHECK(ospp::lseek(f, 0, ospp::whence::cur).value() == 0);
    CHECK_ERRNO(ospp::preadv(f, into, 0, ospp::rw_flags{0x40000000}), EOPNOTSUPP,
                "preadv: [Errno 95] Operation not supported");
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::pwritev(p.write_end, parts, 0), ESPIPE, "pwritev: [Errno 29] Illegal seek");
}

TEST_CASE("preadv and pwritev at offset -1 use and advance the file offset, like Python's") {
    // CPython calls preadv2/pwritev2 whatever the flags, and the kernel takes offset -1 there as
    // "the file's own offset", as readv/writev do. Plain preadv(2) refuses -1 with EINVAL, which
    // made -1 work only when some rw_flags were given.
    temp_dir dir;
    auto f = open_rw(dir, "f", "0123456789");
    REQUIRE(ospp::lseek(f, 4, ospp::whence::set).has_value());
    std::string a(3, '\0');
    const std::span<std::byte> into[] = {bytes(a)};
    CHECK(ospp::preadv(f, into, -1).value() == 3);
    CHECK(a == "456");
    CHECK(ospp::lseek(f, 0, ospp::whence::cur).value() == 7);
    const std::string_view parts[] = {"XY"};
    CHECK(ospp::pwritev(f, parts, -1).value() == 2);
    CHECK(ospp::lseek(f, 0, ospp::whence::cur).value() == 9);
    CHECK(ospp_test::read_file(dir / "f") == "0123456XY9");
    // Any other negative offset is still the kernel's EINVAL, as Python's.
    CHECK_ERRNO(ospp::preadv(f, into, -2), EINVAL, "preadv: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::pwritev(f, parts, -2), EINVAL, "pwritev: [Errno 22] Invalid argument");
}

TEST_CASE("copy_file_range copies with and without explicit offsets") {
    temp_dir dir;
    auto src = open_rw(dir, "src", "abcdefgh");
    auto dst = open_rw(dir, "dst", "");
    // No offsets: both file offsets advance.
    CHECK(ospp::copy_file_range(src, dst, 3).value() == 3);
    CHECK(ospp::lseek(src, 0, ospp::whence::cur).value() == 3);
    CHECK(ospp::lseek(dst, 0, ospp::whence::cur).value() == 3);
    // Explicit offsets: the file offsets stay where they were.
    CHECK(ospp::copy_file_range(src, dst, 2, 6, 10).value() == 2);
    CHECK(ospp::lseek(src, 0, ospp::whence::cur).value() == 3);
    CHECK(ospp_test::read_file(dir / "dst") == std::string("abc") + std::string(7, '\0') + "gh");
    CHECK(ospp::copy_file_range(src, dst, 5, 8).value() == 0);  // at the end of src
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::copy_file_range(src, ospp::fd_ref(-1), 1), EBADF,
                "copy_file_range: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::copy_file_range(p.read_end, dst, 1), EINVAL, "copy_file_range: [Errno 22] Invalid argument");
    // Negative offsets, as Python's os.copy_file_range reports them: -1 wraps (EOVERFLOW), -5 not.
    CHECK_ERRNO(ospp::copy_file_range(src, dst, 1, -1), EOVERFLOW,
                "copy_file_range: [Errno 75] Value too large for defined data type");
    CHECK_ERRNO(ospp::copy_file_range(src, dst, 1, 0, -5), EINVAL, "copy_file_range: [Errno 22] Invalid argument");
}

TEST_CASE("sendfile copies from a file to a pipe") {
    temp_dir dir;
    auto src = open_rw(dir, "src", "0123456789");
    auto p = ospp::pipe().value();
    CHECK(ospp::sendfile(p.write_end, src, 4, 3).value() == 3);
    CHECK(ospp::lseek(src, 0, ospp::whence::cur).value() == 0);
    CHECK(ospp::sendfile(p.write_end, src, std::nullopt, 2).value() == 2);
    CHECK(ospp::lseek(src, 0, ospp::whence::cur).value() == 2);
    CHECK(ospp::read(p.read_end, 16).value() == "45601");
    CHECK_ERRNO(ospp::sendfile(p.write_end, ospp::fd_ref(-1), 0, 1), EBADF,
                "sendfile: [Errno 9] Bad file descriptor");
}

TEST_CASE("splice moves bytes between a pipe and a file") {
    temp_dir dir;
    auto src = open_rw(dir, "src", "spliced!");
    auto p = ospp::pipe().value();
    CHECK(ospp::splice(src, p.write_end, 7, 0, std::nullopt, ospp::splice_flags::move).value() == 7);
    CHECK(ospp::lseek(src, 0, ospp::whence::cur).value() == 0);
    auto dst = open_rw(dir, "dst", "");
    CHECK(ospp::splice(p.read_end, dst, 7).value() == 7);
    CHECK(ospp_test::read_file(dir / "dst") == "spliced");
    // Empty pipe, non-blocking: EAGAIN. Neither side a pipe: EINVAL.
    CHECK_ERRNO(ospp::splice(p.read_end, dst, 1, std::nullopt, std::nullopt, ospp::splice_flags::nonblock),
                EAGAIN, "splice: [Errno 11] Resource temporarily unavailable");
    CHECK_ERRNO(ospp::splice(src, dst, 1), EINVAL, "splice: [Errno 22] Invalid argument");
    // An offset for the pipe end: ESPIPE, on either side (as Python's os.splice reports it).
    REQUIRE(ospp::write_all(p.write_end, "x").has_value());
    CHECK_ERRNO(ospp::splice(p.read_end, dst, 1, 0), ESPIPE, "splice: [Errno 29] Illegal seek");
    CHECK_ERRNO(ospp::splice(src, p.write_end, 1, 0, 0), ESPIPE, "splice: [Errno 29] Illegal seek");
}

TEST_CASE("copy_file_range copies what there is for a count above SSIZE_MAX; sendfile and splice refuse it") {
    // Python raises OverflowError for all three; ospp's copy_file_range copies what there is
    // ("as much as you can" is a natural SIZE_MAX in C++), and sendfile and splice refuse it with
    // EINVAL, as Python.
    temp_dir dir;
    auto src = open_rw(dir, "src", "all of it");
    auto dst = open_rw(dir, "dst", "");
    CHECK(ospp::copy_file_range(src, dst, SIZE_MAX, 0).value() == 9);
    // Also from offsets past 0, where the kernel's own check of offset + count would wrap
    // (EOVERFLOW) for a count of SIZE_MAX: ospp gives it at most SSIZE_MAX, Python's largest.
    CHECK(ospp::copy_file_range(src, dst, SIZE_MAX, 4, 2).value() == 5);
    REQUIRE(ospp::lseek(src, 7, ospp::whence::set).value() == 7);
    REQUIRE(ospp::lseek(dst, 3, ospp::whence::set).value() == 3);
    CHECK(ospp::copy_file_range(src, dst, SIZE_MAX).value() == 2);
    CHECK(ospp_test::read_file(dir / "dst") == "aloititit");
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::sendfile(p.write_end, src, 0, SIZE_MAX), EINVAL, "sendfile: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::splice(src, p.write_end, SIZE_MAX, 0), EINVAL, "splice: [Errno 22] Invalid argument");
    CHECK(ospp::sendfile(p.write_end, src, 0, std::size_t{1} << 62).value() == 9);
    // Refused before the kernel sees it, as Python's OverflowError comes before any call: the
    // kernel itself would take SIZE_MAX from one pipe to another (and move the 9 bytes), and a bad
    // descriptor would be EBADF there.
    auto q = ospp::pipe2(ospp::open_flags::nonblock).value();
    CHECK_ERRNO(ospp::splice(p.read_end, q.write_end, SIZE_MAX), EINVAL, "splice: [Errno 22] Invalid argument");
    CHECK(ospp::read(p.read_end, 16).value() == "all of it");
    CHECK_ERRNO(ospp::splice(ospp::fd_ref(-1), q.write_end, SIZE_MAX), EINVAL, "splice: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::sendfile(ospp::fd_ref(-1), src, 0, SIZE_MAX), EINVAL, "sendfile: [Errno 22] Invalid argument");
}

TEST_CASE("read_all on a non-blocking descriptor returns what it read when the data runs out") {
    // Python's FileIO.readall: EAGAIN after some bytes ends the read with those bytes; EAGAIN
    // before any stays an error (Python's None). The bytes are gone from the pipe either way, so
    // an error here would lose them.
    auto p = ospp::pipe().value();
    REQUIRE(ospp::set_blocking(p.read_end, false).has_value());
    REQUIRE(ospp::write_all(p.write_end, "hello").has_value());
    CHECK(ospp::read_all(p.read_end).value() == "hello");
    CHECK_ERRNO(ospp::read_all(p.read_end), EAGAIN, "read: [Errno 11] Resource temporarily unavailable");

    // More than the first 8 KiB buffer: the data read before a regrowth is kept too.
    const std::string big(20'000, 'b');
    REQUIRE(ospp::write_all(p.write_end, big).has_value());
    CHECK(ospp::read_all(p.read_end).value() == big);

    // The fill form: the count read so far, short of the buffer's size.
    std::string buf(16, '\0');
    REQUIRE(ospp::write_all(p.write_end, "world").has_value());
    CHECK(ospp::read_all(p.read_end, bytes(buf)).value() == 5);
    CHECK(buf.substr(0, 5) == "world");
    auto e = ospp::read_all(p.read_end, bytes(buf));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code() == EAGAIN);
    CHECK(e.error().transferred == 0);
    CHECK(e.error().message() == "read: [Errno 11] Resource temporarily unavailable");
}

TEST_CASE("read_all of a packet-mode pipe loses no part of a packet") {
    // A pipe2(O_DIRECT) read gives one packet (a write of up to PIPE_BUF bytes) and discards
    // what does not fit in the buffer (pipe(2)), so every read needs room for PIPE_BUF bytes: with
    // 8 KiB to start, a third packet of 4000 bytes would get the 192 left over.
    auto p = ospp::pipe2(ospp::open_flags::direct).value();
    std::string sent;
    for (const char c : {'a', 'b', 'c', 'd'}) {
        const std::string packet(4000, c);
        REQUIRE(ospp::write(p.write_end, packet).value() == packet.size());
        sent += packet;
    }
    p.write_end.reset();
    CHECK(ospp::read_all(p.read_end).value() == sent);
}

TEST_CASE("fchmod, fchown, ftruncate, fsync and fdatasync change the file") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "0123456789");
    REQUIRE(ospp::fchmod(f, 0600).has_value());
    struct ::stat st {};
    REQUIRE(::fstat(f.get(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    // Chowning to our own ids is allowed to everyone; -1 leaves a field alone.
    REQUIRE(ospp::fchown(f, ::getuid(), static_cast<gid_t>(-1)).has_value());
    REQUIRE(ospp::ftruncate(f, 4).has_value());
    CHECK(ospp_test::read_file(dir / "f") == "0123");
    REQUIRE(ospp::ftruncate(f, 6).has_value());
    CHECK(ospp_test::read_file(dir / "f") == std::string("0123\0\0", 6));
    CHECK(ospp::fsync(f).has_value());
    CHECK(ospp::fdatasync(f).has_value());

    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::fchmod(ospp::fd_ref(-1), 0600), EBADF, "fchmod: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::ftruncate(f, -1), EINVAL, "ftruncate: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::fsync(p.write_end), EINVAL, "fsync: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::fdatasync(p.write_end), EINVAL, "fdatasync: [Errno 22] Invalid argument");
    if (!ospp_test::is_root()) {
        CHECK_ERRNO(ospp::fchown(f, 0, 0), EPERM, "fchown: [Errno 1] Operation not permitted");
    } else {
        CHECK_ERRNO(ospp::fchown(ospp::fd_ref(-1), 0, 0), EBADF, "fchown: [Errno 9] Bad file descriptor");
    }
}

TEST_CASE("posix_fallocate reserves space and posix_fadvise accepts advice") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "");
    REQUIRE(ospp::posix_fallocate(f, 0, 8192).has_value());
    struct ::stat st {};
    REQUIRE(::fstat(f.get(), &st) == 0);
    CHECK(st.st_size == 8192);
    CHECK(st.st_blocks * 512 >= 8192);
    CHECK_ERRNO(ospp::posix_fallocate(f, 0, 0), EINVAL, "posix_fallocate: [Errno 22] Invalid argument");

    for (auto advice : {ospp::fadvise_advice::normal, ospp::fadvise_advice::sequential,
                        ospp::fadvise_advice::random, ospp::fadvise_advice::noreuse,
                        ospp::fadvise_advice::willneed, ospp::fadvise_advice::dontneed}) {
        CHECK(ospp::posix_fadvise(f, 0, 0, advice).has_value());
    }
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::posix_fadvise(p.read_end, 0, 0, ospp::fadvise_advice::normal), ESPIPE,
                "posix_fadvise: [Errno 29] Illegal seek");
}

TEST_CASE("lockf locks a section against another process") {
    temp_dir dir;
    auto f = open_rw(dir, "f", "0123456789");
    REQUIRE(ospp::lockf(f, ospp::lockf_command::lock, 5).has_value());
    REQUIRE(ospp::lockf(f, ospp::lockf_command::test, 5).has_value());  // ours: free to us
    // Another process sees the lock (locks are per process).
    auto ask = [&](::off_t start, ospp::lockf_command cmd) {
        const pid_t child = ::fork();
        if (child == 0) {
            auto g = ospp::open(dir / "f", open_flags::rdwr);
            if (!g || !ospp::lseek(*g, start, ospp::whence::set)) ::_exit(2);
            auto r = ospp::lockf(*g, cmd, 1);
            ::_exit(r ? 0 : (r.error().code() == EACCES || r.error().code() == EAGAIN) ? 1 : 3);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    CHECK(ask(2, ospp::lockf_command::tlock) == 1);
    CHECK(ask(2, ospp::lockf_command::test) == 1);
    CHECK(ask(7, ospp::lockf_command::tlock) == 0);  // outside the locked section
    REQUIRE(ospp::lockf(f, ospp::lockf_command::ulock, 5).has_value());
    CHECK(ask(2, ospp::lockf_command::tlock) == 0);

    auto ro = ospp::open(dir / "f", open_flags::rdonly).value();
    CHECK_ERRNO(ospp::lockf(ro, ospp::lockf_command::tlock, 1), EBADF, "lockf: [Errno 9] Bad file descriptor");
    // A section that ends past the largest offset, counted from the offset (Python: the same).
    REQUIRE(ospp::lseek(f, 5, ospp::whence::set).has_value());
    CHECK_ERRNO(ospp::lockf(f, ospp::lockf_command::tlock, std::numeric_limits<::off_t>::max()), EOVERFLOW,
                "lockf: [Errno 75] Value too large for defined data type");
    CHECK_ERRNO(ospp::lockf(f, ospp::lockf_command::test, std::numeric_limits<::off_t>::max()), EOVERFLOW,
                "lockf: [Errno 75] Value too large for defined data type");
    // One that starts before byte 0.
    CHECK_ERRNO(ospp::lockf(f, ospp::lockf_command::ulock, -10), EINVAL, "lockf: [Errno 22] Invalid argument");
}

TEST_CASE("get_blocking and set_blocking toggle O_NONBLOCK") {
    auto p = ospp::pipe().value();
    CHECK(ospp::get_blocking(p.read_end).value());
    REQUIRE(ospp::set_blocking(p.read_end, false).has_value());
    CHECK((::fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK_FALSE(ospp::get_blocking(p.read_end).value());
    CHECK_ERRNO(ospp::read(p.read_end, 1), EAGAIN, "read: [Errno 11] Resource temporarily unavailable");
    REQUIRE(ospp::set_blocking(p.read_end, true).has_value());
    CHECK((::fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK) == 0);
    CHECK_ERRNO(ospp::get_blocking(ospp::fd_ref(-1)), EBADF, "get_blocking: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::set_blocking(ospp::fd_ref(-1), true), EBADF, "set_blocking: [Errno 9] Bad file descriptor");
}

TEST_CASE("get_inheritable and set_inheritable toggle FD_CLOEXEC") {
    auto p = ospp::pipe().value();
    CHECK_FALSE(ospp::get_inheritable(p.read_end).value());
    REQUIRE(ospp::set_inheritable(p.read_end, true).has_value());
    CHECK_FALSE(cloexec(p.read_end.get()));
    CHECK(ospp::get_inheritable(p.read_end).value());
    REQUIRE(ospp::set_inheritable(p.read_end, false).has_value());
    CHECK(cloexec(p.read_end.get()));
    // O_PATH descriptors allow fcntl but not ioctl: the fcntl route works for them too.
    auto path_fd = ospp::open("/", open_flags::path).value();
    REQUIRE(ospp::set_inheritable(path_fd, true).has_value());
    CHECK(ospp::get_inheritable(path_fd).value());
    CHECK_ERRNO(ospp::get_inheritable(ospp::fd_ref(-1)), EBADF,
                "get_inheritable: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::set_inheritable(ospp::fd_ref(-1), false), EBADF,
                "set_inheritable: [Errno 9] Bad file descriptor");
}

TEST_CASE("isatty is false for files, pipes and closed descriptors") {
    auto p = ospp::pipe().value();
    CHECK_FALSE(ospp::isatty(p.read_end));
    auto null = ospp::open("/dev/null", open_flags::rdonly).value();
    CHECK_FALSE(ospp::isatty(null));
    CHECK_FALSE(ospp::isatty(ospp::fd_ref(-1)));
    // A true answer needs a terminal: see terminal_test.cpp.
}

TEST_CASE("fpathconf returns limits, 'no limit' and errors apart") {
    temp_dir dir;
    auto d = ospp::open(dir.path(), open_flags::rdonly | open_flags::directory).value();
    CHECK(ospp::fpathconf(d, ospp::pathconf_name::name_max).value() == 255);
    CHECK(ospp::fpathconf(d, "PC_NAME_MAX").value() == 255);
    auto p = ospp::pipe().value();
    CHECK(ospp::fpathconf(p.read_end, ospp::pathconf_name::pipe_buf).value() == PIPE_BUF);
    // glibc answers _PC_SYMLINK_MAX with -1 and errno untouched: no limit, not an error.
    auto sym = ospp::fpathconf(d, ospp::pathconf_name::symlink_max);
    REQUIRE(sym.has_value());
    CHECK_FALSE(sym->has_value());
    CHECK_ERRNO(ospp::fpathconf(ospp::fd_ref(-1), ospp::pathconf_name::name_max), EBADF,
                "fpathconf: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::fpathconf(d, "PC_NOT_A_NAME"), EINVAL, "fpathconf: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::fpathconf(d, ospp::pathconf_name{-5}), EINVAL, "fpathconf: [Errno 22] Invalid argument");
}

TEST_CASE("pathconf_names matches Python's os.pathconf_names") {
    CHECK(ospp::pathconf_names().size() == 20);
    for (const auto& e : ospp::pathconf_names()) {
        CHECK(ospp::find_name(ospp::pathconf_names(), e.name)->value == e.value);
    }
    CHECK(ospp::find_name(ospp::pathconf_names(), "PC_PIPE_BUF")->value == ospp::pathconf_name::pipe_buf);
    CHECK(ospp::find_name(ospp::pathconf_names(), "pc_pipe_buf") == nullptr);
    CHECK(ospp::to_raw(ospp::pathconf_name::symlink_max) == 19);

    std::vector<std::string> ours;
    for (const auto& e : ospp::pathconf_names())
        ours.push_back(std::string(e.name) + " " + std::to_string(ospp::to_raw(e.value)));
    std::sort(ours.begin(), ours.end());
    std::string dump;
    for (const auto& line : ours) dump += line + "\n";
    const auto python = ospp_test::command_output(
        "python3 -c 'import os; [print(k, v) for k, v in sorted(os.pathconf_names.items())]' 2>/dev/null");
    if (!python) OSPP_SKIP("python3 is not available to compare the table with");
    CHECK(dump == *python);
}

TEST_CASE("descriptors that are not files: the errnos the header names") {
    // epoll, eventfd: neither is read or written as a byte stream (EINVAL); an eventfd reads 8 bytes.
    const ospp::fd ep(::epoll_create1(EPOLL_CLOEXEC));
    REQUIRE(ep.valid());
    std::array<std::byte, 4> small{};
    CHECK_ERRNO(ospp::read(ep, small), EINVAL, "read: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::write(ep, "x"), EINVAL, "write: [Errno 22] Invalid argument");
    const ospp::fd ev(::eventfd(1, EFD_CLOEXEC));
    REQUIRE(ev.valid());
    CHECK_ERRNO(ospp::read(ev, small), EINVAL, "read: [Errno 22] Invalid argument");
    // Files that cannot seek, sync or be truncated: a pipe, /dev/null; SEEK_END on a /proc file.
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::lseek(p.read_end, 0, ospp::whence::set), ESPIPE, "lseek: [Errno 29] Illegal seek");
    CHECK_ERRNO(ospp::ftruncate(p.write_end, 0), EINVAL, "ftruncate: [Errno 22] Invalid argument");
    auto null = ospp::open("/dev/null", open_flags::wronly).value();
    CHECK_ERRNO(ospp::fsync(null), EINVAL, "fsync: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::ftruncate(null, 0), EINVAL, "ftruncate: [Errno 22] Invalid argument");
    auto proc = ospp::open("/proc/self/status", open_flags::rdonly).value();
    CHECK_ERRNO(ospp::lseek(proc, 0, ospp::whence::end), EINVAL, "lseek: [Errno 22] Invalid argument");
    // /dev/full: every write is ENOSPC.
    auto full = ospp::open("/dev/full", open_flags::wronly).value();
    CHECK_ERRNO(ospp::write(full, "x"), ENOSPC, "write: [Errno 28] No space left on device");
}

TEST_CASE("sendfile and splice into a pipe without a reader fail with EPIPE") {
    // In a child that ignores SIGPIPE, as a program that checks EPIPE does.
    const std::string report = ospp_test::in_child([]() -> std::string {
        ::signal(SIGPIPE, SIG_IGN);
        auto src = ospp::open("/proc/self/exe", open_flags::rdonly);
        auto p = ospp::pipe();
        if (!src || !p) return "setup failed";
        p->read_end.reset();
        auto sent = ospp::sendfile(p->write_end, *src, 0, 1);
        if (sent || sent.error().message() != "sendfile: [Errno 32] Broken pipe") return "sendfile: not EPIPE";
        auto spliced = ospp::splice(*src, p->write_end, 1, 0);
        if (spliced || spliced.error().message() != "splice: [Errno 32] Broken pipe") return "splice: not EPIPE";
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("an O_PATH descriptor: fstat, fpathconf, dup and the fd flags work, I/O and changes are EBADF") {
    auto f = ospp::open("/proc/self/exe", open_flags::path).value();
    CHECK(ospp::fpathconf(f, ospp::pathconf_name::name_max).has_value());
    CHECK(ospp::get_blocking(f).value());
    CHECK_FALSE(ospp::get_inheritable(f).value());
    CHECK(ospp::dup(f).has_value());
    CHECK_FALSE(ospp::isatty(f));
    std::array<std::byte, 4> buf{};
    CHECK_ERRNO(ospp::read(f, buf), EBADF, "read: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::pread(f, buf, 0), EBADF, "pread: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::write(f, "x"), EBADF, "write: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::lseek(f, 0, ospp::whence::set), EBADF, "lseek: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::fchmod(f, 0755), EBADF, "fchmod: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::fchown(f, ::uid_t(-1), ::gid_t(-1)), EBADF, "fchown: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::fsync(f), EBADF, "fsync: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::set_blocking(f, false), EBADF, "set_blocking: [Errno 9] Bad file descriptor");
    // Also when it is blocking already, as Python's set_blocking (whose ioctl FIONBIO fails alike)
    CHECK_ERRNO(ospp::set_blocking(f, true), EBADF, "set_blocking: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::posix_fadvise(f, 0, 0, ospp::fadvise_advice::normal), EBADF,
                "posix_fadvise: [Errno 9] Bad file descriptor");
}
