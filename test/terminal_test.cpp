// test/terminal_test.cpp — terminals, on real pseudo-terminals from openpty/posix_openpt. The
// calls that need a controlling terminal (tcgetpgrp, tcsetpgrp, login_tty) run in a forked child
// that starts its own session, so the test process's terminal (if any) is never touched.
#include "ospp/terminal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "ospp/fd_ops.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp::open_flags;
using ospp_test::cloexec;

TEST_CASE("openpty gives a connected close-on-exec pair that is nobody's controlling terminal") {
    auto pty = ospp::openpty();
    REQUIRE(pty.has_value());
    auto& [master, slave] = *pty;
    CHECK(cloexec(master.get()));
    CHECK(cloexec(slave.get()));
    CHECK(ospp::isatty(master));
    CHECK(ospp::isatty(slave));
    // The line discipline delivers a line typed on the master to the slave.
    REQUIRE(ospp::write_all(master, "hi\n").has_value());
    CHECK(ospp::read(slave, 16).value() == "hi\n");
    // O_NOCTTY: opening it did not make it our controlling terminal.
    CHECK_ERRNO(ospp::tcgetpgrp(slave), ENOTTY, "tcgetpgrp: [Errno 25] Inappropriate ioctl for device");
}

TEST_CASE("openpty fails with EMFILE when no descriptor number is free, and leaks no master") {
    const std::string report = ospp_test::in_child([]() -> std::string {
        // One number free (the lowest, as the limit is just above it): the master fits, the slave
        // does not, and the master must be closed again.
        const int spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (spare < 0) return "open failed";
        ::close(spare);
        const ::rlimit limit{static_cast<rlim_t>(spare) + 1, static_cast<rlim_t>(spare) + 1};
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return "setrlimit failed";
        const auto pty = ospp::openpty();
        if (pty) return "openpty succeeded with one free number";
        if (::fcntl(spare, F_GETFD) >= 0) return "the master was left open";
        if (pty.error().code() != EMFILE) return "errno " + std::to_string(pty.error().code());
        return pty.error().message() == "openpty: [Errno 24] Too many open files" ? "" : pty.error().message();
    });
    CHECK(report == "");
}

TEST_CASE("posix_openpt, grantpt, unlockpt and ptsname open a pty by hand") {
    auto master = ospp::posix_openpt(open_flags::rdwr | open_flags::noctty);
    REQUIRE(master.has_value());
    CHECK(cloexec(master->get()));
    REQUIRE(ospp::grantpt(*master).has_value());
    REQUIRE(ospp::unlockpt(*master).has_value());
    auto name = ospp::ptsname(*master);
    REQUIRE(name.has_value());
    CHECK(name->rfind("/dev/pts/", 0) == 0);
    auto slave = ospp::open(*name, open_flags::rdwr | open_flags::noctty);
    REQUIRE(slave.has_value());
    CHECK(ospp::ttyname(*slave).value() == *name);
    REQUIRE(ospp::write_all(*slave, "out").has_value());
    CHECK(ospp::read(*master, 16).value() == "out");

    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::ptsname(p.read_end), ENOTTY, "ptsname: [Errno 25] Inappropriate ioctl for device");
    CHECK_ERRNO(ospp::unlockpt(p.read_end), EINVAL, "unlockpt: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::grantpt(p.read_end), EINVAL, "grantpt: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::grantpt(ospp::fd_ref(-1)), EBADF, "grantpt: [Errno 9] Bad file descriptor");
    // A terminal that is not a master (the slave) is EINVAL too, never ENOTTY.
    CHECK_ERRNO(ospp::grantpt(*slave), EINVAL, "grantpt: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::unlockpt(*slave), EINVAL, "unlockpt: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::unlockpt(ospp::fd_ref(-1)), EBADF, "unlockpt: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::posix_openpt(open_flags::rdwr | open_flags::directory), ENOTDIR,
                "posix_openpt: [Errno 20] Not a directory");
    // The flags are open(2)'s on /dev/ptmx, as the header says (and Python 3.13's, which adds
    // O_CLOEXEC alike): no EINVAL for flags that make no sense for a master, but open's errors.
    CHECK_ERRNO(ospp::posix_openpt(open_flags::rdwr | open_flags::creat | open_flags::excl), EEXIST,
                "posix_openpt: [Errno 17] File exists");
    CHECK_ERRNO(ospp::posix_openpt(open_flags::rdwr | open_flags::direct), EINVAL,
                "posix_openpt: [Errno 22] Invalid argument");
    auto not_master = ospp::posix_openpt(open_flags::path);
    REQUIRE(not_master.has_value());
    CHECK_ERRNO(ospp::ptsname(*not_master), EBADF, "ptsname: [Errno 9] Bad file descriptor");
}

TEST_CASE("ttyname names the slave and fails on what is not a terminal") {
    auto pty = ospp::openpty().value();
    auto name = ospp::ttyname(pty.slave);
    REQUIRE(name.has_value());
    CHECK(*name == ospp::ptsname(pty.master).value());
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::ttyname(p.read_end), ENOTTY, "ttyname: [Errno 25] Inappropriate ioctl for device");
    CHECK_ERRNO(ospp::ttyname(ospp::fd_ref(-1)), EBADF, "ttyname: [Errno 9] Bad file descriptor");
}

TEST_CASE("get_terminal_size reads the window size the master side set") {
    auto pty = ospp::openpty().value();
    const ::winsize w{24, 132, 0, 0};  // rows, columns
    REQUIRE(::ioctl(pty.master.get(), TIOCSWINSZ, &w) == 0);
    auto size = ospp::get_terminal_size(pty.slave);
    REQUIRE(size.has_value());
    CHECK(size->columns == 132);
    CHECK(size->lines == 24);
    CHECK(*size == ospp::terminal_size{132, 24});
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::get_terminal_size(p.read_end), ENOTTY,
                "get_terminal_size: [Errno 25] Inappropriate ioctl for device");
}

TEST_CASE("tcgetpgrp and tcsetpgrp move the foreground group of a controlling terminal") {
    auto pty = ospp::openpty().value();
    const int slave = pty.slave.get();
    const int status = ospp_test::exit_code_of([&] {
        if (::setsid() < 0) return 1;
        if (::ioctl(slave, TIOCSCTTY, 0) < 0) return 2;
        auto fg = ospp::tcgetpgrp(ospp::fd_ref(slave));
        if (!fg || *fg != ::getpid()) return 3;
        // A second process group in this session, which we then put in the foreground.
        auto gate = ospp::pipe();
        if (!gate) return 4;
        const pid_t member = ::fork();
        if (member < 0) return 5;
        if (member == 0) {
            gate->write_end.reset();
            ospp_test::wait_for_go(gate->read_end.get());  // until the parent is done
            ::_exit(0);
        }
        gate->read_end.reset();
        int code = 0;
        if (::setpgid(member, member) < 0) code = 6;
        // A group that does not exist: ESRCH. (Asked while we are still in the foreground: once
        // in the background, the kernel answers ENOTTY for an orphaned group instead.)
        auto bad = ospp::tcsetpgrp(ospp::fd_ref(slave), 0x3fffffff);
        if (code == 0 && (bad || bad.error().message() != "tcsetpgrp: [Errno 3] No such process")) code = 7;
        if (code == 0 && !ospp::tcsetpgrp(ospp::fd_ref(slave), member)) code = 8;
        if (code == 0 && ospp::tcgetpgrp(ospp::fd_ref(slave)).value_or(-1) != member) code = 9;
        gate->write_end.reset();
        ::waitpid(member, nullptr, 0);
        return code;
    });
    CHECK(status == 0);
    auto p = ospp::pipe().value();
    CHECK_ERRNO(ospp::tcsetpgrp(p.read_end, ::getpgrp()), ENOTTY,
                "tcsetpgrp: [Errno 25] Inappropriate ioctl for device");
    CHECK_ERRNO(ospp::tcgetpgrp(ospp::fd_ref(-1)), EBADF, "tcgetpgrp: [Errno 9] Bad file descriptor");
}

// A background caller gets SIGTTOU; when a handler catches it the kernel answers EINTR, and
// calling again only raises SIGTTOU again. Python's os.tcsetpgrp reports InterruptedError after
// the handler ran once; a retry loop would spin for as long as the handler is installed.
namespace {
volatile sig_atomic_t ttou_caught = 0;
void count_ttou(int) {
    ttou_caught = ttou_caught + 1;
    if (ttou_caught == 3) ::signal(SIGTTOU, SIG_IGN);  // ends a retry loop, so the test cannot hang
}
}  // namespace

TEST_CASE("tcsetpgrp from a background group whose SIGTTOU handler ran reports EINTR") {
    auto pty = ospp::openpty().value();
    const int slave = pty.slave.get();
    const int status = ospp_test::exit_code_of([&] {
        if (::setsid() < 0) return 1;
        if (::ioctl(slave, TIOCSCTTY, 0) < 0) return 2;
        // A second group in this session (so not orphaned), in the background.
        const pid_t member = ::fork();
        if (member < 0) return 3;
        if (member == 0) {
            if (::setpgid(0, 0) < 0) ::_exit(4);
            struct sigaction sa {};
            sa.sa_handler = count_ttou;  // no SA_RESTART
            if (::sigaction(SIGTTOU, &sa, nullptr) < 0) ::_exit(5);
            auto r = ospp::tcsetpgrp(ospp::fd_ref(slave), ::getpgrp());
            if (r || r.error().message() != "tcsetpgrp: [Errno 4] Interrupted system call") ::_exit(6);
            ::_exit(ttou_caught == 1 ? 0 : 7);
        }
        int member_status = 0;
        if (::waitpid(member, &member_status, 0) != member || !WIFEXITED(member_status)) return 8;
        return WEXITSTATUS(member_status);
    });
    CHECK(status == 0);
}

TEST_CASE("login_tty makes the terminal the child's session, controlling terminal and stdio") {
    auto pty = ospp::openpty().value();
    const std::string name = ospp::ttyname(pty.slave).value();
    const int slave_number = pty.slave.get();
    const int status = ospp_test::exit_code_of([&] {
        if (!ospp::login_tty(std::move(pty.slave))) return 1;
        if (::getsid(0) != ::getpid()) return 2;
        if (ospp::tcgetpgrp(ospp::stdin_fd).value_or(-1) != ::getpid()) return 3;
        for (int n = 0; n <= 2; ++n) {
            if (ospp::ttyname(ospp::fd_ref(n)).value_or("") != name) return 4;
            if (cloexec(n)) return 5;  // stdio must survive exec
        }
        if (::fcntl(slave_number, F_GETFD) != -1) return 6;  // the original descriptor is closed
        return 0;
    });
    CHECK(status == 0);
}

TEST_CASE("login_tty fails on what is not a terminal and still consumes the descriptor") {
    const int status = ospp_test::exit_code_of([] {
        auto p = ospp::pipe();
        if (!p) return 1;
        const int number = p->read_end.get();
        auto r = ospp::login_tty(std::move(p->read_end));
        if (r || r.error().message() != "login_tty: [Errno 25] Inappropriate ioctl for device") return 2;
        if (::fcntl(number, F_GETFD) != -1) return 3;
        return 0;
    });
    CHECK(status == 0);
}

// Closing the master hangs the slave up: every call on it then fails with EIO, as the headers say
// (but tcsetpgrp, ENOTTY; Python's os gives the same errnos), and isatty says false.
TEST_CASE("a slave whose master was closed is hung up: EIO") {
    auto pty = ospp::openpty().value();
    pty.master.reset();
    const auto& s = pty.slave;
    CHECK_FALSE(ospp::isatty(s));
    CHECK_ERRNO(ospp::ttyname(s), EIO, "ttyname: [Errno 5] Input/output error");
    CHECK_ERRNO(ospp::get_terminal_size(s), EIO, "get_terminal_size: [Errno 5] Input/output error");
    CHECK_ERRNO(ospp::tcgetpgrp(s), EIO, "tcgetpgrp: [Errno 5] Input/output error");
    CHECK_ERRNO(ospp::tcsetpgrp(s, ::getpgrp()), ENOTTY, "tcsetpgrp: [Errno 25] Inappropriate ioctl for device");
    CHECK_ERRNO(ospp::grantpt(s), EIO, "grantpt: [Errno 5] Input/output error");
    CHECK_ERRNO(ospp::unlockpt(s), EIO, "unlockpt: [Errno 5] Input/output error");
    CHECK_ERRNO(ospp::ptsname(s), EIO, "ptsname: [Errno 5] Input/output error");
    const int number = s.get();
    const int status = ospp_test::exit_code_of([&] {
        auto r = ospp::login_tty(ospp::fd(number));
        return r || r.error().message() != "login_tty: [Errno 5] Input/output error" ? 2 : 0;
    });
    CHECK(status == 0);
}

// Standard streams are never closed by login_tty, on failure either: closing 0-2 would let the
// next open() land on stdin. (The C function and Python's os.login_tty close nothing on failure.)
TEST_CASE("login_tty that fails on fd 0 leaves standard input open") {
    const int status = ospp_test::exit_code_of([] {
        auto p = ospp::pipe();
        if (!p || ::dup2(p->read_end.get(), 0) < 0) return 1;
        auto r = ospp::login_tty(ospp::fd(0));
        if (r || r.error().message() != "login_tty: [Errno 25] Inappropriate ioctl for device") return 2;
        if (::fcntl(0, F_GETFD) == -1) return 3;  // closed
        return 0;
    });
    CHECK(status == 0);
}
