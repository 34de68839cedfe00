# test/differential/fdio.py — the Python side of the fdio domain (see run.py): operations on open
# descriptors with Python's os and fcntl. fdio.cpp does the same with ospp and must print the same
# lines. driver.py runs it for --domain fdio.
#
# Descriptor slot i is the number FD0 + i in both drivers: open and dup move their new descriptor
# there (dup2, not inheritable, then close), so that numbers, dup2 targets and a closed slot's
# EBADF compare between the two processes.
import errno
import fcntl
import os
import stat

from driver import OPEN_FLAGS, dec, dec_bytes, enc, err_line, relative

FD0 = 40
SLOTS = 4
SSIZE_MAX = 2**63 - 1

def hexs(b):
    """Bytes as lowercase hex, "~" for none (as fdio.cpp's hexs)."""
    return b.hex() if b else "~"


def listed(t):
    """A comma-separated list of tokens; "-" is the empty list."""
    return [] if t == "-" else t.split(",")


def opt(t):
    """An offset argument: "-" is None."""
    return None if t == "-" else int(t)


def dup2(f, target, inheritable):
    """os.dup2 as ospp's: its new descriptor's number (also for the pipes domain)."""
    if f == target and not inheritable:
        # deliberate: ospp's dup2(f, f, false) sets FD_CLOEXEC on f and succeeds, where
        # Python's dup3 fails with EINVAL (fd_ops.hpp, dup2)
        fcntl.fcntl(f, fcntl.F_SETFD, fcntl.fcntl(f, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)
        return str(target)
    return str(os.dup2(f, target, inheritable))


def runs(data):
    """The runs of non-zero bytes as pos:hex,... ("-" for none)."""
    out = []
    i = 0
    while i < len(data):
        if data[i] == 0:
            i += 1
            continue
        j = i
        while j < len(data) and data[j] != 0:
            j += 1
        out.append("%d:%s" % (i, data[i:j].hex()))
        i = j
    return ",".join(out) or "-"


class NotDone(Exception):
    """An operation the driver does not do (the line says why), as fdio.cpp does not."""


class FdDriver:
    def __init__(self, out):
        self.out = out
        self.stopped = False  # (the script loop's protocol; no fdio operation ends a script)
        self.root = os.getcwd()  # the script's directory (fchdir may leave it)

    def emit(self, line):
        self.out.append(line)

    @staticmethod
    def mode(fd):
        try:
            return os.fstat(fd).st_mode
        except OSError:
            return 0

    def place(self, fd, slot):
        os.dup2(fd, FD0 + int(slot), inheritable=False)
        os.close(fd)

    def run(self, tokens):
        op, a = tokens[0], tokens[1:]
        try:
            r = self.dispatch(op, a)
            self.emit("ok" if r is None else "ok " + r)
        except NotDone as e:
            self.emit(str(e))
        except OSError as e:
            if isinstance(e.filename, int):
                # deliberate: the xattr calls given an fd: Python names the fd number as the file
                # name, ospp's errors name no path (xattr.hpp, the header comment)
                e = OSError(e.errno, e.strerror)
            self.emit(err_line(e))
        except (ValueError, OverflowError):
            # Python's ValueError (fcntl.lockf's "unrecognized lockf argument", os.fpathconf's
            # unknown name) and OverflowError (os.read of more than SSIZE_MAX bytes) are EINVAL in
            # ospp (fcntl.hpp lockf, fd_ops.hpp read and fpathconf)
            self.emit(err_line(OSError(errno.EINVAL, "")))

    def dispatch(self, op, a):
        if op == "mkdir":
            return os.mkdir(dec(a[0]))
        if op == "symlink":
            return os.symlink(dec(a[0]), dec(a[1]))
        if op == "getcwd":
            return relative(self.root, os.getcwd())
        if op == "closerange":
            return os.closerange(int(a[0]), int(a[1]))
        f = FD0 + int(a[0])
        num = lambda i: int(a[i])
        if op == "open":
            flags = 0
            for c in a[2]:
                flags |= OPEN_FLAGS[c]
            return self.place(os.open(dec(a[1]), flags, int(a[3], 8)), a[0])
        if op == "close":
            return os.close(f)
        if op == "read":
            return hexs(os.read(f, num(1)))
        if op == "write":
            return str(os.write(f, dec_bytes(a[1])))
        if op == "pread":
            return hexs(os.pread(f, num(1), num(2)))
        if op == "pwrite":
            return str(os.pwrite(f, dec_bytes(a[1]), num(2)))
        if op in ("readv", "preadv"):
            bufs = [bytearray(int(n)) for n in listed(a[1])]
            n = os.readv(f, bufs) if op == "readv" else os.preadv(f, bufs, num(2), num(3))
            return "%d %s" % (n, hexs(b"".join(bufs)[:n]))
        if op == "writev":
            return str(os.writev(f, [dec_bytes(d) for d in listed(a[1])]))
        if op == "pwritev":
            return str(os.pwritev(f, [dec_bytes(d) for d in listed(a[1])], num(2), num(3)))
        if op == "lseek":
            return str(os.lseek(f, num(1), num(2)))
        if op == "ftruncate":
            return os.ftruncate(f, num(1))
        if op == "fallocate":
            return os.posix_fallocate(f, num(1), num(2))
        if op == "fadvise":
            return os.posix_fadvise(f, num(1), num(2), num(3))
        if op == "fsync":
            return os.fsync(f)
        if op == "fdatasync":
            return os.fdatasync(f)
        if op == "dup":
            return self.place(os.dup(f), a[1])
        if op == "dup2":
            return dup2(f, FD0 + num(1), a[2] == "1")
        if op == "getinh":
            return str(os.get_inheritable(f))
        if op == "setinh":
            return os.set_inheritable(f, a[1] == "1")
        if op == "getblk":
            return str(os.get_blocking(f))
        if op == "setblk":
            return os.set_blocking(f, a[1] == "1")
        if op == "fstat":
            st = os.fstat(f)
            return "mode=%o size=%d nlink=%d" % (st.st_mode, st.st_size, st.st_nlink)
        if op == "fchmod":
            if stat.S_ISCHR(self.mode(f)):
                raise NotDone("not on /dev/null")  # the system's: never changed (fdio.cpp alike)
            return os.fchmod(f, int(a[1], 8))
        if op == "fstatvfs":
            st = os.fstatvfs(f)
            return "bsize=%d frsize=%d namemax=%d flag=%x" % (st.f_bsize, st.f_frsize, st.f_namemax, st.f_flag)
        if op == "sendfile":
            return str(os.sendfile(f, FD0 + num(1), opt(a[2]), num(3)))
        if op == "cfr":
            count = num(2)
            if count > SSIZE_MAX:
                # deliberate: ospp passes a count above SSIZE_MAX to the kernel, which copies what
                # there is, where Python raises OverflowError (fd_ops.hpp, copy_file_range)
                count = SSIZE_MAX
            return str(os.copy_file_range(f, FD0 + num(1), count, opt(a[3]), opt(a[4])))
        if op == "getfl":
            return "%x" % fcntl.fcntl(f, fcntl.F_GETFL)
        if op == "setfl":
            fcntl.fcntl(f, fcntl.F_SETFL, num(1))
            return None
        if op == "getfd":
            return "%x" % fcntl.fcntl(f, fcntl.F_GETFD)
        if op == "setfd":
            fcntl.fcntl(f, fcntl.F_SETFD, num(1))
            return None
        if op == "lockf":
            return os.lockf(f, num(1), num(2))
        if op == "flock":
            return fcntl.flock(f, num(1))
        if op == "flockf":
            return fcntl.lockf(f, num(1), num(2), num(3), num(4))
        if op == "fchown":
            if stat.S_ISCHR(self.mode(f)):
                raise NotDone("not on /dev/null")  # the system's: never changed (fdio.cpp alike)
            return os.fchown(f, num(1), num(2))
        if op == "isatty":
            return str(os.isatty(f))
        if op == "dupfd":
            # a slot number comes out when it is free; any other is closed again
            n = fcntl.fcntl(f, fcntl.F_DUPFD if a[2] == "1" else fcntl.F_DUPFD_CLOEXEC, num(1))
            if n >= FD0 + SLOTS:
                os.close(n)
            return str(n)
        if op == "getlease":
            return str(fcntl.fcntl(f, fcntl.F_GETLEASE))
        if op == "getseals":
            return str(fcntl.fcntl(f, fcntl.F_GET_SEALS))
        if op == "getpipesz":
            return str(fcntl.fcntl(f, fcntl.F_GETPIPE_SZ))
        if op == "getown":
            return str(fcntl.fcntl(f, fcntl.F_GETOWN))
        if op == "getsig":
            return str(fcntl.fcntl(f, fcntl.F_GETSIG))
        if op == "fsetxattr":
            return os.setxattr(f, dec(a[1]), dec_bytes(a[2]), num(3))
        if op == "fgetxattr":
            return enc(os.getxattr(f, dec(a[1])))
        if op == "flistxattr":
            return " ".join(enc(n) for n in sorted(os.listxattr(f), key=os.fsencode)) or "-"
        if op == "fremovexattr":
            return os.removexattr(f, dec(a[1]))
        if op == "fchdir":
            return os.fchdir(f)
        if op == "fpathconf":
            return str(os.fpathconf(f, a[1]))
        raise SystemExit("unknown fdio op " + op)

    def dump(self):
        """Each slot (the file it refers to by name, its offset, status and fd flags), then each
        name in the directory with its content; closes the slots."""
        # the working directory's mode (an fchmod through a slot may have changed it), then
        # searchable again for the rest (by its full path: "." needs the search right); the
        # dump is made there, whatever fchdir did
        self.emit("root %o" % os.stat(self.root).st_mode)
        os.chmod(self.root, 0o755)
        os.chdir(self.root)
        names = sorted(os.listdir("."), key=os.fsencode)
        for i in range(SLOTS):
            f = FD0 + i
            try:
                fl = fcntl.fcntl(f, fcntl.F_GETFL)
            except OSError:
                self.emit("slot %d closed" % i)
                continue
            st = os.fstat(f)
            who = "null" if stat.S_ISCHR(st.st_mode) else "other"
            for n in names:
                l = os.lstat(n)
                if (l.st_dev, l.st_ino) == (st.st_dev, st.st_ino):
                    who = enc(n)
            try:
                off = str(os.lseek(f, 0, os.SEEK_CUR))
            except OSError as e:
                off = "E%d" % e.errno
            self.emit("slot %d %s off=%s fl=%x inheritable=%s" % (i, who, off, fl, os.get_inheritable(f)))
            os.close(f)
        for n in names:
            st = os.lstat(n)
            line = "file %s %o" % (enc(n), st.st_mode)
            if stat.S_ISREG(st.st_mode):
                line += " size=%d" % st.st_size
                try:
                    with open(n, "rb", buffering=0) as g:
                        line += " data=" + runs(g.read())
                except OSError as e:
                    line += " data=E%d" % e.errno
            self.emit(line)
