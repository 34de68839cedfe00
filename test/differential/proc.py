# test/differential/proc.py — the Python side of the proc domain (see run.py): calls that read or
# change the process's own state, with Python's os, resource and signal. proc.cpp does the same
# with ospp and must print the same lines. driver.py runs it for --domain proc.
#
# Each script runs in a process of its own: the driver forks a process that starts a session of
# its own (so that PRIO_PGRP, kill(0) and setpgid reach nothing of the driver's), and that forks
# the script's process, which writes its lines to a pipe. The script's process is neither a group
# nor a session leader, so its first setsid succeeds. Process ids are printed as tokens: self,
# parent (the session's leader), c0, c1... (the script's children), 0, or "other".
import ctypes
import errno
import grp
import os
import pwd
import resource
import signal
import sys
import traceback

from driver import dec_bytes, enc, read_to_end

NONE_PID = 2**31 - 1  # no such process
RAISE = [1, 10, 12, 15, 34, 35, 64]  # gen_proc.py's: ignored from the start
NGROUPS_MAX = os.sysconf("SC_NGROUPS_MAX")
WATCHDOG_SECONDS = 20
PR_SET_CHILD_SUBREAPER = 36


def ints(t):
    """A comma-separated list of numbers; "-" is the empty list."""
    return [] if t == "-" else [int(x) for x in t.split(",")]


def limit_value(t):
    return resource.RLIM_INFINITY if t == "inf" else int(t)


def limit_text(v):
    # Python shows an rlim_t above 2^63 as a negative number (it converts a signed long long);
    # ospp's limit is the unsigned count
    return "inf" if v == resource.RLIM_INFINITY else str(v % 2**64)


def sig_list(s):
    return ",".join(str(int(x)) for x in sorted(s)) or "-"


def bool_text(b):
    return "1" if b else "0"


def has_cap_setgid():
    """Whether CAP_SETGID is in the effective set (what setgroups needs)."""
    fd = os.open("/proc/self/status", os.O_RDONLY)
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):  # (the Groups line may be long)
            chunks.append(chunk)
    finally:
        os.close(fd)
    status = b"".join(chunks).decode()
    cap_eff = next(l for l in status.splitlines() if l.startswith("CapEff:")).split()[1]
    return bool(int(cap_eff, 16) & (1 << 6))


# where each wait operation has its options (wait has none: it waits)
OPTIONS_AT = {"wait": None, "waitpid": 1, "wait3": 0, "wait4": 1, "waitid": 2, "pidfd_wait": 0}


def blocks(op, a):
    """Whether a wait operation would wait (no WNOHANG)."""
    if op not in OPTIONS_AT:
        return False
    i = OPTIONS_AT[op]
    return i is None or not int(a[i]) & os.WNOHANG


class ProcDriver:
    def __init__(self, out):
        self.out = out
        self.stopped = False  # (the script loop's protocol; no proc operation ends a script)
        self.children = []
        self.parent = os.getppid()
        self.pidfd = -1  # pidfd_open's descriptor
        self.stopped_children = []  # stopped, not continued: a wait that blocks could block for good

    def emit(self, line):
        self.out.append(line)

    def pid(self, t):
        """A pid token of the script as a number."""
        if t == "self":
            return os.getpid()
        if t == "parent":
            return self.parent
        if t == "none":
            return NONE_PID
        if t == "neg":
            return -1
        if t == "min":
            return -2**31
        if t == "pgrp":
            return os.getpgrp()
        if t == "-pgrp":
            return -os.getpgrp()
        if t.startswith("c"):
            i = int(t[1:])
            return self.children[i] if i < len(self.children) else NONE_PID
        return int(t)

    def tok(self, p):
        """A pid as a token (pids differ between the drivers)."""
        if p == 0:
            return "0"
        if p == os.getpid():
            return "self"
        if p == self.parent:
            return "parent"
        if p in self.children:
            return "c%d" % self.children.index(p)
        return "other"

    def run(self, tokens):
        self.emit(self.run_line(tokens))

    def run_line(self, tokens):
        """The line of one operation."""
        op, a = tokens[0], tokens[1:]
        try:
            r = self.dispatch(op, a)
            return "ok" if r is None else "ok " + r
        except OSError as e:
            return "ERR %d %s" % (e.errno, str(OSError(e.errno, os.strerror(e.errno), e.filename)))
        except ValueError as e:
            # Python's ValueError is EINVAL in ospp (resource.hpp, sched.hpp, environ.hpp,
            # wait.hpp, sysinfo.hpp), but for setrlimit's two messages: EPERM for "not allowed
            # to raise maximum limit" (resource.hpp)
            code = errno.EPERM if "not allowed to raise" in str(e) else errno.EINVAL
            return "ERR %d %s" % (code, str(OSError(code, os.strerror(code))))
        except OverflowError:
            return "RAISE"

    def status(self, st):
        """Every W* macro of a status, and waitstatus_to_exitcode."""
        try:
            code = str(os.waitstatus_to_exitcode(st))
        except ValueError:
            code = "E%d" % errno.EINVAL
        # deliberate: ospp's core_dumped() is false unless the status is signaled(); Python's
        # WCOREDUMP tests the 0x80 bit alone and says True for a continued status (wait.hpp)
        core = os.WCOREDUMP(st) and os.WIFSIGNALED(st)
        return "raw=%x exited=%s code=%d signaled=%s term=%d core=%s stopped=%s stop=%d continued=%s exitcode=%s" % (
            st & 0xffffffff, bool_text(os.WIFEXITED(st)), os.WEXITSTATUS(st), bool_text(os.WIFSIGNALED(st)),
            os.WTERMSIG(st), bool_text(core), bool_text(os.WIFSTOPPED(st)), os.WSTOPSIG(st),
            bool_text(os.WIFCONTINUED(st)), code)

    def waitid_text(self, r):
        if r is None:
            return "None"
        return "pid=%s uid=%d signo=%d status=%d code=%d" % (self.tok(r.si_pid), r.si_uid, r.si_signo, r.si_status,
                                                              r.si_code)

    def pidfd_close(self):
        """Closes the pidfd; -1 (EBADF for every use) when there is none."""
        if self.pidfd >= 0:
            os.close(self.pidfd)
        self.pidfd = -1

    def spawn(self, a):
        """A child that exits with a[1], kills itself with signal a[1], or stops itself (and
        exits with 7 once continued); waited for (without reaping it) until it has, so that a
        WNOHANG wait finds it ended or stopped."""
        pid = os.fork()
        if pid == 0:
            try:
                if a[0] == "stop":
                    signal.pthread_sigmask(signal.SIG_SETMASK, [])
                    os.kill(os.getpid(), signal.SIGSTOP)
                    os._exit(7)
                if a[0] == "sig":
                    s = int(a[1])
                    if s not in (signal.SIGKILL, signal.SIGSTOP):  # (EINVAL: never anything else)
                        signal.signal(s, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_SETMASK, [])
                    os.kill(os.getpid(), s)
                    os._exit(99)
                os._exit(int(a[1]) & 0xff)
            finally:
                os._exit(98)
        self.children.append(pid)
        if a[0] == "stop":
            self.stopped_children.append(pid)
            os.waitid(os.P_PID, pid, os.WSTOPPED | os.WNOWAIT)
        else:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return self.tok(pid)

    def cont(self, t):
        """SIGCONT to a stopped child, then waited for (without reaping it) until it has exited."""
        pid = self.pid(t)
        if pid not in self.stopped_children:
            return "not stopped"
        os.kill(pid, signal.SIGCONT)  # (EPERM once the script has changed its uids and session)
        self.stopped_children.remove(pid)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return None

    def dispatch(self, op, a):
        num = lambda i: int(a[i])
        if self.stopped_children and blocks(op, a):
            return "not while a child is stopped"
        if op == "umask":
            return "%o" % os.umask(int(a[0], 8))
        if op == "getrlimit":
            soft, hard = resource.getrlimit(num(0))
            return "%s %s" % (limit_text(soft), limit_text(hard))
        if op == "setrlimit":
            return resource.setrlimit(num(0), (limit_value(a[1]), limit_value(a[2])))
        if op == "prlimit":
            if not 0 <= num(1) < 16:
                # deliberate: the kernel looks the process up before it checks the resource, so
                # ospp's prlimit of a missing pid is ESRCH whatever the resource; Python checks
                # the resource first (resource.hpp)
                resource.prlimit(self.pid(a[0]), 0)
            args = [self.pid(a[0]), num(1)] + ([(limit_value(a[2]), limit_value(a[3]))] if len(a) > 2 else [])
            soft, hard = resource.prlimit(*args)
            return "%s %s" % (limit_text(soft), limit_text(hard))
        if op == "getrusage":
            ru = resource.getrusage(num(0))
            return "utime>=0:%s maxrss>0:%s" % (bool_text(ru.ru_utime >= 0), bool_text(ru.ru_maxrss > 0))
        if op == "getpriority":
            return str(os.getpriority(num(0), self.pid(a[1])))
        if op == "setpriority":
            return os.setpriority(num(0), self.pid(a[1]), num(2))
        if op == "nice":
            # deliberate: ospp's nice counts an increment beyond +-40 as +-40, so that INT_MAX
            # cannot wrap around to -20 inside glibc's nice(3) as Python's does (process.hpp)
            return str(os.nice(max(-40, min(40, num(0)))))
        if op == "getaffinity":
            return ",".join(str(c) for c in sorted(os.sched_getaffinity(self.pid(a[0])))) or "-"
        if op == "setaffinity":
            try:
                return os.sched_setaffinity(self.pid(a[0]), ints(a[1]))
            except ValueError:
                # deliberate: a negative CPU number is Python's ValueError, a huge one its
                # OverflowError; ospp's cpu_set throws std::length_error for both (sched.hpp)
                raise OverflowError()
        if op == "getscheduler":
            return str(os.sched_getscheduler(self.pid(a[0])))
        if op == "setscheduler":
            return os.sched_setscheduler(self.pid(a[0]), num(1), os.sched_param(num(2)))
        if op == "getparam":
            return str(os.sched_getparam(self.pid(a[0])).sched_priority)
        if op == "setparam":
            return os.sched_setparam(self.pid(a[0]), os.sched_param(num(1)))
        if op == "primin":
            return str(os.sched_get_priority_min(num(0)))
        if op == "primax":
            return str(os.sched_get_priority_max(num(0)))
        if op == "rrinterval":
            return "%s" % bool_text(os.sched_rr_get_interval(self.pid(a[0])) >= 0)
        if op in ("putenv", "unsetenv"):
            key = dec_bytes(a[0])
            try:
                if op == "putenv":
                    os.environb[key] = dec_bytes(a[1])
                else:
                    del os.environb[key]
            except KeyError:
                pass  # os.unsetenv of a missing name succeeds
            except (ValueError, OSError):
                # deliberate: Python's ValueError (putenv) or unnamed EINVAL (unsetenv) for a bad
                # key; ospp's EINVAL names the key, as an error names a path (environ.hpp)
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), os.fsdecode(key))
            return None
        if op == "getenv":
            v = os.getenvb(dec_bytes(a[0]))
            return "None" if v is None else enc(v)
        if op == "execpath":
            return " ".join(enc(p) for p in os.get_exec_path()) or "-"
        if op == "execpathenv":
            env = {}
            for entry in ([] if a == [] else a[0].split(",")):
                key, eq, value = dec_bytes(entry).partition(b"=")
                if eq:
                    env.setdefault(key, value)  # the first of two wins, as in an environ array
            return " ".join(enc(p) for p in os.get_exec_path(env)) or "-"
        if op == "sigmask":
            how = num(0)
            # deliberate: a number that is no signal (0, 65, negative) is Python's ValueError;
            # ospp's signal_set leaves it out silently, as it does glibc's reserved 32 and 33,
            # for which Python only warns (signal.hpp)
            if a[1] == "all":
                sigs = signal.valid_signals()
            else:
                sigs = [s for s in ints(a[1]) if 1 <= s <= signal.SIGRTMAX and s not in (32, 33)]
            return sig_list(signal.pthread_sigmask(how, sigs))
        if op == "raise":
            s = num(0)
            if s not in signal.pthread_sigmask(signal.SIG_BLOCK, []):
                return "not blocked"
            os.kill(os.getpid(), s)
            return None
        if op == "signame":
            n = num(0)
            try:
                return signal.Signals(n).name[3:]
            except ValueError:
                # deliberate: Python names only SIGRTMIN and SIGRTMAX of the real-time signals;
                # ospp names the others RTMIN+n, glibc's reserved 32 and 33 by their number, and
                # gives "" for a number that is no signal (signal.hpp)
                if signal.SIGRTMIN < n < signal.SIGRTMAX:
                    return "RTMIN+%d" % (n - signal.SIGRTMIN)
                return str(n) if n in (32, 33) else ""
        if op == "strsignal":
            n = num(0)
            try:
                text = signal.strsignal(n)
            except ValueError:
                text = None
            # deliberate: None (32, 33) or ValueError (no signal) in Python is "Unknown signal N"
            # in ospp (signal.hpp)
            return enc(text if text is not None else "Unknown signal %d" % n)
        if op == "validsignals":
            return sig_list(signal.valid_signals())
        if op == "pcpucount":
            # Python 3.13's os.process_cpu_count(): the affinity mask's size
            return str(len(os.sched_getaffinity(0)))
        if op == "getppid":
            return self.tok(os.getppid())
        if op == "pidfd_open":
            self.pidfd_close()
            self.pidfd = os.pidfd_open(self.pid(a[0]), num(1))
            return None
        if op == "pidfd_send":
            return signal.pidfd_send_signal(self.pidfd, num(0))
        if op == "pidfd_wait":
            r = os.waitid(os.P_PIDFD, self.pidfd, num(0))
            return self.waitid_text(r)
        if op == "pidfd_close":
            return self.pidfd_close()
        if op == "sigpending":
            return sig_list(signal.sigpending())
        if op in ("sigdfl", "sigign"):
            s = num(0)
            if not 1 <= s <= signal.SIGRTMAX:
                raise OSError(errno.EINVAL, "")  # Python's ValueError ("signal number out of range")
            signal.signal(s, signal.SIG_DFL if op == "sigdfl" else signal.SIG_IGN)
            return None
        if op == "kill":
            return os.kill(self.pid(a[0]), num(1))
        if op == "killpg":
            return os.killpg(self.pid(a[0]), num(1))
        if op == "ids":
            return self.ids()
        if op in ("setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid", "setresuid", "setresgid"):
            return getattr(os, op)(*[int(x) for x in a])
        if op == "setgroups":
            if a[0] in ("many", "toomany"):
                groups = list(range(NGROUPS_MAX + (a[0] == "toomany")))
            else:
                groups = ints(a[0])
            if len(groups) > NGROUPS_MAX and not has_cap_setgid():
                # deliberate: the kernel checks the privilege before the count, so ospp's
                # setgroups of too many groups without it is EPERM; Python's ValueError comes
                # before the call (ids.hpp)
                raise OSError(errno.EPERM, os.strerror(errno.EPERM))
            return os.setgroups(groups)
        if op in ("getpwnam", "getpwuid", "getgrnam", "getgrgid"):
            key = num(0) if op.endswith("id") else os.fsdecode(dec_bytes(a[0]))
            try:
                e = getattr(pwd if op.startswith("getpw") else grp, op)(key)
            except KeyError:
                # deliberate: Python's KeyError is ENOENT in ospp, naming the name or the number
                # (ids.hpp)
                raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), str(key))
            except ValueError:
                # deliberate: a NUL byte in a name is Python's ValueError, ospp's EINVAL naming
                # it, as for a path (ids.hpp)
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), key)
            if op.startswith("getpw"):
                return " ".join(enc(str(x)) for x in e)
            return "%s %s %d %s" % (enc(e.gr_name), enc(e.gr_passwd), e.gr_gid, ",".join(enc(m) for m in e.gr_mem) or "-")
        if op == "getgrouplist":
            user = os.fsdecode(dec_bytes(a[0]))
            try:
                groups = os.getgrouplist(user, num(1))
            except ValueError:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), user)  # (as getpwnam's)
            # Python shows the gid 2^32-1 as -1 (a signed conversion)
            return ",".join(str(g % 2**32) for g in groups) or "-"
        if op == "getlogin":
            return enc(os.getlogin())
        if op == "ctermid":
            return enc(os.ctermid())
        if op == "getpgid":
            return self.tok(os.getpgid(self.pid(a[0])))
        if op == "getsid":
            return self.tok(os.getsid(self.pid(a[0])))
        if op == "setpgid":
            return os.setpgid(self.pid(a[0]), self.pid(a[1]))
        if op == "setsid":
            os.setsid()  # None; ospp's returns the new session id
            return self.tok(os.getsid(0))
        if op == "setpgrp":
            return os.setpgrp()
        if op == "getpgrp":
            return self.tok(os.getpgrp())
        if op == "spawn":
            return self.spawn(a)
        if op == "cont":
            return self.cont(a[0])

        if op == "waitpid":
            pid, st = os.waitpid(self.pid(a[0]), num(1))
            return "%s %s" % (self.tok(pid), self.status(st))
        if op == "wait":
            pid, st = os.wait()
            return "%s %s" % (self.tok(pid), self.status(st))
        if op in ("wait3", "wait4"):
            pid, st, ru = os.wait3(num(0)) if op == "wait3" else os.wait4(self.pid(a[0]), num(1))
            return "%s %s utime>=0:%s" % (self.tok(pid), self.status(st), bool_text(ru.ru_utime >= 0))
        if op == "waitid":
            return self.waitid_text(os.waitid(num(0), self.pid(a[1]), num(2)))
        if op == "status":
            return self.status(num(0))
        if op == "sysconf":
            v = os.sysconf(a[0])
            # the free memory changes from one call to the next
            return "varies" if a[0] == "SC_AVPHYS_PAGES" else str(v)
        if op in ("sysconfall", "confstrall", "strerrorall"):
            names = {"sysconfall": sorted(os.sysconf_names), "confstrall": sorted(os.confstr_names),
                     "strerrorall": [str(n) for n in range(-2, 140)]}[op]
            for name in names:
                self.emit("%s %s" % (name, self.run_line([op[:-3], name])))
            return None
        if op == "confstr":
            v = os.confstr(a[0])
            return "None" if v is None else enc(v)
        if op == "sysconfnames":
            return " ".join("%s=%d" % kv for kv in sorted(os.sysconf_names.items()))
        if op == "confstrnames":
            return " ".join("%s=%d" % kv for kv in sorted(os.confstr_names.items()))
        if op == "uname":
            return " ".join(enc(x) for x in os.uname())
        if op == "cpucount":
            return str(os.cpu_count())
        if op == "pagesize":
            return "%d %d" % (resource.getpagesize(), os.sysconf("SC_PAGESIZE"))
        if op == "strerror":
            return enc(os.strerror(num(0)))
        raise SystemExit("unknown proc op " + op)

    def ids(self):
        return "res=%s resg=%s groups=%s" % (",".join(map(str, os.getresuid())), ",".join(map(str, os.getresgid())),
                                             ",".join(map(str, os.getgroups())) or "-")

    def dump(self):
        m = os.umask(0)
        os.umask(m)
        self.emit("umask %o" % m)
        for res in range(16):
            soft, hard = resource.getrlimit(res)
            self.emit("rlimit %d %s %s" % (res, limit_text(soft), limit_text(hard)))
        self.emit("priority %d" % os.getpriority(os.PRIO_PROCESS, 0))
        self.emit("affinity " + (",".join(str(c) for c in sorted(os.sched_getaffinity(0))) or "-"))
        self.emit("scheduler %d %d" % (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority))
        for k, v in sorted(os.environb.items()):
            self.emit("env %s=%s" % (enc(k), enc(v)))
        self.emit("blocked " + sig_list(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        self.emit("pending " + sig_list(signal.sigpending()))
        self.emit("ids " + self.ids())
        self.emit("pgrp %s sid %s" % (self.tok(os.getpgrp()), self.tok(os.getsid(0))))


def start():
    """The state every script starts from: an environment of PATH alone, the signals a script
    may raise ignored, none blocked (as proc.cpp's start)."""
    os.environb.clear()
    os.environb[b"PATH"] = b"/usr/bin:/bin"
    for s in RAISE:
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def script_process(apply_script, path, w):
    """The script's process: applies it and writes its lines to w."""
    out = []
    code = 0
    try:
        start()
        d = ProcDriver(out)
        apply_script(path, out, d)
        d.dump()
        # reaps what the script left; a stopped child (alive: never another process) is killed
        # first; one the script may no longer kill (setuid and the like) is left to the
        # session's leader
        for c in d.children:
            try:
                if c in d.stopped_children:
                    os.kill(c, signal.SIGKILL)
                os.waitpid(c, 0)
            except (ChildProcessError, PermissionError):
                pass
    except BaseException:
        out.append("python driver error: " + traceback.format_exc().replace("\n", " | "))
        code = 1
    data = ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")
    while data:
        data = data[os.write(w, data):]
    os._exit(code)


def sweep():
    """The session leader's end: kills and reaps the children the script's process left it
    (stopped ones it could no longer kill itself). Each is a child of this process, not yet
    reaped, so its pid is never another process's."""
    with open("/proc/self/task/%d/children" % os.getpid()) as f:
        for c in f.read().split():
            os.kill(int(c), signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def run_proc_script(apply_script, path, out):
    """Forks the session leader, which forks the script's process; appends the lines it wrote."""
    sys.stdout.flush()
    r, w = os.pipe()
    leader = os.fork()
    if leader == 0:
        try:
            os.close(r)
            os.setsid()
            # the script's children that outlive it come here (sweep)
            ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1)
            child = os.fork()
            if child == 0:
                script_process(apply_script, path, w)
            # a watchdog: a script that waits for good (a bug of the drivers, or of os) is killed
            # after a while, and its status is the difference
            signal.signal(signal.SIGALRM, lambda *_: os.kill(child, signal.SIGKILL))
            signal.alarm(WATCHDOG_SECONDS)
            _, st = os.waitpid(child, 0)
            if st != 0:
                os.write(w, b"script process: status %x\n" % st)
            sweep()
        finally:
            os._exit(0)
    data = read_to_end(r, w)
    os.waitpid(leader, 0)
    out.extend(line for line in data.decode("utf-8", "surrogateescape").split("\n") if line)
