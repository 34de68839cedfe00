# test/differential/locks.py — the Python side of the locks domain (see run.py): file locks of every
# kind — fcntl.fcntl with a packed struct flock (F_GETLK, F_SETLK, F_SETLKW, F_OFD_*), fcntl.flock,
# fcntl.lockf and os.lockf — taken by this process and by a child of it on the same two files.
# locks.cpp does the same with ospp and must print the same lines. driver.py runs it for
# --domain locks.
#
# Descriptor slot i is the number FD0 + i, in each of the two processes. The child is forked at
# the start of the script, and again by "fork" (the old one told to go and reaped first: the new
# one starts with the parent's slots, sharing their open file descriptions), and runs the
# operations prefixed "c", one at a time, sent over a pipe; its lines come back over another and
# are printed in their place. Pids
# in answers are tokens: "parent", "child", or -1 (an OFD lock's). Nothing may block: a waiting
# form is made only when the matching F_GETLK / F_OFD_GETLK finds no conflict (else "blocking").
# At the end the guards still held are released; the dump: each process's slots, then each
# file's lock table as a forked prober sees it (F_OFD_GETLK over a grid of bytes, and whether a
# flock could be taken); then the child is told to go (its pipe closed) and reaped.
import errno
import fcntl
import os
import struct

from driver import err_line

FD0 = 40
SLOTS = 6
NAMES = ["f", "g"]
FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid
# the bytes the dump probes: every one up to past the largest start and length the scripts use, and
# a few far ones (a lock to EOF, or ending near the largest offset), as locks.cpp's probe_points
PROBE_POINTS = list(range(211)) + [1000, 2**40, 2**62 - 1, 2**62, 2**62 + 9, 2**63 - 1 - 10, 2**63 - 2]


class NotDone(Exception):
    """An operation the driver does not do (the line says why), as locks.cpp does not."""


class Blocking(Exception):
    """A waiting form that would wait: the line says so, as locks.cpp does."""


def pid_token(p, parent, child):
    if p == parent:
        return "parent"
    if p == child:
        return "child"
    return str(p)  # -1 for an OFD lock; anything else is a difference


def query(f, cmd, typ, whence, start, length):
    """F_GETLK or F_OFD_GETLK: the struct flock the kernel gives back."""
    return struct.unpack(FLOCK, fcntl.fcntl(f, cmd, struct.pack(FLOCK, typ, whence, start, length, 0)))


def wait_unless_conflict(unlock, check, wait):
    """A waiting form, made only when the query (`check`) finds no conflict. A query that fails (a
    bad descriptor, type, whence or range) fails the waiting form the same way before it could
    wait, so the waiting form is made then."""
    if not unlock:
        try:
            if check()[0] != fcntl.F_UNLCK:
                raise Blocking()
        except OSError:
            pass
    return wait()


def read_line(f, buf):
    """A line from a pipe (buf: a bytearray of what was read past the last line); None at the end."""
    while b"\n" not in buf:
        b = os.read(f, 4096)
        if not b:
            return None
        buf += b
    i = buf.index(b"\n")
    line = bytes(buf[:i]).decode()
    del buf[:i + 1]
    return line


class LockDriver:
    def __init__(self, out, parent, child=0):
        self.out = out
        self.stopped = False  # (the script loop's protocol; no operation here ends a script)
        self.parent, self.child = parent, child
        self.link = None  # in the parent, while the child runs: (commands, replies, pending)
        self.guards = {}  # slot: (fd, ofd, start, len) of a record lock guard
        self.flock_guards = {}  # slot: fd of a flock guard

    def emit(self, line):
        self.out.append(line)

    def place(self, fd, slot):
        os.dup2(fd, FD0 + int(slot), inheritable=False)
        os.close(fd)

    def lock_line(self, t):
        typ, whence, start, length, pid = t
        if typ == fcntl.F_UNLCK:
            return "none"
        return "%d %d %d %d %s" % (typ, whence, start, length, pid_token(pid, self.parent, self.child))

    def run(self, tokens):
        if tokens[0] == "c":
            return self.in_child(tokens)
        if tokens[0] == "slots":
            return self.dump_slots()
        if tokens[0] == "release":
            return self.release_guards()
        op, a = tokens[0], tokens[1:]
        try:
            r = self.dispatch(op, a)
            self.emit("ok" if r is None else "ok " + r)
        except Blocking:
            self.emit("blocking")
        except NotDone as e:
            self.emit(str(e))
        except OSError as e:
            self.emit(err_line(e))
        except ValueError:
            # deliberate: fcntl.lockf's ValueError ("unrecognized lockf argument") is EINVAL in ospp
            # (fcntl.hpp, lockf), as in fdio
            self.emit(err_line(OSError(errno.EINVAL, "")))

    def dispatch(self, op, a):
        f = FD0 + int(a[0]) if a else None
        num = lambda i: int(a[i])
        lock = lambda: (num(1), num(2), num(3), num(4))  # type whence start len
        if op == "fork":
            # a new child, which starts with this process's slots (sharing their open file
            # descriptions, and so their OFD and flock locks, but none of its POSIX locks)
            self.stop_child()
            return self.start_child()
        if op == "open":
            access = {"R": os.O_RDWR, "w": os.O_WRONLY, "r": os.O_RDONLY}[a[2]]
            return self.place(os.open(a[1], access | os.O_CREAT, 0o644), a[0])
        if op == "close":
            return os.close(f)
        if op == "dup":
            return self.place(os.dup(f), a[1])
        if op == "lseek":
            return str(os.lseek(f, num(1), num(2)))
        if op == "ftruncate":
            return os.ftruncate(f, num(1))
        if op == "getlk":
            return self.lock_line(query(f, fcntl.F_GETLK, *lock()))
        if op == "ofdgetlk":
            return self.lock_line(query(f, fcntl.F_OFD_GETLK, *lock()))
        if op in ("setlk", "ofdsetlk", "setlkw", "ofdsetlkw"):
            ofd = op.startswith("ofd")
            get = fcntl.F_OFD_GETLK if ofd else fcntl.F_GETLK
            cmd = {"setlk": fcntl.F_SETLK, "ofdsetlk": fcntl.F_OFD_SETLK, "setlkw": fcntl.F_SETLKW,
                   "ofdsetlkw": fcntl.F_OFD_SETLKW}[op]
            packed = struct.pack(FLOCK, *lock(), 0)
            if op.endswith("w"):
                return wait_unless_conflict(num(1) == fcntl.F_UNLCK, lambda: query(f, get, *lock()),
                                            lambda: fcntl.fcntl(f, cmd, packed) and None)
            fcntl.fcntl(f, cmd, packed)
            return None
        if op == "raw":
            # fcntl.fcntl(fd, cmd, struct.pack(...)[:size]) (size 0: the int 0, a null pointer):
            # the answer zero-padded to a whole struct flock, its pid as a token
            if num(2) == 0:
                return str(fcntl.fcntl(f, num(1), 0))
            # deliberate: a buffer shorter than the struct the command reads: CPython 3.11 copies it
            # into an uninitialised stack buffer, so the kernel reads stack garbage past it; ospp's
            # buffer is zeroed past the argument (fcntl.hpp, fcntl). Python is given the cut struct
            # zero-padded to its size, and its answer is cut again
            packed = struct.pack(FLOCK, num(3), num(4), num(5), num(6), num(7))[:num(2)]
            b = fcntl.fcntl(f, num(1), packed + bytes(32 - len(packed)))[:num(2)]
            typ, whence, start, length, pid = struct.unpack(FLOCK, b + bytes(32 - len(b)))
            return "%d %d %d %d %s" % (typ, whence, start, length, pid_token(pid, self.parent, self.child))
        if op == "guard":
            ofd, wait = a[5] == "1", a[6] == "1"
            get = fcntl.F_OFD_GETLK if ofd else fcntl.F_GETLK
            return wait_unless_conflict(not wait or num(1) == fcntl.F_UNLCK, lambda: query(f, get, *lock()),
                                        lambda: self.guard(f, int(a[0]), *lock(), ofd, wait))
        if op == "unguard":
            if int(a[0]) not in self.guards:
                raise NotDone("no guard")
            g, ofd, start, length = self.guards.pop(int(a[0]))
            fcntl.fcntl(g, fcntl.F_OFD_SETLK if ofd else fcntl.F_SETLK, struct.pack(FLOCK, fcntl.F_UNLCK, 0, start, length, 0))
            return None
        if op == "fguard":
            # ospp's flock_guard: flock(fd, op), EINVAL for LOCK_UN; one it replaces unlocks after
            if num(1) & ~fcntl.LOCK_NB == fcntl.LOCK_UN:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            fcntl.flock(f, num(1))
            old = self.flock_guards.get(int(a[0]))
            if old is not None:
                try:
                    fcntl.flock(old, fcntl.LOCK_UN)
                except OSError:
                    pass
            self.flock_guards[int(a[0])] = f
            return None
        if op == "funguard":
            if int(a[0]) not in self.flock_guards:
                raise NotDone("no guard")
            return fcntl.flock(self.flock_guards.pop(int(a[0])), fcntl.LOCK_UN)
        if op == "flock":
            return fcntl.flock(f, num(1))
        if op == "lockf":
            # fcntl.lockf(fd, cmd, len, start, whence); without LOCK_NB it waits (F_SETLKW): the
            # query is F_GETLK of the type CPython picks (exactly LOCK_UN unlocks, then SH, then EX)
            cmd = num(1)
            waits = not cmd & fcntl.LOCK_NB and cmd != fcntl.LOCK_UN and cmd & (fcntl.LOCK_SH | fcntl.LOCK_EX)
            typ = fcntl.F_RDLCK if cmd & fcntl.LOCK_SH else fcntl.F_WRLCK
            return wait_unless_conflict(not waits, lambda: query(f, fcntl.F_GETLK, typ, num(4), num(3), num(2)),
                                        lambda: fcntl.lockf(f, cmd, num(2), num(3), num(4)))
        if op == "oslockf":
            # os.lockf(fd, cmd, len): F_LOCK waits (F_SETLKW of a write lock from the offset)
            return wait_unless_conflict(num(1) != os.F_LOCK,
                                        lambda: query(f, fcntl.F_GETLK, fcntl.F_WRLCK, os.SEEK_CUR, 0, num(2)),
                                        lambda: os.lockf(f, num(1), num(2)))
        raise SystemExit("unknown locks op " + op)

    def guard(self, f, slot, typ, whence, start, length, ofd, wait):
        """ospp's record_lock_guard, as fcntl.hpp describes it: a cur or end start made absolute from
        the offset (lseek) or the size (fstat), EOVERFLOW past the largest offset, the absolute range
        locked and kept; a guard it replaces unlocks its range afterwards."""
        cmd = (fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK) if ofd else (fcntl.F_SETLKW if wait else fcntl.F_SETLK)
        if typ == fcntl.F_UNLCK:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        if whence in (os.SEEK_CUR, os.SEEK_END):
            base = os.lseek(f, 0, os.SEEK_CUR) if whence == os.SEEK_CUR else os.fstat(f).st_size
            if base + start > 2**63 - 1:
                raise OSError(errno.EOVERFLOW, os.strerror(errno.EOVERFLOW))
            start, whence = base + start, os.SEEK_SET
        fcntl.fcntl(f, cmd, struct.pack(FLOCK, typ, whence, start, length, 0))
        old = self.guards.get(slot)
        if old is not None:
            try:
                fcntl.fcntl(old[0], fcntl.F_OFD_SETLK if old[1] else fcntl.F_SETLK,
                            struct.pack(FLOCK, fcntl.F_UNLCK, 0, old[2], old[3], 0))
            except OSError:
                pass
        self.guards[slot] = (f, ofd, start, length)
        return "%d %d" % (start, length)

    def release_guards(self):
        """Unlocks the guards still held, in slot order, record guards first."""
        for s in sorted(self.guards):
            self.run(["unguard", str(s)])
        for s in sorted(self.flock_guards):
            self.run(["funguard", str(s)])

    def dump_slots(self):
        """Each slot: closed, or its file, access mode and offset."""
        for i in range(SLOTS):
            f = FD0 + i
            try:
                st = os.fstat(f)
            except OSError:
                self.emit("slot %d closed" % i)
                continue
            name = "?"
            for n in NAMES:
                try:
                    s = os.stat(n)
                except OSError:
                    continue
                if (s.st_ino, s.st_dev) == (st.st_ino, st.st_dev):
                    name = n
            acc = fcntl.fcntl(f, fcntl.F_GETFL) & os.O_ACCMODE
            self.emit("slot %d %s acc=%d off=%d" % (i, name, acc, os.lseek(f, 0, os.SEEK_CUR)))

    # ---- the child ----

    def start_child(self):
        """Forks the child, which applies the commands it is sent until its pipe closes."""
        cr, cw = os.pipe()
        rr, rw = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(cw)
            os.close(rr)
            self.serve(cr, rw, self.parent, os.getpid())
        os.close(cr)
        os.close(rw)
        self.child = pid
        self.link = (cw, rr, bytearray())

    @staticmethod
    def serve(commands, replies, parent, child):
        """The child's loop: one command line in, its lines out, then "."."""
        try:
            buf = bytearray()
            out = []
            d = LockDriver(out, parent, child)  # one for all the commands: it keeps the child's guards
            while True:
                line = read_line(commands, buf)
                if line is None:
                    break
                del out[:]
                d.run(line.split())
                reply = "".join(l + "\n" for l in out) + ".\n"
                data = reply.encode()
                while data:
                    data = data[os.write(replies, data):]
        except BaseException:
            os._exit(3)
        os._exit(0)

    def in_child(self, tokens):
        """"c op ...": the child's lines for op, or "child gone" if it does not answer."""
        if self.link is None:
            return self.emit("child gone")
        commands, replies, pending = self.link
        try:
            os.write(commands, (" ".join(tokens[1:]) + "\n").encode())
        except OSError:
            return self.emit("child gone")
        while True:
            l = read_line(replies, pending)
            if l is None:
                return self.emit("child gone")
            if l == ".":
                return None
            self.emit(l)

    def stop_child(self):
        """Tells the child to go (closes its pipe) and reaps it."""
        if self.link is None:
            return
        os.close(self.link[0])
        os.close(self.link[1])
        self.link = None
        _, st = os.waitpid(self.child, 0)
        if os.waitstatus_to_exitcode(st) != 0:
            self.emit("child ended badly")
        self.child = 0

    def dump_locks(self):
        """Each file's lock table as a third process sees it: a prober forked now (it holds no POSIX
        lock, and probes through a fresh open file description of its own) asks F_OFD_GETLK for a
        write lock and a read lock of each byte of the grid, and prints each run of bytes with the
        same answer; then whether it could take a flock shared or exclusive (as locks.cpp)."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                out = []
                d = LockDriver(out, self.parent, self.child)
                for n in NAMES:
                    d.probe(n)
                data = "".join(l + "\n" for l in out).encode()
                while data:
                    data = data[os.write(w, data):]
            except BaseException:
                os._exit(3)
            os._exit(0)
        os.close(w)
        buf = bytearray()
        while True:
            l = read_line(r, buf)
            if l is None:
                break
            self.emit(l)
        os.close(r)
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st) != 0:
            self.emit("prober ended badly")

    def probe(self, name):
        """The prober's lines for one file."""
        try:
            f = os.open(name, os.O_RDONLY)
        except OSError as e:
            return self.emit(name + " " + err_line(e))
        for typ in (fcntl.F_WRLCK, fcntl.F_RDLCK):
            runs = []  # [answer, first, last]
            for at in PROBE_POINTS:
                try:
                    answer = self.lock_line(query(f, fcntl.F_OFD_GETLK, typ, os.SEEK_SET, at, 1))
                except OSError as e:
                    answer = err_line(e)
                if runs and runs[-1][0] == answer:
                    runs[-1][2] = at
                else:
                    runs.append([answer, at, at])
            for answer, first, last in runs:
                self.emit("probe %s %d %d-%d %s" % (name, typ, first, last, answer))
        got = []
        for op in (fcntl.LOCK_SH, fcntl.LOCK_EX):
            try:
                fcntl.flock(f, op | fcntl.LOCK_NB)
                got.append("ok")
            except OSError as e:
                got.append(str(e.errno))
        self.emit("probe %s flock sh=%s ex=%s" % (name, got[0], got[1]))
        return None

    def close_slots(self):
        for i in range(SLOTS):
            try:
                os.close(FD0 + i)
            except OSError:
                pass


def run_locks_script(apply_script, path, out):
    d = LockDriver(out, os.getpid())
    d.start_child()
    try:
        apply_script(path, out, d)
        d.emit("guards:")
        d.release_guards()
        d.in_child(["c", "release", "0"])
        d.emit("parent:")
        d.dump_slots()
        d.emit("child:")
        d.in_child(["c", "slots", "0"])
        d.dump_locks()
    finally:
        d.stop_child()
        d.close_slots()
