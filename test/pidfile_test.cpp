// test/pidfile_test.cpp — the locked pid file on its own: lock, content, stale takeover, release.
#include "ospp/pidfile.hpp"

#include "ospp/fd_ops.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <ucontext.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "child.hpp"
#include "support.hpp"

using ospp::daemon::pidfile;
using ospp_test::temp_dir;

namespace {

// True when another open file description can take the lock, i.e. nobody holds it.
bool lockable(const std::string& path) {
    const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(f >= 0);
    const bool ok = ::flock(f, LOCK_EX | LOCK_NB) == 0;
    const int err = errno;
    ::close(f);
    if (!ok) CHECK(err == EWOULDBLOCK);
    return ok;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("pidfile: acquire locks, write records the pid, release unlinks") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    CHECK(pf->held());
    CHECK(pf->path() == path);
    CHECK(ospp_test::cloexec(pf->get().get()));
    CHECK_FALSE(lockable(path));
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & (S_IWGRP | S_IWOTH)) == 0);

    REQUIRE(pf->write(4242).has_value());
    CHECK(ospp_test::read_file(path) == "4242\n");
    REQUIRE(pf->write().has_value());  // shorter or longer: truncated first
    CHECK(ospp_test::read_file(path) == std::to_string(::getpid()) + "\n");
    REQUIRE(pf->write(7).has_value());  // shorter: no digits of the old pid left behind
    CHECK(ospp_test::read_file(path) == "7\n");
    REQUIRE(pf->write().has_value());
    auto pid = pidfile::read_pid(path);
    REQUIRE(pid.has_value());
    CHECK(*pid == ::getpid());

    REQUIRE(pf->release().has_value());
    CHECK_FALSE(pf->held());
    CHECK_FALSE(exists(path));
    CHECK(pf->release().has_value());  // idempotent
}

TEST_CASE("pidfile: a held file is refused with EEXIST, a stale one is taken over") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto first = pidfile::acquire(path);
    REQUIRE(first.has_value());
    REQUIRE(first->write(1234).has_value());
    // Even from the same process: the lock belongs to the open file description.
    CHECK_ERRNO(pidfile::acquire(path), EEXIST, "pidfile: [Errno 17] File exists: '" + path + "'");
    first->close();  // the file stays, unlocked: stale
    CHECK(exists(path));
    CHECK(ospp_test::read_file(path) == "1234\n");

    auto second = pidfile::acquire(path);
    REQUIRE(second.has_value());
    CHECK_FALSE(lockable(path));
    REQUIRE(second->write().has_value());
    CHECK(ospp_test::read_file(path) == std::to_string(::getpid()) + "\n");
}

TEST_CASE("pidfile: a stale file is emptied as soon as it is locked, so it never names the old pid") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    ospp_test::write_file(path, "99999\n");  // a dead daemon's pid, maybe someone else's process now
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    CHECK_FALSE(lockable(path));
    CHECK(ospp_test::read_file(path) == "");
    // A reader sees a start in progress: a locked file without a pid.
    CHECK_ERRNO(pidfile::read_pid(path), EINVAL, "pidfile: [Errno 22] Invalid argument: '" + path + "'");
    REQUIRE(pf->write(4242).has_value());
    CHECK(pidfile::read_pid(path).value() == 4242);
}

TEST_CASE("pidfile: a new file gets only permission bits: no setuid, setgid or sticky bit from the mode") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto pf = pidfile::acquire(path, {.mode = 07777});
    REQUIRE(pf.has_value());
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07000) == 0);
    CHECK((st.st_mode & (S_IWGRP | S_IWOTH)) == 0);
}

TEST_CASE("pidfile: a stale world-writable file loses its write bits") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    ospp_test::write_file(path, "99999\n");
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("pidfile: release leaves a file that is no longer ours") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    // Someone removed our file and another daemon created its own at the same path.
    ospp_test::write_file(dir / "other", "777\n");
    REQUIRE(::rename((dir / "other").c_str(), path.c_str()) == 0);
    REQUIRE(pf->release().has_value());
    CHECK(ospp_test::read_file(path) == "777\n");
}

TEST_CASE("pidfile: a forked child's release does not remove the parent's file") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    REQUIRE(pf->write().has_value());
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const bool ok = pf->release().has_value() && !pf->held();
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(exists(path));
    CHECK_FALSE(lockable(path));  // the parent's description still holds the lock
}

TEST_CASE("pidfile: errors name the path") {
    temp_dir dir;
    REQUIRE(::symlink("target", (dir / "link.pid").c_str()) == 0);
    CHECK_ERRNO(pidfile::acquire(dir / "link.pid"), ELOOP,
                "pidfile: [Errno 40] Too many levels of symbolic links: '" + (dir / "link.pid") + "'");
    CHECK_FALSE(exists(dir / "target"));
    CHECK_ERRNO(pidfile::acquire(dir / "no/such.pid"), ENOENT,
                "pidfile: [Errno 2] No such file or directory: '" + (dir / "no/such.pid") + "'");
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    CHECK_FAILS_WITH(pidfile::acquire(dir / "fifo"), EINVAL);  // opened O_RDWR: a FIFO never blocks
    // read_pid once opened it O_RDONLY, which blocks until a writer comes: for ever, for a FIFO
    // planted at a pidfile's path. (In a child, with an alarm as a bound.)
    CHECK(ospp_test::exit_code_of([&] {
        ::alarm(10);
        const auto pid = pidfile::read_pid(dir / "fifo");
        return !pid && pid.error().code() == EINVAL ? 0 : 1;
    }) == 0);

    CHECK_ERRNO(pidfile::read_pid(dir / "missing"), ENOENT,
                "pidfile: [Errno 2] No such file or directory: '" + (dir / "missing") + "'");
    ospp_test::write_file(dir / "junk", "abc\n");
    CHECK_ERRNO(pidfile::read_pid(dir / "junk"), EINVAL,
                "pidfile: [Errno 22] Invalid argument: '" + (dir / "junk") + "'");
    ospp_test::write_file(dir / "empty", "");
    CHECK_FAILS_WITH(pidfile::read_pid(dir / "empty"), EINVAL);
    ospp_test::write_file(dir / "zero", "0\n");  // kill(0, ...) would signal our own group
    CHECK_ERRNO(pidfile::read_pid(dir / "zero"), EINVAL,
                "pidfile: [Errno 22] Invalid argument: '" + (dir / "zero") + "'");
    ospp_test::write_file(dir / "bare", "31337");
    auto bare = pidfile::read_pid(dir / "bare");
    REQUIRE(bare.has_value());
    CHECK(*bare == 31337);
    // Found by fuzz_pidfile: a number no pid_t holds was once truncated into a "valid" pid.
    ospp_test::write_file(dir / "huge", "9999999999\n");
    CHECK_FAILS_WITH(pidfile::read_pid(dir / "huge"), EINVAL);
    ospp_test::write_file(dir / "max", "2147483647\n");
    CHECK(pidfile::read_pid(dir / "max").value() == 2147483647);

    // With patience: an empty file is read again (a starting daemon has not written yet), a file
    // written meanwhile by another process is read, and other errors are not waited for.
    const std::string later = dir / "later";
    ospp_test::write_file(later, "");
    auto writer = ospp::pipe().value();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        writer.write_end.reset();
        ospp_test::wait_for_go(writer.read_end.get());
        const int f = ::open(later.c_str(), O_WRONLY | O_CLOEXEC);
        ::_exit(f >= 0 && ::write(f, "4242\n", 5) == 5 ? 0 : 1);
    }
    writer.read_end.reset();
    writer.write_end.reset();  // releases the child, which writes while read_pid waits
    CHECK(pidfile::read_pid(later, std::chrono::seconds(10)).value() == 4242);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(status == 0);
    CHECK_FAILS_WITH(pidfile::read_pid(dir / "empty", std::chrono::milliseconds(20)), EINVAL);
    CHECK_FAILS_WITH(pidfile::read_pid(dir / "missing", std::chrono::seconds(10)), ENOENT);
}

TEST_CASE("pidfile: moved-from and default objects hold nothing") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    pidfile empty;
    CHECK_FALSE(empty.held());
    CHECK(empty.release().has_value());
    CHECK_ERRNO(empty.write(1), EBADF, "pidfile: [Errno 9] Bad file descriptor");
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    pidfile moved = std::move(*pf);
    CHECK(moved.held());
    CHECK_FALSE(pf->held());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    empty = std::move(moved);
    CHECK(empty.held());
    CHECK_FALSE(lockable(path));
}

TEST_CASE("pidfile: remove_file unlinks only the owner's own file, and keeps the lock") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto pf = pidfile::acquire(path);
    REQUIRE(pf.has_value());
    REQUIRE(pf->write().has_value());
    // A forked child is not the owner: it leaves the file.
    CHECK(ospp_test::exit_code_of([&] { return pf->remove_file() ? 1 : 0; }) == 0);
    CHECK(exists(path));
    // Another file at the path (the pidfile was replaced): not ours, left alone.
    const std::string aside = dir / "aside";
    REQUIRE(::rename(path.c_str(), aside.c_str()) == 0);
    ospp_test::write_file(path, "1\n");
    CHECK_FALSE(pf->remove_file());
    CHECK(exists(path));
    REQUIRE(::rename(aside.c_str(), path.c_str()) == 0);
    CHECK(pf->remove_file());
    CHECK_FALSE(exists(path));
    CHECK(pf->held());  // only the unlink half: the fd and its lock stay until release()
    CHECK_FALSE(pf->remove_file());  // nothing left to remove
    CHECK(pf->release().has_value());  // the file is gone already: not an error
    CHECK_FALSE(pf->remove_file());  // not held
}

TEST_CASE("pidfile: write fails with the file-size limit's errno, and a short write is EIO") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    // In a child: RLIMIT_FSIZE cannot be raised again without privilege.
    const std::string report = ospp_test::in_child([&]() -> std::string {
        ::signal(SIGXFSZ, SIG_IGN);  // past the limit write(2) fails with EFBIG instead of killing
        auto pf = pidfile::acquire(path);
        if (!pf) return "acquire: " + pf.error().message();
        const struct ::rlimit one {1, 1};
        if (::setrlimit(RLIMIT_FSIZE, &one) != 0) return "setrlimit failed";
        // "1234567\n" does not fit in one byte: the kernel writes the first, and says so.
        auto short_write = pf->write(1234567);
        if (short_write || short_write.error().code() != EIO) return "short write did not fail with EIO";
        if (short_write.error().message() != "pidfile: [Errno 5] Input/output error") {
            return "short write: " + short_write.error().message();
        }
        const struct ::rlimit zero {0, 0};
        if (::setrlimit(RLIMIT_FSIZE, &zero) != 0) return "setrlimit failed";
        auto none = pf->write(1234567);
        if (none || none.error().message() != "pidfile: [Errno 27] File too large") {
            return "no room: " + (none ? std::string("succeeded") : none.error().message());
        }
        return "";
    });
    CHECK(report == "");
}

TEST_CASE("pidfile: release reports an unlink that fails, naming the file, and drops the lock anyway") {
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);  // nobody may create the pidfile in it
    const std::string sub = dir / "run";
    const std::string path = sub + "/d.pid";
    // As an ordinary user (root ignores the directory's permissions): nobody, in a child.
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (::getuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) return "setresuid failed";
        if (::mkdir(sub.c_str(), 0755) != 0) return "mkdir failed";
        auto pf = pidfile::acquire(path);
        if (!pf) return "acquire: " + pf.error().message();
        if (::chmod(sub.c_str(), 0555) != 0) return "chmod failed";
        auto released = pf->release();
        const std::string expected = "pidfile: [Errno 13] Permission denied: '" + path + "'";
        if (released || released.error().message() != expected) {
            return "release: " + (released ? std::string("succeeded") : released.error().message());
        }
        if (pf->held()) return "still held";
        return "";
    });
    CHECK(report == "");
    CHECK(exists(path));  // the unlink failed
    CHECK(lockable(path));  // and the lock is gone with the fd
    REQUIRE(::chmod(sub.c_str(), 0755) == 0);  // as root the child's chmod is ours to undo
}

TEST_CASE("pidfile: a relative path is remembered from the root, so release works after chdir") {
    temp_dir dir;
    const std::string before = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    auto pf = pidfile::acquire("rel.pid");
    std::filesystem::current_path("/");
    REQUIRE(pf.has_value());
    CHECK(pf->path() == dir / "rel.pid");
    REQUIRE(pf->release().has_value());
    CHECK_FALSE(exists(dir / "rel.pid"));
    std::filesystem::current_path(before);
}

#if defined(__x86_64__)
namespace {

// Another thread's chdir, made to land inside acquire(): flock(LOCK_EX | LOCK_NB) traps (seccomp
// SECCOMP_RET_TRAP), and the SIGSYS handler changes directory once, then takes the lock itself
// (LOCK_EX alone, which the filter lets through) and returns its result as the system call's.
const char* g_chdir_to = nullptr;
volatile sig_atomic_t g_chdirs_left = 0;

void chdir_then_flock(int, ::siginfo_t*, void* context) {
    auto* uc = static_cast<::ucontext_t*>(context);
    const int saved = errno;
    if (g_chdirs_left > 0) {
        g_chdirs_left = g_chdirs_left - 1;
        [[maybe_unused]] const int moved = ::chdir(g_chdir_to);  // the test checks where it is
    }
    const long r = ::syscall(SYS_flock, uc->uc_mcontext.gregs[REG_RDI], LOCK_EX);
    uc->uc_mcontext.gregs[REG_RAX] = r < 0 ? -errno : r;
    errno = saved;
}

bool trap_nonblocking_flock() {
    struct ::sigaction sa {};
    sa.sa_sigaction = chdir_then_flock;
    sa.sa_flags = SA_SIGINFO;
    if (::sigaction(SIGSYS, &sa, nullptr) != 0) return false;
    ::sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(::seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_flock, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(::seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LOCK_EX | LOCK_NB, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const ::sock_fprog program{sizeof filter / sizeof filter[0], filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

}  // namespace
#endif

TEST_CASE("pidfile: a relative path is the file in the directory current when acquire() began, "
          "whatever another thread's chdir does meanwhile") {
#if defined(__x86_64__)
    // The path was opened relative to the working directory, but made absolute with getcwd()
    // later: a chdir in between (another thread's) named another directory's file, and the first
    // one, created and emptied, was left behind for good.
    temp_dir first, second;
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (::chdir(first.path().c_str()) != 0) return "cannot chdir";
        g_chdir_to = second.path().c_str();
        g_chdirs_left = 1;
        if (!trap_nonblocking_flock()) return "cannot install the seccomp filter";
        auto pf = pidfile::acquire("t.pid");
        if (!pf) return "acquire: " + pf.error().message();
        if (g_chdirs_left != 0) return "the chdir did not happen inside acquire()";
        std::string wrong;
        if (pf->path() != first / "t.pid") wrong += "path() is " + pf->path() + "; ";
        if (!pf->release()) wrong += "release failed; ";
        if (exists(first / "t.pid")) wrong += "t.pid left behind in the first directory; ";
        if (exists(second / "t.pid")) wrong += "t.pid left behind in the second directory; ";
        return wrong;
    });
    CHECK(report == "");
#else
    OSPP_SKIP("the SIGSYS handler reads x86_64 registers");
#endif
}

TEST_CASE("pidfile: a socket at the path is refused with ENXIO") {
    temp_dir dir;
    const std::string path = dir / "sock.pid";
    const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    REQUIRE(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::close(s);
    CHECK_ERRNO(pidfile::acquire(path), ENXIO, "pidfile: [Errno 6] No such device or address: '" + path + "'");
}

TEST_CASE("pidfile: a full file system fails acquire (no inode) or write (no block) with ENOSPC") {
    OSPP_REQUIRE_ROOT();  // a tiny tmpfs, in a mount namespace of a child
    temp_dir dir;
    const std::string mnt = dir / "mnt";
    REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
    // The child reports each result as an int: the errno, 0 for success.
    auto results = ospp::pipe().value();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto say = [&](int code) { (void)!::write(results.write_end.get(), &code, sizeof code); };
        if (!ospp_test::private_mount_namespace()) ::_exit(2);
        // No inode left (the root directory and one file use both): the create fails.
        if (::mount("none", mnt.c_str(), "tmpfs", 0, "size=4k,nr_inodes=2") != 0) ::_exit(3);
        ospp_test::write_file(mnt + "/other", "");
        auto none = pidfile::acquire(mnt + "/a.pid");
        say(none ? 0 : none.error().code());
        if (::umount(mnt.c_str()) != 0) ::_exit(4);
        // Inodes but no block: the file is made, its content cannot be.
        if (::mount("none", mnt.c_str(), "tmpfs", 0, "size=4k") != 0) ::_exit(5);
        ospp_test::write_file(mnt + "/fill", std::string(4096, 'x'));
        auto pf = pidfile::acquire(mnt + "/b.pid");
        say(pf ? 0 : -1);
        if (pf) {
            auto w = pf->write();
            say(w ? 0 : w.error().code());
            (void)pf->release();
            say(::access((mnt + "/b.pid").c_str(), F_OK) == 0 ? 1 : 0);
        }
        ::_exit(0);
    }
    results.write_end.reset();
    int codes[4] = {-9, -9, -9, -9};
    std::size_t got = 0;
    while (got < sizeof codes) {
        const ssize_t n = ::read(results.read_end.get(), reinterpret_cast<char*>(codes) + got, sizeof codes - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(status == 0);
    CHECK(codes[0] == ENOSPC);
    CHECK(codes[1] == 0);
    CHECK(codes[2] == ENOSPC);
    CHECK(codes[3] == 0);  // released: removed
}

// ---- status: what a pid file says, read without taking its lock ----

namespace {

using ospp::daemon::pidfile_state;
using ospp::daemon::pidfile_status;

// A forked process that acquires the pid file at `path` (and writes its own pid into it, with
// `write_pid`), then holds it until release() or the destructor, which reap it; `gate`: a first
// wait, after acquire() and before write(), until let_write().
class holder {
public:
    holder(const std::string& path, bool write_pid, bool gate = false)
        : ready_(ospp::pipe().value()), first_(ospp::pipe().value()), last_(ospp::pipe().value()) {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ready_.read_end.reset();
            first_.write_end.reset();
            last_.write_end.reset();
            auto pf = pidfile::acquire(path);
            const char acquired = pf ? 'y' : 'n';
            (void)!::write(ready_.write_end.get(), &acquired, 1);
            if (gate) ospp_test::wait_for_go(first_.read_end.get());
            const char wrote = pf && write_pid && pf->write() ? 'y' : 'n';
            (void)!::write(ready_.write_end.get(), &wrote, 1);
            ospp_test::wait_for_go(last_.read_end.get());
            ::_exit(0);  // the lock ends with the process; no release(): the file stays
        }
        ready_.write_end.reset();
        first_.read_end.reset();
        last_.read_end.reset();
        char acquired = 0;
        REQUIRE(::read(ready_.read_end.get(), &acquired, 1) == 1);
        REQUIRE(acquired == 'y');
        if (!gate) wait_written();
    }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
    ~holder() { release(); }

    void let_write() {
        first_.write_end.reset();
        wait_written();
    }
    void release() {
        if (pid_ <= 0) return;
        first_.write_end.reset();
        last_.write_end.reset();
        CHECK(::waitpid(std::exchange(pid_, 0), nullptr, 0) > 0);
    }
    pid_t pid() const { return pid_; }

private:
    void wait_written() {
        char wrote = 0;
        REQUIRE(::read(ready_.read_end.get(), &wrote, 1) == 1);
    }
    ospp::pipe_fds ready_, first_, last_;
    pid_t pid_ = 0;
};

pidfile_status status_of(const std::string& path, std::chrono::milliseconds patience = {}) {
    auto s = pidfile::status(path, patience);
    REQUIRE(s.has_value());
    return *s;
}

}  // namespace

TEST_CASE("pidfile: status tells absent, stale, starting and running apart") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    CHECK(status_of(path).state == pidfile_state::absent);
    CHECK(status_of(dir / "no/such.pid").state == pidfile_state::absent);

    ospp_test::write_file(path, "123\n");  // what a crash leaves: a pid, no lock
    pidfile_status s = status_of(path);
    CHECK(s.state == pidfile_state::stale);
    CHECK(s.pid == 0);
    CHECK(lockable(path));

    {
        holder daemon(path, true);
        s = status_of(path);
        CHECK(s.state == pidfile_state::running);
        CHECK(s.pid == daemon.pid());
        CHECK(s.lock_taker == daemon.pid());
        CHECK(pidfile::holds_lock(daemon.pid(), s) == true);
        CHECK(pidfile::holds_lock(::getpid(), s) == false);
        CHECK(pidfile::lock_holders(s) == std::vector<pid_t>{daemon.pid()});
        // The file names some other process (ours), which does not hold the lock, while the
        // process that took it does: a start that has not yet replaced an old pid.
        ospp_test::write_file(path, std::to_string(::getpid()) + "\n");
        s = status_of(path);
        CHECK(s.state == pidfile_state::starting);
        CHECK(s.pid == ::getpid());
    }
    CHECK(status_of(path).state == pidfile_state::stale);

    // Locked, no pid yet; then, with patience, the pid written meanwhile.
    holder starting(path, true, /*gate=*/true);
    s = status_of(path);
    CHECK(s.state == pidfile_state::starting);
    CHECK(s.pid == 0);
    starting.let_write();
    s = status_of(path, std::chrono::seconds(10));
    CHECK(s.state == pidfile_state::running);
    CHECK(s.pid == starting.pid());
}

TEST_CASE("pidfile: status reads the lock from /proc and takes none, so a start at the same moment cannot fail") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder daemon(path, true);
    // With flock(2) refused, a probe lock would see nothing held, and say "stale".
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (!ospp_test::refuse_syscall(SYS_flock, EPERM)) return "no seccomp filter";
              auto s = pidfile::status(path);
              if (!s) return s.error().message();
              return s->state == pidfile_state::running && s->pid == daemon.pid() ? "" : "not running";
          }) == "");
}

TEST_CASE("pidfile: status finds a lock its daemon left to a child, and lock_holders names the child") {
    // The daemon's child is orphaned when the daemon ends: as the subreaper, this process reaps it.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    temp_dir dir;
    const std::string path = dir / "d.pid";
    auto report = ospp::pipe().value();
    auto gate = ospp::pipe().value();
    const pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        report.read_end.reset();
        gate.write_end.reset();
        auto pf = pidfile::acquire(path);
        if (!pf || !pf->write()) ::_exit(1);
        const pid_t child = ::fork();  // inherits the locked description
        if (child == 0) {
            ospp_test::wait_for_go(gate.read_end.get());
            ::_exit(0);
        }
        (void)!::write(report.write_end.get(), &child, sizeof child);
        ::_exit(0);  // ends without release(): its child holds the lock on
    }
    report.write_end.reset();
    gate.read_end.reset();
    pid_t child = 0;
    REQUIRE(::read(report.read_end.get(), &child, sizeof child) == sizeof child);
    int status = 0;
    REQUIRE(::waitpid(daemon, &status, 0) == daemon);
    CHECK(status == 0);

    const pidfile_status s = status_of(path, std::chrono::seconds(10));  // not a start: no waiting
    CHECK(s.state == pidfile_state::abandoned);
    CHECK(s.pid == daemon);
    CHECK(pidfile::lock_holders(s) == std::vector<pid_t>{child});
    CHECK(pidfile::holds_lock(child, s) == true);
    CHECK(pidfile::holds_lock(daemon, s) == false);  // gone

    gate.write_end.reset();
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(status_of(path).state == pidfile_state::stale);
    CHECK(::prctl(PR_SET_CHILD_SUBREAPER, 0) == 0);
}

TEST_CASE("pidfile: status errors name the path") {
    temp_dir dir;
    // A symlink is refused, as acquire() refuses it: one planted beside a daemon's pid file could
    // point status (and a stop command built on it) at another daemon's locked file.
    {
        holder other(dir / "other.pid", true);
        REQUIRE(::symlink("other.pid", (dir / "link.pid").c_str()) == 0);
        CHECK_ERRNO(pidfile::status(dir / "link.pid"), ELOOP,
                    "pidfile: [Errno 40] Too many levels of symbolic links: '" + (dir / "link.pid") + "'");
        CHECK_ERRNO(pidfile::read_pid(dir / "link.pid"), ELOOP,
                    "pidfile: [Errno 40] Too many levels of symbolic links: '" + (dir / "link.pid") + "'");
    }
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    // Refused without blocking (in a child, with an alarm as a bound, should it block).
    CHECK(ospp_test::exit_code_of([&] {
        ::alarm(10);
        const auto s = pidfile::status(dir / "fifo");
        return !s && s.error().code() == EINVAL ? 0 : 1;
    }) == 0);
    CHECK_ERRNO(pidfile::status(dir.path()), EINVAL, "pidfile: [Errno 22] Invalid argument: '" + dir.path() + "'");
    ospp_test::write_file(dir / "file", "1\n");
    CHECK_ERRNO(pidfile::status(dir / "file/x.pid"), ENOTDIR,
                "pidfile: [Errno 20] Not a directory: '" + (dir / "file/x.pid") + "'");
    CHECK_FAILS_WITH(pidfile::status(std::string("a\0b", 3)), EINVAL);
    if (::geteuid() != 0) {
        REQUIRE(::chmod((dir / "file").c_str(), 0) == 0);
        CHECK_ERRNO(pidfile::status(dir / "file"), EACCES,
                    "pidfile: [Errno 13] Permission denied: '" + (dir / "file") + "'");
    }
}

TEST_CASE("pidfile: without /proc, status probes the lock with flock, and a named pid gone for its patience is abandoned (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string path = dir / "d.pid";
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (!ospp_test::private_mount_namespace() || ::mount("none", "/proc", "tmpfs", 0, nullptr) != 0)
                  return "cannot hide /proc";
              auto pf = pidfile::acquire(path);
              if (!pf || !pf->write()) return "no pidfile";
              auto s = pidfile::status(path);
              if (!s || s->state != pidfile_state::running || s->pid != ::getpid() || s->lock_taker != -1)
                  return "not running";
              if (!pidfile::lock_holders(*s).empty() || pidfile::holds_lock(::getpid(), *s).has_value())
                  return "holders found";
              // A pid that is gone (a child reaped), named while our lock is held: without /proc
              // the lock's taker is unknown, and a pid gone for the whole patience is no start's.
              const pid_t gone = ::fork();
              if (gone == 0) ::_exit(0);
              if (gone < 0 || ::waitpid(gone, nullptr, 0) != gone || !pf->write(gone)) return "no gone pid";
              s = pidfile::status(path, std::chrono::milliseconds(20));
              if (!s || s->state != pidfile_state::abandoned || s->pid != gone) return "not abandoned";
              pf->close();  // unlocked, left behind
              s = pidfile::status(path);
              if (!s || s->state != pidfile_state::stale) return "not stale";
              return "";
          }) == "");
}

TEST_CASE("pidfile: status of another user's daemon, behind a /proc that hides other users' processes, is running (as root)") {
    // hidepid=invisible: /proc/PID of a process this user may not trace is missing, as if gone.
    // Only kill(2) tells it lives (EPERM), so the file is trusted, as where fdinfo is unreadable.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const std::string path = dir / "d.pid";
    holder daemon(path, true);  // root's
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (!ospp_test::private_mount_namespace() ||
                  ::mount("proc", "/proc", "proc", 0, "hidepid=invisible") != 0)
                  return "cannot mount /proc with hidepid";
              if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return "no setuid";
              if (::access(("/proc/" + std::to_string(daemon.pid())).c_str(), F_OK) == 0) return "not hidden";
              auto s = pidfile::status(path);
              if (!s) return s.error().message();
              if (s->state != pidfile_state::running || s->pid != daemon.pid()) return "state " + std::to_string(int(s->state));
              return pidfile::holds_lock(daemon.pid(), *s).has_value() ? "holds_lock answered" : "";
          }) == "");
}

namespace {

// A forked process holding thousands of POSIX locks (on every other byte of a file in `dir`: one
// line each in /proc/locks, no fd each), half of which it drops and takes again until destroyed:
// more gone between two reads of /proc/locks than come.
class lock_churn {
public:
    explicit lock_churn(const std::string& dir) : ready_(ospp::pipe().value()), stop_(ospp::pipe().value()) {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ready_.read_end.reset();
            stop_.write_end.reset();
            const int f = ::open((dir + "/ranges").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (f < 0) ::_exit(1);
            auto lock = [&](int i, short type) {
                struct ::flock l {};
                l.l_type = type;
                l.l_whence = SEEK_SET;
                l.l_start = 2 * i;
                l.l_len = 1;
                return ::fcntl(f, F_SETLK, &l) == 0;
            };
            constexpr int count = 3000;
            for (int i = 0; i < count; ++i) {
                if (!lock(i, F_WRLCK)) ::_exit(2);
            }
            (void)!::write(ready_.write_end.get(), "y", 1);
            ::fcntl(stop_.read_end.get(), F_SETFL, O_NONBLOCK);
            char c;
            while (::read(stop_.read_end.get(), &c, 1) < 0 && errno == EAGAIN) {
                for (int i = 0; i < count; i += 2) (void)lock(i, F_UNLCK);
                for (int i = 0; i < count; i += 2) (void)lock(i, F_WRLCK);
            }
            ::_exit(0);
        }
        ready_.write_end.reset();
        stop_.read_end.reset();
        char c = 0;
        REQUIRE(::read(ready_.read_end.get(), &c, 1) == 1);
    }
    lock_churn(const lock_churn&) = delete;
    lock_churn& operator=(const lock_churn&) = delete;
    ~lock_churn() {
        stop_.write_end.reset();
        int st = 0;
        CHECK(::waitpid(pid_, &st, 0) == pid_);
        CHECK(st == 0);
    }

private:
    ospp::pipe_fds ready_, stop_;
    pid_t pid_ = 0;
};

// Asks status() about `path` for a few seconds: "" while it says `state` with `pid`, else what it said.
std::string always(const std::string& path, pidfile_state state, pid_t pid) {
    int looks = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < until) {
        ++looks;
        auto s = pidfile::status(path);
        if (!s) return s.error().message();
        if (s->state != state || s->pid != pid)
            return "look " + std::to_string(looks) + ": state " + std::to_string(int(s->state)) + ", pid " + std::to_string(s->pid);
    }
    return "";
}

}  // namespace

TEST_CASE("pidfile: status of a daemon that runs all along is running while thousands of other locks come and go") {
    // /proc/locks is read a page at a time, each read walking the kernel's lock lists again to
    // its position: a lock dropped ahead of that position meanwhile moves the rest back one, and
    // the line at the page boundary is never read. The daemon's lock, taken before the others,
    // comes after them.
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder daemon(path, true);
    lock_churn churn(dir.path());
    CHECK(always(path, pidfile_state::running, daemon.pid()) == "");
}

TEST_CASE("pidfile: a start that has not written its pid is starting, never stale, while thousands of other locks come and go") {
    // No pid named, no fdinfo to read: a lock /proc/locks lost at a page boundary was "stale"
    // (CI's run of ospp-daemonize's "a locked pidfile that names no pid yet" beside this suite's
    // churn). A lock found nowhere is now probed.
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder starting(path, false);
    lock_churn churn(dir.path());
    CHECK(always(path, pidfile_state::starting, 0) == "");
}

TEST_CASE("pidfile: status of another user's daemon that runs all along is running while thousands of other locks come and go (as root)") {
    // The same, asked by a user who may not read the daemon's /proc/PID/fdinfo.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const std::string path = dir / "d.pid";
    holder daemon(path, true);  // root's
    lock_churn churn(dir.path());
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return "no setuid";
              return always(path, pidfile_state::running, daemon.pid());
          }) == "");
}

namespace {

// Runs `body` (returning a report, as for in_child) as pid 1 of a new pid namespace, with a /proc
// of its own in a private mount namespace; its report, or why it could not run. As root.
template <class F>
std::string in_pid_namespace(F body) {
    return ospp_test::in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWPID) != 0) return "no pid namespace";
        auto report = ospp::pipe().value();
        const pid_t init = ::fork();  // pid 1 of the new namespace
        if (init < 0) return "no fork";
        if (init == 0) {
            report.read_end.reset();
            std::string r = "cannot mount /proc";
            if (ospp_test::private_mount_namespace() && ::mount("proc", "/proc", "proc", 0, nullptr) == 0) r = body();
            while (::wait(nullptr) > 0) {
            }  // the namespace's orphans are pid 1's to reap
            (void)!::write(report.write_end.get(), r.data(), r.size());
            ::_exit(0);
        }
        report.write_end.reset();
        std::string r(256, '\0');
        const ssize_t n = ::read(report.read_end.get(), r.data(), r.size());
        r.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        int st = 0;
        if (::waitpid(init, &st, 0) != init || st != 0) return "namespace init failed";
        return r;
    });
}

std::string running_as(const std::string& path, pid_t daemon) {
    auto s = pidfile::status(path);
    if (!s) return s.error().message();
    if (s->state != pidfile_state::running || s->pid != daemon)
        return "state " + std::to_string(int(s->state)) + ", pid " + std::to_string(s->pid);
    return "";
}

}  // namespace

TEST_CASE("pidfile: status asked in a child pid namespace, of a daemon outside it, is running (as root)") {
    // /proc/locks leaves out the locks of processes its pid namespace cannot name: there the
    // daemon's lock is missing, as if nobody held it.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder daemon(path, true);
    CHECK(in_pid_namespace([&] { return running_as(path, daemon.pid()); }) == "");
}

TEST_CASE("pidfile: without /proc, a probe that flock(2) refuses fails status rather than say stale (as root)") {
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder daemon(path, true);
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (!ospp_test::private_mount_namespace() || ::mount("none", "/proc", "tmpfs", 0, nullptr) != 0)
                  return "cannot hide /proc";
              if (!ospp_test::refuse_syscall(SYS_flock, ENOLCK)) return "no seccomp filter";
              auto s = pidfile::status(path);
              if (s) return "state " + std::to_string(int(s->state));
              return s.error().message() == "pidfile: [Errno 37] No locks available: '" + path + "'" ? ""
                                                                                                   : s.error().message();
          }) == "");
}

namespace {

// A pid that no process has: a child's, reaped.
pid_t gone_pid() {
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    ::waitpid(gone, nullptr, 0);
    return gone;
}

// In a test's child: "" when, while a forked daemon holds the pid file `locked` (its pid
// written), the file `left` (a crash's leftover) is stale and `locked` runs; else what was found.
std::string stale_beside_running(const std::string& left, const std::string& locked) {
    auto go = ospp::pipe().value();
    auto ready = ospp::pipe().value();
    const pid_t daemon = ::fork();
    if (daemon == 0) {
        go.write_end.reset();
        auto pf = pidfile::acquire(locked);
        (void)!::write(ready.write_end.get(), pf && pf->write() ? "y" : "n", 1);
        ospp_test::wait_for_go(go.read_end.get());
        ::_exit(0);
    }
    go.read_end.reset();
    ready.write_end.reset();
    char c = 0;
    std::string r = ::read(ready.read_end.get(), &c, 1) == 1 && c == 'y' ? "" : "no daemon";
    if (r.empty()) {
        auto s = pidfile::status(left);
        if (!s) r = s.error().message();
        else if (s->state != pidfile_state::stale) r = "state " + std::to_string(int(s->state)) + " of " + left;
        r += running_as(locked, daemon);
    }
    go.write_end.reset();
    ::waitpid(daemon, nullptr, 0);
    return r;
}

}  // namespace

TEST_CASE("pidfile: a stale file is stale beside a locked one of the same inode number in another btrfs subvolume (as root)") {
    // /proc/locks names a file by its superblock's device and inode number, and btrfs numbers the
    // files of each subvolume (and snapshot) afresh under one superblock: the first file of every
    // subvolume is inode 257.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string image = dir / "image", mnt = dir / "mnt";
    REQUIRE(::mkdir(mnt.c_str(), 0700) == 0);
    const std::string make = "truncate -s 128M '" + image + "' && mkfs.btrfs -q '" + image + "' >/dev/null 2>&1";
    if (std::system(make.c_str()) != 0) OSPP_SKIP("no mkfs.btrfs");
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (auto why = ospp_test::loop_mount(image, mnt); !why.empty()) return why;
        if (std::system(("btrfs subvolume create '" + mnt + "/sub' >/dev/null 2>&1").c_str()) != 0) return "no subvolume";
        const std::string locked = mnt + "/sub/d.pid", left = mnt + "/d.pid";
        ospp_test::write_file(locked, "");
        ospp_test::write_file(left, std::to_string(gone_pid()) + "\n");
        struct ::stat a {}, b {};
        if (::stat(locked.c_str(), &a) != 0 || ::stat(left.c_str(), &b) != 0 || a.st_ino != b.st_ino)
            return "inode numbers differ";
        return stale_beside_running(left, locked);
    });
    if (report == "no mount namespace" || report == "no loop mount" || report == "no subvolume") OSPP_SKIP(report);
    CHECK(report == "");
}

TEST_CASE("pidfile: status with few descriptors left is running or fails, never another state") {
    temp_dir dir;
    const std::string path = dir / "d.pid";
    holder daemon(path, true);
    for (int more = 0; more <= 6; ++more) {
        CAPTURE(more);
        CHECK(ospp_test::in_child([&]() -> std::string {
                  if (!ospp_test::allow_only_more_fds(more)) return "cannot lower the limit";
                  auto s = pidfile::status(path);
                  if (more == 0) return s ? "no EMFILE" : s.error().message();
                  if (!s) return s.error().code() == EMFILE ? "" : s.error().message();
                  if (s->state != pidfile_state::running || s->pid != daemon.pid())
                      return "state " + std::to_string(int(s->state));
                  return "";
              }) == (more == 0 ? "pidfile: [Errno 24] Too many open files: '" + path + "'" : ""));
    }
}

TEST_CASE("pidfile: a file locked only with fcntl or lockf is stale, as acquire() takes it over") {
    // flock(2) and POSIX record locks do not see each other on Linux: the lock status reads is the
    // one acquire() takes.
    temp_dir dir;
    const std::string path = dir / "d.pid";
    ospp_test::write_file(path, std::to_string(::getpid()) + "\n");
    const int f = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(f >= 0);
    REQUIRE(::lockf(f, F_TLOCK, 0) == 0);
    CHECK(status_of(path).state == pidfile_state::stale);
    CHECK(pidfile::acquire(path).has_value());
    ::close(f);
    // The same with an open file description's record lock (F_OFD_SETLK).
    ospp_test::write_file(path, std::to_string(::getpid()) + "\n");
    const int g = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(g >= 0);
    struct ::flock whole {};
    whole.l_type = F_WRLCK;
    whole.l_whence = SEEK_SET;
    REQUIRE(::fcntl(g, F_OFD_SETLK, &whole) == 0);
    CHECK(status_of(path).state == pidfile_state::stale);
    CHECK(pidfile::acquire(path).has_value());
    ::close(g);
}

TEST_CASE("pidfile: behind a /proc without /proc/locks (subset=pid), lock_holders and holds_lock still read fdinfo (as root)") {
    // The named pid's fdinfo gives the lock and its taker. A file that names no pid yet is probed:
    // the lock's taker is unknown then (-1), which cannot tell a later start's lock from this one,
    // so it must not hide every holder either.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string path = dir / "d.pid", starting_path = dir / "s.pid";
    holder daemon(path, true);
    holder starting(starting_path, false);
    CHECK(ospp_test::in_child([&]() -> std::string {
              if (!ospp_test::private_mount_namespace() || ::mount("proc", "/proc", "proc", 0, "subset=pid") != 0)
                  return "cannot mount /proc with subset=pid";
              if (::access("/proc/locks", F_OK) == 0) return "/proc/locks is there";
              auto s = pidfile::status(path);
              if (!s) return s.error().message();
              if (s->state != pidfile_state::running || s->pid != daemon.pid() || s->lock_taker != daemon.pid())
                  return "state " + std::to_string(int(s->state));
              if (pidfile::holds_lock(daemon.pid(), *s) != true) return "holds_lock says no";
              if (pidfile::lock_holders(*s) != std::vector<pid_t>{daemon.pid()}) return "no holders";
              s = pidfile::status(starting_path);
              if (!s) return s.error().message();
              if (s->state != pidfile_state::starting || s->pid != 0 || s->lock_taker != -1)
                  return "starting: state " + std::to_string(int(s->state));
              if (pidfile::holds_lock(starting.pid(), *s) != true) return "starting: holds_lock says no";
              if (pidfile::lock_holders(*s) != std::vector<pid_t>{starting.pid()}) return "starting: no holders";
              return "";
          }) == "");
}

TEST_CASE("pidfile: status in a child pid namespace of a daemon started there, whose launcher is gone, is running (as root)") {
    // A container's daemon: the lock's taker, the launcher, has ended, and the namespace's
    // /proc/locks cannot name it any more, so leaves the lock out.
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string path = dir / "d.pid";
    CHECK(in_pid_namespace([&]() -> std::string {
              auto daemon_pid = ospp::pipe().value();
              auto go = ospp::pipe().value();
              const pid_t launcher = ::fork();
              if (launcher == 0) {
                  auto pf = pidfile::acquire(path);
                  if (!pf) ::_exit(1);
                  if (::fork() == 0) {
                      go.write_end.reset();
                      const pid_t self = ::getpid();
                      if (!pf->write()) ::_exit(1);
                      (void)!::write(daemon_pid.write_end.get(), &self, sizeof self);
                      ospp_test::wait_for_go(go.read_end.get());
                      ::_exit(0);
                  }
                  ::_exit(0);
              }
              go.read_end.reset();
              daemon_pid.write_end.reset();
              pid_t daemon = 0;
              if (launcher < 0 || ::waitpid(launcher, nullptr, 0) != launcher ||
                  ::read(daemon_pid.read_end.get(), &daemon, sizeof daemon) != sizeof daemon)
                  return "no daemon";
              return running_as(path, daemon);  // then `go` closes: the daemon ends
          }) == "");
}

TEST_CASE("pidfile: a stale file is stale beside a locked one of the same inode number in another overlayfs layer (as root)") {
    // An overlay over two file systems keeps each layer's inode numbers: a lower file and an
    // upper one can share the name /proc/locks gives (the overlay's device, that number).
    OSPP_REQUIRE_ROOT();
    temp_dir dir;
    const std::string lower = dir / "lower", upper = dir / "upper", mnt = dir / "mnt";
    for (const std::string& d : {lower, upper, mnt}) REQUIRE(::mkdir(d.c_str(), 0700) == 0);
    const std::string report = ospp_test::in_child([&]() -> std::string {
        if (!ospp_test::private_mount_namespace() || ::mount("none", lower.c_str(), "tmpfs", 0, nullptr) != 0 ||
            ::mount("none", upper.c_str(), "tmpfs", 0, nullptr) != 0)
            return "no tmpfs";
        if (::mkdir((upper + "/u").c_str(), 0700) != 0 || ::mkdir((upper + "/w").c_str(), 0700) != 0) return "no dirs";
        const std::string gone = std::to_string(gone_pid()) + "\n";
        for (int i = 0; i < 40; ++i) {
            ospp_test::write_file(lower + "/l" + std::to_string(i), gone);  // crashes' leftovers
            ospp_test::write_file(upper + "/u/u" + std::to_string(i), "");
        }
        const std::string options = "lowerdir=" + lower + ",upperdir=" + upper + "/u,workdir=" + upper + "/w";
        if (::mount("none", mnt.c_str(), "overlay", 0, options.c_str()) != 0) return "no overlayfs";
        for (int i = 0; i < 40; ++i) {
            for (int j = 0; j < 40; ++j) {
                struct ::stat u {}, l {};
                const std::string up = mnt + "/u" + std::to_string(i), low = mnt + "/l" + std::to_string(j);
                if (::stat(up.c_str(), &u) == 0 && ::stat(low.c_str(), &l) == 0 && u.st_ino == l.st_ino)
                    return stale_beside_running(low, up);
            }
        }
        return "no shared inode number";
    });
    if (report == "no overlayfs" || report == "no shared inode number") OSPP_SKIP(report);
    CHECK(report == "");
}

TEST_CASE("pidfile: a daemon that stops while status looks is never abandoned") {
    // The lock seen held, then the named pid no longer holding it, nor the launcher that took it:
    // a daemon that ended between those reads, leaving nothing behind, not a lock left to others.
    temp_dir dir;
    const std::string path = dir / "d.pid";
    const pid_t cycler = ::fork();
    REQUIRE(cycler >= 0);
    if (cycler == 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (std::chrono::steady_clock::now() < until) {
            const pid_t launcher = ::fork();
            if (launcher == 0) {
                auto pf = pidfile::acquire(path);
                if (pf && ::fork() == 0) {  // the daemon, which inherits the lock and ends soon
                    if (pf->write()) (void)pf->release();
                    ::_exit(0);
                }
                ::_exit(0);
            }
            ::waitpid(launcher, nullptr, 0);
        }
        ::_exit(0);
    }
    int abandoned = 0, looks = 0;
    while (::waitpid(cycler, nullptr, WNOHANG) == 0) {
        ++looks;
        if (const auto s = pidfile::status(path); s && s->state == pidfile_state::abandoned) ++abandoned;
    }
    INFO(looks << " looks");
    CHECK(abandoned == 0);
}

TEST_CASE("pidfile: a lock taken between the read of /proc/locks and the probe is no abandoned one") {
    // A start that opened the file just before the daemon's release() unlinked it locks it a
    // moment later, finds the path names another file, and lets go: status, which read
    // /proc/locks before that lock and probed after it, knows no taker, but has the table. The
    // file names a pid that is gone. A process locking and unlocking the file plays that start.
    temp_dir dir;
    const std::string path = dir / "d.pid";
    ospp_test::write_file(path, std::to_string(gone_pid()) + "\n");
    const pid_t toggler = ::fork();
    REQUIRE(toggler >= 0);
    if (toggler == 0) {
        const int f = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (f >= 0 && std::chrono::steady_clock::now() < until) {
            (void)::flock(f, LOCK_EX);
            (void)::flock(f, LOCK_UN);
        }
        ::_exit(f >= 0 ? 0 : 1);
    }
    // No REQUIRE in the loop: it would leave the toggler running and unreaped.
    int unlocked_taker_abandoned = 0, errors = 0, looks = 0;
    while (::waitpid(toggler, nullptr, WNOHANG) == 0) {
        ++looks;
        const auto s = pidfile::status(path);
        if (!s) ++errors;
        else if (s->state == pidfile_state::abandoned && s->lock_taker < 0) ++unlocked_taker_abandoned;
    }
    INFO(looks << " looks");
    CHECK(errors == 0);
    CHECK(unlocked_taker_abandoned == 0);
}
