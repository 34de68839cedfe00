# test/differential/gen_proc.py — the generator of the proc domain (see run.py): scripts of calls
# that read or change the process's own state. proc.cpp and proc.py apply each script in a process
# of its own, forked for it, in a session of its own, so nothing a script does reaches the driver.
#
# What a script must never do, so that it stays inside that session and its own children: set
# the priority of a user (PRIO_USER for uid 0 or the script's uid renices every process the user
# has; only uids without processes are named), send a real signal anywhere but to itself (and
# only one it has blocked, so that nothing is delivered), or lower a limit that the drivers need
# to go on (the address space, data and stack stay unlimited or at their value: ASan's shadow
# needs the address space; CPU time and real-time CPU time stay at an hour or more; processes and
# queued signals stay high, because the user's other processes count towards them).
import os
import signal

INF = "inf"
# resources: every RLIMIT_* (0..15) and a few that are none
RESOURCES = list(range(16)) + [16, -1, 100]
BIG = [str(1 << 20), str(1 << 40), INF, "-2"]
# the values each resource may be given (see above), plus values that fail: soft above hard,
# raising hard (EPERM as nobody), -2 (2^64-2 to the kernel)
LIMIT_VALUES = {
    resource_number: values for resource_number, values in {
        0: ["3600", "7200", INF, "-2"],                    # cpu: never small
        1: ["0", "1", "4096", str(1 << 30), INF, "-2"],   # fsize
        2: [INF],                                         # data
        3: [INF],                                         # stack
        4: ["0", "4096", str(1 << 30), INF, "-2"],        # core
        5: ["0", "4096", INF, "-2"],                      # rss
        6: BIG,                                           # nproc
        7: ["16", "64", "1024", "1048576", "1048577", INF, "-2"],  # nofile (nr_open is 1048576 here)
        8: ["0", "65536", str(1 << 30), INF, "-2"],       # memlock
        9: [INF],                                         # as
        10: ["0", "1", "40", str(1 << 30), INF, "-2"],    # locks
        11: BIG,                                          # sigpending
        12: ["0", "819200", str(1 << 30), INF, "-2"],    # msgqueue
        13: ["0", "10", "20", "40", "41", INF, "-2"],     # nice
        14: ["0", "1", "50", "99", "100", INF, "-2"],     # rtprio
        15: [str(1 << 40), INF],                          # rttime: never small (FIFO may be on)
    }.items()
}
PIDS = ["0", "self", "parent", "none", "neg", "c0"]
WAIT_PIDS = ["-1", "-1", "-1", "0", "c0", "c0", "c1", "none", "-pgrp", "min", "parent"]
WAIT_OPTIONS = [0, 0, 1, 1, 2, 8, 3, 0x40000000, -2**31, 0x100, 0x01000000]
WAITID_OPTIONS = [4, 4, 5, 5, 4 | 0x01000000, 5 | 0x01000000, 2 | 1, 8 | 1, 0, 1, 4 | 0x100, 6]
POLICIES = [0, 1, 2, 3, 5, 6, 4, -1, 7, 0x40000000, 0x40000000 | 1, 0x40000000 | 3]
PRIORITIES = [0, 0, 1, 50, 99, 100, -1]
CPUS = ["-", "0", "1", "0,1", "5", "1023", "1024", "100000", "-1", "0,5", "2147483647"]
NICE_VALUES = [-21, -20, -5, -1, 0, 1, 5, 19, 20, 100, -100]
NICE_INCREMENTS = [0, 1, -1, 5, -5, 19, 40, 41, -41, 2**31 - 1, -2**31]
UIDS = ["0", "65534", "-1", "1000", "4294967294"]
GROUP_LISTS = ["-", "0", "65534", "0,65534,100", "65534,65534", "many", "toomany"]
SIGNALS = [1, 9, 10, 12, 15, 19, 34, 35, 64, 0, 65, -1, 32, 33, 17, 2]
# the signals a script may raise at itself: ignored from the start (proc.cpp, proc.py), so that a
# pending one is discarded when the script unblocks it
RAISE = [1, 10, 12, 15, 34, 35, 64]
# those whose disposition a script may set: never one of RAISE (SIG_DFL would make it fatal when
# unblocked) nor SIGCHLD (SIG_IGN would reap the children)
DISPOSITION = [9, 19, 0, 65, 32, 28, 23, -1]
ENV_KEYS = ["A", "A", "B", "PATH", "PATH", "~", "a%3db", "x%00y", "%ff", "%3d", "caf%c3%a9"]
ENV_VALUES = ["1", "~", "%ff%fe", "a%00b", "x" * 600, "a%3db", "/bin::/usr/bin", "%3a", "/x/y:.", "%2f"]
USER_NAMES = ["root", "nobody", "daemon", "nogroup", "~", "no_such_user", "a%00b", "%ff", "root%20"]
STATUSES = [0, 0x100, 0xff00, 9, 15, 0x8b, 0x86, 0x137f, 0x7f, 0xffff, -1, 0x10000, 0x7fffffff, -2**31, 0x57f]


def gen_proc_op(r):
    R = lambda: r.choice(RESOURCES)

    def limits(res):
        values = LIMIT_VALUES.get(res, ["0", INF])
        return "%s %s" % (r.choice(values), r.choice(values))

    def set_ids(n):
        return " ".join(r.choice(UIDS) for _ in range(n))

    def sigs():
        return ",".join(str(r.choice(SIGNALS + RAISE * 2)) for _ in range(r.choice([0, 1, 2, 3]))) or "-"

    def rlimit_op(kind):
        res = R()
        if kind == "get":
            return "getrlimit %d" % res
        if kind == "set":
            return "setrlimit %d %s" % (res, limits(res))
        pid = r.choice(["0", "self", "self", "none", "neg"])
        if r.random() < 0.5:
            return "prlimit %s %d" % (pid, res)
        return "prlimit %s %d %s" % (pid, res, limits(res))

    def priority_op(kind):
        which = r.choice([0, 0, 1, 1, 2, 3, -1])
        # PRIO_USER only for uids without processes (never 0 or the script's own)
        who = r.choice(["none", "neg", "4000000"]) if which == 2 else r.choice(["0", "0", "self", "pgrp", "none", "neg"])
        if kind == "get":
            return "getpriority %d %s" % (which, who)
        return "setpriority %d %s %d" % (which, who, r.choice(NICE_VALUES))

    ops = [
        (2, lambda: "umask %o" % r.choice([0, 0o22, 0o77, 0o777, 0o1777, 0o7777, 0o10000, 0o123])),
        (3, lambda: rlimit_op("get")),
        (5, lambda: rlimit_op("set")),
        (4, lambda: rlimit_op("pr")),
        (1, lambda: "getrusage %d" % r.choice([0, -1, 1, 2, 5, -2])),
        (2, lambda: priority_op("get")),
        (3, lambda: priority_op("set")),
        (2, lambda: "nice %d" % r.choice(NICE_INCREMENTS)),
        (1, lambda: "getaffinity %s" % r.choice(["0", "self", "none", "neg"])),
        (0.5, lambda: "pcpucount"),
        (2, lambda: "setaffinity %s %s" % (r.choice(["0", "0", "self", "none"]), r.choice(CPUS))),
        (1, lambda: "getscheduler %s" % r.choice(PIDS)),
        (3, lambda: "setscheduler %s %d %d" % (r.choice(["0", "0", "self", "none", "neg"]), r.choice(POLICIES),
                                                r.choice(PRIORITIES))),
        (1, lambda: "getparam %s" % r.choice(PIDS)),
        (2, lambda: "setparam %s %d" % (r.choice(["0", "self", "none", "neg"]), r.choice(PRIORITIES))),
        (1, lambda: "primin %d" % r.choice(POLICIES)),
        (1, lambda: "primax %d" % r.choice(POLICIES)),
        (1, lambda: "rrinterval %s" % r.choice(["0", "self", "none", "neg"])),
        (3, lambda: "putenv %s %s" % (r.choice(ENV_KEYS), r.choice(ENV_VALUES))),
        (2, lambda: "unsetenv %s" % r.choice(ENV_KEYS)),
        (2, lambda: "getenv %s" % r.choice(ENV_KEYS)),
        (1, lambda: "execpath"),
        # get_exec_path(env): PATH in a given environment (or none, or twice); no NUL byte, which
        # a C string (ospp's cstring_array, an execve environment) cannot hold
        (1, lambda: "execpathenv %s" % ",".join(r.choice(["PATH=" + v for v in ENV_VALUES if "%00" not in v] +
                                                         ["X=1", "PATH", "PATHX=/a"])
                                                for _ in range(r.choice([0, 1, 1, 2])))),
        (4, lambda: "sigmask %d %s" % (r.choice([0, 1, 2, 0, 1, 2, 3, -1]), sigs())),
        (1, lambda: "sigmask %d all" % r.choice([0, 1, 2])),
        (3, lambda: "raise %d" % r.choice(RAISE)),
        (0.5, lambda: "%s %d" % (r.choice(["signame", "strsignal"]), r.choice(range(-1, 67)))),
        (0.2, lambda: "validsignals"),
        (1, lambda: "sigpending"),
        (1, lambda: "%s %d" % (r.choice(["sigdfl", "sigign"]), r.choice(DISPOSITION))),
        # signal 0 or none at all: nothing is sent
        (1, lambda: "kill %s %d" % (r.choice(["self", "0", "parent", "none", "min"]), r.choice([0, 0, 65, -1, 1000]))),
        (1, lambda: "killpg %s %d" % (r.choice(["0", "pgrp", "none", "neg"]), r.choice([0, 0, 65, -1]))),
        (1, lambda: "ids"),
        # (a script that drops privilege goes on without it: not too early, most of the time)
        (1, lambda: "%s %s" % (r.choice(["setuid", "setgid", "seteuid", "setegid"]), set_ids(1))),
        (1, lambda: "%s %s" % (r.choice(["setreuid", "setregid"]), set_ids(2))),
        (1, lambda: "%s %s" % (r.choice(["setresuid", "setresgid"]), set_ids(3))),
        (2, lambda: "setgroups %s" % r.choice(GROUP_LISTS)),
        (1, lambda: "%s %s" % (r.choice(["getpwnam", "getgrnam"]), r.choice(USER_NAMES))),
        (1, lambda: "%s %d" % (r.choice(["getpwuid", "getgrgid"]), r.choice([0, 1, 65534, 4000000, 2**32 - 1]))),
        # (not a non-UTF-8 name: Python's getgrouplist encodes it strictly, UnicodeEncodeError)
        (0.5, lambda: "getgrouplist %s %d" % (r.choice([n for n in USER_NAMES if n != "%ff"]),
                                              r.choice([0, 100, 65534, 2**32 - 1]))),
        (0.3, lambda: r.choice(["getlogin", "ctermid"])),
        (1, lambda: "getpgid %s" % r.choice(PIDS)),
        (1, lambda: "getsid %s" % r.choice(PIDS)),
        (1, lambda: "setpgid %s %s" % (r.choice(["0", "self", "c0", "parent", "none", "neg"]),
                                       r.choice(["0", "self", "parent", "none", "neg"]))),
        (1, lambda: r.choice(["setsid", "setpgrp", "getpgrp"])),
        (3, lambda: "spawn %s" % r.choice(["exit 0", "exit 1", "exit 3", "exit 255", "exit 256",
                                            "sig 9", "sig 15", "sig 10", "sig 1", "stop 0", "stop 0"])),
        (1, lambda: "cont c%d" % r.choice([0, 1, 2, 3])),
        (2, lambda: "waitpid %s %d" % (r.choice(WAIT_PIDS), r.choice(WAIT_OPTIONS))),
        (1, lambda: "wait"),
        (1, lambda: "wait3 %d" % r.choice(WAIT_OPTIONS)),
        (1, lambda: "wait4 %s %d" % (r.choice(WAIT_PIDS), r.choice(WAIT_OPTIONS))),
        (2, lambda: "waitid %d %s %d" % (r.choice([0, 1, 1, 2, 3, 7, -1]), r.choice(WAIT_PIDS), r.choice(WAITID_OPTIONS))),
        (1, lambda: "status %d" % r.choice(STATUSES)),
        # one pidfd at a time, for a child (a zombie until waited for) or the script itself
        (1, lambda: "pidfd_open %s %d" % (r.choice(["c0", "c0", "c1", "self", "parent", "none", "neg", "0"]),
                                          r.choice([0, 0, 0o4000, 1]))),
        (1, lambda: "pidfd_send %d" % r.choice([0, 0, 65, -1])),
        (1, lambda: "pidfd_wait %d" % r.choice(WAITID_OPTIONS)),
        (0.3, lambda: "pidfd_close"),
        (0.3, lambda: "getppid"),
        (1, lambda: "sysconf %s" % r.choice(sorted(os.sysconf_names) + ["SC_BOGUS", "sc_pagesize"])),
        (1, lambda: "confstr %s" % r.choice(sorted(os.confstr_names) + ["CS_BOGUS"])),
        (0.3, lambda: r.choice(["uname", "cpucount", "pagesize", "sysconfnames", "confstrnames"])),
        # every name, every errno (a line each)
        (0.2, lambda: r.choice(["sysconfall", "confstrall", "strerrorall"])),
        (0.5, lambda: "strerror %d" % r.choice([0, 1, 2, 22, 133, 134, 135, 1000, -1, -2**31, 2**31 - 1])),
    ]
    return r.choices(ops, [w for w, _ in ops])[0][1]()


def gen_proc_script(r, n_ops):
    # most scripts start with two ended children, so that the waits and pidfds meet some
    start = ["spawn exit 3", "spawn sig 15"] if r.random() < 0.6 else []
    return start + [gen_proc_op(r) for _ in range(n_ops)]
