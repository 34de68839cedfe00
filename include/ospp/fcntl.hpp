// ospp/fcntl.hpp — Python's `fcntl` module: fcntl, ioctl, flock, lockf, plus a typed function for
// each fcntl command people use, so nobody packs a struct flock by hand.
//
//   Python                                           C++  (namespace ospp::fcntl, `fc` = ospp::fcntl)
//   fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)    fc::fcntl(fd, F_SETFL, O_NONBLOCK)        // raw
//                                                    fc::set_status_flags(fd, open_flags::nonblock)  // typed
//   fcntl.fcntl(fd, fcntl.F_SETLKW, packed)          fc::set_lock_wait(fd, {.type = fc::lock_type::write})
//   fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)              fc::get_pipe_size(fd)
//   fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_GROW)
//                                                    fc::add_seals(fd, fc::seals::grow)
//   n = array.array('i', [0])                        int n;
//   fcntl.ioctl(fd, termios.FIONREAD, n)             fc::ioctl<int>(fd, FIONREAD, n)
//   fcntl.ioctl(fd, termios.TIOCGPGRP, b"\0" * 4)    fc::ioctl(fd, TIOCGPGRP, std::string(4, '\0'))  // bytes out
//   fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   fc::flock(fd, fc::lock_op::ex | fc::lock_op::nb)
//   fcntl.lockf(fd, fcntl.LOCK_SH, 10, 0, 0)         fc::lockf(fd, fc::lock_op::sh, 10, 0, fc::whence::set)
//   fcntl.flock(fd, fcntl.LOCK_EX)                   auto g = fc::flock_guard::lock(fd, fc::lock_op::ex);
//   try: ...                                         ...
//   finally: fcntl.flock(fd, fcntl.LOCK_UN)          // g unlocks at the end of its scope
//
// The three kinds of file lock, and the traps that come with them:
//   * POSIX record locks (set_lock, lockf, F_SETLK) belong to the PROCESS, per (process, file).
//     Closing ANY descriptor of the file in the process drops them all — also one a library opened
//     for a moment to read the same file. A second lock from the same process never conflicts, it
//     replaces — so threads of one process cannot exclude each other with them; they are not
//     inherited across fork.
//   * OFD locks (ofd_set_lock, F_OFD_SETLK) belong to the OPEN FILE DESCRIPTION: they survive closing
//     other descriptors, are shared by dup()s and fork()ed copies of the descriptor, and conflict
//     between two open()s of the same file even in one process. Use them unless you need POSIX's.
//   * flock (flock, flock_guard) locks the whole file, also per open file description; it does not
//     interact with the other two on Linux (except over NFS, where it is emulated with fcntl locks).
//   * Non-blocking failure: flock with lock_op::nb gives EWOULDBLOCK (== EAGAIN on Linux); fcntl
//     record locks give EACCES or EAGAIN (POSIX allows either; Linux says EAGAIN) — check both.
//   * Blocking waits (set_lock_wait, lockf without nb, flock without nb) retry on EINTR (PEP 475), so a
//     signal does not interrupt them; to give up after a while, poll with the non-blocking form, or
//     call ::fcntl(F_SETLKW) yourself with a timer signal.
//
// Names: this namespace is called `fcntl`, like the C function ::fcntl, and both stay usable in one
// file: ospp::fcntl::fcntl(f, cmd, arg) and ::fcntl(raw, cmd, arg). Inside namespace ospp (or after
// `using namespace ospp;`) an unqualified `fcntl(...)` names the namespace: spell the C call ::fcntl.
// The C macros (F_SETLK, LOCK_EX, FIONREAD...) stay valid for the raw forms; the typed forms use
// scoped enums whose lowercase enumerators (lock_op::ex, seals::grow) cannot collide with them.
//
// Errors are named after the Python call ("fcntl", "ioctl", "flock", "lockf"); a typed function names
// its command: "fcntl(F_SETLK): [Errno 11] Resource temporarily unavailable".
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"  // open_flags, the status flags
#include "ospp/signal.hpp"  // signum

namespace ospp::fcntl {

OSPP_BITMASK_OPERATORS;

// ---- the raw forms, as Python has them ------------------------------------------------------------

// Python's fcntl.fcntl(fd, cmd, arg=0) with an int: the int the call returns, also a negative one
// (F_GETOWN: minus a process group id, where Python raises OSError(0)). Retries EINTR.
// Errors: whatever fcntl(2) gives for `cmd` — EBADF, EINVAL (unknown cmd), EAGAIN/EACCES, EPERM...
[[nodiscard]] result<int> fcntl(fd_ref f, int cmd, int arg = 0) noexcept;
// Python's fcntl.fcntl(fd, cmd, bytes): `arg` (at most 1024 bytes) is copied into a zeroed 1024-byte
// buffer whose address is passed; the buffer's contents after the call come back, as long as `arg`.
// A command that reads more than `arg` holds (a cut struct flock) reads zeros past it, where
// CPython 3.11, whose buffer is not zeroed, hands the kernel stack garbage.
// Errors: as above; EINVAL for an argument longer than 1024 bytes (Python's ValueError).
[[nodiscard]] result<std::string> fcntl(fd_ref f, int cmd, std::span<const std::byte> arg);
[[nodiscard]] result<std::string> fcntl(fd_ref f, int cmd, std::string_view arg);

// Python's fcntl.ioctl(fd, request, arg=0) with an int, passed by value: the call's return value.
// Errors: EBADF, ENOTTY (the device has no such request), EINVAL, EFAULT, and the request's own.
[[nodiscard]] result<int> ioctl(fd_ref f, unsigned long request, long arg = 0) noexcept;
// Python's ioctl with an immutable buffer (bytes, or mutate_flag=False): copied into a zeroed
// 1024-byte buffer (with a NUL after the argument), passed by address; the buffer's contents
// after the call come back, as long as `arg`.
// Errors: as above; EINVAL for an argument longer than 1024 bytes.
[[nodiscard]] result<std::string> ioctl(fd_ref f, unsigned long request, std::span<const std::byte> arg);
[[nodiscard]] result<std::string> ioctl(fd_ref f, unsigned long request, std::string_view arg);
// Python's ioctl with a mutable buffer (bytearray, mutate_flag=True): the kernel reads and writes
// `arg`, and the call's int comes back. As in Python, an `arg` of up to 1024 bytes goes through a
// zeroed 1024-byte copy that is copied back on success, so a request that writes more than `arg`
// holds cannot write past it; a larger `arg` is passed in place and must be as large as the
// request expects. Errors: as above; on an error `arg` is left as it was (up to 1024 bytes).
[[nodiscard]] result<int> ioctl(fd_ref f, unsigned long request, std::span<std::byte> arg) noexcept;

namespace detail {
[[nodiscard]] result<int> ioctl_pointer(fd_ref f, unsigned long request, void* arg) noexcept;
}  // namespace detail

// The typed form: `arg` (the struct or integer the request reads or fills) is passed by address.
// T is never deduced — always write it, ioctl<int>(f, FIONREAD, n) — so an int variable passed to
// the by-value ioctl above can never silently become a pointer.
template <class T>
    requires std::is_trivially_copyable_v<T>
[[nodiscard]] result<int> ioctl(fd_ref f, unsigned long request, std::type_identity_t<T>& arg) noexcept {
    return detail::ioctl_pointer(f, request, &arg);
}

// ---- descriptor flags and status flags ------------------------------------------------------------

// F_GETFD/F_SETFD flags: only FD_CLOEXEC exists.
enum class fd_flags : int {
    cloexec = FD_CLOEXEC,
};

// F_GETFD. Errors: EBADF.
[[nodiscard]] result<fd_flags> get_fd_flags(fd_ref f) noexcept;
// F_SETFD (replaces the set). Errors: EBADF.
[[nodiscard]] result<void> set_fd_flags(fd_ref f, fd_flags flags) noexcept;

// F_GETFL: the open file description's access mode (mask with open_flags::accmode) and status flags.
// Errors: EBADF.
[[nodiscard]] result<open_flags> get_status_flags(fd_ref f) noexcept;
// F_SETFL (replaces the set): only append, async, direct, noatime and nonblock can change; the
// access mode and creation flags in `flags` are ignored. Shared by every dup of the description.
// Errors: EBADF, EPERM (noatime on another's file; clearing append on an append-only file), EINVAL.
[[nodiscard]] result<void> set_status_flags(fd_ref f, open_flags flags) noexcept;

// F_DUPFD_CLOEXEC: a new descriptor, numbered `lowest` or above, for the same open file; close-on-exec
// unless `inheritable` (then F_DUPFD, which sets no FD_CLOEXEC).
// Errors: EBADF, EINVAL (lowest negative or above RLIMIT_NOFILE), EMFILE.
[[nodiscard]] result<fd> dupfd(fd_ref f, int lowest = 0, bool inheritable = false) noexcept;

// ---- record locks (POSIX and OFD) ------------------------------------------------------------------

// l_type: Python's fcntl.F_RDLCK, F_WRLCK, F_UNLCK (also the lease types).
enum class lock_type : short {
    read = F_RDLCK,    // shared; the descriptor must be open for reading
    write = F_WRLCK,   // exclusive; the descriptor must be open for writing
    unlock = F_UNLCK,  // removes a lock (or a lease); in a get_lock answer: no conflict
};

// Where `start` counts from: os.SEEK_SET, SEEK_CUR, SEEK_END. Not ospp::whence (lseek's): a lock
// cannot count from SEEK_DATA or SEEK_HOLE, so this one leaves them out, and it is struct flock's
// short.
enum class whence : short {
    set = SEEK_SET,  // the start of the file
    cur = SEEK_CUR,  // the descriptor's current offset
    end = SEEK_END,  // the end of the file
};

// The lock description (struct flock) — which bytes, which kind, and who holds a conflicting lock.
struct record_lock {
    lock_type type = lock_type::write;
    fcntl::whence whence = fcntl::whence::set;
    ::off_t start = 0;  // first byte, relative to `whence` (may be negative for cur/end)
    ::off_t len = 0;    // number of bytes; 0 means "to the end of the file, however far it grows"
    ::pid_t pid = 0;    // get_lock's answer: the holder (-1 for an OFD lock); ignored when locking
    friend constexpr bool operator==(const record_lock&, const record_lock&) noexcept = default;
};

// F_GETLK: the first lock that would conflict with `probe`, or nullopt if `probe` could be placed.
// A process's own POSIX locks never conflict with it. Errors: EBADF, EINVAL (lock_type::unlock, a
// type or whence that is not one, a range that starts before byte 0), EOVERFLOW (a range past the
// largest offset).
[[nodiscard]] result<std::optional<record_lock>> get_lock(fd_ref f, const record_lock& probe) noexcept;
// F_SETLK: places (or with lock_type::unlock removes) a POSIX record lock without waiting.
// Errors: EAGAIN or EACCES when another process holds a conflicting lock, EBADF (also when the
// descriptor's access mode does not allow the lock type), ENOLCK, EINVAL and EOVERFLOW (as get_lock).
[[nodiscard]] result<void> set_lock(fd_ref f, const record_lock& lock) noexcept;
// F_SETLKW: the same, waiting for a conflicting lock to go. EINTR is retried.
// Errors: EDEADLK (waiting would deadlock with a process that waits for us), EBADF, ENOLCK, EINVAL,
// EOVERFLOW.
[[nodiscard]] result<void> set_lock_wait(fd_ref f, const record_lock& lock) noexcept;

// F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW: the same for locks owned by the open file description
// (see the top of this file). `pid` is sent as 0, as the kernel requires. Errors: as above, but
// ofd_get_lock of lock_type::unlock: newer kernels answer with a lock that this description itself
// holds in the range (nullopt: none), older ones with EINVAL.
[[nodiscard]] result<std::optional<record_lock>> ofd_get_lock(fd_ref f, const record_lock& probe) noexcept;
[[nodiscard]] result<void> ofd_set_lock(fd_ref f, const record_lock& lock) noexcept;
[[nodiscard]] result<void> ofd_set_lock_wait(fd_ref f, const record_lock& lock) noexcept;

// ---- flock and lockf, with Python's semantics ------------------------------------------------------

// Python's fcntl.LOCK_SH, LOCK_EX, LOCK_UN, LOCK_NB, for flock and lockf.
enum class lock_op : int {
    sh = LOCK_SH,  // shared lock
    ex = LOCK_EX,  // exclusive lock
    un = LOCK_UN,  // unlock
    nb = LOCK_NB,  // with sh or ex: fail instead of waiting
};

// Python's fcntl.flock(fd, operation): a whole-file lock of the open file description.
// A second flock through the same description converts the lock (sh <-> ex). EINTR is retried.
// Errors: EWOULDBLOCK (== EAGAIN) with nb when another description holds a conflicting lock,
// EBADF, EINVAL (operation not sh, ex or un), ENOLCK.
[[nodiscard]] result<void> flock(fd_ref f, lock_op operation) noexcept;

// Python's fcntl.lockf(fd, cmd, len=0, start=0, whence=0): a POSIX record lock, as CPython builds it:
// un -> F_UNLCK, sh -> F_RDLCK, ex -> F_WRLCK; F_SETLK with nb, else F_SETLKW (EINTR retried).
// All the POSIX record-lock traps apply (it is not os.lockf, which is ospp::lockf).
// Errors: EACCES or EAGAIN with nb, EDEADLK, ENOLCK, EBADF (also ex on a descriptor not open for
// writing, sh on one not open for reading); EINVAL for a cmd without sh, ex or
// exactly un (Python's ValueError "unrecognized lockf argument") and, from the kernel, for a range
// that starts before byte 0; EOVERFLOW for a range that ends past the largest offset.
[[nodiscard]] result<void> lockf(fd_ref f, lock_op cmd, ::off_t len = 0, ::off_t start = 0,
                                 fcntl::whence whence = fcntl::whence::set) noexcept;

// A flock held until the guard goes out of scope (Python's `with` around flock/LOCK_UN), like nix's
// Flock. The guard borrows the descriptor: keep it open for the guard's lifetime.
class [[nodiscard]] flock_guard {
public:
    // flock(f, operation), where operation is sh or ex, optionally | nb.
    // Errors: flock's; EINVAL for un.
    [[nodiscard]] static result<flock_guard> lock(fd_ref f, lock_op operation) noexcept;

    flock_guard(flock_guard&& other) noexcept : f_(other.f_) { other.f_ = fd_ref{}; }
    flock_guard& operator=(flock_guard&& other) noexcept;
    flock_guard(const flock_guard&) = delete;
    flock_guard& operator=(const flock_guard&) = delete;
    // Unlocks (LOCK_UN), ignoring errors and keeping errno.
    ~flock_guard();

    // Unlocks now and reports the error; the guard holds nothing afterwards either way.
    [[nodiscard]] result<void> unlock() noexcept;
    // The locked descriptor; an empty fd_ref after unlock() or a move.
    [[nodiscard]] fd_ref file() const noexcept { return f_; }
    [[nodiscard]] bool owns_lock() const noexcept { return f_.get() >= 0; }

private:
    explicit flock_guard(fd_ref f) noexcept : f_(f) {}
    fd_ref f_;
};

// Which record lock a record_lock_guard takes.
struct record_lock_options {
    bool ofd = true;    // an OFD lock (F_OFD_SETLK*); false: a POSIX process lock (F_SETLK*)
    bool wait = true;   // wait for conflicting locks (F_*SETLKW); false: fail with EAGAIN/EACCES
};

// A record lock held until the guard goes out of scope; unlocking releases the same byte range.
// OFD by default, because a POSIX lock silently vanishes when any descriptor of the file is closed.
// Borrows the descriptor, like flock_guard.
//
// The range is fixed when the lock is taken. The kernel measures a whence::cur or whence::end
// start from the descriptor's offset or the file's size at each call, so an unlock with the same
// relative range after a read, a seek or a write that grows the file would release other bytes
// and leave the lock held until close. The guard therefore reads the offset (lseek) or the size
// (fstat) first, locks the absolute range (whence::set), and unlocks exactly that. For
// whence::end that size is read just before the lock call: a file that another process grows in
// between is locked from the size read, not the newer one.
class [[nodiscard]] record_lock_guard {
public:
    // Errors: those of set_lock/set_lock_wait (or the ofd_ ones), also for the offset or size
    // look-up, under the same call name (ESPIPE: whence::cur on a pipe or socket; EOVERFLOW: start
    // past the largest offset once the offset or size is added); EINVAL for lock_type::unlock.
    [[nodiscard]] static result<record_lock_guard> lock(fd_ref f, const record_lock& lock,
                                                        const record_lock_options& options = {}) noexcept;

    record_lock_guard(record_lock_guard&& other) noexcept
        : f_(other.f_), range_(other.range_), ofd_(other.ofd_) {
        other.f_ = fd_ref{};
    }
    record_lock_guard& operator=(record_lock_guard&& other) noexcept;
    record_lock_guard(const record_lock_guard&) = delete;
    record_lock_guard& operator=(const record_lock_guard&) = delete;
    // Unlocks the range, ignoring errors and keeping errno.
    ~record_lock_guard();

    // Unlocks now and reports the error; the guard holds nothing afterwards either way.
    [[nodiscard]] result<void> unlock() noexcept;
    [[nodiscard]] fd_ref file() const noexcept { return f_; }
    // The locked range and type, with the start made absolute (whence::set; see above).
    [[nodiscard]] const record_lock& range() const noexcept { return range_; }
    [[nodiscard]] bool owns_lock() const noexcept { return f_.get() >= 0; }

private:
    record_lock_guard(fd_ref f, const record_lock& range, bool ofd) noexcept
        : f_(f), range_(range), ofd_(ofd) {}
    fd_ref f_;
    record_lock range_;
    bool ofd_;
};

// ---- pipes, seals, owner and signal, leases, notify, hints -----------------------------------------

// F_GETPIPE_SZ: the pipe's capacity in bytes. Errors: EBADF (also when f is not a pipe).
[[nodiscard]] result<std::size_t> get_pipe_size(fd_ref f) noexcept;
// F_SETPIPE_SZ: sets the capacity to at least `size` (rounded up to a power-of-two number of pages)
// and returns the capacity set. Errors: EBADF (not a pipe), EBUSY (smaller than the data in it),
// EPERM (above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE), EINVAL (0, above 2^31; a size
// above INT32_MAX before the descriptor is looked at, where Python's fcntl wraps it modulo 2^32).
[[nodiscard]] result<std::size_t> set_pipe_size(fd_ref f, std::size_t size) noexcept;

// File seals (memfd_create with MFD_ALLOW_SEALING): Python's fcntl.F_SEAL_*.
enum class seals : int {
    seal = F_SEAL_SEAL,                  // no more seals may be added
    shrink = F_SEAL_SHRINK,              // the size may not shrink
    grow = F_SEAL_GROW,                  // the size may not grow (write past the end, ftruncate up)
    write = F_SEAL_WRITE,                // the contents may not change (no writable mapping may exist)
    future_write = F_SEAL_FUTURE_WRITE,  // no new writes, existing writable mappings stay
};

// F_ADD_SEALS. Errors: EPERM (the file has seals::seal — as every tmpfs file has from birth,
// including a memfd created without MFD_ALLOW_SEALING — or f is not open for writing), EINVAL (a
// file that cannot be sealed: not on tmpfs or hugetlbfs, e.g. a pipe or an ext4 file; or an unknown
// seal bit), EBUSY (seals::write with a writable mapping), EBADF.
[[nodiscard]] result<void> add_seals(fd_ref f, seals add) noexcept;
// F_GET_SEALS: seals::seal alone for a memfd created without MFD_ALLOW_SEALING.
// Errors: EINVAL (the file cannot be sealed), EBADF.
[[nodiscard]] result<seals> get_seals(fd_ref f) noexcept;

// F_GETOWN: who receives SIGIO/SIGURG for the descriptor: a pid, minus a process group id, or 0.
// Read through F_GETOWN_EX, because the kernel's negative F_GETOWN answer can look like an error.
// A thread owner (set_owner_ex with owner_type::tid) reads back as its thread id. Errors: EBADF.
[[nodiscard]] result<::pid_t> get_owner(fd_ref f) noexcept;
// F_SETOWN: a pid, or minus a process group id; 0 removes the owner.
// Errors: EBADF, ESRCH (no such process or group), EINVAL (INT_MIN, which negates to no group).
[[nodiscard]] result<void> set_owner(fd_ref f, ::pid_t owner) noexcept;

// F_GETOWN_EX/F_SETOWN_EX: an owner that can also be one thread.
enum class owner_type : int {
    tid = F_OWNER_TID,    // a thread
    pid = F_OWNER_PID,    // a process
    pgrp = F_OWNER_PGRP,  // a process group
};
struct owner {
    owner_type type = owner_type::pid;
    ::pid_t id = 0;  // 0: none
    friend constexpr bool operator==(const owner&, const owner&) noexcept = default;
};
// Errors: EBADF (get and set), ESRCH, EINVAL (set).
[[nodiscard]] result<owner> get_owner_ex(fd_ref f) noexcept;
[[nodiscard]] result<void> set_owner_ex(fd_ref f, const owner& new_owner) noexcept;

// F_GETSIG: the signal sent when I/O is possible; nullopt for the default (SIGIO without the extra
// siginfo). Errors: EBADF.
[[nodiscard]] result<std::optional<signum>> get_signal(fd_ref f) noexcept;
// F_SETSIG: a signal to send instead of SIGIO (with siginfo, si_fd set), or nullopt for the default.
// Errors: EBADF, EINVAL (not a signal).
[[nodiscard]] result<void> set_signal(fd_ref f, std::optional<signum> signal) noexcept;

// F_GETLEASE: lock_type::read, write, or unlock (no lease). Errors: EBADF.
[[nodiscard]] result<lock_type> get_lease(fd_ref f) noexcept;
// F_SETLEASE: take (read/write) or release (unlock) a lease on a regular file; the holder gets
// SIGIO (or set_signal's signal) when another process opens or truncates the file.
// Errors: EAGAIN (the file is open in a conflicting way), EACCES (not the file's owner without
// CAP_LEASE), EINVAL (not a regular file, or leases disabled), EBADF.
[[nodiscard]] result<void> set_lease(fd_ref f, lock_type lease) noexcept;

// F_NOTIFY events (dnotify): Python's fcntl.DN_*.
enum class notify_events : unsigned {
    access = DN_ACCESS,        // a file was read
    modify = DN_MODIFY,        // a file was written or truncated
    create = DN_CREATE,        // a file was created
    remove = DN_DELETE,        // DN_DELETE (`delete` is a keyword): a file was unlinked
    rename = DN_RENAME,        // a file was renamed within the directory
    attrib = DN_ATTRIB,        // attributes changed
    multishot = DN_MULTISHOT,  // keep notifying; without it the request is one-shot
};
// F_NOTIFY on a directory descriptor: sends SIGIO (or set_signal's signal) to the process when one
// of `events` happens in the directory; an empty set cancels. Prefer inotify in new code.
// Errors: ENOTDIR (not a directory), EBADF, EINVAL.
[[nodiscard]] result<void> notify(fd_ref directory, notify_events events) noexcept;

// Write-lifetime hints for the file's data (Linux 4.13): Python's fcntl.RWH_WRITE_LIFE_*.
enum class rw_hint : std::uint64_t {
    write_life_not_set = RWH_WRITE_LIFE_NOT_SET,
    write_life_none = RWH_WRITE_LIFE_NONE,
    write_life_short = RWH_WRITE_LIFE_SHORT,
    write_life_medium = RWH_WRITE_LIFE_MEDIUM,
    write_life_long = RWH_WRITE_LIFE_LONG,
    write_life_extreme = RWH_WRITE_LIFE_EXTREME,
};
// F_GET_RW_HINT/F_SET_RW_HINT: the hint of the inode. Errors: EBADF, EINVAL (unknown hint), and for
// set_rw_hint EPERM (not the file's owner, without CAP_FOWNER).
[[nodiscard]] result<rw_hint> get_rw_hint(fd_ref f) noexcept;
[[nodiscard]] result<void> set_rw_hint(fd_ref f, rw_hint hint) noexcept;
// F_GET_FILE_RW_HINT/F_SET_FILE_RW_HINT: the hint of the open file description. Linux 5.17
// removed them again: there they fail with EINVAL.
[[nodiscard]] result<rw_hint> get_file_rw_hint(fd_ref f) noexcept;
[[nodiscard]] result<void> set_file_rw_hint(fd_ref f, rw_hint hint) noexcept;

// ---- reflinks --------------------------------------------------------------------------------------

// ioctl FICLONE: makes `dest` share all of `source`'s data, copy-on-write (btrfs, XFS, OCFS2...).
// Mind the order: the ioctl's, dest first (Python 3.12: fcntl.ioctl(dest, fcntl.FICLONE, source)),
// where copy_file_range and copy_file take the source first.
// Errors: EOPNOTSUPP (the filesystem cannot reflink, e.g. ext4, tmpfs), EXDEV (different
// filesystems), EBADF (dest not open for writing, source not for reading), EISDIR, EINVAL, EPERM
// (dest is immutable or append-only), ETXTBSY (a swap file).
[[nodiscard]] result<void> clone_file(fd_ref dest, fd_ref source) noexcept;
// ioctl FICLONERANGE: shares `length` bytes of `source` from `source_offset` into `dest` at
// `dest_offset` (length 0: to the end of source). Offsets and length must be multiples of the
// filesystem block size, except a length that reaches the end of source.
// Errors: as clone_file; EINVAL for unaligned ranges.
[[nodiscard]] result<void> clone_file_range(fd_ref dest, fd_ref source, std::uint64_t source_offset,
                                            std::uint64_t length, std::uint64_t dest_offset) noexcept;

}  // namespace ospp::fcntl

namespace ospp {
template <>
struct enable_bitmask<fcntl::fd_flags> : std::true_type {};
template <>
struct enable_bitmask<fcntl::lock_op> : std::true_type {};
template <>
struct enable_bitmask<fcntl::seals> : std::true_type {};
template <>
struct enable_bitmask<fcntl::notify_events> : std::true_type {};
}  // namespace ospp
