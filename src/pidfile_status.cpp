// src/pidfile_status.cpp — whether a pid file's daemon runs, read from the kernel's lock tables
// (/proc/locks, /proc/PID/fdinfo) so that asking takes no lock.
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>

#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/pidfile.hpp"
#include "pidfile_read.hpp"
#include "sys.hpp"

namespace ospp::daemon {

namespace {

// The text of a small kernel file, or nullopt when it cannot be read (no /proc, another user's
// process, a process gone meanwhile).
std::optional<std::string> read_text(const std::string& path) {
    auto f = ospp::open(path, open_flags::rdonly);
    if (!f) return std::nullopt;
    auto text = ospp::read_all(*f);
    if (!text) return std::nullopt;
    return std::move(*text);
}

// Calls f(line) for each line of `text` until f returns true; whether one did.
template <class F>
bool any_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        if (f(text.substr(0, end))) return true;
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return false;
}

// The blank-separated words of a line of /proc, one at a time; "" after the last.
class words {
public:
    explicit words(std::string_view line) noexcept : rest_(line) {}
    std::string_view next() noexcept {
        const std::size_t begin = std::min(rest_.find_first_not_of(" \t"), rest_.size());
        rest_.remove_prefix(begin);
        const std::size_t end = std::min(rest_.find_first_of(" \t"), rest_.size());
        const std::string_view word = rest_.substr(0, end);
        rest_.remove_prefix(end);
        return word;
    }

private:
    std::string_view rest_;
};

template <class Number>
std::optional<Number> number(std::string_view text) noexcept {
    Number n{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return n;
}

// The device the kernel names the locks on the open file `fd` by: its superblock's, which
// /proc/self/mountinfo gives for the mount the file is on (fdinfo's mnt_id). stat's st_dev is not
// always that one: btrfs reports each subvolume's own device, overlayfs over two filesystems the
// layer's, and on those the lock would never be found. `st_dev` when /proc cannot tell.
::dev_t lock_device(int fd, ::dev_t st_dev) {
    const auto info = read_text("/proc/self/fdinfo/" + std::to_string(fd));
    std::string_view mount_id;
    if (info) {
        (void)any_line(*info, [&](std::string_view line) {
            words w(line);
            if (w.next() == "mnt_id:") mount_id = w.next();
            return !mount_id.empty();
        });
    }
    const auto mounts = mount_id.empty() ? std::nullopt : read_text("/proc/self/mountinfo");
    ::dev_t dev = st_dev;
    if (mounts) {
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime - ext3 /dev/root rw": id, parent, major:minor.
        (void)any_line(*mounts, [&](std::string_view line) {
            words w(line);
            if (w.next() != mount_id) return false;
            (void)w.next();
            const std::string_view device = w.next();
            const std::size_t colon = device.find(':');
            const auto major = number<unsigned>(device.substr(0, colon));
            const auto minor = colon == std::string_view::npos ? std::nullopt : number<unsigned>(device.substr(colon + 1));
            if (major && minor) dev = ::makedev(*major, *minor);
            return true;
        });
    }
    return dev;
}

// How /proc/locks and /proc/PID/fdinfo name the file open as `fd`: "MAJOR:MINOR:INODE" (hex, hex,
// decimal). `*shared` tells whether other files may have that name too: a superblock whose files
// stat gives other devices (btrfs numbers each subvolume's and snapshot's files afresh; overlayfs
// keeps its layers' numbers).
std::string lock_id(int fd, const struct ::stat& st, bool* shared) {
    const ::dev_t dev = lock_device(fd, st.st_dev);
    *shared = dev != st.st_dev;
    char id[64];
    (void)std::snprintf(id, sizeof id, "%02x:%02x:%llu", ::major(dev), ::minor(dev),
                        static_cast<unsigned long long>(st.st_ino));
    return id;
}

// Whether a line of /proc/locks ("1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"), or a "lock:"
// line of /proc/PID/fdinfo (the same after "lock:\t"), is a held flock(2) lock on the file `id`:
// then the pid it names, that of the process that took the lock (0 when that process is gone and
// we are in a child pid namespace, which cannot name it). "1: -> FLOCK ..." lines are waiters.
std::optional<pid_t> flock_on(std::string_view line, std::string_view id) {
    words w(line);
    std::string_view first = w.next();
    if (first == "lock:") first = w.next();
    const std::string_view type = w.next();
    (void)w.next();  // ADVISORY
    (void)w.next();  // WRITE / READ
    const auto taker = number<pid_t>(w.next());
    if (type != "FLOCK" || !taker || w.next() != id) return std::nullopt;
    return *taker;
}

// Whether anyone holds a flock(2) lock on the file open as `fd`, asked with a shared lock of our
// own (LOCK_NB, dropped at once). A probe that fails otherwise (ENOLCK, a seccomp filter's errno)
// tells nothing: its error, as errno_error "pidfile".
result<bool> probe(int fd, const path_ref& path) {
    if (sys::retry([&] { return ::flock(fd, LOCK_SH | LOCK_NB); }) != 0) {
        if (errno != EWOULDBLOCK) return sys::fail("pidfile", path);
        return true;
    }
    (void)::flock(fd, LOCK_UN);
    return false;
}

// Whether this process's pid namespace is the initial one (its inode is fixed: PROC_PID_INIT_INO).
bool in_initial_pid_namespace() noexcept {
    struct ::stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCU;
}

// The process that took the flock(2) lock on the file `id`, as /proc/locks lists it (flock_on);
// nullopt when it lists none, or cannot be read (then `*readable` is false).
std::optional<pid_t> listed_taker(std::string_view id, bool* readable) {
    const auto locks = read_text("/proc/locks");
    *readable = locks.has_value();
    std::optional<pid_t> taker;
    if (locks) (void)any_line(*locks, [&](std::string_view line) { return (taker = flock_on(line, id)).has_value(); });
    return taker;
}

// Whether process `pid` holds the flock(2) lock on the file `id` (through any of its descriptors:
// /proc/PID/fdinfo lists, under each open file, the locks taken through it, inherited ones too),
// and, when `taker` is given, the lock that process took (not a later start's). /proc/locks cannot
// tell: it names the process that took the lock, the launcher, not the daemon that inherited it.
// nullopt when the process's fdinfo may not be read (another user's process, hidden or not; no
// /proc). The taker of the lock it holds goes to `*found` when given.
std::optional<bool> holds(pid_t pid, std::string_view id, std::optional<pid_t> taker, pid_t* found = nullptr) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo/";
    auto fds = ospp::listdir(dir);
    if (!fds) {
        // ENOENT is a process that is gone, unless there is no /proc, or it hides other users'
        // processes (hidepid=invisible), which only kill(2) still finds (EPERM).
        const bool gone = fds.error().code() == ENOENT && ::access("/proc/self/fdinfo", F_OK) == 0 &&
                          ::kill(pid, 0) != 0 && errno == ESRCH;
        return gone ? std::optional<bool>(false) : std::nullopt;
    }
    return std::ranges::any_of(*fds, [&](const std::string& n) {
        const auto info = read_text(dir + n);
        return info && any_line(*info, [&](std::string_view line) {
                   if (!line.starts_with("lock:")) return false;
                   const auto by = flock_on(line, id);
                   if (!by || (taker && *by != *taker)) return false;
                   if (found != nullptr) *found = *by;
                   return true;
               });
    });
}

// One look at the pid file: its state, whether the pid it names lacks the lock (which, with
// the lock's taker unknown, only time tells from a start in progress), and whether there was no
// /proc/locks to read.
struct look {
    pidfile_status found;
    bool pid_lacks_lock = false;
    bool no_lock_table = false;
};

result<look> look_at(const path_ref& path) {
    look l;
    pidfile_status& s = l.found;
    struct ::stat st {};
    auto f = detail::open_for_reading(path, &st);
    if (!f) {
        if (f.error().code() == ENOENT) return l;
        return tl::unexpected(std::move(f.error()));
    }
    s.state = pidfile_state::stale;
    bool shared = false;
    s.lock_id = lock_id(f->get(), st, &shared);
    char buf[32];
    const ssize_t n = sys::retry([&] { return ::pread(f->get(), buf, sizeof buf, 0); });
    if (n < 0) return sys::fail("pidfile", path);
    const pid_t named = detail::parse_pid(std::string_view(buf, static_cast<std::size_t>(n))).value_or(0);
    // A lock /proc/locks does not list may be held all the same: it is read a page at a time,
    // each read walking the lock lists anew to its position, so that locks dropped meanwhile ahead
    // of it move the rest back and the lines at a page's end are never read (thousands of locks
    // coming and going, as a test suite running beside makes); and outside the initial pid
    // namespace it leaves out the locks whose taker that namespace cannot name. The named pid's
    // fdinfo, read at once, finds a running daemon's lock and its taker; a lock found nowhere is
    // probed with a shared lock of our own, dropped at once (acquire() that meets it looks again
    // 5 ms later): held, its taker is one taken outside (0) or, in the initial namespace, unknown
    // (-1, as without /proc/locks).
    bool readable = false;
    std::optional<pid_t> listed = listed_taker(s.lock_id, &readable);
    l.no_lock_table = !readable;
    constexpr pid_t unlocked = std::numeric_limits<pid_t>::min();
    pid_t taker = listed.value_or(unlocked);
    if (taker == unlocked && named != 0) {
        pid_t found = 0;
        if (holds(named, s.lock_id, std::nullopt, &found) == true) taker = found;
    }
    bool probed = false;
    if (taker == unlocked) {
        auto held = probe(f->get(), path);
        if (!held) return tl::unexpected(std::move(held.error()));
        probed = true;
        if (*held) taker = readable && !in_initial_pid_namespace() ? 0 : -1;
    }
    // A lock found under a name other files may have is perhaps theirs: only a probe tells ours.
    if (taker != unlocked && !probed && shared) {
        auto held = probe(f->get(), path);
        if (!held) return tl::unexpected(std::move(held.error()));
        if (!*held) taker = unlocked;
    }
    if (taker == unlocked) return l;
    s.lock_taker = taker;
    s.pid = named;
    // A start empties a stale file right after its flock; until then the file still names the old
    // daemon's pid, perhaps an unrelated process's by now. That process does not hold the lock.
    // (Without /proc, only a pid that is gone is known not to hold it.)
    if (s.pid != 0) {
        auto held = holds(s.pid, s.lock_id, std::nullopt);
        // A lock taken outside this pid namespace may be a daemon's there, whose pid no process
        // here has: only a process here that lacks the lock is known not to be the daemon.
        if (s.lock_taker == 0 && held == false && ::access(("/proc/" + std::to_string(s.pid)).c_str(), F_OK) != 0)
            held = std::nullopt;
        l.pid_lacks_lock = held ? !*held : s.lock_taker < 0 && ::kill(s.pid, 0) != 0 && errno == ESRCH;
    }
    // During that instant the launcher, which took the lock, holds it. A launcher's lock outlives
    // it only in what the start left: the daemon and its children, or the children alone.
    const bool abandoned = l.pid_lacks_lock && s.lock_taker >= 0 &&
                           (s.lock_taker == 0 || holds(s.lock_taker, s.lock_id, std::nullopt) == false);
    s.state = abandoned                         ? pidfile_state::abandoned
              : s.pid != 0 && !l.pid_lacks_lock ? pidfile_state::running
                                                : pidfile_state::starting;
    return l;
}

}  // namespace

result<pidfile_status> pidfile::status(path_ref path, std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    // A daemon that ends between the reads of one look (its lock seen held, then neither its pid
    // nor the lock's taker holding it) looks abandoned: a lock is abandoned when the next look
    // finds it so too (a few looks at most, should starts and stops follow each other meanwhile).
    std::optional<pidfile_status> abandoned;
    for (int looks = 1;; ++looks) {
        auto l = look_at(path);
        if (!l) return tl::unexpected(std::move(l.error()));
        pidfile_status& found = l->found;
        if (found.state == pidfile_state::abandoned && looks < 4 &&
            !(abandoned && abandoned->lock_id == found.lock_id && abandoned->lock_taker == found.lock_taker)) {
            abandoned = found;
            continue;
        }
        const bool settled = found.state != pidfile_state::starting;
        if (!settled && std::chrono::steady_clock::now() < deadline) {
            detail::pause_between_looks();
            continue;
        }
        // Without /proc/locks the taker is not known: a named pid that is gone for the whole
        // `patience` is no start's instant either. (With it, a lock it did not list and the probe
        // found is one taken between the two: a start's, perhaps one that opened the file just
        // before its daemon's release() unlinked it, and lets go once it sees that.)
        if (!settled && l->pid_lacks_lock && found.lock_taker < 0 && l->no_lock_table)
            found.state = pidfile_state::abandoned;
        return std::move(l->found);
    }
}

namespace {

// The taker a holder's lock must have been taken by: none to compare when it is unknown (-1, no
// /proc/locks), though /proc/PID/fdinfo may be there (a /proc mounted with subset=pid).
std::optional<pid_t> taker_of(const pidfile_status& found) noexcept {
    return found.lock_taker < 0 ? std::nullopt : std::optional<pid_t>(found.lock_taker);
}

}  // namespace

std::vector<pid_t> pidfile::lock_holders(const pidfile_status& found) {
    std::vector<pid_t> holders;
    if (found.lock_id.empty()) return holders;
    auto entries = ospp::listdir("/proc");
    if (!entries) return holders;
    const pid_t self = ::getpid();
    for (const std::string& name : *entries) {
        const auto pid = number<pid_t>(name);
        if (pid && *pid != self && holds(*pid, found.lock_id, taker_of(found)) == true) holders.push_back(*pid);
    }
    std::ranges::sort(holders);
    return holders;
}

std::optional<bool> pidfile::holds_lock(pid_t pid, const pidfile_status& found) {
    if (found.lock_id.empty()) return false;
    return holds(pid, found.lock_id, taker_of(found));
}

}  // namespace ospp::daemon
