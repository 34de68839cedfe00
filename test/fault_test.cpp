// test/fault_test.cpp — every ospp wrapper under injected failures of the libc calls it makes.
//
// Run with LD_PRELOAD=libospp_fault.so (meson test does; see test/fault/fault_inject.c). For each
// wrapper the table names the libc symbols it calls; each symbol is made to fail with every errno
// class, and the wrapper must return exactly that errno under its own call name — or, for EINTR,
// retry and succeed (PEP 475), except close, which must report EINTR and never retry.
// The test main checks that no case leaks a descriptor or a child.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <memory>
#include <optional>
#include <set>
#include <type_traits>

#include "ospp/ospp.hpp"
#include "support.hpp"

namespace {

struct fault_api {
    void (*arm)(const char*, int, long, long) = nullptr;
    void (*disarm)() = nullptr;
    long (*injected)(const char*) = nullptr;
    void (*suspend)(int) = nullptr;
};

fault_api load_api() {
    fault_api api;
    *reinterpret_cast<void**>(&api.arm) = ::dlsym(RTLD_DEFAULT, "ospp_fault_arm");
    *reinterpret_cast<void**>(&api.disarm) = ::dlsym(RTLD_DEFAULT, "ospp_fault_disarm");
    *reinterpret_cast<void**>(&api.injected) = ::dlsym(RTLD_DEFAULT, "ospp_fault_injected");
    *reinterpret_cast<void**>(&api.suspend) = ::dlsym(RTLD_DEFAULT, "ospp_fault_suspend");
    return api;
}

// While it lives, this process's own calls are not failed: for the parent's side of a case whose
// wrapper runs in a forked child under the fault.
struct faults_suspended {
    faults_suspended() { load_api().suspend(1); }
    ~faults_suspended() { load_api().suspend(0); }
    faults_suspended(const faults_suspended&) = delete;
    faults_suspended& operator=(const faults_suspended&) = delete;
};

// What a wrapper must do when its system call fails with EINTR.
enum class on_eintr {
    retry,          // PEP 475: call again, and succeed
    report,         // close: the descriptor is gone already, so report and never retry
    cannot_happen,  // the call never sleeps (pipe2, fcntl(F_DUPFD)...): not injected
};

// One wrapper, the libc symbols it calls, and how to run it once with valid arguments.
struct fault_case {
    const char* call_name;              // the name in errno_error::call()
    std::vector<const char*> symbols;   // the libc functions to fail
    std::function<ospp::result<void>()> run;
    on_eintr eintr = on_eintr::retry;
    long nth = 1;                       // which call of the symbol fails (2: the second fcntl...)
    std::function<void()> cleanup{};    // run unarmed after each run: undo what it made
    // Faults kept armed during every run of the case (the plain one too) to steer the wrapper
    // onto a fallback path: copy_file_range "not supported" leads copy_file to sendfile. They fail
    // `times` calls of `symbol` from its `nth` on (0: every one).
    struct steering {
        const char* symbol;
        int err;
        long nth = 1;
        long times = 0;
    };
    std::vector<steering> steer{};
    // Errnos the wrapper reports as another by design, or as success (0): a lock that would block
    // (EAGAIN) is "already running" (EEXIST); an empty non-blocking pipe (EAGAIN) is "no signal".
    std::vector<std::pair<int, int>> reported_as{};
    // How many processes meet the fault: a forked child counts calls on from its parent's count,
    // so the child's nth call and the parent's are both failed when each makes one.
    long hits = 1;
};

// The errnos every case is run with.
const int errno_classes[] = {EIO, ENOSPC, ENOMEM, EMFILE, EACCES, EAGAIN};

// Keeps only success or failure of a result: result<T> -> result<void>.
template <class T>
ospp::result<void> drop_value(const ospp::result<T>& r) {
    if (!r) return tl::unexpected(r.error());
    return {};
}

// Reaps every child a case left behind (a wait that was made to fail).
void reap_children() {
    while (::waitpid(-1, nullptr, 0) > 0) {}
}

// What a forked process sends back about a result: who it is, the errno and the call name.
// (The interposer counts the failures it injected in forked processes itself.)
struct child_report {
    pid_t pid = 0;
    int code = 0;
    char call[32] = {};

    static child_report of(const ospp::result<void>& r) {
        child_report rep;
        rep.pid = ::getpid();
        if (!r) {
            rep.code = r.error().code();
            std::snprintf(rep.call, sizeof rep.call, "%s", r.error().call());
        }
        return rep;
    }
    // Sends the report on `pipe` after removing every fault, so that the write gets through.
    void send(int pipe) const {
        load_api().disarm();
        (void)!::write(pipe, this, sizeof *this);
    }
    [[nodiscard]] ospp::result<void> result() const {
        if (code == 0) return {};
        static std::set<std::string> names;  // errno_error keeps the call name as a static string
        return tl::unexpected(ospp::errno_error(code, names.insert(call).first->c_str()));
    }
};

// Cases whose wrapper must run in a child (login_tty, setsid, the controlling terminal's process
// group): the child runs the body under the inherited fault, and sends back the result.
std::function<ospp::result<void>()> in_child(std::function<ospp::result<void>()> body) {
    return [body]() -> ospp::result<void> {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            child_report::of(body()).send(fds[1]);
            ::_exit(0);
        }
        const faults_suspended parent_side;
        ::close(fds[1]);
        child_report rep;
        const ssize_t n = ::read(fds[0], &rep, sizeof rep);
        ::close(fds[0]);
        reap_children();
        REQUIRE(n == static_cast<ssize_t>(sizeof rep));
        return rep.result();
    };
}

// What every table shares: a directory, a file holding "content" and descriptors that stay open
// for the whole test case, so that a case does not have to open them with the symbol it fails.
struct fixture {
    ospp_test::temp_dir dir;
    std::string file = dir / "f";
    ospp::fd rw;      // `file`, read-write
    ospp::fd null;    // /dev/null, write-only
    ospp::fd dirfd;   // `dir`
    ospp::pipe_fds pipe;
    fixture() {
        ospp_test::write_file(file, "content");
        rw = ospp::open(file, ospp::open_flags::rdwr).value();
        null = ospp::open("/dev/null", ospp::open_flags::wronly).value();
        dirfd = ospp::open(dir.path(), ospp::open_flags::rdonly | ospp::open_flags::directory).value();
        pipe = ospp::pipe().value();
    }
};

using ospp::open_flags;
constexpr auto cannot = on_eintr::cannot_happen;

// A child that exits with 0 at once.
pid_t quick_child() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    return pid;
}

std::vector<fault_case> fd_ops_cases(fixture& fx) {
    const std::string file = fx.file;
    const ospp::fd_ref null = fx.null, rw = fx.rw;
    auto drain = [&fx] {
        char buf[256];
        (void)::fcntl(fx.pipe.read_end.get(), F_SETFL, O_NONBLOCK);
        while (::read(fx.pipe.read_end.get(), buf, sizeof buf) > 0) {}
        (void)::fcntl(fx.pipe.read_end.get(), F_SETFL, 0);
    };
    auto target = std::make_shared<ospp::fd>(
        ospp::open(fx.dir / "target", open_flags::rdwr | open_flags::creat, 0600).value());
    static std::byte scratch[4];
    static const std::span<std::byte> rbufs[] = {std::span(scratch)};
    static const std::string_view wbufs[] = {"a", "b"};
    return {
        {"open", {"openat"}, [file] { return drop_value(ospp::open(file, open_flags::rdonly)); }},
        {"read", {"read"}, [file] {
             auto f = ospp::open(file, open_flags::rdonly);
             return f ? drop_value(ospp::read(*f, 4)) : drop_value(f);
         }},
        {"write", {"write"}, [null] { return drop_value(ospp::write(null, "x")); }},
        {"pipe", {"pipe2"}, [] { return drop_value(ospp::pipe()); }, cannot},
        {"pipe2", {"pipe2"}, [] { return drop_value(ospp::pipe2(open_flags::nonblock)); }, cannot},
        {"dup", {"fcntl"}, [] { return drop_value(ospp::dup(ospp::stdin_fd)); }, cannot},
        {"dup2", {"dup3"}, [null] {
             auto target = ospp::dup(null);  // a scratch number to replace (dup is fcntl)
             return target ? drop_value(ospp::dup2(null, *target, false)) : drop_value(target);
         }},
        {"dup2", {"dup2"}, [null] {
             auto target = ospp::dup(null);
             return target ? drop_value(ospp::dup2(null, *target)) : drop_value(target);
         }},
        {"dup2", {"fcntl"}, [&fx] { return drop_value(ospp::dup2(fx.null, fx.null, false)); }, cannot},
        {"dup2", {"fcntl"}, [&fx] { return drop_value(ospp::dup2(fx.null, fx.null, false)); }, cannot, 2},
        {"close", {"close"}, [] {
             auto p = ospp::pipe();
             return p ? p->read_end.close() : drop_value(p);
         }, on_eintr::report},
        {"write", {"write"}, [null] {
             const std::string data(100, 'x');
             auto r = ospp::write_all(null, std::as_bytes(std::span(data)));
             if (!r) return ospp::result<void>(tl::unexpected(ospp::errno_error(r.error())));
             return ospp::result<void>();
         }},
        {"read", {"read"}, [rw] { return drop_value(ospp::read_all(rw)); }, on_eintr::retry, 1,
         [rw] { (void)::lseek(rw.get(), 0, SEEK_SET); }},
        {"read", {"read"}, [rw] {
             std::byte b[3];
             auto r = ospp::read_all(rw, b);
             if (!r) return ospp::result<void>(tl::unexpected(ospp::errno_error(r.error())));
             return ospp::result<void>();
         }, on_eintr::retry, 1, [rw] { (void)::lseek(rw.get(), 0, SEEK_SET); }},
        {"lseek", {"lseek"}, [rw] { return drop_value(ospp::lseek(rw, 0, ospp::whence::set)); }, cannot},
        {"pread", {"pread"}, [rw] { return drop_value(ospp::pread(rw, 4, 0)); }},
        {"pwrite", {"pwrite"}, [rw] { return drop_value(ospp::pwrite(rw, std::as_bytes(std::span("c", 1)), 0)); }},
        {"readv", {"readv"}, [rw] { return drop_value(ospp::readv(rw, rbufs)); }, on_eintr::retry, 1,
         [rw] { (void)::lseek(rw.get(), 0, SEEK_SET); }},
        {"writev", {"writev"}, [null] { return drop_value(ospp::writev(null, wbufs)); }},
        {"writev", {"writev"}, [null] {
             const std::span<const std::byte> v[] = {std::as_bytes(std::span("ab", 2))};
             return drop_value(ospp::writev(null, v));
         }},
        {"preadv", {"preadv2"}, [rw] { return drop_value(ospp::preadv(rw, rbufs, 0)); }},
        {"preadv", {"preadv2"}, [rw] { return drop_value(ospp::preadv(rw, rbufs, 0, ospp::rw_flags::hipri)); }},
        {"pwritev", {"pwritev2"}, [rw] { return drop_value(ospp::pwritev(rw, std::span(wbufs, 1), 0)); }},
        {"pwritev", {"pwritev2"}, [rw] {
             const std::span<const std::byte> v[] = {std::as_bytes(std::span("c", 1))};
             return drop_value(ospp::pwritev(rw, v, 0, ospp::rw_flags::dsync));
         }},
        {"copy_file_range", {"copy_file_range"}, [rw, target] {
             return drop_value(ospp::copy_file_range(rw, *target, 4, 0, 0));
         }},
        {"sendfile", {"sendfile"}, [rw, null] { return drop_value(ospp::sendfile(null, rw, 0, 4)); }},
        {"splice", {"splice"}, [rw, &fx] { return drop_value(ospp::splice(rw, fx.pipe.write_end, 2, 0)); },
         on_eintr::retry, 1, drain},
        {"fchmod", {"fchmod"}, [rw] { return ospp::fchmod(rw, 0644); }},
        {"fchown", {"fchown"}, [rw] { return ospp::fchown(rw, ::getuid(), ::getgid()); }},
        {"ftruncate", {"ftruncate"}, [rw] { return ospp::ftruncate(rw, 7); }},
        {"fsync", {"fsync"}, [rw] { return ospp::fsync(rw); }},
        {"fdatasync", {"fdatasync"}, [rw] { return ospp::fdatasync(rw); }},
        {"posix_fallocate", {"posix_fallocate"}, [rw] { return ospp::posix_fallocate(rw, 0, 7); }},
        {"posix_fadvise", {"posix_fadvise"},
         [rw] { return ospp::posix_fadvise(rw, 0, 0, ospp::fadvise_advice::normal); }},
        {"lockf", {"lockf"}, [rw] { return ospp::lockf(rw, ospp::lockf_command::tlock, 0); }},
        {"get_blocking", {"fcntl"}, [null] { return drop_value(ospp::get_blocking(null)); }, cannot},
        {"get_inheritable", {"fcntl"}, [null] { return drop_value(ospp::get_inheritable(null)); }, cannot},
        // The setters read the flags (1st fcntl) and write them back changed (2nd), undone after.
        {"set_blocking", {"fcntl"}, [null] { return ospp::set_blocking(null, false); }, cannot, 1,
         [null] { (void)::fcntl(null.get(), F_SETFL, 0); }},
        {"set_blocking", {"fcntl"}, [null] { return ospp::set_blocking(null, false); }, cannot, 2,
         [null] { (void)::fcntl(null.get(), F_SETFL, 0); }},
        {"set_inheritable", {"fcntl"}, [null] { return ospp::set_inheritable(null, true); }, cannot, 1,
         [null] { (void)::fcntl(null.get(), F_SETFD, FD_CLOEXEC); }},
        {"set_inheritable", {"fcntl"}, [null] { return ospp::set_inheritable(null, true); }, cannot, 2,
         [null] { (void)::fcntl(null.get(), F_SETFD, FD_CLOEXEC); }},
        {"fpathconf", {"fpathconf"},
         [rw] { return drop_value(ospp::fpathconf(rw, ospp::pathconf_name::name_max)); }, cannot},
    };
}

std::vector<fault_case> terminal_cases(fixture&) {
    // One pseudo-terminal pair, opened before any fault is armed, for the cases that query one.
    auto pty = std::make_shared<ospp::openpty_fds>(ospp::openpty().value());
    auto with_pty = [pty](auto body) {
        return [pty, body]() -> ospp::result<void> { return body(*pty); };
    };
    return {
        {"openpty", {"posix_openpt"}, [] { return drop_value(ospp::openpty()); }, cannot},
        {"openpty", {"grantpt"}, [] { return drop_value(ospp::openpty()); }, cannot},
        {"openpty", {"unlockpt"}, [] { return drop_value(ospp::openpty()); }, cannot},
        {"openpty", {"ioctl"}, [] { return drop_value(ospp::openpty()); }, cannot},
        // A kernel without TIOCGPTPEER: the slave is opened by its name.
        {"openpty", {"ptsname_r"}, [] { return drop_value(ospp::openpty()); }, cannot, 1, {}, {{"ioctl", EINVAL}}},
        {"openpty", {"open"}, [] { return drop_value(ospp::openpty()); }, on_eintr::retry, 1, {}, {{"ioctl", EINVAL}}},
        {"posix_openpt", {"posix_openpt"}, [] { return drop_value(ospp::posix_openpt(open_flags::rdwr)); }, cannot},
        {"grantpt", {"grantpt"}, [] {
             auto m = ospp::posix_openpt(open_flags::rdwr);
             return m ? ospp::grantpt(*m) : drop_value(m);
         }, cannot},
        {"unlockpt", {"unlockpt"}, [] {
             auto m = ospp::posix_openpt(open_flags::rdwr);
             return m ? ospp::unlockpt(*m) : drop_value(m);
         }, cannot},
        {"ptsname", {"ptsname_r"}, with_pty([](ospp::openpty_fds& p) { return drop_value(ospp::ptsname(p.master)); }),
         cannot},
        {"ttyname", {"ttyname_r"}, with_pty([](ospp::openpty_fds& p) { return drop_value(ospp::ttyname(p.slave)); }),
         cannot},
        {"get_terminal_size", {"ioctl"},
         with_pty([](ospp::openpty_fds& p) { return drop_value(ospp::get_terminal_size(p.slave)); }), cannot},
        // In a child, which becomes a session leader with the pty as its controlling terminal.
        {"login_tty", {"ioctl", "dup2"}, in_child([pty] { return ospp::login_tty(ospp::fd(pty->slave.get())); }), cannot},
        {"login_tty", {"fcntl"}, in_child([pty] {
             // The terminal as descriptor 0, which login_tty makes inheritable instead of dup2-ing.
             if (::dup3(pty->slave.get(), 0, 0) < 0) return ospp::result<void>(tl::unexpected(ospp::errno_error(errno, "dup3")));
             return ospp::login_tty(ospp::fd(0));
         }), cannot},
        {"tcgetpgrp", {"tcgetpgrp"}, in_child([pty] {
             auto r = ospp::login_tty(ospp::fd(pty->slave.get()));
             return r ? drop_value(ospp::tcgetpgrp(ospp::stdin_fd)) : r;
         }), cannot},
        {"tcsetpgrp", {"tcsetpgrp"}, in_child([pty] {
             auto r = ospp::login_tty(ospp::fd(pty->slave.get()));
             return r ? ospp::tcsetpgrp(ospp::stdin_fd, ::getpgrp()) : r;
         }), on_eintr::report},  // EINTR is a caught SIGTTOU: retrying raises it again
    };
}

std::vector<fault_case> special_fds_cases(fixture&) {
    auto with_eventfd = [](auto body) {
        return [body]() -> ospp::result<void> {
            auto e = ospp::eventfd(1);
            return e ? body(*e) : drop_value(e);
        };
    };
    auto with_timerfd = [](auto body) {
        return [body]() -> ospp::result<void> {
            auto t = ospp::timerfd_create(ospp::timerfd_clock::monotonic);
            return t ? body(*t) : drop_value(t);
        };
    };
    return {
        {"memfd_create", {"memfd_create"}, [] { return drop_value(ospp::memfd_create("fault")); }, cannot},
        {"eventfd", {"eventfd"}, [] { return drop_value(ospp::eventfd(0)); }, cannot},
        {"eventfd_read", {"read"}, with_eventfd([](const ospp::fd& e) { return drop_value(ospp::eventfd_read(e)); })},
        {"eventfd_write", {"write"}, with_eventfd([](const ospp::fd& e) { return ospp::eventfd_write(e, 1); })},
        {"timerfd_create", {"timerfd_create"},
         [] { return drop_value(ospp::timerfd_create(ospp::timerfd_clock::monotonic)); }, cannot},
        {"timerfd_settime", {"timerfd_settime"}, with_timerfd([](const ospp::fd& t) {
             return drop_value(ospp::timerfd_settime(t, {.initial = std::chrono::seconds(10)}));
         }), cannot},
        {"timerfd_gettime", {"timerfd_gettime"},
         with_timerfd([](const ospp::fd& t) { return drop_value(ospp::timerfd_gettime(t)); }), cannot},
    };
}

std::vector<fault_case> stat_cases(fixture& fx) {
    const std::string file = fx.file;
    const ospp::fd_ref rw = fx.rw;
    return {
        {"stat", {"statx"}, [file] { return drop_value(ospp::stat(file)); }},
        // A kernel or sandbox without statx: fstatat.
        {"stat", {"fstatat"}, [file] { return drop_value(ospp::stat(file)); }, on_eintr::retry, 1, {}, {{"statx", ENOSYS}}},
        {"lstat", {"statx"}, [file] { return drop_value(ospp::lstat(file)); }},
        {"fstat", {"statx"}, [rw] { return drop_value(ospp::fstat(rw)); }},
        {"statvfs", {"statvfs"}, [file] { return drop_value(ospp::statvfs(file)); }},
        {"fstatvfs", {"fstatvfs"}, [rw] { return drop_value(ospp::fstatvfs(rw)); }},
    };
}

std::vector<fault_case> files_cases(fixture& fx) {
    const std::string file = fx.file, dir = fx.dir.path();
    const std::string other = fx.dir / "g", sub = fx.dir / "d", deep = fx.dir / "a/b/c";
    const ospp::fd_ref dirfd = fx.dirfd;
    auto restore_cwd = [cwd = ospp::getcwd().value()] { CHECK(::chdir(cwd.c_str()) == 0); };
    auto remove_other = [other] { (void)::unlink(other.c_str()); };
    auto remove_sub = [sub] { (void)::rmdir(sub.c_str()); };
    auto remake_other = [other] { ospp_test::write_file(other, "g"); };
    auto remove_deep = [dir] {
        for (const char* d : {"/a/b/c", "/a/b", "/a"}) (void)::rmdir((dir + d).c_str());
    };
    remake_other();
    std::vector<fault_case> cases = {
        {"access", {"access"}, [file] { return ospp::access(file, ospp::access_mode::r_ok); }},
        {"access", {"faccessat"}, [file] { return ospp::access(file, ospp::access_mode::r_ok, {.effective_ids = true}); }},
        {"chdir", {"chdir"}, [dir] { return ospp::chdir(dir); }, on_eintr::retry, 1, restore_cwd},
        {"fchdir", {"fchdir"}, [dirfd] { return ospp::fchdir(dirfd); }, on_eintr::retry, 1, restore_cwd},
        {"getcwd", {"getcwd"}, [] { return drop_value(ospp::getcwd()); }, cannot},
        {"chmod", {"fchmodat"}, [file] { return ospp::chmod(file, 0644); }},
        {"chown", {"fchownat"}, [file] { return ospp::chown(file, ::getuid(), ::getgid()); }},
        {"lchown", {"lchown"}, [file] { return ospp::lchown(file, ::getuid(), ::getgid()); }},
        {"link", {"linkat"}, [file, sub] { return ospp::link(file, sub); }, on_eintr::retry, 1,
         [sub] { (void)::unlink(sub.c_str()); }},
        {"symlink", {"symlinkat"}, [sub] { return ospp::symlink("f", sub); }, on_eintr::retry, 1,
         [sub] { (void)::unlink(sub.c_str()); }},
        {"readlink", {"readlinkat"}, [sub] {
             if (::symlink("f", sub.c_str()) != 0) return ospp::result<void>(tl::unexpected(ospp::errno_error(errno, "setup")));
             return drop_value(ospp::readlink(sub));
         }, on_eintr::retry, 1, [sub] { (void)::unlink(sub.c_str()); }},
        {"listdir", {"openat"}, [dir] { return drop_value(ospp::listdir(dir)); }},
        {"listdir", {"getdents"}, [dir] { return drop_value(ospp::listdir(dir)); }},
        {"mkdir", {"mkdirat"}, [sub] { return ospp::mkdir(sub); }, on_eintr::retry, 1, remove_sub},
        {"makedirs", {"mkdir"}, [deep] { return ospp::makedirs(deep); }, on_eintr::retry, 1, remove_deep},
        {"makedirs", {"mkdir"}, [deep] { return ospp::makedirs(deep); }, on_eintr::retry, 3, remove_deep},
        {"mkfifo", {"mkfifoat"}, [sub] { return ospp::mkfifo(sub); }, on_eintr::retry, 1,
         [sub] { (void)::unlink(sub.c_str()); }},
        {"mknod", {"mknodat"}, [sub] { return ospp::mknod(sub, S_IFREG | 0600); }, on_eintr::retry, 1,
         [sub] { (void)::unlink(sub.c_str()); }},
        {"remove", {"unlinkat"}, [other] { return ospp::remove(other); }, on_eintr::retry, 1, remake_other},
        {"unlink", {"unlinkat"}, [other] { return ospp::unlink(other); }, on_eintr::retry, 1, remake_other},
        {"rmdir", {"unlinkat"}, [sub] {
             (void)::mkdir(sub.c_str(), 0700);
             return ospp::rmdir(sub);
         }, on_eintr::retry, 1, remove_sub},
        {"removedirs", {"rmdir"}, [sub] {
             (void)::mkdir(sub.c_str(), 0700);
             return ospp::removedirs(sub);
         }, on_eintr::retry, 1, remove_sub},
        {"rename", {"renameat"}, [other, sub] { return ospp::rename(other, sub); }, on_eintr::retry, 1,
         [other, sub] { (void)::rename(sub.c_str(), other.c_str()); }},
        {"replace", {"renameat"}, [other, sub] { return ospp::replace(other, sub); }, on_eintr::retry, 1,
         [other, sub] { (void)::rename(sub.c_str(), other.c_str()); }},
        {"renames", {"rename"}, [other, sub] { return ospp::renames(other, sub); }, on_eintr::retry, 1,
         [other, sub] { (void)::rename(sub.c_str(), other.c_str()); }},
        {"truncate", {"truncate"}, [file] { return ospp::truncate(file, 7); }},
        {"utime", {"utimensat"}, [file] { return ospp::utime(file); }},
    };
    // chroot("/") as root: allowed, and changes nothing.
    if (ospp_test::is_root()) cases.push_back({"chroot", {"chroot"}, [] { return ospp::chroot("/"); }});
    return cases;
}

std::vector<fault_case> copy_file_cases(fixture& fx) {
    const std::string file = fx.file, copy = fx.dir / "copy", link = fx.dir / "link";
    auto remove_copy = [copy] { (void)::unlink(copy.c_str()); };
    REQUIRE(::symlink("f", link.c_str()) == 0);
    auto copy_it = [file, copy] { return drop_value(ospp::copy_file(file, copy)); };
    auto copy_link = [link, copy] { return drop_value(ospp::copy_file(link, copy, {.follow_symlinks = false})); };
    std::vector<fault_case> cases = {
        // src's non-blocking open failing with EWOULDBLOCK is a lease being broken: opened again, blocking.
        {"copy_file", {"openat"}, copy_it, on_eintr::retry, 1, remove_copy, {}, {{EAGAIN, 0}}},
        {"copy_file", {"fstat", "ftruncate", "copy_file_range"}, copy_it, on_eintr::retry, 1, remove_copy},
        {"copy_file", {"openat", "fstat"}, copy_it, on_eintr::retry, 2, remove_copy},
        {"copy_file", {"fstatat", "readlinkat", "symlinkat"}, copy_link, on_eintr::retry, 1, remove_copy},
        // A device is opened non-blocking (a named pipe would not be), then made blocking again.
        {"copy_file", {"fcntl"}, [copy] { return drop_value(ospp::copy_file("/dev/null", copy)); }, cannot, 1, remove_copy},
        // Without copy_file_range: sendfile; without both: read and write.
        {"copy_file", {"sendfile"}, copy_it, on_eintr::retry, 1, remove_copy, {{"copy_file_range", ENOSYS}}},
        {"copy_file", {"read", "write"}, copy_it, on_eintr::retry, 1, remove_copy,
         {{"copy_file_range", ENOSYS}, {"sendfile", EINVAL}}},
    };
    return cases;
}

std::vector<fault_case> scandir_walk_cases(fixture& fx) {
    const std::string dir = fx.dir.path(), tree = fx.dir / "t";
    const ospp::fd_ref dirfd = fx.dirfd;
    auto make_tree = [tree] {
        for (const char* d : {"", "/x", "/x/y"}) (void)::mkdir((tree + d).c_str(), 0700);
        ospp_test::write_file(tree + "/x/y/f", "f");
    };
    make_tree();
    // The first error walk passes to onerror, as a result (success if none came).
    auto walk_first_error = [tree](bool fwalk, bool follow = false) {
        return [tree, fwalk, follow]() -> ospp::result<void> {
            std::optional<ospp::errno_error> first;
            auto onerror = [&](const ospp::errno_error& e) {
                if (!first) first = e;
            };
            std::size_t steps = 0;
            if (fwalk) {
                for (const auto& step : ospp::fwalk(tree, {.onerror = onerror})) (void)step, ++steps;
            } else {
                for (const auto& step : ospp::walk(tree, {.onerror = onerror, .followlinks = follow})) (void)step, ++steps;
            }
            if (first) return tl::unexpected(*first);
            if (steps != 3) return tl::unexpected(ospp::errno_error(EPROTO, "walk: wrong step count"));
            return {};
        };
    };
    // A walk of s/ whose subdirectory x is swapped for another after s/ was listed: the opened
    // directory's "." does not match the entry, so statx decides, and x is skipped (one step).
    const std::string swapped = fx.dir / "s";
    for (const char* d : {"", "/x", "_spare"}) (void)::mkdir((swapped + d).c_str(), 0700);
    auto walk_swapped = [swapped]() -> ospp::result<void> {
        std::optional<ospp::errno_error> first;
        std::size_t steps = 0;
        for (const auto& step : ospp::walk(swapped, {.onerror = [&](const ospp::errno_error& e) {
                                                  if (!first) first = e;
                                              }})) {
            (void)step;
            if (steps++ == 0) {
                (void)::rename((swapped + "/x").c_str(), (swapped + "/old").c_str());
                (void)::rename((swapped + "_spare").c_str(), (swapped + "/x").c_str());
            }
        }
        (void)::rename((swapped + "/x").c_str(), (swapped + "_spare").c_str());
        (void)::rename((swapped + "/old").c_str(), (swapped + "/x").c_str());
        if (first) return tl::unexpected(*first);
        if (steps != 1) return tl::unexpected(ospp::errno_error(EPROTO, "walk: entered a swapped directory"));
        return {};
    };
    auto scan = [dir]() -> ospp::result<void> {
        auto r = ospp::scandir(dir);
        if (!r) return drop_value(r);
        for (const auto& e : *r) (void)e;
        if (r->error()) return tl::unexpected(*r->error());
        return {};
    };
    const std::vector<std::pair<int, int>> shared_read_errors{
        {EIO, EACCES}, {ENOSPC, EACCES}, {ENOMEM, EACCES}, {EAGAIN, EACCES}};
    return {
        {"scandir", {"openat", "getdents"}, scan},
        // EACCES (no search permission) leads to /proc/self/fd, which reads the directory after all.
        {"scandir", {"openat"}, [dirfd]() -> ospp::result<void> { return drop_value(ospp::scandir(dirfd)); },
         on_eintr::retry, 1, {}, {}, {{EACCES, 0}}},
        // A directory that may be read but not searched is reopened through /proc/self/fd; EACCES
        // there too reads through dirfd's own description.
        {"scandir", {"open"}, [dirfd]() -> ospp::result<void> { return drop_value(ospp::scandir(dirfd)); },
         on_eintr::retry, 1, {}, {{"openat", EACCES}}, {{EACCES, 0}}},
        // That fallback (the directory's mode changed since dirfd was opened): its dup and seeks
        // fail as the refusal that led there, EACCES, unless the fd table is full.
        {"scandir", {"fcntl"}, [dirfd]() -> ospp::result<void> { return drop_value(ospp::scandir(dirfd)); },
         cannot, 1, {}, {{"openat", EACCES}, {"open", EACCES}}, shared_read_errors},
        {"scandir", {"lseek"}, [dirfd]() -> ospp::result<void> { return drop_value(ospp::scandir(dirfd)); },
         cannot, 1, {}, {{"openat", EACCES}, {"open", EACCES}}, shared_read_errors},
        {"scandir", {"lseek"}, [dirfd]() -> ospp::result<void> { return drop_value(ospp::scandir(dirfd)); },
         cannot, 2, {}, {{"openat", EACCES}, {"open", EACCES}}, shared_read_errors},
        {"scandir", {"openat", "getdents"}, walk_first_error(false)},
        {"scandir", {"openat", "getdents"}, walk_first_error(false), on_eintr::retry, 2},
        {"scandir", {"fstat"}, walk_first_error(false), cannot},
        {"scandir", {"fstat"}, walk_first_error(false, true), cannot, 2},  // cycle check: followlinks only
        // The swapped-directory check's statx, and its fstats where statx is missing.
        {"scandir", {"statx"}, walk_swapped},
        {"scandir", {"fstat"}, walk_swapped, cannot, 2, {}, {{"statx", ENOSYS}}},
        {"scandir", {"fstat"}, walk_swapped, cannot, 3, {}, {{"statx", ENOSYS}}},
        {"scandir", {"openat", "getdents"}, walk_first_error(true)},
        // Python's rmtree reports a failed entry under os.unlink / os.rmdir, the top under rmtree.
        {"unlink", {"unlinkat"}, [tree] { return ospp::rmtree(tree); }, on_eintr::retry, 1, make_tree},
        {"rmdir", {"unlinkat"}, [tree] { return ospp::rmtree(tree); }, on_eintr::retry, 2, make_tree},
        {"rmtree", {"unlinkat"}, [tree] { return ospp::rmtree(tree); }, on_eintr::retry, 4, make_tree},
    };
}

// xattr cases only where the file system under the temp directory takes user attributes.
std::vector<fault_case> xattr_cases(fixture& fx) {
    const std::string file = fx.file;
    const ospp::fd_ref rw = fx.rw;
    if (::setxattr(file.c_str(), "user.fault", "v", 1, 0) != 0) return {};
    auto reset = [file] { (void)::setxattr(file.c_str(), "user.fault", "v", 1, 0); };
    using ospp::follow_options;
    const follow_options nofollow{.follow_symlinks = false};
    return {
        {"getxattr", {"getxattr"}, [file] { return drop_value(ospp::getxattr(file, "user.fault")); }},
        {"getxattr", {"getxattr"}, [file] { return drop_value(ospp::getxattr(file, "user.fault")); }, on_eintr::retry, 2},
        {"getxattr", {"lgetxattr"}, [file, nofollow] { return drop_value(ospp::getxattr(file, "user.fault", nofollow)); }},
        {"getxattr", {"fgetxattr"}, [rw] { return drop_value(ospp::getxattr(rw, "user.fault")); }},
        {"setxattr", {"setxattr"}, [file] { return ospp::setxattr(file, "user.fault", "v"); }},
        {"setxattr", {"lsetxattr"}, [file, nofollow] { return ospp::setxattr(file, "user.fault", "v", {}, nofollow); }},
        {"setxattr", {"fsetxattr"}, [rw] { return ospp::setxattr(rw, "user.fault", "v"); }},
        {"listxattr", {"listxattr"}, [file] { return drop_value(ospp::listxattr(file)); }},
        {"listxattr", {"llistxattr"}, [file, nofollow] { return drop_value(ospp::listxattr(file, nofollow)); }},
        {"listxattr", {"flistxattr"}, [rw] { return drop_value(ospp::listxattr(rw)); }},
        {"removexattr", {"removexattr"}, [file] { return ospp::removexattr(file, "user.fault"); }, on_eintr::retry, 1, reset},
        {"removexattr", {"lremovexattr"}, [file, nofollow] { return ospp::removexattr(file, "user.fault", nofollow); },
         on_eintr::retry, 1, reset},
        {"removexattr", {"fremovexattr"}, [rw] { return ospp::removexattr(rw, "user.fault"); }, on_eintr::retry, 1, reset},
    };
}

std::vector<fault_case> resource_cases(fixture&) {
    using ospp::resource::rlimit_resource;
    return {
        {"getrlimit", {"getrlimit"}, [] { return drop_value(ospp::resource::getrlimit(rlimit_resource::nofile)); }, cannot},
        {"setrlimit", {"setrlimit"}, [] {
             auto cur = ospp::resource::getrlimit(rlimit_resource::core);
             return cur ? ospp::resource::setrlimit(rlimit_resource::core, *cur) : drop_value(cur);
         }, cannot},
        {"prlimit", {"prlimit"}, [] { return drop_value(ospp::resource::prlimit(0, rlimit_resource::nofile)); }, cannot},
        {"prlimit", {"prlimit"}, [] {
             auto cur = ospp::resource::getrlimit(rlimit_resource::core);
             return cur ? drop_value(ospp::resource::prlimit(0, rlimit_resource::core, *cur)) : drop_value(cur);
         }, cannot},
        {"getrusage", {"getrusage"}, [] { return drop_value(ospp::resource::getrusage(ospp::resource::rusage_who::self)); },
         cannot},
    };
}

std::vector<fault_case> fcntl_cases(fixture& fx) {
    namespace fc = ospp::fcntl;
    const ospp::fd_ref rw = fx.rw, dirfd = fx.dirfd;
    const ospp::fd_ref pr = fx.pipe.read_end;
    auto memfd = std::make_shared<ospp::fd>(
        ospp::memfd_create("seals", ospp::memfd_flags::cloexec | ospp::memfd_flags::allow_sealing).value());
    const ospp::fd_ref m = *memfd;
    auto unlock = [rw] {
        (void)::flock(rw.get(), LOCK_UN);
        struct ::flock l {};
        l.l_type = F_UNLCK;
        l.l_whence = SEEK_SET;
        (void)::fcntl(rw.get(), F_SETLK, &l);
        (void)::fcntl(rw.get(), F_OFD_SETLK, &l);
    };
    return {
        {"fcntl", {"fcntl"}, [rw] { return drop_value(fc::fcntl(rw, F_GETFD)); }},
        {"fcntl", {"fcntl"}, [rw] { return drop_value(fc::fcntl(rw, F_GETFD, std::string_view("12345678"))); }},
        {"ioctl", {"ioctl"}, [pr] { return drop_value(fc::ioctl(pr, FIONREAD, std::string_view("1234"))); }},
        {"ioctl", {"ioctl"}, [pr] {
             int n = 0;
             return drop_value(fc::ioctl<int>(pr, FIONREAD, n));
         }},
        {"ioctl", {"ioctl"}, [pr] { return drop_value(fc::ioctl(pr, FIOCLEX)); }},
        {"fcntl(F_GETFD)", {"fcntl"}, [rw] { return drop_value(fc::get_fd_flags(rw)); }},
        {"fcntl(F_DUPFD_CLOEXEC)", {"fcntl"}, [rw] { return drop_value(fc::dupfd(rw, 10)); }},
        {"flock", {"flock"}, [rw] { return fc::flock(rw, fc::lock_op::ex); }, on_eintr::retry, 1, unlock},
        {"lockf", {"fcntl"}, [rw] { return fc::lockf(rw, fc::lock_op::ex); }, on_eintr::retry, 1, unlock},
        {"lockf", {"fcntl"}, [rw] { return fc::lockf(rw, fc::lock_op::ex | fc::lock_op::nb); }, on_eintr::retry, 1, unlock},
        {"fcntl(F_SETLK)", {"fcntl"}, [rw] { return fc::set_lock(rw, {}); }, on_eintr::retry, 1, unlock},
        {"fcntl(F_SETLKW)", {"fcntl"}, [rw] { return fc::set_lock_wait(rw, {}); }, on_eintr::retry, 1, unlock},
        {"fcntl(F_OFD_SETLKW)", {"fcntl"}, [rw] { return fc::ofd_set_lock_wait(rw, {}); }, on_eintr::retry, 1, unlock},
        {"fcntl(F_OFD_GETLK)", {"fcntl"}, [rw] { return drop_value(fc::ofd_get_lock(rw, {})); }},
        // record_lock_guard makes a cur or end start absolute first: lseek and fstat fail under the
        // name of the lock call it would make.
        {"fcntl(F_SETLK)", {"lseek"}, [rw] {
             return drop_value(fc::record_lock_guard::lock(rw, {.whence = fc::whence::cur, .len = 1},
                                                           {.ofd = false, .wait = false}));
         }, cannot, 1, unlock},
        {"fcntl(F_SETLK)", {"fstat"}, [rw] {
             return drop_value(fc::record_lock_guard::lock(rw, {.whence = fc::whence::end, .start = -1},
                                                           {.ofd = false, .wait = false}));
         }, cannot, 1, unlock},
        {"fcntl(F_GETPIPE_SZ)", {"fcntl"}, [pr] { return drop_value(fc::get_pipe_size(pr)); }},
        {"fcntl(F_SETPIPE_SZ)", {"fcntl"}, [pr] { return drop_value(fc::set_pipe_size(pr, 65536)); }},
        {"fcntl(F_ADD_SEALS)", {"fcntl"}, [m, memfd] { return fc::add_seals(m, fc::seals::grow); }},
        {"fcntl(F_GET_SEALS)", {"fcntl"}, [m] { return drop_value(fc::get_seals(m)); }},
        {"fcntl(F_GETOWN)", {"fcntl"}, [rw] { return drop_value(fc::get_owner(rw)); }},
        {"fcntl(F_SETOWN)", {"fcntl"}, [rw] { return fc::set_owner(rw, 0); }},
        {"fcntl(F_GETOWN_EX)", {"fcntl"}, [rw] { return drop_value(fc::get_owner_ex(rw)); }},
        {"fcntl(F_SETOWN_EX)", {"fcntl"}, [rw] { return fc::set_owner_ex(rw, {}); }},
        {"fcntl(F_GETLEASE)", {"fcntl"}, [rw] { return drop_value(fc::get_lease(rw)); }},
        {"fcntl(F_GET_RW_HINT)", {"fcntl"}, [rw] { return drop_value(fc::get_rw_hint(rw)); }},
        {"fcntl(F_SETFD)", {"fcntl"}, [rw] { return fc::set_fd_flags(rw, fc::fd_flags::cloexec); }},
        {"fcntl(F_GETFL)", {"fcntl"}, [rw] { return drop_value(fc::get_status_flags(rw)); }},
        {"fcntl(F_SETFL)", {"fcntl"}, [rw] { return fc::set_status_flags(rw, open_flags{}); }},
        {"fcntl(F_GETSIG)", {"fcntl"}, [rw] { return drop_value(fc::get_signal(rw)); }},
        {"fcntl(F_SETSIG)", {"fcntl"}, [rw] { return fc::set_signal(rw, std::nullopt); }},
        {"fcntl(F_NOTIFY)", {"fcntl"}, [dirfd] { return fc::notify(dirfd, {}); }},
    };
}

std::vector<fault_case> ids_cases(fixture&) {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    std::vector<fault_case> cases = {
        {"getresuid", {"getresuid"}, [] { return drop_value(ospp::getresuid()); }, cannot},
        {"getresgid", {"getresgid"}, [] { return drop_value(ospp::getresgid()); }, cannot},
        {"setuid", {"setuid"}, [uid] { return ospp::setuid(uid); }, cannot},
        {"setgid", {"setgid"}, [gid] { return ospp::setgid(gid); }, cannot},
        {"seteuid", {"seteuid"}, [uid] { return ospp::seteuid(uid); }, cannot},
        {"setegid", {"setegid"}, [gid] { return ospp::setegid(gid); }, cannot},
        {"setreuid", {"setreuid"}, [] { return ospp::setreuid(static_cast<uid_t>(-1), static_cast<uid_t>(-1)); }, cannot},
        {"setregid", {"setregid"}, [] { return ospp::setregid(static_cast<gid_t>(-1), static_cast<gid_t>(-1)); }, cannot},
        {"setresuid", {"setresuid"}, [] {
             const auto keep = static_cast<uid_t>(-1);
             return ospp::setresuid(keep, keep, keep);
         }, cannot},
        {"setresgid", {"setresgid"}, [] {
             const auto keep = static_cast<gid_t>(-1);
             return ospp::setresgid(keep, keep, keep);
         }, cannot},
        {"getgroups", {"getgroups"}, [] { return drop_value(ospp::getgroups()); }, cannot},
        {"getpgid", {"getpgid"}, [] { return drop_value(ospp::getpgid(0)); }, cannot},
        {"getsid", {"getsid"}, [] { return drop_value(ospp::getsid(0)); }, cannot},
        {"setsid", {"setsid"}, in_child([] { return drop_value(ospp::setsid()); }), cannot},
        {"getpwuid", {"getpwuid_r"}, [uid] { return drop_value(ospp::getpwuid(uid)); }},
        {"getpwnam", {"getpwnam_r"}, [] { return drop_value(ospp::getpwnam("root")); }},
        {"getgrgid", {"getgrgid_r"}, [] { return drop_value(ospp::getgrgid(0)); }},
        {"getgrnam", {"getgrnam_r"}, [] { return drop_value(ospp::getgrnam("root")); }},
    };
    // getgroups calls getgroups(2) a second time only to fetch groups the first call counted.
    if (::getgroups(0, nullptr) > 0) {
        cases.push_back({"getgroups", {"getgroups"}, [] { return drop_value(ospp::getgroups()); }, cannot, 2});
    }
    // A session leader (meson test starts each test in its own session) may not change its group.
    if (::getsid(0) != ::getpid()) {
        cases.push_back({"setpgid", {"setpgid"}, [] { return ospp::setpgid(0, ::getpgrp()); }, cannot});
    }
    if (ospp_test::is_root()) {
        auto groups = ospp::getgroups().value();
        auto restore = [groups] { (void)::setgroups(groups.size(), groups.data()); };
        cases.push_back({"setgroups", {"setgroups"}, [groups] { return ospp::setgroups(groups); }, cannot});
        cases.push_back({"initgroups", {"initgroups"}, [] { return ospp::initgroups("root", 0); }, cannot, 1, restore});
    }
    if (ospp::getlogin()) cases.push_back({"getlogin", {"getlogin_r"}, [] { return drop_value(ospp::getlogin()); }});
    return cases;
}

std::vector<fault_case> process_cases(fixture&) {
    // A fork case reaps its child itself; a failed one has none.
    auto fork_and_reap = []() -> ospp::result<void> {
        auto f = ospp::fork();
        if (!f) return drop_value(f);
        if (f->is_child()) ::_exit(0);
        reap_children();
        return {};
    };
    auto forkpty_and_reap = []() -> ospp::result<void> {
        auto f = ospp::forkpty();
        if (!f) return drop_value(f);
        if (f->process.is_child()) ::_exit(0);
        reap_children();
        return {};
    };
    // The child's side of forkpty (clearing the slave's close-on-exec flag, login_tty) has nobody
    // to return an error to: it _exits 127, which the parent reads here as ECHILD.
    auto forkpty_child_status = []() -> ospp::result<void> {
        auto f = ospp::forkpty();
        if (!f) return drop_value(f);
        if (f->process.is_child()) ::_exit(0);
        int status = 0;
        const faults_suspended parent_side;
        if (::waitpid(f->process.pid(), &status, 0) < 0) return tl::unexpected(ospp::errno_error(errno, "waitpid"));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return tl::unexpected(ospp::errno_error(ECHILD, "forkpty"));
        return {};
    };
    std::vector<std::pair<int, int>> child_exit_127;
    for (const int e : errno_classes) child_exit_127.emplace_back(e, ECHILD);
    std::vector<fault_case> cases = {
        {"fork", {"fork"}, fork_and_reap, cannot},
        {"forkpty", {"posix_openpt", "grantpt", "unlockpt", "ptsname_r", "fork"}, forkpty_and_reap, cannot},
        {"forkpty", {"open"}, forkpty_and_reap},
        {"forkpty", {"fcntl", "login_tty"}, forkpty_child_status, cannot, 1, {}, {}, child_exit_127},
        {"kill", {"kill"}, [] { return ospp::kill(::getpid(), ospp::signum{0}); }, cannot},
        {"killpg", {"killpg"}, [] { return ospp::killpg(::getpgrp(), ospp::signum{0}); }, cannot},
        {"pidfd_open", {"pidfd_open"}, [] { return drop_value(ospp::pidfd_open(::getpid())); }, cannot},
        {"pidfd_send_signal", {"pidfd_send_signal"}, []() -> ospp::result<void> {
             auto self = ospp::pidfd_open(::getpid());  // not armed in this case
             return self ? ospp::pidfd_send_signal(*self, ospp::signum{0}) : drop_value(self);
         }, cannot},
        {"nice", {"nice"}, [] { return drop_value(ospp::nice(0)); }, cannot},
        {"getpriority", {"getpriority"}, [] { return drop_value(ospp::getpriority(ospp::prio_which::process, 0)); }, cannot},
        {"setpriority", {"setpriority"}, [] {
             const int now = ::getpriority(PRIO_PROCESS, 0);
             return ospp::setpriority(ospp::prio_which::process, 0, now);
         }, cannot},
        {"times", {"times"}, [] { return drop_value(ospp::times()); }, cannot},
        {"unshare", {"unshare"}, [] { return ospp::unshare(ospp::clone_flags::none); }, cannot},
        // The parent's side of exec_error_pipe: a child that exits at once is a success (EOF).
        {"exec_error_pipe", {"read"}, []() -> ospp::result<void> {
             auto p = ospp::exec_error_pipe::create();
             if (!p) return drop_value(p);
             if (quick_child() < 0) return tl::unexpected(ospp::errno_error(errno, "fork"));
             auto r = p->wait_exec();
             reap_children();
             return r;
         }},
    };
    if (ospp_test::is_root()) {
        // Joining the namespace this process is in already: allowed to root, and changes nothing.
        cases.push_back({"setns", {"setns"}, [] {
                             auto ns = ospp::open("/proc/self/ns/uts", ospp::open_flags::rdonly);
                             return ns ? ospp::setns(*ns) : drop_value(ns);
                         }, cannot});
    }
    return cases;
}

std::vector<fault_case> wait_cases(fixture&) {
    auto with_child = [](auto wait) {
        return [wait]() -> ospp::result<void> {
            const pid_t pid = quick_child();
            return wait(pid);
        };
    };
    return {
        {"wait", {"waitpid"}, with_child([](pid_t) { return drop_value(ospp::wait()); }), on_eintr::retry, 1, reap_children},
        {"waitpid", {"waitpid"}, with_child([](pid_t p) { return drop_value(ospp::waitpid(p)); }), on_eintr::retry, 1,
         reap_children},
        {"wait3", {"wait4"}, with_child([](pid_t) { return drop_value(ospp::wait3()); }), on_eintr::retry, 1, reap_children},
        {"wait4", {"wait4"}, with_child([](pid_t p) { return drop_value(ospp::wait4(p)); }), on_eintr::retry, 1,
         reap_children},
        {"waitid", {"waitid"}, with_child([](pid_t p) {
             return drop_value(ospp::waitid(ospp::id_type::pid, static_cast<id_t>(p), ospp::wait_flags::exited));
         }), on_eintr::retry, 1, reap_children},
    };
}

std::vector<fault_case> spawn_cases(fixture&) {
    auto reaped = [](ospp::result<pid_t> pid) -> ospp::result<void> {
        if (!pid) return drop_value(pid);
        reap_children();
        return {};
    };
    return {
        {"posix_spawn", {"posix_spawn"}, [reaped] { return reaped(ospp::posix_spawn("/bin/true", {"true"}, std::nullopt)); }},
        {"posix_spawnp", {"posix_spawnp"}, [reaped] { return reaped(ospp::posix_spawnp("true", {"true"}, std::nullopt)); }},
        {"spawnv", {"posix_spawn"},
         [] { return drop_value(ospp::spawnv(ospp::spawn_mode::wait, "/bin/true", {"true"})); }},
        // posix_spawn refused with EPERM (a seccomp filter that predates clone3): fork and exec.
        {"spawnv", {"fork"}, [] { return drop_value(ospp::spawnv(ospp::spawn_mode::wait, "/bin/true", {"true"})); },
         on_eintr::cannot_happen, 1, {}, {{"posix_spawn", EPERM}}},
        {"spawnv", {"execve"}, [] { return drop_value(ospp::spawnv(ospp::spawn_mode::wait, "/bin/true", {"true"})); },
         on_eintr::cannot_happen, 1, {}, {{"posix_spawn", EPERM}}},
        // Python's os.spawnv(P_WAIT) is posix_spawn + os.waitpid: a failed wait is waitpid's error.
        {"waitpid", {"waitpid"},
         [] { return drop_value(ospp::spawnv(ospp::spawn_mode::wait, "/bin/true", {"true"})); }, on_eintr::retry, 1,
         reap_children},
    };
}

// The exec family runs in a forked child, as a program uses it: the child reports a failed exec
// on an exec_error_pipe and exits 127, and the parent's wait_exec() returns the child's errno
// under the child's call name ("execv"), or success once /bin/true was exec'd.
std::function<ospp::result<void>()> exec_in_child(std::function<ospp::errno_error()> exec) {
    return [exec]() -> ospp::result<void> {
        auto report = ospp::exec_error_pipe::create();
        if (!report) return drop_value(report);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) report->fail(exec());
        auto started = report->wait_exec();
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == (started ? 0 : 127));
        return started;
    };
}

std::vector<fault_case> exec_cases(fixture&) {
    // Built before the fork, so that the child does not allocate (shared: not copyable).
    auto argv = std::make_shared<const ospp::cstring_array>(ospp::cstring_array{"true"});
    // One directory to search: its error is the answer.
    auto env = std::make_shared<const ospp::cstring_array>(ospp::cstring_array{"PATH=/bin"});
    return {
        {"execv", {"execve"}, exec_in_child([argv] { return ospp::execv("/bin/true", *argv); }), cannot},
        {"execve", {"execve"}, exec_in_child([argv, env] { return ospp::execve("/bin/true", *argv, *env); }), cannot},
        // A name with a slash is not searched for.
        {"execvp", {"execve"}, exec_in_child([argv] { return ospp::execvp("/bin/true", *argv); }), cannot},
        {"execvpe", {"execve"}, exec_in_child([argv, env] { return ospp::execvpe("true", *argv, *env); }), cannot},
        {"execl", {"execve"}, exec_in_child([] { return ospp::execl("/bin/true", "true"); }), cannot},
        {"execlp", {"execve"}, exec_in_child([] { return ospp::execlp("/bin/true", "true"); }), cannot},
        {"execle", {"execve"}, exec_in_child([env] { return ospp::execle("/bin/true", "true", *env); }), cannot},
        {"execlpe", {"execve"}, exec_in_child([env] { return ospp::execlpe("true", "true", *env); }), cannot},
    };
}

std::vector<fault_case> sched_sysinfo_random_cases(fixture&) {
    using ospp::sched_policy;
    return {
        {"sched_get_priority_min", {"sched_get_priority_min"},
         [] { return drop_value(ospp::sched_get_priority_min(sched_policy::fifo)); }, cannot},
        {"sched_get_priority_max", {"sched_get_priority_max"},
         [] { return drop_value(ospp::sched_get_priority_max(sched_policy::fifo)); }, cannot},
        {"sched_setscheduler", {"sched_setscheduler"},
         [] { return ospp::sched_setscheduler(0, sched_policy::other, {0}); }, cannot},
        {"sched_getscheduler", {"sched_getscheduler"}, [] { return drop_value(ospp::sched_getscheduler(0)); }, cannot},
        {"sched_setparam", {"sched_setparam"}, [] { return ospp::sched_setparam(0, {0}); }, cannot},
        {"sched_getparam", {"sched_getparam"}, [] { return drop_value(ospp::sched_getparam(0)); }, cannot},
        {"sched_rr_get_interval", {"sched_rr_get_interval"},
         [] { return drop_value(ospp::sched_rr_get_interval(0)); }, cannot},
        {"sched_getaffinity", {"sched_getaffinity"}, [] { return drop_value(ospp::sched_getaffinity(0)); }, cannot},
        {"sched_setaffinity", {"sched_setaffinity"}, [] {
             auto cpus = ospp::sched_getaffinity(0);
             return cpus ? ospp::sched_setaffinity(0, *cpus) : drop_value(cpus);
         }, cannot},
        {"uname", {"uname"}, [] { return drop_value(ospp::uname()); }, cannot},
        {"getrandom", {"getrandom"}, [] { return drop_value(ospp::getrandom(16)); }},
        {"urandom", {"getrandom"}, [] { return drop_value(ospp::urandom(16)); }},
        // getrandom refused (seccomp's EPERM, or ENOSYS): the /dev/urandom fallback's calls.
        {"urandom", {"open", "read"}, [] { return drop_value(ospp::urandom(16)); }, on_eintr::retry, 1, {},
         {{"getrandom", ENOSYS}}},
        // The first confstr asks for the size, the second fills the buffer.
        {"confstr", {"confstr"}, [] { return drop_value(ospp::confstr(ospp::confstr_name::path)); }, cannot},
        {"confstr", {"confstr"}, [] { return drop_value(ospp::confstr(ospp::confstr_name::path)); }, cannot, 2},
    };
}

std::vector<fault_case> signal_state_cases(fixture&) {
    using ospp::sigmask_how;
    const ospp::signal_set none;
    auto restore_usr1 = [] { (void)::signal(SIGUSR1, SIG_DFL); };
    return {
        {"pthread_sigmask", {"pthread_sigmask"}, [none] { return drop_value(ospp::pthread_sigmask(sigmask_how::block, none)); },
         cannot},
        {"sigprocmask", {"sigprocmask"}, [none] { return drop_value(ospp::sigprocmask(sigmask_how::block, none)); }, cannot},
        {"pthread_sigmask", {"pthread_sigmask"}, [] { return drop_value(ospp::signal_mask()); }, cannot},
        {"sigpending", {"sigpending"}, [] { return drop_value(ospp::sigpending()); }, cannot},
        {"signal", {"sigaction"}, [] { return ospp::ignore_signal(ospp::signum::usr1); }, cannot, 1, restore_usr1},
        {"signal", {"sigaction"}, [] { return ospp::default_signal_handler(ospp::signum::usr1); }, cannot, 1, restore_usr1},
    };
}

// ---- daemon and pidfile ----------------------------------------------------------------------
//
// daemon_context::open() reports a failed step under the step's name (src/daemon.cpp's step
// table: "chdir", "prevent_core", "pidfile"...), and most steps run in the forked children, where
// the inherited fault fails them. Each row runs a real launcher, as a program would.

using ospp::daemon::daemon_context;

// How a row starts its daemon: what the launcher does first, the options beyond the common ones,
// and what the process that open() returned in does next (the daemon, or without detaching the
// launcher itself).
struct launch {
    std::function<void()> setup{};
    std::function<void(daemon_context&)> configure{};
    std::function<ospp::result<void>(daemon_context&)> then{};
};

ospp::result<void> launch_error(const char* what) { return tl::unexpected(ospp::errno_error(EPROTO, what)); }

// Forks a launcher that calls daemon_context::open(), which exits 0 in the launcher once the daemon
// is ready and returns in the daemon. Whichever process open() returned in (the launcher with the
// error, or the daemon) reports on a preserved pipe and exits. This process is a child subreaper,
// so the daemon's processes, orphaned by the double fork, are its children: every one of them is
// reaped before the result is judged (no row leaves a daemon running). The result is the
// launcher's error, or success when only the daemon reported, with success, and the launcher
// exited 0. A daemon that runs although the launcher failed is an error of its own (EPROTO).
ospp::result<void> run_launcher(const std::string& dir, const std::string& pidfile, const launch& l) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);  // not pipe2, which rows fail; the daemon keeps it (files_preserve)
    std::fflush(nullptr);       // or the launcher's open() would write this process's buffers again
    const pid_t launcher = ::fork();
    REQUIRE(launcher >= 0);
    if (launcher == 0) {
        ::close(fds[0]);
        if (l.setup) l.setup();
        daemon_context ctx;
        ctx.working_directory = dir;
        ctx.pidfile = pidfile;
        ctx.files_preserve = {ospp::fd_ref(fds[1])};
        ctx.detach_process = true;
        if (l.configure) l.configure(ctx);
        ospp::result<void> r = ctx.open();
        if (r && l.then) r = l.then(ctx);
        child_report::of(r).send(fds[1]);
        ::_exit(r ? 0 : 1);
    }
    const faults_suspended parent_side;
    ::close(fds[1]);
    std::vector<child_report> reports;
    child_report rep;
    while (::read(fds[0], &rep, sizeof rep) == static_cast<ssize_t>(sizeof rep)) reports.push_back(rep);
    ::close(fds[0]);  // end of file: every process that held the pipe is gone
    int status = 0;
    REQUIRE(::waitpid(launcher, &status, 0) == launcher);
    reap_children();
    const bool launcher_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (reports.empty()) return launch_error("launch: nobody returned from open()");
    // A daemon that could not report readiness gives up too (open() fails there with "ready"):
    // the launcher's error is the result.
    const auto gave_up = [launcher](const child_report& r) {
        return r.pid != launcher && r.code != 0 && std::string(r.call) == "ready";
    };
    std::erase_if(reports, gave_up);
    if (reports.empty()) return launch_error("launch: the daemon gave up and the launcher said nothing");
    if (reports.size() > 1) return launch_error("launch: the launcher failed and a daemon ran");
    if (reports[0].code == 0 && !launcher_ok) return launch_error("launch: the daemon ran and the launcher failed");
    if (reports[0].code != 0 && reports[0].pid != launcher) return launch_error("launch: open() failed in the daemon");
    return reports[0].result();
}

// In the launcher: close_range(2) fails with ENOSYS (a seccomp filter), as on a kernel older than
// 5.9, and the descriptor limit is small, so that close_fds counts up to it when it cannot list
// /proc/self/fd either.
void without_close_range() {
    const struct ::rlimit few {64, 64};
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (::setrlimit(RLIMIT_NOFILE, &few) != 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        ::_exit(60);
    }
}

std::vector<fault_case> daemon_cases(fixture& fx) {
    const std::string dir = fx.dir.path(), pidfile = fx.dir / "d.pid", loose = fx.dir / "loose.pid";
    const ospp::fd_ref null = fx.null;
    auto started = [dir, pidfile](launch l = {}) {
        return [dir, pidfile, l] { return run_launcher(dir, pidfile, l); };
    };
    // A stale pidfile writable by others, which acquire() makes 0644 (its fchmod) before use.
    auto make_loose = [loose] {
        ospp_test::write_file(loose, "1\n");
        (void)::chmod(loose.c_str(), 0666);
    };
    make_loose();
    // Forks counted from arming: this process's fork of the launcher is the first.
    constexpr long launcher_fork = 2, first_child_fork = 3;
    // sigaction calls: the launcher asks how SIGCHLD is handled (keep_first_child); then, in the
    // first child, reset_signal_handlers sets every signal but KILL and STOP to the default, the
    // first child ignores SIGHUP across setsid and the fork, the grandchild restores it, and open()
    // installs the signal_map.
    const long resets = SIGRTMAX - 2;
    const launch detached_not{.configure = [](daemon_context& c) { c.detach_process = false; }};
    const launch to_files{.configure = [dir](daemon_context& c) {
        c.stdout_file = std::filesystem::path(dir + "/out.log");
        c.stderr_file = std::filesystem::path(dir + "/err.log");
    }};
    const launch delivering{.configure = [](daemon_context& c) { c.signal_map[ospp::signum::usr1] = ospp::daemon::signal_action::deliver(); }};
    std::vector<fault_case> cases = {
        // prepare(), in the launcher: 0-2 open, the pidfile locked, the stdio files, the pipes.
        {"stdio", {"open"}, started({.setup = [] { ::close(0); }}), cannot},
        {"pidfile", {"open"}, started()},
        {"pidfile", {"flock"}, started(), on_eintr::retry, 1, {}, {}, {{EAGAIN, 0}}},  // tried once more
        // The first fstat is detach_by_default()'s look at descriptor 0 (a socket means inetd).
        {"pidfile", {"fstat"}, started(), cannot, 2},
        {"pidfile", {"stat"}, started(), cannot},
        {"pidfile", {"fchmod"}, started({.configure = [loose](daemon_context& c) { c.pidfile = loose; }}), cannot, 1,
         make_loose},
        // The default streams share one /dev/null (the 2nd open); files of their own are
        // opened after it, each once.
        {"stdin", {"open"}, started(), on_eintr::retry, 2},
        {"stdout", {"open"}, started(to_files), on_eintr::retry, 3},
        {"stderr", {"open"}, started(to_files), on_eintr::retry, 4},
        // A given descriptor is copied above 2, after three fcntl(F_GETFD) found 0-2 open.
        {"stdin", {"fcntl"}, started({.configure = [null](daemon_context& c) { c.stdin_file = null; }}), cannot, 4},
        {"pipe", {"pipe2"}, started(), cannot},    // the readiness pipe
        {"pipe", {"pipe2"}, started(delivering), cannot},  // the signal_map's self-pipe, made first
        {"sigaction", {"sigaction"}, started(), cannot},  // SIGCHLD's handling, before the fork
        {"sigprocmask", {"pthread_sigmask"}, started(), cannot},  // SIGCHLD blocked until the wait
        {"fork", {"fork"}, started(), cannot, launcher_fork},
        // detach_steps(), in the first child.
        {"sigaction", {"sigaction"}, started(), cannot, 2},
        // The launcher puts its mask back with its own second call, failed too (and ignored).
        {"sigprocmask", {"pthread_sigmask"}, started(), cannot, 2, {}, {}, {}, 2},
        // close_fds' fallback without close_range: /proc/self/fd (the 2nd open, after the
        // pidfile's; the stdio files are opened after it) unreadable too.
        {"close_fds", {"getrlimit"}, started({.setup = without_close_range}), cannot, 1, {}, {{"open", EACCES, 2, 1}}},
        {"sigaction", {"sigaction"}, started(), cannot, resets + 2},
        {"setsid", {"setsid"}, started(), cannot},
        {"fork", {"fork"}, started(), cannot, first_child_fork},
        // daemon_steps(), in the grandchild. No handler is installed there, so nothing can
        // interrupt a call: EINTR is tried only where the code retries anyway.
        {"sigaction", {"sigaction"}, started(), cannot, resets + 3},
        {"dup2", {"dup2"}, started()},
        {"prevent_core", {"setrlimit"}, started(), cannot},
        {"chdir", {"chdir"}, started(), cannot},
        // The pidfile is emptied as the launcher locks it (1st ftruncate), written in the daemon (2nd).
        {"pidfile", {"ftruncate"}, started()},
        {"pidfile", {"ftruncate"}, started(), on_eintr::retry, 2},
        {"pidfile", {"pwrite"}, started()},
        {"setgid", {"setresgid"}, started(), cannot},
        {"setuid", {"setresuid"}, started(), cannot},
        // open() after the steps: the signal_map.
        {"sigaction", {"sigaction"}, started(), cannot, resets + 4},
        // The readiness report cannot be written: the launcher sees end of file ("ready", EPIPE)
        // and the daemon, told by open(), releases the pidfile and ends instead of running on.
        {"ready", {"write"}, started(), on_eintr::retry, 1, {}, {},
         {{EIO, EPIPE}, {ENOSPC, EPIPE}, {ENOMEM, EPIPE}, {EMFILE, EPIPE}, {EACCES, EPIPE}, {EAGAIN, EPIPE}}},
        // Without detaching, the steps run in the calling process and open() returns their error.
        {"chdir", {"chdir"}, started(detached_not), cannot},
        {"read_signal", {"read"}, started({.configure = [](daemon_context& c) {
                                               c.detach_process = false;
                                               c.signal_map[ospp::signum::usr1] = ospp::daemon::signal_action::deliver();
                                           },
                                           .then = [](daemon_context& c) { return drop_value(c.read_signal()); }}),
         on_eintr::retry, 1, {}, {}, {{EAGAIN, 0}}},
    };
    if (ospp_test::is_root()) {
        // chroot("/") changes nothing; root always sets the supplementary groups.
        cases.push_back({"chroot", {"chroot"}, started({.configure = [](daemon_context& c) { c.chroot_directory = "/"; }}),
                         cannot});
        cases.push_back({"setgroups", {"setgroups"}, started(), cannot});
    }
    return cases;
}

std::vector<fault_case> pidfile_cases(fixture& fx) {
    using ospp::daemon::pidfile;
    const std::string path = fx.dir / "p.pid", written = fx.dir / "w.pid";
    ospp_test::write_file(written, "4242\n");
    auto remove = [path] { (void)::unlink(path.c_str()); };
    // acquire(), then `then` on the pidfile it returns.
    auto acquired = [path](std::function<ospp::result<void>(pidfile&)> then) {
        return [path, then]() -> ospp::result<void> {
            auto p = pidfile::acquire(path);
            return p ? then(*p) : drop_value(p);
        };
    };
    auto nothing = [](pidfile&) { return ospp::result<void>(); };
    auto write = [](pidfile& p) { return p.write(); };
    auto release = [](pidfile& p) {
        auto w = p.write();
        return w ? p.release() : w;
    };
    auto status = [path](pidfile& p) {
        auto w = p.write();
        return w ? drop_value(pidfile::status(path)) : w;
    };
    auto loose_then_acquire = [path, acquired, nothing] {
        ospp_test::write_file(path, "1\n");  // stale, and writable by everyone: acquire() fchmods
        (void)::chmod(path.c_str(), 0666);
        return acquired(nothing)();
    };
    return {
        {"pidfile", {"open", "read"}, [written] { return drop_value(pidfile::read_pid(written)); }},
        // The look that refuses what is not a regular file (a FIFO would block the read).
        {"pidfile", {"fstat"}, [written] { return drop_value(pidfile::read_pid(written)); }, cannot},
        // status(): the same open and look, then (the file locked) the read of the pid.
        {"pidfile", {"open"}, [written] { return drop_value(pidfile::status(written)); }},
        {"pidfile", {"fstat"}, [written] { return drop_value(pidfile::status(written)); }, cannot},
        {"pidfile", {"pread"}, acquired(status), on_eintr::retry, 1, remove},
        {"pidfile", {"open"}, acquired(nothing), on_eintr::retry, 1, remove},
        // A lock held for a moment (status()'s probe) is tried once more: a held one is EEXIST.
        {"pidfile", {"flock"}, acquired(nothing), on_eintr::retry, 1, remove, {}, {{EAGAIN, 0}}},
        {"pidfile", {"fstat", "stat"}, acquired(nothing), cannot, 1, remove},
        {"pidfile", {"fchmod"}, loose_then_acquire, cannot, 1, remove},
        {"pidfile", {"ftruncate"}, acquired(nothing), on_eintr::retry, 1, remove},  // emptied under the lock
        {"pidfile", {"ftruncate"}, acquired(write), on_eintr::retry, 2, remove},
        {"pidfile", {"pwrite"}, acquired(write), on_eintr::retry, 1, remove},
        // release(): the stat that checks the path still names our file (the first is acquire's).
        {"pidfile", {"unlink"}, acquired(release), cannot, 1, remove},
        {"pidfile", {"stat"}, acquired(release), cannot, 2, remove},
    };
}

// With OSPP_FAULT_REPORT set, each exercised (call name, symbol) pair is appended to that file,
// for test/fault/coverage.py.
void report(const char* call_name, const char* symbol) {
    const char* path = std::getenv("OSPP_FAULT_REPORT");
    if (path == nullptr) return;
    if (FILE* f = std::fopen(path, "ae")) {
        std::fprintf(f, "%s\t%s\n", call_name, symbol);
        std::fclose(f);
    }
}

void run_cases(const std::vector<fault_case>& cases) {
    const fault_api api = load_api();
    int exercised = 0;
    // One run of a case with its steering faults (and `symbol` failing `times` times from its
    // `nth` call, if given); returns the result and how many failures `symbol` saw.
    auto run = [&](const fault_case& c, const char* symbol, int err, long times) {
        for (const auto& st : c.steer) api.arm(st.symbol, st.err, st.nth, st.times);
        if (symbol != nullptr) api.arm(symbol, err, c.nth, times);
        auto r = c.run();
        const long hits = symbol != nullptr ? api.injected(symbol) : 0;  // in forked processes too
        api.disarm();
        if (c.cleanup) c.cleanup();
        return std::pair(std::move(r), hits);
    };
    for (const fault_case& c : cases) {
        for (const char* symbol : c.symbols) {
            const std::string name = c.call_name, sym = symbol;
            CAPTURE(name);
            CAPTURE(sym);
            CAPTURE(c.nth);
            const auto plain = run(c, nullptr, 0, 0).first;  // the case works without a fault
            REQUIRE_MESSAGE(plain.has_value(), (plain ? "" : plain.error().message()));
            report(c.call_name, symbol);
            for (int e : errno_classes) {
                CAPTURE(e);
                // Not a structured binding: clang (before 16) cannot capture one in CHECK_MESSAGE's lambda.
                const auto outcome = run(c, symbol, e, 1);
                const ospp::result<void>& r = outcome.first;
                REQUIRE(outcome.second == c.hits);
                int expected = e;
                for (const auto& [from, to] : c.reported_as) expected = from == e ? to : expected;
                ++exercised;
                if (expected == 0) {
                    CHECK_MESSAGE(r.has_value(), r.error().message());
                    continue;
                }
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code() == expected);
                CHECK(std::string(r.error().call()) == name);
            }
            // EINTR three times in a row: retried to success, or reported where retrying is wrong.
            if (c.eintr == on_eintr::cannot_happen) continue;
            auto [r, hits] = run(c, symbol, EINTR, 3);
            CHECK(hits >= 1);
            if (c.eintr == on_eintr::retry) {
                CHECK_MESSAGE(r.has_value(), "EINTR was not retried");
            } else {
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code() == EINTR);
            }
            ++exercised;
        }
    }
    MESSAGE("fault injections exercised: " << exercised);
}

bool interposed() {
    if (load_api().arm != nullptr) return true;
    ospp_test::mark_skipped("needs LD_PRELOAD=libospp_fault.so (meson test sets it)");
    return false;
}

// One test case per header, so that a failure names its area.
#define OSPP_FAULT_AREA(title, table)      \
    TEST_CASE(title) {                     \
        if (!interposed()) return;         \
        fixture fx;                        \
        run_cases(table(fx));              \
    }

}  // namespace

OSPP_FAULT_AREA("fd_ops: every wrapper returns the injected errno under its own name", fd_ops_cases)
OSPP_FAULT_AREA("terminal: every wrapper returns the injected errno under its own name", terminal_cases)
OSPP_FAULT_AREA("special_fds: every wrapper returns the injected errno under its own name", special_fds_cases)
OSPP_FAULT_AREA("stat: every wrapper returns the injected errno under its own name", stat_cases)
OSPP_FAULT_AREA("files: every wrapper returns the injected errno under its own name", files_cases)
OSPP_FAULT_AREA("copy_file: every step returns the injected errno under its own name", copy_file_cases)
OSPP_FAULT_AREA("scandir and walk: errors reach the range or onerror under their own name", scandir_walk_cases)
OSPP_FAULT_AREA("xattr: every wrapper returns the injected errno under its own name", xattr_cases)
OSPP_FAULT_AREA("resource: every wrapper returns the injected errno under its own name", resource_cases)
OSPP_FAULT_AREA("fcntl: every wrapper returns the injected errno under its own name", fcntl_cases)
OSPP_FAULT_AREA("ids: every wrapper returns the injected errno under its own name", ids_cases)
OSPP_FAULT_AREA("process: every wrapper returns the injected errno under its own name", process_cases)
OSPP_FAULT_AREA("wait: every wrapper returns the injected errno under its own name", wait_cases)
OSPP_FAULT_AREA("spawn: every wrapper returns the injected errno under its own name", spawn_cases)
OSPP_FAULT_AREA("exec: a child's failed exec reaches the parent with its errno and name", exec_cases)
OSPP_FAULT_AREA("sched, sysinfo, random: every wrapper returns the injected errno", sched_sysinfo_random_cases)
OSPP_FAULT_AREA("signal_state: every wrapper returns the injected errno under its own name", signal_state_cases)

OSPP_FAULT_AREA("pidfile: every step returns the injected errno as \"pidfile\"", pidfile_cases)

TEST_CASE("daemon: a failing step fails the launcher's open() with its errno and the step's name") {
    if (!interposed()) return;
    // A child subreaper (set before any fault is armed: prctl is interposed), so that the daemons'
    // processes are this process's children to reap; unset at the end, for the other test cases.
    struct subreaper {
        subreaper() { REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0); }
        ~subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }
        subreaper(const subreaper&) = delete;
        subreaper& operator=(const subreaper&) = delete;
    } reaper;
    fixture fx;
    run_cases(daemon_cases(fx));
}

TEST_CASE("a failed close still releases the owned descriptor") {
    const fault_api api = load_api();
    if (api.arm == nullptr) OSPP_SKIP("needs LD_PRELOAD=libospp_fault.so (meson test sets it)");
    auto p = ospp::pipe().value();
    const int raw = p.read_end.get();
    api.arm("close", EINTR, 1, 1);
    auto r = p.read_end.close();
    api.disarm();
    CHECK_FAILS_WITH(r, EINTR);
    CHECK_FALSE(p.read_end.valid());
    CHECK(::fcntl(raw, F_GETFD) == -1);
}

TEST_CASE("write_all reports the bytes that went through before the failing write") {
    if (!interposed()) return;
    const fault_api api = load_api();
    // A non-blocking pipe takes one pipe-buffer's worth per write; the second write is failed.
    auto p = ospp::pipe2(ospp::open_flags::nonblock).value();
    const std::size_t capacity = ospp::fcntl::get_pipe_size(p.write_end).value();
    const std::string data(capacity + 1000, 'x');
    for (const int e : {EIO, ENOSPC, EINTR}) {
        CAPTURE(e);
        api.arm("write", e, 2, 1);
        auto r = ospp::write_all(p.write_end, std::as_bytes(std::span(data)));
        api.disarm();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().transferred == capacity);
        // EINTR is retried, and the retry meets the full pipe: EAGAIN, with the same count.
        CHECK(r.error().code() == (e == EINTR ? EAGAIN : e));
        CHECK(std::string(r.error().call()) == "write");
        REQUIRE(ospp::read(p.read_end, capacity).value().size() == capacity);  // empty it again
    }
}

TEST_CASE("makedirs never reports success on a half-made tree, and exist_ok keeps Python's EEXIST") {
    if (!interposed()) return;
    const fault_api api = load_api();
    ospp_test::temp_dir dir;
    // The third mkdir (a/b/c) fails: a and b exist, c does not, and the call says so.
    api.arm("mkdir", EIO, 3, 1);
    CHECK_ERRNO(ospp::makedirs(dir / "a/b/c"), EIO, "makedirs: [Errno 5] Input/output error: '" + (dir / "a/b/c") + "'");
    api.disarm();
    CHECK(::access((dir / "a/b").c_str(), F_OK) == 0);
    CHECK(::access((dir / "a/b/c").c_str(), F_OK) == -1);
    // exist_ok: mkdir says EEXIST and the check that it is a directory fails. Python's
    // os.path.isdir swallows that error, so makedirs raises the EEXIST; EINTR there is retried.
    const std::string b = dir / "a/b";
    report("makedirs", "stat");
    api.arm("stat", EIO, 1, 1);
    CHECK_FAILS_WITH(ospp::makedirs(b, 0777, {.exist_ok = true}), EEXIST);
    api.disarm();
    api.arm("stat", EINTR, 1, 3);
    CHECK(ospp::makedirs(b, 0777, {.exist_ok = true}).has_value());
    api.disarm();
}

TEST_CASE("walk passes a failed directory to onerror, skips it and goes on") {
    if (!interposed()) return;
    const fault_api api = load_api();
    ospp_test::temp_dir dir;
    for (const char* d : {"/x", "/y"}) REQUIRE(::mkdir((dir.path() + d).c_str(), 0700) == 0);
    std::vector<ospp::errno_error> errors;
    std::vector<std::string> seen;
    api.arm("openat", EACCES, 2, 1);  // the first subdirectory cannot be opened
    for (const auto& step : ospp::walk(dir.path(), {.onerror = [&](const ospp::errno_error& e) { errors.push_back(e); }}))
        seen.emplace_back(step.dirpath);
    api.disarm();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code() == EACCES);
    CHECK(std::string(errors[0].call()) == "scandir");
    CHECK(seen.size() == 2);  // the top and the other subdirectory
}

namespace {

// Runs `body` with one fault armed: `symbol` fails with `err` from its `nth` call, `times` times
// (0: every call). Checks that `hits` failures (`times` unless given) were injected, in this
// process and the ones it forked, and returns what `body` returned.
template <class F>
auto with_fault(const char* symbol, int err, long nth, long times, F body, long hits = -1) {
    const fault_api api = load_api();
    api.arm(symbol, err, nth, times);
    auto r = body();
    CHECK(api.injected(symbol) == (hits < 0 ? times : hits));
    api.disarm();
    return r;
}

// `symbol` fails once with each errno class: `body` must report it as `call: [Errno N] ...`.
template <class F>
void check_each_errno(const char* symbol, const std::string& call, F body) {
    for (const int e : errno_classes) {
        CAPTURE(e);
        CHECK_ERRNO(with_fault(symbol, e, 1, 1, body), e, call + ": [Errno " + std::to_string(e) + "] " + std::strerror(e));
    }
}

// A retried failure (EINTR, ERANGE) must end in the answer an unfaulted call gives.
template <class T>
void check_same_answer(const ospp::result<T>& r, const ospp::result<T>& unfaulted) {
    REQUIRE(r.has_value() == unfaulted.has_value());
    if (!r) {
        CHECK(r.error().code() == unfaulted.error().code());
    } else if constexpr (!std::is_void_v<T>) {
        CHECK(*r == *unfaulted);
    }
}

}  // namespace

TEST_CASE("a failed exec in a forked child reaches the parent through exec_error_pipe") {
    if (!interposed()) return;
    const ospp::cstring_array argv{"true"};
    auto execv_true = exec_in_child([&argv] { return ospp::execv("/bin/true", argv); });
    // ENOMEM: an errno that a real exec of /bin/true does not produce, so it can only be the one
    // the child's execve was given. The child exits 127, the parent reads the report.
    CHECK_ERRNO(with_fault("execve", ENOMEM, 1, 1, execv_true), ENOMEM, "execv: [Errno 12] Cannot allocate memory");

    // Python's os._execvpe: every PATH directory is tried, and the first error that is not "not
    // here" is the one reported.
    const ospp::cstring_array two_dirs{"PATH=/nonexistent-ospp:/bin"};
    auto execvpe_true = exec_in_child([&argv, &two_dirs] { return ospp::execvpe("true", argv, two_dirs); });
    CHECK_ERRNO(with_fault("execve", E2BIG, 1, 0, execvpe_true, 2), E2BIG, "execvpe: [Errno 7] Argument list too long");

    // An error in one directory does not stop the search: the next directory's true runs.
    CHECK(with_fault("execve", EACCES, 1, 1, execvpe_true).has_value());

    // The child's report is retried through EINTR (it has no one to tell of any other failure).
    const fault_api api = load_api();
    api.arm("execve", ENOMEM, 1, 1);
    CHECK_ERRNO(with_fault("write", EINTR, 1, 3, execv_true), ENOMEM, "execv: [Errno 12] Cannot allocate memory");
}

TEST_CASE("confstr reports a failure of either call, with confstr's own errno") {
    if (!interposed()) return;
    for (const long nth : {1, 2}) {
        CAPTURE(nth);
        CHECK_ERRNO(with_fault("confstr", EINVAL, nth, 1, [] { return ospp::confstr(ospp::confstr_name::path); }), EINVAL,
                    "confstr: [Errno 22] Invalid argument");
    }
}

// The reflink ioctls fail on this file system for real (ext4: EOPNOTSUPP), so the table, which
// needs a run that succeeds, cannot hold them; the injected failure replaces the call whatever
// the file system, and EINTR must still be retried into the file system's own answer.
TEST_CASE("clone_file and clone_file_range report the injected errno under their ioctl's name") {
    if (!interposed()) return;
    ospp_test::temp_dir dir;
    ospp_test::write_file(dir / "src", "content");
    auto src = ospp::open(dir / "src", open_flags::rdonly).value();
    auto dst = ospp::open(dir / "dst", open_flags::wronly | open_flags::creat, 0600).value();
    struct row {
        const char* name;
        std::function<ospp::result<void>()> run;
    };
    const row rows[] = {
        {"ioctl(FICLONE)", [&] { return ospp::fcntl::clone_file(dst, src); }},
        {"ioctl(FICLONERANGE)", [&] { return ospp::fcntl::clone_file_range(dst, src, 0, 0, 0); }},
    };
    for (const row& c : rows) {
        CAPTURE(c.name);
        report(c.name, "ioctl");
        check_each_errno("ioctl", c.name, c.run);
        check_same_answer(with_fault("ioctl", EINTR, 1, 3, c.run), c.run());
    }
}

// getlogin_r succeeds only where the process has a login name in utmp, so the table holds getlogin
// only there; an injected failure replaces the call anywhere.
TEST_CASE("getlogin reports the injected errno, and asks again with a bigger buffer on ERANGE") {
    if (!interposed()) return;
    report("getlogin", "getlogin_r");
    check_each_errno("getlogin_r", "getlogin", [] { return ospp::getlogin(); });
    // ERANGE is not an answer: a second call (into a bigger buffer) gives the unfaulted one.
    check_same_answer(with_fault("getlogin_r", ERANGE, 1, 1, [] { return ospp::getlogin(); }), ospp::getlogin());
}

// getxattr and listxattr size their buffer with a first call: a value that grew before the second
// makes that one fail with ERANGE, which means "ask again", not an error.
TEST_CASE("getxattr and listxattr ask again when the value grew between the size query and the read") {
    if (!interposed()) return;
    ospp_test::temp_dir dir;
    const std::string file = dir / "f";
    ospp_test::write_file(file, "");
    if (::setxattr(file.c_str(), "user.grow", "value", 5, 0) != 0) OSPP_SKIP("no user attributes here");
    check_same_answer(with_fault("getxattr", ERANGE, 2, 1, [&] { return ospp::getxattr(file, "user.grow"); }),
                      ospp::getxattr(file, "user.grow"));
    check_same_answer(with_fault("listxattr", ERANGE, 2, 1, [&] { return ospp::listxattr(file); }),
                      ospp::listxattr(file));
}

// ttyname and ptsname start with a 64-byte buffer: ERANGE asks again with a bigger one.
TEST_CASE("ttyname and ptsname ask again with a bigger buffer on ERANGE") {
    if (!interposed()) return;
    auto pty = ospp::openpty().value();
    check_same_answer(with_fault("ttyname_r", ERANGE, 1, 1, [&] { return ospp::ttyname(pty.slave); }),
                      ospp::ttyname(pty.slave));
    check_same_answer(with_fault("ptsname_r", ERANGE, 1, 1, [&] { return ospp::ptsname(pty.master); }),
                      ospp::ptsname(pty.master));
}

// Sites whose failure is absorbed by design report nothing; what they fall back on must still do
// the job. read_all's size hint (fstat, lseek) falls back to 8 KiB and doubling; the existence probes of
// makedirs and renames (access) fall back to "absent", and making an existing parent is tolerated.
TEST_CASE("a failed size hint or existence probe is absorbed: read_all, makedirs and renames still work") {
    if (!interposed()) return;
    ospp_test::temp_dir dir;
    const std::string big(100000, 'z');  // more than the 8 KiB start, so the buffer must grow
    ospp_test::write_file(dir / "big", big);
    auto f = ospp::open(dir / "big", open_flags::rdonly).value();
    const auto all = with_fault("fstat", EIO, 1, 1, [&f] { return ospp::read_all(f); });
    REQUIRE(all.has_value());
    CHECK(*all == big);
    // The same when the offset that the size hint subtracts (lseek) cannot be had.
    REQUIRE(ospp::lseek(f, 0, ospp::whence::set).has_value());
    const auto again = with_fault("lseek", EIO, 1, 1, [&f] { return ospp::read_all(f); });
    REQUIRE(again.has_value());
    CHECK(*again == big);

    REQUIRE(::mkdir((dir / "a").c_str(), 0700) == 0);
    // "a" looks absent.
    CHECK(with_fault("access", EIO, 1, 1, [&dir] { return ospp::makedirs(dir / "a/b"); }).has_value());
    CHECK(::access((dir / "a/b").c_str(), F_OK) == 0);

    ospp_test::write_file(dir / "old", "x");
    // "a/b" looks absent.
    CHECK(with_fault("access", EIO, 1, 1, [&dir] { return ospp::renames(dir / "old", dir / "a/b/new"); }).has_value());
    CHECK(ospp_test::read_file(dir / "a/b/new") == "x");
}

// walk's type checks absorb a failure as Python's os.walk does (is_dir() and islink() swallow
// it), but never so that walk follows a symlink: "link" points at the directory "x".
TEST_CASE("walk: a failed type check never makes walk follow a symlink") {
    if (!interposed()) return;
    ospp_test::temp_dir dir;
    REQUIRE(::mkdir((dir / "x").c_str(), 0700) == 0);
    REQUIRE(::symlink("x", (dir / "link").c_str()) == 0);
    struct seen {
        std::vector<std::string> dirpaths, top_dirs, top_files;
        std::vector<ospp::errno_error> errors;
    };
    // `own_names`: the caller replaces the top's dirnames with names of its own, which walk knows
    // nothing about, so it opens them (O_NOFOLLOW) and then asks whether a refused one is a link.
    static const std::string own[] = {"link", "x"};
    auto walk_it = [&dir](bool own_names) {
        seen s;
        for (const auto& step : ospp::walk(dir.path(), {.onerror = [&s](const ospp::errno_error& e) {
                                                           s.errors.push_back(e);
                                                       }})) {
            s.dirpaths.emplace_back(step.dirpath);
            if (step.dirpath != dir.path()) continue;
            for (auto n : step.dirnames) s.top_dirs.emplace_back(n);
            for (auto n : step.filenames) s.top_files.emplace_back(n);
            if (own_names) step.dirnames.assign(std::begin(own), std::end(own));
        }
        std::sort(s.top_dirs.begin(), s.top_dirs.end());
        return s;
    };
    for (const bool own_names : {false, true}) {
        const seen plain = walk_it(own_names);  // link is in dirnames (is_dir() follows), not walked
        REQUIRE(plain.top_dirs == std::vector<std::string>{"link", "x"});
        REQUIRE(plain.dirpaths.size() == 2);
        REQUIRE(plain.errors.empty());
    }

    // The first fstatat is is_dir() on the link: failed, the link is a file name, as in Python.
    const seen as_file = with_fault("fstatat", EIO, 1, 1, [&walk_it] { return walk_it(false); });
    CHECK(as_file.top_dirs == std::vector<std::string>{"x"});
    CHECK(as_file.top_files == std::vector<std::string>{"link"});
    CHECK(as_file.dirpaths.size() == 2);
    CHECK(as_file.errors.empty());

    // The second is islink() on the caller's "link", which O_NOFOLLOW refused: failed, the open's
    // own error goes to onerror (where Python's islink() would say False and walk into the link).
    const seen refused = with_fault("fstatat", EIO, 2, 1, [&walk_it] { return walk_it(true); });
    CHECK(refused.dirpaths.size() == 2);  // the top and x: never the link
    REQUIRE(refused.errors.size() == 1);
    const int e = refused.errors[0].code();  // O_DIRECTORY | O_NOFOLLOW on a symlink: ENOTDIR, or ELOOP
    CHECK((e == ENOTDIR || e == ELOOP));
    CHECK(refused.errors[0].message() ==
          "scandir: [Errno " + std::to_string(e) + "] " + std::strerror(e) + ": '" + (dir / "link") + "'");
}
