# test/differential/spawn.py — the Python side of the spawn domain (see run.py): os.posix_spawn and
# os.posix_spawnp (every keyword), os.spawn* (P_WAIT, P_NOWAIT), os.exec* in a forked child, and
# os.get_exec_path. spawn.cpp does the same with ospp and must print the same lines. driver.py
# runs it for --domain spawn.
#
# The program started is spawn_helper (OSPP_SPAWN_HELPER, read before the script empties the
# environment); it writes what it saw to descriptor 1, a capture file beside the script's directory
# for the whole script. After each child is reaped its lines are printed, prefixed "| ", and the
# file is emptied. An exec failure in a forked child comes back over a pipe as the error line.
import errno
import fcntl
import os
import signal

from driver import OPEN_FLAGS, dec, enc, err_line, read_to_end

HELPER = os.environ.get("OSPP_SPAWN_HELPER", "/nonexistent/spawn_helper")
DRIVER_SIGNALS = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM]
# the exec* call that fails the way a spawn* call's child does
EXEC_OF = {"spawnv": "execv", "spawnl": "execv", "spawnve": "execve", "spawnle": "execve",
           "spawnvp": "execvp", "spawnlp": "execvp", "spawnvpe": "execvpe", "spawnlpe": "execvpe"}


def prog(t):
    return HELPER if t == "@H" else dec(t)


def strings(t):
    return [] if t == "-" else [dec(s) for s in t.split(",")]


def env_of(t):
    if t == "none":
        return None
    env = {}
    for p in ([] if t == "-" else t.split(",")):
        k, v = p.split(":", 1)
        env[dec(k)] = dec(v)
    return env


def flags_of(letters):
    f = 0
    for c in letters:
        f |= OPEN_FLAGS[c]
    return f


def signals_of(t):
    return set() if t == "-" else {int(n) for n in t.split(",")}


def spawn_signals(t):
    """A setsigmask/setsigdef set."""
    # deliberate: ospp's signal_set leaves out a number that is no signal (0, 65), where Python's
    # posix_spawn raises ValueError (signal.hpp), and glibc's reserved 32 and 33, which Python
    # leaves out with a RuntimeWarning.
    return {n for n in signals_of(t) if 1 <= n <= 64 and n not in (32, 33)}


def status_line(status):
    code = os.waitstatus_to_exitcode(status)
    return "signal %d" % -code if code < 0 else "exit %d" % code


def einval(path=None):
    """Python's ValueError (a NUL byte, an empty argv or argv[0], an illegal environment name) as
    ospp's EINVAL, naming the path where the ospp call names one."""
    # deliberate: ValueError is EINVAL in ospp (spawn.hpp, process.hpp).
    return err_line(OSError(errno.EINVAL, os.strerror(errno.EINVAL), *([path] if path is not None else [])))


def call_exec(fn, path, args, env):
    if fn == "execv":
        os.execv(path, args)
    elif fn == "execve":
        os.execve(path, args, env)
    elif fn == "execvp":
        os.execvp(path, args)
    elif fn == "execvpe":
        os.execvpe(path, args, env)
    elif fn == "execl":
        os.execl(path, *args)
    elif fn == "execle":
        os.execle(path, *args, env)
    elif fn == "execlp":
        os.execlp(path, *args)
    else:
        os.execlpe(path, *args, env)


def exec_child(fn, path, args, env):
    """Forks a child that calls exec; returns (its error line or "", its pid)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            try:
                call_exec(fn, path, args, env)
                line = "returned"
            except OSError as e:
                if isinstance(e.filename, bytes):
                    # deliberate: os.execvpe searches PATH with bytes, so its error names the
                    # candidate as bytes (b'd1/prog'); ospp's names it as any path (process.hpp).
                    e = OSError(e.errno, e.strerror, os.fsdecode(e.filename))
                line = err_line(e)
            except ValueError:
                line = einval(path if fn in ("execve", "execvpe", "execle", "execlpe") else None)
            os.write(w, line.encode("utf-8", "surrogateescape"))
        finally:
            os._exit(127)
    return read_to_end(r, w).decode("utf-8", "surrogateescape"), pid


class SpawnDriver:
    def __init__(self, out, cap):
        self.out = out
        self.cap = cap
        self.stopped = False

    def emit(self, line):
        self.out.append(line)

    def dump(self):
        data = os.pread(self.cap, 1 << 20, 0).decode("utf-8", "surrogateescape")
        for line in data.split("\n")[:-1] if data.endswith("\n") else data.split("\n") if data else []:
            self.emit("| " + line)
        os.ftruncate(self.cap, 0)

    def reap(self, pid):
        try:
            _, status = os.waitpid(pid, 0)
            self.emit(status_line(status))
        except OSError as e:
            self.emit(err_line(e))
        self.dump()

    def setup(self, t):
        op = t[0]
        if op == "mkdir":
            os.mkdir(dec(t[1]))
        elif op == "link":
            os.symlink(HELPER, dec(t[1]))
        elif op == "file":
            text = {"sh": b"exit 7\n", "shebang": b"#!" + os.fsencode(HELPER) + b" sbarg\n"}.get(t[3], b"")
            fd = os.open(dec(t[1]), os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, text)
            os.close(fd)
            os.chmod(dec(t[1]), int(t[2], 8))
        else:
            fd = os.open(dec(t[2]), flags_of(t[3]), 0o644)
            os.dup2(fd, int(t[1]), t[4] == "1")
            os.close(fd)

    def run(self, t):
        op = t[0]
        # the tree and the slots: quiet, and a failure is skipped alike in both drivers (the
        # minimiser may drop the directory a later step needs)
        if op in ("mkdir", "link", "file", "open"):
            try:
                self.setup(t)
            except OSError:
                pass
        elif op == "setenv":
            os.environ[dec(t[1])] = dec(t[2])
            self.emit("ok")
        elif op == "unsetenv":
            os.environ.pop(dec(t[1]), None)
            self.emit("ok")
        elif op == "sig":
            signal.signal(int(t[1]), signal.SIG_IGN if t[2] == "ign" else signal.SIG_DFL)
            self.emit("ok")
        elif op == "block":
            signal.pthread_sigmask(signal.SIG_SETMASK, signals_of(t[1]))
            self.emit("ok")
        elif op == "euid":
            try:
                os.seteuid(int(t[1]))
                self.emit("ok")
            except OSError as e:
                self.emit(err_line(e))
        elif op == "execpath":
            try:
                self.emit(" ".join(["ok"] + [enc(d) for d in os.get_exec_path(env_of(t[1]))]))
            except ValueError:
                self.emit(einval())
        elif op == "ps":
            self.posix_spawn(t)
        elif op == "sp":
            self.spawn(t)
        elif op == "ex":
            self.exec(t)
        else:
            self.emit("unknown " + op)

    def posix_spawn(self, t):
        kw = {}
        for k in t[5:]:
            v = k.split("=", 1)[1] if "=" in k else ""
            if k.startswith("fa="):
                acts = []
                for a in v.split(","):
                    f = a.split(":")
                    if f[0] == "o":
                        acts.append((os.POSIX_SPAWN_OPEN, int(f[1]), dec(f[2]), flags_of(f[3]), int(f[4], 8)))
                    elif f[0] == "c":
                        acts.append((os.POSIX_SPAWN_CLOSE, int(f[1])))
                    else:
                        acts.append((os.POSIX_SPAWN_DUP2, int(f[1]), int(f[2])))
                kw["file_actions"] = acts
            elif k.startswith("pg="):
                kw["setpgroup"] = os.getpgrp() if v == "P" else int(v)
            elif k == "ri":
                kw["resetids"] = True
            elif k == "ss":
                kw["setsid"] = True
            elif k.startswith("mask="):
                kw["setsigmask"] = spawn_signals(v)
            elif k.startswith("def="):
                kw["setsigdef"] = spawn_signals(v)
            elif k.startswith("sch="):
                policy, prio = v.split(":")
                kw["scheduler"] = (int(policy), os.sched_param(int(prio)))
        path = prog(t[2])
        env = env_of(t[4])
        fn = os.posix_spawnp if t[1] == "posix_spawnp" else os.posix_spawn
        try:
            pid = fn(path, strings(t[3]), os.environ if env is None else env, **kw)
        except OSError as e:
            return self.emit(err_line(e))
        except ValueError:
            return self.emit(einval(path))
        self.emit("ok")
        self.reap(pid)

    def spawn(self, t):
        fn, mode, path, args, env = t[1], int(t[2]), prog(t[3]), strings(t[4]), env_of(t[5])
        f = getattr(os, fn)
        try:
            if fn in ("spawnv", "spawnvp"):
                r = f(mode, path, args)
            elif fn in ("spawnve", "spawnvpe"):
                r = f(mode, path, args, env)
            elif fn in ("spawnl", "spawnlp"):
                r = f(mode, path, *args)
            else:
                r = f(mode, path, *(args + [env]))
        except ValueError:  # an empty argv or argv[0], before the fork
            return self.emit("ERR %d" % errno.EINVAL)
        if mode == os.P_NOWAIT:
            _, status = os.waitpid(r, 0)
            r = os.waitstatus_to_exitcode(status)
        if r == 127:
            # deliberate: Python's spawn* report an exec failure only as the child's exit 127, ospp
            # returns the exec's error (spawn.hpp): found by the same exec in a forked child, and
            # only the errno is compared.
            os.ftruncate(self.cap, 0)
            line, pid = exec_child(EXEC_OF[fn], path, args, env)
            os.waitpid(pid, 0)
            os.ftruncate(self.cap, 0)
            return self.emit("ERR %s" % line.split()[1] if line.startswith("ERR") else "127 but " + line)
        if mode == os.P_WAIT:
            self.emit("ok %d" % r)
            return self.dump()
        self.emit("ok")
        self.emit(status_line(status))
        self.dump()

    def exec(self, t):
        line, pid = exec_child(t[1], prog(t[2]), strings(t[3]), env_of(t[4]))
        self.emit(line or "ok")
        self.reap(pid)


def reset_state():
    """The state the children inherit, as each script starts (as spawn.cpp's reset_state)."""
    if os.getuid() == 0:
        os.seteuid(0)
    os.environ.clear()
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for s in DRIVER_SIGNALS:
        signal.signal(s, signal.SIG_DFL)


def high(fd):
    """The descriptor moved to 100 or above, close-on-exec: the driver's own descriptors stay out of
    the numbers the scripts use (as spawn.cpp's)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return moved


def run_spawn_script(script, out):
    cap = high(os.open("../cap", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600))
    saved = high(os.dup(1))
    os.dup2(cap, 1)
    reset_state()
    # the script is read whole first (driver.py's apply_script keeps it open while it runs, and the
    # children would inherit the descriptor number); applied as apply_script does
    with open(script) as f:
        lines = f.read().split("\n")
    d = SpawnDriver(out, cap)
    try:
        for n, line in enumerate(lines):
            tokens = line.split()
            if tokens:
                out.append("#%d" % n)
                d.run(tokens)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(cap)
        for slot in (40, 41, 42):
            try:
                os.close(slot)
            except OSError:
                pass
        reset_state()
