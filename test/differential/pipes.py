# test/differential/pipes.py — the Python side of the pipes domain (see run.py): pipe ends and
# other special descriptors (eventfd, memfd, a regular file) with Python's os and fcntl. pipes.cpp
# does the same with ospp and must print the same lines. driver.py runs it for --domain pipes.
#
# Descriptor slot i is the number FD0 + i in both drivers, as in fdio. Nothing may block: an
# operation that could (a read, write, splice, sendfile, eventfd read or write) is skipped with
# the line "blocking" when a slot it names is neither a regular file nor non-blocking.
import array
import errno
import fcntl
import io
import os
import stat
import termios
import zlib

from driver import dec, dec_bytes, enc, err_line
from fdio import dup2, listed, opt

FD0 = 40
SLOTS = 6
SHOWN = 32  # bytes shown whole; longer ones as length, hash and head
DRAIN = 4 << 20  # the most bytes the dump takes out of a pipe or reads of a file


def pattern(n):
    """The bytes of a *N data token (pipes.cpp's pattern)."""
    return (b"abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]


def data(token):
    return pattern(int(token[1:])) if token.startswith("*") else dec_bytes(token)


def shown(b):
    """Bytes whole, or as length, CRC-32 (pipes.cpp's crc32) and the first 8."""
    return enc(b) if len(b) <= SHOWN else "%d:%08x:%s" % (len(b), zlib.crc32(b), enc(b[:8]))


class NotDone(Exception):
    """An operation the driver does not do (the line says why), as pipes.cpp does not."""


class PipeDriver:
    def __init__(self, out):
        self.out = out
        self.stopped = False  # (the script loop's protocol; no operation here ends a script)

    def emit(self, line):
        self.out.append(line)

    def place(self, fd, slot):
        os.dup2(fd, FD0 + int(slot), inheritable=False)
        os.close(fd)

    @staticmethod
    def is_file(f):
        try:
            return stat.S_ISREG(os.fstat(f).st_mode)
        except OSError:
            return False

    @staticmethod
    def could_block(f):
        """Neither a regular file nor non-blocking (a closed slot fails at once: EBADF)."""
        try:
            if stat.S_ISREG(os.fstat(f).st_mode):
                return False
            return not fcntl.fcntl(f, fcntl.F_GETFL) & os.O_NONBLOCK
        except OSError:
            return False

    @staticmethod
    def is_eventfd(f):
        try:
            return os.readlink("/proc/self/fd/%d" % f) == "anon_inode:[eventfd]"
        except OSError:
            return False

    def run(self, tokens):
        op, a = tokens[0], tokens[1:]
        try:
            r = self.dispatch(op, a)
            self.emit("ok" if r is None else "ok " + r)
        except NotDone as e:
            self.emit(str(e))
        except OSError as e:
            self.emit(err_line(e))
        except (ValueError, OverflowError):
            # Python's OverflowError (a count above SSIZE_MAX for splice and sendfile, an eventfd
            # value or pipe size past its C type) is EINVAL in ospp (fd_ops.hpp, fcntl.hpp)
            self.emit(err_line(OSError(errno.EINVAL, "")))

    def dispatch(self, op, a):
        f = FD0 + int(a[0])
        num = lambda i: int(a[i])
        slot = lambda i: FD0 + int(a[i])
        blocking_ops = {"read": [0], "write": [0], "readv": [0], "writev": [0], "preadv": [0], "pwritev": [0],
                        "splice": [0, 1], "sendfile": [0, 1], "efdread": [0], "efdwrite": [0], "readall": [0]}
        if any(self.could_block(slot(i)) for i in blocking_ops.get(op, [])):
            raise NotDone("blocking")
        if op == "pipe":
            r, w = os.pipe()
            self.place(r, a[0])
            return self.place(w, a[1])
        if op == "pipe2":
            r, w = os.pipe2(num(2))
            self.place(r, a[0])
            return self.place(w, a[1])
        if op == "eventfd":
            return self.place(os.eventfd(num(1), num(2)), a[0])
        if op == "memfd":
            name = dec(a[1])
            if "\0" in name:
                # deliberate: a NUL byte in a name is ValueError in Python, EINVAL naming the name in
                # ospp, as for every path (path.hpp)
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), name)
            return self.place(os.memfd_create(name, num(2)), a[0])
        if op == "file":
            flags = {"Rc": os.O_RDWR | os.O_CREAT, "r": os.O_RDONLY, "wa": os.O_WRONLY | os.O_APPEND}[a[1]]
            return self.place(os.open("f", flags, 0o644), a[0])
        if op == "close":
            return os.close(f)
        if op == "read":
            return shown(os.read(f, num(1)))
        if op == "write":
            return str(os.write(f, data(a[1])))
        if op == "readall":
            if self.is_eventfd(f):
                # an eventfd never ends: in semaphore mode each read takes 1 from up to 2^64-2
                raise NotDone("not on an eventfd")
            if self.is_file(f) and os.fstat(f).st_size > DRAIN:
                raise NotDone("too big")  # a splice at offset 2^62 makes a sparse file of 4 EiB
            if not self.is_file(f):
                # deliberate: ospp's read_all gives every read of a pipe room for a whole packet;
                # FileIO.readall may read into less and lose a packet's end (fd_ops.hpp, read_all).
                # A read end does not show whether its writer made packets (O_DIRECT is the write
                # end's flag), so every pipe is read so here, with readall's EAGAIN rule
                got = b""
                while True:
                    try:
                        b = os.read(f, 65536)
                    except BlockingIOError:
                        if got:
                            break
                        raise
                    if not b:
                        break
                    got += b
                return shown(got)
            got = io.FileIO(f, closefd=False).readall()
            if got is None:
                # deliberate: None (nothing to read for now) is ospp's EAGAIN (fd_ops.hpp, read_all)
                raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
            return shown(got)
        if op in ("readv", "preadv"):
            bufs = [bytearray(int(n)) for n in listed(a[1])]
            n = os.readv(f, bufs) if op == "readv" else os.preadv(f, bufs, num(2))
            return "%d %s" % (n, shown(b"".join(bufs)[:n]))
        if op == "writev":
            return str(os.writev(f, [data(d) for d in listed(a[1])]))
        if op == "pwritev":
            return str(os.pwritev(f, [data(d) for d in listed(a[1])], num(2)))
        if op == "pread":
            return shown(os.pread(f, num(1), num(2)))
        if op == "pwrite":
            return str(os.pwrite(f, data(a[1]), num(2)))
        if op == "lseek":
            return str(os.lseek(f, num(1), num(2)))
        if op == "ftruncate":
            return os.ftruncate(f, num(1))
        if op == "fsync":
            return os.fsync(f)
        if op == "fallocate":
            return os.posix_fallocate(f, num(1), num(2))
        if op == "fadvise":
            return os.posix_fadvise(f, num(1), num(2), num(3))
        if op == "splice":
            return str(os.splice(f, slot(1), num(2), opt(a[3]), opt(a[4]), num(5)))
        if op == "sendfile":
            return str(os.sendfile(f, slot(1), opt(a[2]), num(3)))
        if op == "cfr":
            return str(os.copy_file_range(f, slot(1), num(2)))
        if op == "getpipesz":
            return str(fcntl.fcntl(f, fcntl.F_GETPIPE_SZ))
        if op == "setpipesz":
            if not 0 <= num(1) <= 2**31 - 1:
                # deliberate: ospp refuses a size outside int before the call (fcntl.hpp,
                # set_pipe_size), where Python's fcntl wraps it modulo 2^32
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            return str(fcntl.fcntl(f, fcntl.F_SETPIPE_SZ, num(1)))
        if op == "getfl":
            return "%x" % fcntl.fcntl(f, fcntl.F_GETFL)
        if op == "setfl":
            if num(1) & os.O_DIRECT and self.is_file(f):
                # whether an O_DIRECT read of a file succeeds depends on where each driver's buffer
                # lies in memory (EINVAL unaligned): packet mode on pipes only (pipes.cpp alike)
                raise NotDone("direct: not on a file")
            fcntl.fcntl(f, fcntl.F_SETFL, num(1))
            return None
        if op == "getblk":
            return str(os.get_blocking(f))
        if op == "setblk":
            return os.set_blocking(f, a[1] == "1")
        if op == "getinh":
            return str(os.get_inheritable(f))
        if op == "setinh":
            return os.set_inheritable(f, a[1] == "1")
        if op == "dupfd":
            # a slot number comes out when it is free; any other is closed again
            n = fcntl.fcntl(f, fcntl.F_DUPFD_CLOEXEC, num(1))
            if n >= FD0 + SLOTS:
                os.close(n)
            return str(n)
        if op == "fionread":
            n = array.array("i", [0])
            fcntl.ioctl(f, termios.FIONREAD, n, True)
            return str(n[0])
        if op == "efdread":
            if not self.is_eventfd(f):
                # deliberate: glibc's eventfd_read leaves a stale errno (0, or an earlier call's)
                # after a short read; ospp says EINVAL (special_fds.hpp). The same 8-byte read:
                b = os.read(f, 8)
                if len(b) != 8:
                    raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
                return str(int.from_bytes(b, "little"))
            return str(os.eventfd_read(f))
        if op == "efdwrite":
            if not self.is_eventfd(f):
                # deliberate: as efdread, for a short write
                if os.write(f, num(1).to_bytes(8, "little")) != 8:
                    raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
                return None
            return os.eventfd_write(f, num(1))
        if op == "addseals":
            fcntl.fcntl(f, fcntl.F_ADD_SEALS, num(1))
            return None
        if op == "getseals":
            return str(fcntl.fcntl(f, fcntl.F_GET_SEALS))
        if op == "fstat":
            st = os.fstat(f)
            return "mode=%o size=%d nlink=%d" % (st.st_mode, st.st_size, st.st_nlink)
        if op == "isatty":
            return str(os.isatty(f))
        if op == "dup":
            return self.place(os.dup(f), a[1])
        if op == "dup2":
            return dup2(f, slot(1), a[2] == "1")  # (deliberate: as ospp's dup2(f, f, false), fdio.py)
        raise SystemExit("unknown pipes op " + op)

    def dump(self):
        """Each slot: its type and permission bits, status and fd flags, what /proc names it, the
        pipe's size and the bytes it holds (drained from a read end), a file's size, bytes and seals,
        an eventfd's count; closes the slots."""
        for i in range(SLOTS):
            f = FD0 + i
            try:
                st = os.fstat(f)
            except OSError:
                self.emit("slot %d closed" % i)
                continue
            fl = fcntl.fcntl(f, fcntl.F_GETFL)
            line = "slot %d type=%o perm=%o fl=%x fd=%x" % (i, stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), fl,
                                                             fcntl.fcntl(f, fcntl.F_GETFD))
            link = os.readlink("/proc/self/fd/%d" % f)
            if link.startswith("pipe:"):
                line += " pipe size=%d" % fcntl.fcntl(f, fcntl.F_GETPIPE_SZ)
                if fl & os.O_ACCMODE == os.O_RDONLY:
                    fcntl.fcntl(f, fcntl.F_SETFL, fl | os.O_NONBLOCK)
                    held = b""
                    while len(held) < DRAIN:
                        try:
                            b = os.read(f, 65536)
                        except BlockingIOError:
                            break
                        if not b:
                            break
                        held += b
                    line += " held=" + shown(held)
            elif link.startswith("anon_inode:"):
                line += " " + enc(link)
                with open("/proc/self/fdinfo/%d" % f) as info:
                    for l in info:
                        if l.startswith("eventfd-count:"):
                            line += " count=%x" % int(l.split()[1], 16)
            elif stat.S_ISREG(st.st_mode):
                line += " " + (enc(link) if link.startswith("/memfd:") else "file") + " size=%d" % st.st_size
                try:
                    line += " data=" + shown(os.pread(f, min(st.st_size, DRAIN), 0))
                except OSError as e:
                    line += " data=E%d" % e.errno
                try:
                    line += " seals=%d" % fcntl.fcntl(f, fcntl.F_GET_SEALS)
                except OSError as e:
                    line += " seals=E%d" % e.errno
            self.emit(line)
            os.close(f)
