// ospp/pidfile.hpp — a locked pid file with FreeBSD pidfile(3) semantics, usable on its own.
//
//   Python (python-daemon / lockfile)            C++
//   pf = daemon.pidfile.PIDLockFile(path)        auto pf = ospp::daemon::pidfile::acquire(path);
//   pf.acquire()                                 //   (locked by acquire; EEXIST when running)
//   pf.read_pid()                                ospp::daemon::pidfile::read_pid(path)
//   (write after fork)                           pf->write();            // "<getpid()>\n"
//   pf.release()                                 pf->release();          // also the destructor
//   pf.is_locked()  (only: does the file exist)  ospp::daemon::pidfile::status(path)->state
//
// The file is opened with O_CREAT|O_CLOEXEC|O_NOFOLLOW (a symlink planted at the path is refused),
// is never group- or world-writable, and is locked with flock(2) at once, by the process that
// starts the daemon: so "already running" is found before detaching and before dropping privileges,
// and the launching process can say so and exit non-zero. The lock belongs to the open file
// description, which fork() shares: it stays held in the daemon after the launcher exits, and
// vanishes with the daemon however it dies, so a file left behind by a crash is "stale" and is
// simply taken over (no lock holder = not running). release() unlinks only if the path still
// names the file we locked (device and inode compared), never a successor's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp::daemon {

// Keyword arguments of pidfile::acquire.
struct pidfile_options {
    // Permission bits for a new file; group and other write bits are always removed.
    ::mode_t mode = 0644;
};

// What a pid file says about its daemon, as pidfile::status() reads it.
enum class pidfile_state : unsigned char {
    absent,     // no file at the path: not running
    stale,      // a file nobody locks: not running (what a crash leaves; acquire() takes it over)
    starting,   // locked, but the file names no pid yet, or a pid that does not hold the lock while
                // the process that took the lock does: a start between acquire() and write()
    running,    // locked, and the pid the file names holds the lock
    abandoned,  // locked, but neither the pid the file names nor the process that took the lock
                // holds it: processes that inherited the lock outlived the daemon (lock_holders())
};

struct pidfile_status {
    pidfile_state state = pidfile_state::absent;
    pid_t pid = 0;  // the pid the file names, read only when it is locked (0: none, or not locked)
    // The lock found, as the kernel's /proc/locks names it: the file ("MAJOR:MINOR:INODE"), and
    // the process that took it (0: one this pid namespace cannot name; -1: unknown: no /proc/locks,
    // or a lock it did not list that a probe found held, perhaps taken a moment after it was read).
    // What lock_holders() and holds_lock() look for, so that they never mistake a later start's
    // lock on the same file for this one (with -1 they cannot tell: any flock on the file counts).
    std::string lock_id;
    pid_t lock_taker = 0;
};

class pidfile {
public:
    // Opens (creating) and locks `path`. A file locked by a live process fails with EEXIST, as
    // FreeBSD's pidfile_open: read_pid(path) then names the running daemon. A stale file (no lock
    // holder) is taken over and emptied at once, under the lock, so that a locked file never names
    // the old pid (by now perhaps an unrelated process's); the pid is written later, by write(), once
    // the final pid is known. Until then read_pid() finds no pid (EINVAL): a start in progress.
    // A lock found held is tried once more, 5 ms later: status() may hold a shared one for a
    // moment, where /proc cannot tell it who holds the lock.
    // Errors: EEXIST (locked by another process), ELOOP (the path is a symlink), EISDIR/EINVAL (not
    // a regular file; ENXIO for a socket), EACCES, ENOENT (missing directory), EROFS, EMFILE,
    // ENOSPC/EDQUOT (no inode for a new file), EIO (the truncation); as errno_error "pidfile".
    [[nodiscard]] static result<pidfile> acquire(path_ref path, const pidfile_options& options = {});

    // The pid recorded in the file at `path` (Python's PIDLockFile.read_pid()).
    // Errors: ENOENT, EACCES; ELOOP for a symlink, refused as acquire() refuses it (Python follows
    // it); EINVAL when the file holds no pid, or is not a regular file (a FIFO is opened without
    // blocking, and refused, where Python would wait for a writer); as
    // errno_error "pidfile", the name of every error of this class.
    [[nodiscard]] static result<pid_t> read_pid(path_ref path) noexcept;
    // The same, reading again for up to `patience` while the file holds no pid yet: a daemon that
    // won the lock a moment ago has not written its pid (FreeBSD's pidfile_open waits likewise).
    // For "already running (pid N)" after acquire() failed with EEXIST.
    [[nodiscard]] static result<pid_t> read_pid(path_ref path, std::chrono::milliseconds patience) noexcept;

    // Whether the daemon of the pid file at `path` runs, and its pid: what an LSB `status` or a
    // `stop` command asks. The lock, not the file, answers, read from /proc/locks and
    // /proc/PID/fdinfo without taking it where they show it. Reads again for up to `patience` while
    // the state is `starting`, which a start leaves once its daemon writes its pid, and looks again
    // at once after finding `abandoned`, which a daemon ending during the reads looks like. A lock
    // that neither /proc/locks nor the named pid's fdinfo shows is probed with a shared flock
    // (LOCK_NB, dropped at once; acquire() meeting it looks once more, 5 ms later, so a start then
    // does not fail): /proc/locks is read a page at a time and can miss a line while thousands of
    // other locks come and go; in a pid namespace other than the initial one it omits the locks
    // taken outside (taker 0: a daemon outside is `running` with the pid its file names, in its own
    // namespace, unless a process here has that pid and lacks the lock); without it (no /proc, or
    // subset=pid) the taker is unknown (-1; a named pid that stays gone for the whole `patience`
    // then counts as abandoned). A lock found on btrfs and overlayfs, whose files share the names
    // /proc gives them (superblock and inode number, alike in two subvolumes), is probed too. Only
    // a flock(2) lock counts, the one acquire() takes: a file another program locked with fcntl or
    // lockf (record locks, which flock does not see) is `stale`. The pid is read as one of the
    // asker's pid namespace: a daemon in a child pid namespace (a container), asked after from
    // outside, names a pid that is not its own here, and is judged by the process here with that
    // pid (`starting` or `abandoned`, or trusted when its fdinfo may not be read): ask from inside.
    // Errors: EACCES, ENOTDIR, ENAMETOOLONG; ELOOP for a symlink (refused as acquire() refuses it:
    // one planted at the path could name another daemon's locked file); EINVAL for a path that is
    // not a regular file (a FIFO is refused without blocking); EMFILE/ENFILE (no descriptor for the
    // file; the /proc reads need one more, and without it status probes as without /proc); ENOLCK
    // (or a seccomp filter's errno) from a probe flock(2) refuses; as errno_error "pidfile". No
    // file is `absent`.
    [[nodiscard]] static result<pidfile_status> status(path_ref path, std::chrono::milliseconds patience = {});
    // The processes other than the caller that hold the lock `found` names (through any of their
    // descriptors: children inherit it), sorted: what to stop when the daemon is `abandoned`.
    // Only those whose /proc/PID/fdinfo this user may read are found (own processes; all, as root).
    [[nodiscard]] static std::vector<pid_t> lock_holders(const pidfile_status& found);
    // Whether process `pid` holds the lock `found` names: to check, after pidfd_open(pid), that the
    // pid was not reused meanwhile. nullopt when /proc/PID/fdinfo may not be read (another user's
    // process, also one a hidepid=invisible /proc hides; no /proc): status() then trusts the file.
    [[nodiscard]] static std::optional<bool> holds_lock(pid_t pid, const pidfile_status& found);

    pidfile() noexcept = default;
    pidfile(pidfile&& other) noexcept;
    pidfile& operator=(pidfile&& other) noexcept;
    pidfile(const pidfile&) = delete;
    pidfile& operator=(const pidfile&) = delete;
    // release(), errors ignored.
    ~pidfile();

    // Replaces the content with "<pid>\n" (truncate + pwrite) and records `pid` as the owner: only
    // that process's release() removes the file, so a forked worker's destructor leaves it alone.
    // Async-signal-safe and allocation-free (the daemon calls it after its last fork).
    // Errors: EBADF (not held), EIO, ENOSPC, EDQUOT.
    [[nodiscard]] result<void> write(pid_t pid) noexcept;
    [[nodiscard]] result<void> write() noexcept;  // write(getpid())

    // Removes the file if the path still names ours (same device and inode), then closes the fd,
    // which drops the lock. Does nothing when not held, or when called by a process other than the
    // owner (a forked child). Errors: those of unlink (EACCES, EROFS); the fd is closed anyway.
    [[nodiscard]] result<void> release() noexcept;
    // Only the unlink half of release(), async-signal-safe (stat + unlink, no allocation): what the
    // daemon's "terminate" signal action calls. True when the file was removed.
    bool remove_file() const noexcept;
    // Closes without removing the file (FreeBSD's pidfile_close), e.g. in a child that must not
    // hold the lock. The next acquire() of the path finds it stale.
    void close() noexcept;

    [[nodiscard]] bool held() const noexcept { return file_.valid(); }
    [[nodiscard]] fd_ref get() const noexcept { return file_; }
    // The path, made absolute when acquire() begins and used by each of its calls, so that a chdir
    // (later, or in another thread meanwhile) does not lose the file.
    // (After chroot it names nothing, and release() leaves the file: the next acquire() finds
    // it stale and takes it over.)
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    fd file_;
    std::string path_;
    ::dev_t dev_ = 0;
    ::ino_t ino_ = 0;
    pid_t owner_ = 0;  // the process whose release() unlinks: the acquirer, then the writer
};

}  // namespace ospp::daemon
