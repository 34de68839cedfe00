// ospp/fd_ops.hpp — Python's "File Descriptor Operations": open, read, write, pipe, dup, ...
//
//   Python                                         C++
//   fd = os.open("f", os.O_WRONLY | os.O_CREAT)    auto f = ospp::open("f", open_flags::wronly | open_flags::creat);
//   os.write(fd, b"hello")                         ospp::write(*f, "hello");
//   data = os.read(fd, 100)                        std::string data = ospp::read(*f, 100).value();
//   r, w = os.pipe()                               auto [r, w] = ospp::pipe().value();
//   os.pread(fd, 4096, 0)                          ospp::pread(*f, 4096, 0)
//   os.lseek(fd, 0, os.SEEK_END)                   ospp::lseek(*f, 0, whence::end)
//   os.set_blocking(fd, False)                     ospp::set_blocking(*f, false)
//   os.fpathconf(fd, "PC_NAME_MAX")                ospp::fpathconf(*f, pathconf_name::name_max)
//   (a loop around os.write)                       ospp::write_all(*f, data)
//
// Every descriptor returned here is close-on-exec (PEP 446), set atomically with O_CLOEXEC,
// F_DUPFD_CLOEXEC or pipe2; use set_inheritable() to pass one to a child. dup2 is the exception:
// like Python's, it makes the target inheritable by default, because its job is wiring 0-2.
// Calls interrupted by a signal are retried (PEP 475); close is never retried.
// An O_PATH descriptor (open_flags::path) serves fstat, fstatvfs, fpathconf, dup, the fd flags,
// fchdir and dir_fd; reading, writing, seeking and changing the file through it fail with EBADF.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/name_table.hpp"
#include "ospp/path.hpp"

namespace ospp {

// open(2) flags: Python's os.O_*.
enum class open_flags : int {
    rdonly = O_RDONLY,
    wronly = O_WRONLY,
    rdwr = O_RDWR,
    append = O_APPEND,
    creat = O_CREAT,
    excl = O_EXCL,
    trunc = O_TRUNC,
    nonblock = O_NONBLOCK,
    ndelay = O_NDELAY,
    dsync = O_DSYNC,
    sync = O_SYNC,
    rsync = O_RSYNC,
    cloexec = O_CLOEXEC,
    directory = O_DIRECTORY,
    nofollow = O_NOFOLLOW,
    noctty = O_NOCTTY,
    noatime = O_NOATIME,
    path = O_PATH,
    tmpfile = O_TMPFILE,
    async = O_ASYNC,
    direct = O_DIRECT,
    largefile = O_LARGEFILE,
    accmode = O_ACCMODE,
};
template <>
struct enable_bitmask<open_flags> : std::true_type {};

// Python's os.open(path, flags, mode=0o777, *, dir_fd=None). Always adds O_CLOEXEC.
// Errors: everything openat(2) gives — ENOENT, EACCES, EEXIST (creat|excl), EISDIR, ELOOP
// (nofollow), EMFILE, ENOTDIR; EINVAL for a path with an embedded NUL.
[[nodiscard]] result<fd> open(path_ref path, open_flags flags, ::mode_t mode = 0777,
                              const dir_fd_options& options = {}) noexcept;

// Python's os.read(fd, n) into the caller's buffer: the number of bytes read, 0 at end of file.
// Errors: EBADF, EAGAIN (non-blocking, nothing to read), EISDIR, EIO; EINVAL (a descriptor that is
// not read as bytes, such as epoll; a buffer below an eventfd's or timerfd's 8 bytes or a
// signalfd's 128).
[[nodiscard]] result<std::size_t> read(fd_ref f, std::span<std::byte> buffer) noexcept;
// Python's os.read(fd, n): up to n bytes as a string; empty at end of file. A buffer of n bytes
// is allocated for the read, and given back when less than half of it is used.
// Errors: those above; EINVAL for n above SSIZE_MAX (Python's OverflowError).
[[nodiscard]] result<std::string> read(fd_ref f, std::size_t n);

// Python's os.write(fd, data): the number of bytes written, which may be fewer than given.
// Errors: EBADF, EAGAIN, EPIPE (SIGPIPE is the caller's business), ENOSPC (also /dev/full), EFBIG,
// EIO, EPERM (a seal on a memfd: F_SEAL_WRITE, or F_SEAL_GROW for a write past the end), EINVAL (a
// descriptor not written as bytes: epoll, timerfd, signalfd; an eventfd given other than 8 bytes).
// Unlike Python: Python ignores SIGPIPE from its start, so os.write to a pipe nobody reads
// raises BrokenPipeError (EPIPE); a C++ program is killed by the signal (a shell shows status 141)
// unless it ignores it first (ospp::ignore_signal(signum::pipe), signal_state.hpp), and only then
// gets EPIPE here.
[[nodiscard]] result<std::size_t> write(fd_ref f, std::span<const std::byte> data) noexcept;
// (Inline, like the other string_view forms: a forwarding call into the library would cost a
// second PLT hop on the hottest path; see docs/performance.md.)
[[nodiscard]] inline result<std::size_t> write(fd_ref f, std::string_view data) noexcept {
    return write(f, std::as_bytes(std::span(data)));
}

// The two ends of a pipe, as Python's (r, w) tuple.
struct pipe_fds {
    fd read_end;
    fd write_end;
};

// Python's os.pipe(): a close-on-exec pipe. Errors: EMFILE, ENFILE.
[[nodiscard]] result<pipe_fds> pipe() noexcept;
// Python's os.pipe2(flags) with open_flags::nonblock / direct; O_CLOEXEC is always added
// (ospp creates no inheritable descriptor; see set_inheritable). Errors: EINVAL, EMFILE, ENFILE.
[[nodiscard]] result<pipe_fds> pipe2(open_flags flags) noexcept;

// Python's os.dup(fd): a new close-on-exec descriptor for the same open file.
// Errors: EBADF, EMFILE.
[[nodiscard]] result<fd> dup(fd_ref f) noexcept;
// Python's os.dup2(fd, fd2, inheritable=True): makes fd2 refer to fd's file and returns fd2,
// borrowed (the caller decides who owns it). Errors: EBADF (f not open, or target negative or
// not below RLIMIT_NOFILE: never EMFILE), EBUSY (a race with open or dup in another thread).
// Unlike Python, dup2(f, f, false) succeeds and sets FD_CLOEXEC on f, on purpose: "make f refer to
// its own file, close-on-exec" is well defined, so ospp does it, where Python's os.dup2 fails with
// EINVAL because dup3(2) refuses equal descriptors. dup2(f, f) leaves the flags alone, like
// Python's and dup2(2).
[[nodiscard]] result<fd_ref> dup2(fd_ref f, fd_ref target, bool inheritable = true) noexcept;

// ---- reading and writing everything ----------------------------------------------------------

// The error of a loop that moved some bytes before it failed (write_all, the buffer form of
// read_all): the errno_error of the failing call plus how many bytes went through before it, so
// that a caller can resume or report a partial write. It is an errno_error (code(), message()),
// so `return tl::unexpected(errno_error(std::move(r.error())));` passes it on where the count does
// not matter (moved: a copy allocates its paths, and may throw std::bad_alloc).
struct transfer_error : errno_error {
    transfer_error() noexcept = default;
    transfer_error(errno_error error, std::size_t done) noexcept
        : errno_error(std::move(error)), transferred(done) {}
    std::size_t transferred = 0;  // bytes written (or read) before the failing call
};
template <class T>
using transfer_result = tl::expected<T, transfer_error>;

// Writes all of `data`, calling write(2) again after short writes. On error, .transferred says
// how much was written. A write(2) that returns 0 for a non-empty buffer fails with EIO (it would
// loop forever otherwise). Errors: those of write, with the call name "write".
[[nodiscard]] transfer_result<void> write_all(fd_ref f, std::span<const std::byte> data) noexcept;
[[nodiscard]] inline transfer_result<void> write_all(fd_ref f, std::string_view data) noexcept {
    return write_all(f, std::as_bytes(std::span(data)));
}

// Reads until end of file (Python's FileIO.readall, f.read() on a raw file): the whole remaining
// content. Starts from what is left of a regular file (its size less the offset) and doubles
// the buffer otherwise; the string keeps no more than twice the memory its content needs.
// Every read of anything but a regular file has room for PIPE_BUF bytes, so that a packet-mode
// pipe (pipe2 with open_flags::direct) loses no part of a packet, where Python's readall does.
// A non-blocking descriptor that has no more data for now (EAGAIN) ends the read like end of
// file once some bytes came — they are returned, not lost — and is the EAGAIN error only when
// nothing came (where Python returns None). Errors: those of read, with the call name "read"; an
// error other than EAGAIN after some bytes loses them (use the buffer form to keep them).
// There is no ENOMEM: a failed allocation of the string is std::bad_alloc, as for any C++
// allocation (std::terminate under -fno-exceptions).
[[nodiscard]] result<std::string> read_all(fd_ref f);
// Fills `buffer` unless end of file comes first: the number of bytes read, less than its size at
// end of file or when a non-blocking descriptor has nothing more for now (EAGAIN after at least
// one byte, as above; EAGAIN before any is the error). From a packet-mode pipe, a packet that
// does not fit in what is left of the buffer loses its end (read(2)'s rule). On error,
// .transferred says how many bytes were read into the buffer before it.
[[nodiscard]] transfer_result<std::size_t> read_all(fd_ref f, std::span<std::byte> buffer) noexcept;

// ---- closing ----------------------------------------------------------------------------------

// Python's os.closerange(fd_low, fd_high): closes every descriptor in [fd_low, fd_high), ignoring
// errors like Python. One close_range(2) call; where it fails (ENOSYS before Linux 5.9, EPERM from
// a seccomp filter), close(2) of each fd /proc/self/fd lists in the range; without /proc either,
// close(2) of each number up to the smaller of fd_high and the RLIMIT_NOFILE hard limit (Python
// goes on to fd_high: 2^31 calls for closerange(3, INT_MAX)), which misses an fd above that limit.
void closerange(int fd_low, int fd_high) noexcept;

// ---- positioned and vectored I/O --------------------------------------------------------------

// lseek(2)'s whence: Python's os.SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE.
enum class whence : int {
    set = SEEK_SET,    // from the start of the file
    cur = SEEK_CUR,    // from the current position
    end = SEEK_END,    // from the end of the file
    data = SEEK_DATA,  // the next byte of data at or after the offset
    hole = SEEK_HOLE,  // the next hole at or after the offset (end of file counts as one)
};

// Python's os.lseek(fd, pos, whence): the new offset from the start of the file.
// Errors: EBADF, EINVAL (bad whence, a negative result or one past the largest file the filesystem
// holds: 16 TiB on ext4; a whence the file does not support: end on a /proc file), ENXIO (data/hole
// past the end), ESPIPE (a pipe, socket or terminal).
[[nodiscard]] result<::off_t> lseek(fd_ref f, ::off_t position, whence how) noexcept;

// Python's os.pread(fd, n, offset) into the caller's buffer: bytes read, 0 at end of file.
// The file offset is not changed. Errors: EBADF, EINVAL (negative offset), ESPIPE, EISDIR, EIO.
[[nodiscard]] result<std::size_t> pread(fd_ref f, std::span<std::byte> buffer, ::off_t offset) noexcept;
// Python's os.pread(fd, n, offset): up to n bytes as a string (memory, and EINVAL for n above
// SSIZE_MAX, as for read above).
[[nodiscard]] result<std::string> pread(fd_ref f, std::size_t n, ::off_t offset);

// Python's os.pwrite(fd, data, offset): bytes written; the file offset is not changed.
// Errors: EBADF, EINVAL, ESPIPE, ENOSPC, EFBIG, EIO, EPERM (a memfd seal, as write).
[[nodiscard]] result<std::size_t> pwrite(fd_ref f, std::span<const std::byte> data, ::off_t offset) noexcept;
[[nodiscard]] inline result<std::size_t> pwrite(fd_ref f, std::string_view data, ::off_t offset) noexcept {
    return pwrite(f, std::as_bytes(std::span(data)), offset);
}

// preadv2/pwritev2 flags: Python's os.RWF_*.
enum class rw_flags : int {
    hipri = RWF_HIPRI,    // high priority (polled) I/O
    dsync = RWF_DSYNC,    // this write is O_DSYNC
    sync = RWF_SYNC,      // this write is O_SYNC
    nowait = RWF_NOWAIT,  // fail with EAGAIN instead of blocking (reads)
    append = RWF_APPEND,  // this write appends, whatever the offset
};
template <>
struct enable_bitmask<rw_flags> : std::true_type {};

// Python's os.readv(fd, buffers): fills the buffers in order; the total number of bytes read.
// Errors: those of read, EINVAL (more than IOV_MAX buffers, total over SSIZE_MAX).
[[nodiscard]] result<std::size_t> readv(fd_ref f, std::span<const std::span<std::byte>> buffers) noexcept;
// Python's os.writev(fd, buffers): the total number of bytes written. Errors: those of write, EINVAL.
[[nodiscard]] result<std::size_t> writev(fd_ref f, std::span<const std::span<const std::byte>> buffers) noexcept;
[[nodiscard]] result<std::size_t> writev(fd_ref f, std::span<const std::string_view> buffers) noexcept;

// Python's os.preadv(fd, buffers, offset, flags=0): readv at an offset, through preadv2(2) as
// Python's: offset -1 reads at the file's own offset and advances it, like readv.
// Errors: those of readv, EINVAL (offset below -1), ESPIPE, EOPNOTSUPP (a flag the file does not
// support), EAGAIN (rw_flags::nowait and the data is not cached).
[[nodiscard]] result<std::size_t> preadv(fd_ref f, std::span<const std::span<std::byte>> buffers, ::off_t offset,
                                         rw_flags flags = {}) noexcept;
// Python's os.pwritev(fd, buffers, offset, flags=0), through pwritev2(2): offset -1 writes at
// the file's own offset and advances it. Errors: those of writev, EINVAL (offset below -1),
// ESPIPE, EOPNOTSUPP.
[[nodiscard]] result<std::size_t> pwritev(fd_ref f, std::span<const std::span<const std::byte>> buffers, ::off_t offset,
                                          rw_flags flags = {}) noexcept;
[[nodiscard]] result<std::size_t> pwritev(fd_ref f, std::span<const std::string_view> buffers, ::off_t offset,
                                          rw_flags flags = {}) noexcept;

// ---- copying between descriptors in the kernel ------------------------------------------------

// Python's os.copy_file_range(src, dst, count, offset_src=None, offset_dst=None): copies up to
// count bytes between two regular files; an empty offset (Python's None) uses and advances the
// file's own offset, a given one leaves it alone. Returns the bytes copied (0 at end of src).
// Errors: EBADF, EINVAL (overlap, not regular files, a negative offset), EOVERFLOW (offset -1:
// offset + count wraps), EXDEV (different filesystems: always before Linux 5.3, filesystems of
// different types since 5.19, e.g. tmpfs to ext4), EFBIG, EISDIR, ENOSPC, ENOSYS (kernel before
// 4.5: glibc no longer emulates it), EPERM (dst immutable, or a seccomp filter that predates it).
// Where Python raises OverflowError for a count above SSIZE_MAX, copy_file_range takes it as
// SSIZE_MAX and copies what there is, SIZE_MAX included, from any offset (the kernel alone refuses
// a count that wraps when added to an offset: EOVERFLOW); sendfile and splice refuse it with
// EINVAL before any call, as Python's OverflowError comes first (the kernel would look at the
// descriptors first, and splice between two pipes would take it).
[[nodiscard]] result<std::size_t> copy_file_range(fd_ref src, fd_ref dst, std::size_t count,
                                                  std::optional<::off_t> offset_src = {},
                                                  std::optional<::off_t> offset_dst = {}) noexcept;

// Python's os.sendfile(out_fd, in_fd, offset, count): copies up to count bytes from in_fd (a
// file that supports mmap) to out_fd; offset as in copy_file_range. Returns the bytes sent.
// Errors: EAGAIN, EBADF, EINVAL, EIO, ENOMEM, EOVERFLOW, ESPIPE, EPIPE (out_fd a pipe or socket
// with no reader; SIGPIPE is the caller's business).
[[nodiscard]] result<std::size_t> sendfile(fd_ref out_fd, fd_ref in_fd, std::optional<::off_t> offset,
                                           std::size_t count) noexcept;

// splice(2) flags: Python's os.SPLICE_F_*.
enum class splice_flags : unsigned {
    move = SPLICE_F_MOVE,          // a hint to move pages instead of copying
    nonblock = SPLICE_F_NONBLOCK,  // do not block on the pipe(s)
    more = SPLICE_F_MORE,          // more data follows (a hint for sockets)
};
template <>
struct enable_bitmask<splice_flags> : std::true_type {};

// Python's os.splice(src, dst, count, offset_src=None, offset_dst=None, flags=0): moves up to
// count bytes between two descriptors, one of which must be a pipe; an offset must be empty for
// the pipe end. Returns the bytes moved (0: src at end of file or an empty pipe with no writer).
// Errors: EAGAIN (nonblock), EBADF, EINVAL (neither is a pipe), ESPIPE (an offset for a pipe end),
// EPIPE (dst a pipe or socket with no reader; SIGPIPE is the caller's business).
[[nodiscard]] result<std::size_t> splice(fd_ref src, fd_ref dst, std::size_t count,
                                         std::optional<::off_t> offset_src = {},
                                         std::optional<::off_t> offset_dst = {}, splice_flags flags = {}) noexcept;

// ---- file state through a descriptor ----------------------------------------------------------

// Python's os.fchmod(fd, mode). Errors: EBADF, EPERM (not the owner), EROFS.
[[nodiscard]] result<void> fchmod(fd_ref f, ::mode_t mode) noexcept;
// Python's os.fchown(fd, uid, gid); ospp::id_unchanged (ids.hpp; Python's -1) leaves one as it is.
// Errors: EBADF, EPERM, EROFS, EIO.
[[nodiscard]] result<void> fchown(fd_ref f, ::uid_t uid, ::gid_t gid) noexcept;
// Python's os.ftruncate(fd, length): cuts or extends (with zeros) the file to `length` bytes.
// Errors: EBADF, EINVAL (not open for writing, negative length, not a regular file: a pipe, socket or
// device), EFBIG, EPERM, EROFS.
[[nodiscard]] result<void> ftruncate(fd_ref f, ::off_t length) noexcept;
// Python's os.fsync(fd): flushes data and metadata to the device. Errors: EBADF, EIO, EINVAL
// (a file that cannot be synced: a pipe, socket, terminal, /dev/null, a /proc file), ENOSPC, EROFS.
[[nodiscard]] result<void> fsync(fd_ref f) noexcept;
// Python's os.fdatasync(fd): fsync without metadata that is not needed to read the data back.
// Errors: as fsync.
[[nodiscard]] result<void> fdatasync(fd_ref f) noexcept;

// posix_fallocate(3): Python's os.posix_fallocate(fd, offset, len). Ensures disk space for the
// byte range, extending the file if needed. Errors: EBADF, EFBIG (also offset + len past the
// largest offset), EINVAL (offset < 0 or len <= 0), ENODEV (not a regular file), ENOSPC, ESPIPE,
// EOPNOTSUPP.
[[nodiscard]] result<void> posix_fallocate(fd_ref f, ::off_t offset, ::off_t len) noexcept;

// posix_fadvise(2)'s advice: Python's os.POSIX_FADV_*.
enum class fadvise_advice : int {
    normal = POSIX_FADV_NORMAL,
    sequential = POSIX_FADV_SEQUENTIAL,
    random = POSIX_FADV_RANDOM,
    noreuse = POSIX_FADV_NOREUSE,
    willneed = POSIX_FADV_WILLNEED,
    dontneed = POSIX_FADV_DONTNEED,
};
// Python's os.posix_fadvise(fd, offset, len, advice); len 0 means "to the end of the file".
// Errors: EBADF, EINVAL (bad advice), ESPIPE (a pipe or FIFO).
[[nodiscard]] result<void> posix_fadvise(fd_ref f, ::off_t offset, ::off_t len, fadvise_advice advice) noexcept;

// lockf(3)'s command: Python's os.F_LOCK, F_TLOCK, F_ULOCK, F_TEST.
enum class lockf_command : int {
    lock = F_LOCK,     // lock the section, waiting for other holders
    tlock = F_TLOCK,   // lock the section or fail with EACCES/EAGAIN at once
    ulock = F_ULOCK,   // unlock the section
    test = F_TEST,     // succeed if the section is free or ours, else fail with EACCES/EAGAIN
};
// Python's os.lockf(fd, cmd, len): a POSIX record lock on `len` bytes from the current offset
// (0: to the end of the file and beyond). Errors: EACCES/EAGAIN (held by another process),
// EBADF (not open for writing), EDEADLK, EINVAL (a bad command; a section that starts before byte
// 0), EOVERFLOW (a section that ends past the largest offset), ENOLCK.
[[nodiscard]] result<void> lockf(fd_ref f, lockf_command command, ::off_t len) noexcept;

// ---- descriptor flags -------------------------------------------------------------------------

// Python's os.get_blocking(fd): false when O_NONBLOCK is set. Errors: EBADF.
[[nodiscard]] result<bool> get_blocking(fd_ref f) noexcept;
// Python's os.set_blocking(fd, blocking): clears or sets O_NONBLOCK. Errors: EBADF (also for an
// O_PATH descriptor, whose status flags cannot change, even when nothing would).
[[nodiscard]] result<void> set_blocking(fd_ref f, bool blocking) noexcept;
// Python's os.get_inheritable(fd): true when FD_CLOEXEC is clear (a child of exec gets it).
// Errors: EBADF.
[[nodiscard]] result<bool> get_inheritable(fd_ref f) noexcept;
// Python's os.set_inheritable(fd, inheritable): clears or sets FD_CLOEXEC. Errors: EBADF.
[[nodiscard]] result<void> set_inheritable(fd_ref f, bool inheritable) noexcept;
// Python's os.isatty(fd): true when fd is open and refers to a terminal. Never fails, like
// Python's (a closed descriptor, or a hung-up terminal, is simply not a terminal).
bool isatty(fd_ref f) noexcept;

// ---- fpathconf --------------------------------------------------------------------------------

// The names fpathconf and pathconf understand: Python's os.pathconf_names values (_PC_*).
enum class pathconf_name : int {
    link_max = _PC_LINK_MAX,
    max_canon = _PC_MAX_CANON,
    max_input = _PC_MAX_INPUT,
    name_max = _PC_NAME_MAX,
    path_max = _PC_PATH_MAX,
    pipe_buf = _PC_PIPE_BUF,
    chown_restricted = _PC_CHOWN_RESTRICTED,
    no_trunc = _PC_NO_TRUNC,
    vdisable = _PC_VDISABLE,
    sync_io = _PC_SYNC_IO,
    async_io = _PC_ASYNC_IO,
    prio_io = _PC_PRIO_IO,
    sock_maxbuf = _PC_SOCK_MAXBUF,
    filesizebits = _PC_FILESIZEBITS,
    rec_incr_xfer_size = _PC_REC_INCR_XFER_SIZE,
    rec_max_xfer_size = _PC_REC_MAX_XFER_SIZE,
    rec_min_xfer_size = _PC_REC_MIN_XFER_SIZE,
    rec_xfer_align = _PC_REC_XFER_ALIGN,
    alloc_size_min = _PC_ALLOC_SIZE_MIN,
    symlink_max = _PC_SYMLINK_MAX,
};

// Python's os.pathconf_names: every name this system's fpathconf/pathconf accepts, with its value.
std::span<const name_entry<pathconf_name>> pathconf_names() noexcept;

// Python's os.fpathconf(fd, name): a configuration limit of the open file. An empty optional is
// "no limit" (Python's -1), which is not an error. Errors: EBADF, EINVAL (name not applicable).
[[nodiscard]] result<std::optional<long>> fpathconf(fd_ref f, pathconf_name name) noexcept;
// The same by Python's string name; EINVAL for a name not in pathconf_names (Python: ValueError).
[[nodiscard]] result<std::optional<long>> fpathconf(fd_ref f, std::string_view name) noexcept;

}  // namespace ospp
