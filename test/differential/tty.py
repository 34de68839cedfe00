# test/differential/tty.py — the Python side of the tty domain (see run.py): terminals and
# pseudo-terminals with Python's os and fcntl (no termios: the ioctl numbers are spelled out), and
# for posix_openpt, grantpt, unlockpt and ptsname, which Python 3.11 lacks, the C library's
# functions through ctypes, called as Python 3.13's os calls them (O_CLOEXEC added, ptsname_r, an
# error naming no path). tty.cpp does the same with ospp and must print the same lines.
#
# Each script runs in a process of its own that leads a new session (no controlling terminal yet)
# with SIGHUP and the other signals a terminal sends blocked (BLOCKED), so that a hangup or a ^C
# shows as a pending signal rather than ending the script.
# Descriptor slot i is the number FD0 + i, as in pipes.
#
# Nothing may block, and nothing may depend on when the kernel gets to a pty's input: what is
# written to one end reaches the other through work the kernel queues, and a read or poll of a pty
# end runs that work only when the end has nothing to read yet. So before each operation both
# drivers read whatever every pty end in a slot holds into a buffer of their own (settle), round
# after round until two rounds running read nothing: then no work is left (the slave's, on the
# input written to its master, queues the echo; the master's, run in the next round, has none).
# A "read" of a pty end takes its bytes from that buffer, then the error or end of file settle
# met, and is "blocking" when there is neither; FIONREAD and the dump see the kernel's state after
# settle. A write to a master whose slave no slot holds is not made ("noslave"): no read or poll
# of ours could run that slave's work. A read of anything else (pipe, file) is real, "blocking"
# when it does not poll readable.
#
# Pty numbers differ between the drivers: every /dev/pts/N in a line is printed as /dev/pts/pK,
# K the newest pair of the script with that number (pairs are numbered as they are made; a
# number is free again only once both ends are closed).
import ctypes
import fcntl
import os
import re
import select
import signal
import stat
import struct
import sys

from driver import dec_bytes, enc, err_line, read_to_end

FD0 = 40
SLOTS = 6
TIOCSCTTY, TIOCNOTTY, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TIOCGPTN = 0x540E, 0x5422, 0x5413, 0x5414, 0x541B, 0x80045430
FLAGS = {"R": os.O_RDWR, "r": os.O_RDONLY, "w": os.O_WRONLY, "N": os.O_NOCTTY, "n": os.O_NONBLOCK,
         "d": os.O_DIRECTORY, "D": os.O_DIRECT, "c": os.O_CREAT, "x": os.O_EXCL, "P": os.O_PATH}
NONE_PID = 2**31 - 1
WATCHDOG_SECONDS = 20
# blocked in the script's process, and shown pending in the dump: a hangup's SIGHUP (and SIGCONT),
# the line discipline's SIGINT and SIGQUIT (^C, ^\\), a window size change's SIGWINCH
BLOCKED = [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGCONT, signal.SIGTSTP, signal.SIGTTIN,
           signal.SIGTTOU, signal.SIGWINCH]
libc = ctypes.CDLL(None, use_errno=True)
PTS_RE = re.compile(r"/dev/pts/(\d+)")


def flags(letters):
    f = 0
    for c in letters:
        f |= FLAGS[c]
    return f


def c_call(r):
    """A C library call's result, or its errno as Python's OSError (no path, as 3.13's os)."""
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def pty_number(fd):
    """The pty number of a master (TIOCGPTN), or None."""
    try:
        return struct.unpack("I", fcntl.ioctl(fd, TIOCGPTN, b"\0" * 4))[0]
    except OSError:
        return None


def ctty_number():
    """The controlling terminal of this process as /dev/pts/N, "none" or "other" (/proc/self/stat)."""
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    nr = int(fields[4])  # state ppid pgrp session tty_nr
    major, minor = (nr >> 8) & 0xFFF, (nr & 0xFF) | ((nr >> 12) & 0xFFF00)
    if nr == 0:
        return "none"
    if 136 <= major < 144:
        return "/dev/pts/%d" % ((major - 136) * 256 + minor)
    return "other"


def is_pty(fd):
    """Whether fd is a pty master or slave, or /dev/tty (the controlling terminal, here always a
    slave), by its /proc/self/fd link."""
    try:
        target = os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        return False
    return target.startswith("/dev/pts/") or target in ("/dev/ptmx", "/dev/tty")


def describe_terminal(given=None):
    """What a child on a new terminal sees (login, forkpty): its session, stdin, and terminal,
    whether 0-2 are inheritable, and whether the descriptor login_tty was given is still open."""
    parts = ["sid=%d" % (os.getsid(0) == os.getpid()), "tty0=%d" % os.isatty(0),
             "inh=" + "".join("%d" % os.get_inheritable(i) for i in range(3))]
    if given is not None:
        parts.append("given=%d" % (os.path.exists("/proc/self/fd/%d" % given)))
    try:
        parts.append("name=" + os.ttyname(0))
    except OSError as e:
        parts.append("name=E%d" % e.errno)
    try:
        parts.append("fg=%d" % (os.tcgetpgrp(0) == os.getpgrp()))
    except OSError as e:
        parts.append("fg=E%d" % e.errno)
    parts.append("ctty=" + ctty_number())
    return " ".join(parts)


class TtyDriver:
    def __init__(self, out):
        self.out = out
        self.stopped = False  # (the script loop's protocol; no operation here ends a script)
        self.pairs = []  # the pty number of each pair made, in order
        self.master_of = {}  # slot -> pair, for a slot holding a master the script made
        self.held = [b""] * SLOTS  # what settle read from a pty end, not yet read by the script
        self.ended = [None] * SLOTS
        self.parent_pgrp = os.getpgid(os.getppid())

    def emit(self, line):
        self.out.append(PTS_RE.sub(lambda m: "/dev/pts/" + self.pair_token(int(m.group(1))), line))

    def pair_token(self, n):
        for k in range(len(self.pairs) - 1, -1, -1):
            if self.pairs[k] == n:
                return "p%d" % k
        return "unknown"

    def place(self, fd, slot):
        os.dup2(fd, FD0 + slot, inheritable=False)
        os.close(fd)
        self.master_of.pop(slot, None)
        self.held[slot] = b""
        n = pty_number(FD0 + slot)
        if n is not None:
            self.master_of[slot] = len(self.pairs)
            self.pairs.append(n)

    def settle(self):
        """Reads what every pty end in a slot holds into self.held, round after round until two
        rounds running get nothing (a read or poll of an end with nothing to read runs its line
        discipline's pending work: a slave's on the input written to the master, which queues the
        echo it sends back, which the master's runs in the next round); a read's error or end of
        file is kept in self.ended for this operation."""
        self.ended = [None] * SLOTS
        empty = 0
        while empty < 2:
            got = False
            for i in range(SLOTS):
                fd = FD0 + i
                if self.ended[i] is not None or not is_pty(fd) or not self.readable(fd):
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError as e:
                    self.ended[i] = e
                    continue
                if not chunk:
                    self.ended[i] = b""
                self.held[i] += chunk
                got = got or bool(chunk)
            empty = 0 if got else empty + 1

    def pgrp(self, t):
        return {"self": os.getpgrp(), "0": 0, "-1": -1, "none": NONE_PID, "init": 1,
                "parent": self.parent_pgrp}[t]

    def run(self, tokens):
        self.settle()
        try:
            r = self.dispatch(tokens[0], tokens[1:])
            self.emit("ok" if r is None else "ok " + r)
        except OSError as e:
            self.emit(err_line(e))

    def dispatch(self, op, a):
        s = FD0 + int(a[0]) if a and a[0].isdigit() else None
        if op == "openpty":
            m, t = os.openpty()
            self.place(m, int(a[0]))
            self.place(t, int(a[1]))
        elif op == "openpt":
            self.place(c_call(libc.posix_openpt(flags(a[1]) | os.O_CLOEXEC)), int(a[0]))
        elif op == "grantpt":
            c_call(libc.grantpt(s))
        elif op == "unlockpt":
            c_call(libc.unlockpt(s))
        elif op == "ptsname":
            buf = ctypes.create_string_buffer(128)
            e = libc.ptsname_r(s, buf, 128)
            if e != 0:
                raise OSError(e, os.strerror(e))
            return enc(buf.value)
        elif op == "openpts":
            if int(a[0]) not in self.master_of:
                return "nomaster"
            path = "/dev/pts/%d" % self.pairs[self.master_of[int(a[0])]]
            self.place(os.open(path, flags(a[2]) | os.O_CLOEXEC), int(a[1]))
        elif op == "file":
            self.place(os.open("f", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644), int(a[0]))
        elif op == "pipe":
            r, w = os.pipe()
            self.place(r, int(a[0]))
            self.place(w, int(a[1]))
        elif op == "devtty":  # the controlling terminal (ENXIO: none)
            self.place(os.open("/dev/tty", flags(a[1]) | os.O_CLOEXEC), int(a[0]))
        elif op == "null":
            self.place(os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC), int(a[0]))
        elif op == "close":
            self.master_of.pop(int(a[0]), None)
            self.held[int(a[0])] = b""
            os.close(s)
        elif op == "isatty":
            return str(os.isatty(s))
        elif op == "ttyname":
            return enc(os.ttyname(s))
        elif op == "gts":
            ts = os.get_terminal_size(s)
            return "%dx%d" % (ts.columns, ts.lines)
        elif op == "setwinsz":
            fcntl.ioctl(s, TIOCSWINSZ, struct.pack("HHHH", int(a[1]), int(a[2]), 0, 0))
        elif op == "getwinsz":
            return "%d %d %d %d" % struct.unpack("HHHH", fcntl.ioctl(s, TIOCGWINSZ, b"\0" * 8))
        elif op == "fionread":
            return str(struct.unpack("i", fcntl.ioctl(s, FIONREAD, b"\0" * 4))[0])
        elif op == "write":
            if int(a[0]) in self.master_of and not self.slave_held(self.master_of[int(a[0])]):
                # the line discipline of a slave that no slot holds works on the input (and
                # echoes it) when it gets to it: no poll of ours can wait for that
                return "noslave"
            return str(os.write(s, dec_bytes(a[1])))
        elif op == "read":
            i = int(a[0])
            if is_pty(s):  # what settle read, then its error or end of file
                if self.held[i]:
                    data, self.held[i] = self.held[i][:int(a[1])], self.held[i][int(a[1]):]
                    return enc(data)
                if self.ended[i] is None:
                    return "blocking"
                if isinstance(self.ended[i], OSError):
                    raise self.ended[i]
                return enc(b"")
            if not self.readable(s):
                return "blocking"
            return enc(os.read(s, int(a[1])))
        elif op == "sctty":
            return str(fcntl.ioctl(s, TIOCSCTTY, int(a[1])))
        elif op == "notty":
            return str(fcntl.ioctl(s, TIOCNOTTY, 0))
        elif op == "tcgetpgrp":
            g = os.tcgetpgrp(s)
            return "self" if g == os.getpgrp() else "0" if g == 0 else "other"
        elif op == "tcsetpgrp":
            os.tcsetpgrp(s, self.pgrp(a[1]))
        elif op == "ctermid":
            return enc(os.ctermid())
        elif op == "login":
            return self.login(s)
        elif op == "steal":
            return self.login(s, steal=True)
        elif op == "hupchild":
            return self.hupchild(int(a[0]))
        elif op == "forkpty":
            return self.forkpty(int(a[0]))
        else:
            raise SystemExit("tty.py: unknown operation " + op)
        return None

    def slave_held(self, pair):
        """Whether a slot holds the slave of pair."""
        for i in range(SLOTS):
            try:
                if os.readlink("/proc/self/fd/%d" % (FD0 + i)) == "/dev/pts/%d" % self.pairs[pair]:
                    return True
            except OSError:
                pass
        return False

    @staticmethod
    def readable(fd):
        """A regular file, or a descriptor that polls readable (or hung up, in error, closed)."""
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                return True
        except OSError:
            return True
        p = select.poll()
        p.register(fd, select.POLLIN)
        return any(ev & (select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in p.poll(0))

    def login(self, s, steal=False):
        """os.login_tty(slot) in a child, or (steal) setsid and TIOCSCTTY with 1, which takes the
        terminal from the session that has it (EPERM without CAP_SYS_ADMIN); the child's report
        (or error) comes back over a pipe."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                try:
                    if steal:
                        os.setsid()
                        line = "%d %s" % (fcntl.ioctl(s, TIOCSCTTY, 1), describe_terminal())
                    else:
                        os.login_tty(s)
                        line = describe_terminal(s)
                except OSError as e:
                    line = err_line(e)
                os.write(w, line.encode())
            finally:
                os._exit(0)
        data, st = collect(r, w, pid)
        return "%s status %x" % (data.decode(), st)

    def hupchild(self, slot):
        """A child in this process's group with SIGHUP unblocked, waiting on a pipe while slot is
        closed (a master whose slave is the controlling terminal hangs it up: SIGHUP goes to the
        session's leader only, so the child lives on); then let go and reaped."""
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_r)
                os.close(go_w)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGHUP])
                os.write(ready_w, b"x")
                os.read(go_r, 1)
            finally:
                os._exit(0)
        os.close(ready_w)
        os.close(go_r)
        os.read(ready_r, 1)
        os.close(ready_r)
        self.master_of.pop(slot, None)
        self.held[slot] = b""
        try:
            os.close(FD0 + slot)
            line = "closed"
        except OSError as e:
            line = err_line(e)
        os.close(go_w)
        return "%s status %x" % (line, os.waitpid(pid, 0)[1])

    def forkpty(self, slot):
        """os.forkpty(): the child describes its terminal on it and exits; the master goes to slot."""
        pid, m = os.forkpty()
        if pid == 0:
            try:
                os.write(1, (describe_terminal() + "\n").encode())
            finally:
                os._exit(0)
        _, st = os.waitpid(pid, 0)
        self.place(m, slot)
        return "status %x" % st

    def dump(self):
        self.settle()
        for i in range(SLOTS):
            self.emit("slot %d %s" % (i, self.describe(FD0 + i)))
        pending = signal.sigpending()
        self.emit("ctty %s pending %s" % (ctty_number(), ",".join(str(int(g)) for g in BLOCKED if g in pending) or "-"))

    def describe(self, fd):
        try:
            target = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            return "closed"
        if target in ("/dev/ptmx", "/dev/pts/ptmx"):
            n = pty_number(fd)
            kind = "master:/dev/pts/%d" % n if n is not None else "ptmx"
        elif target.startswith("/dev/pts/"):
            kind = "slave:" + target
        elif target == "/dev/tty":
            kind = "devtty"
        elif target == "/dev/null":
            kind = "null"
        elif target.startswith("pipe:"):
            kind = "pipe"
        else:
            kind = "file"
        parts = [kind, "tty=%d" % os.isatty(fd)]
        try:
            parts.append("winsz=%d,%d" % struct.unpack("HHHH", fcntl.ioctl(fd, TIOCGWINSZ, b"\0" * 8))[:2])
        except OSError as e:
            parts.append("winsz=E%d" % e.errno)
        try:
            parts.append("inq=%d" % struct.unpack("i", fcntl.ioctl(fd, FIONREAD, b"\0" * 4))[0])
        except OSError as e:
            parts.append("inq=E%d" % e.errno)
        if kind.startswith(("master", "slave", "ptmx", "devtty")):
            i = fd - FD0
            end = self.ended[i]
            end = "-" if end is None else "eof" if end == b"" else "E%d" % end.errno
            parts.append("data=%s end=%s" % (enc(self.held[i]), end))
        elif kind not in ("file", "null"):
            data, end = b"", "-"
            for _ in range(16):
                if not self.readable(fd):
                    break
                try:
                    chunk = os.read(fd, 4096)
                except OSError as e:
                    end = "E%d" % e.errno
                    break
                if not chunk:
                    end = "eof"
                    break
                data += chunk
            parts.append("data=%s end=%s" % (enc(data), end))
        return " ".join(parts)


def collect(r, w, pid):
    """In the parent of a child writing to pipe (r, w): what it wrote, and its wait status."""
    return read_to_end(r, w), os.waitpid(pid, 0)[1]


def run_tty_script(apply_script, path, out):
    """Runs the script in a process that leads a session of its own; appends the lines it wrote."""
    sys.stdout.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setsid()
            signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
            signal.alarm(WATCHDOG_SECONDS)
            lines = []
            d = TtyDriver(lines)
            apply_script(path, lines, d)
            d.dump()
            data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    data, st = collect(r, w, pid)
    if st != 0:
        data += b"script process: status %x\n" % st
    out.extend(line for line in data.decode("utf-8", "surrogateescape").split("\n") if line)
