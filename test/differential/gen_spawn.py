# test/differential/gen_spawn.py — the generator of the spawn domain (see run.py): scripts that start
# programs with posix_spawn/posix_spawnp (every keyword), spawn* (P_WAIT, P_NOWAIT), exec* in a
# forked child and get_exec_path, applied by spawn.cpp (ospp) and spawn.py (os).
#
# The started program is spawn_helper (reached through symlinks in the script's directory), which
# dumps what it was given (argv, environment, open descriptors, group, session, signal mask and
# dispositions, ids, scheduler) and exits as SP_EXIT says. The tree each script starts with makes
# the PATH search meet every case: d0/prog is not executable (EACCES, remembered while the search
# goes on), d1/prog and d2/prog are the helper, d3/prog is a directory (EACCES), plain is a file
# (ENOTDIR as a PATH entry), noshe is an executable script without #! (ENOEXEC: no /bin/sh
# fallback in Python's rules nor in posix_spawnp), sb is a #! script that starts the helper, tool
# sits in the current directory (an empty PATH entry), empty is an empty executable file.
FILES = ["mkdir d0", "mkdir d1", "mkdir d2", "mkdir d3", "mkdir d3/prog",
         "file d0/prog 644 sh", "link d1/prog", "link d2/prog", "link d2/pr%ffog", "link tool",
         "file plain 644 sh", "file d1/noshe 755 sh", "file d2/noshe 755 sh", "file d1/sb 755 shebang",
         "file d2/empty 755 empty", "link d1/" + "L" * 200,
         # descriptors the driver holds: 40 inheritable read-write, 41 close-on-exec, 42 /dev/null
         # inheritable write-only appending
         "open 40 f Rc 1", "open 41 f r 0", "open 42 /dev/null wa 1"]
PROGS = (["prog"] * 6 + ["noshe", "sb", "tool", "pr%ffog", "missing", "d1/prog", "./tool", "d3/prog",
                         "d0/prog", "d1/sb", "d2/noshe", "d2/empty", "empty", "plain/prog", "L" * 300, "L" * 200,
                         "@H", "@H", "p%00x", "~", "d1", "/nonexistent/prog"])
PATHS = [None, "~", "d1", "d0:d1", "d3:d1", "plain:d1", ":d1", "d1::", "d2:d1", "/nonexistent:d2", "d0", "d3",
         "d2", "d0:d3:plain", "d1/:d2", "L" * 300 + ":d2", ".", "d0:d2:d1",
         # an entry past PATH_MAX, which the search reports (ENAMETOOLONG) though d1 has the program
         "." + "/." * 2100 + ":d1"]
ENV_KEYS = ["A", "B", "SP_EXIT", "PATH"]
EXITS = ["0", "3", "255", "k15", "k9", "k10"]
ARGS = ["a", "b", "x%20y", "%ff%fe", "~", "-c", "caf%c3%a9"]
# for setsigmask and setsigdef: glibc's reserved 32 (Python warns and leaves it out), real-time
# ones, and now and then a number that is no signal (Python's ValueError)
SIGNALS = [1, 2, 10, 12, 13, 15, 25, 32, 34, 64]


def gen_signals(r):
    s = r.sample(SIGNALS, r.randrange(3))
    if r.random() < 0.05:
        s.append(r.choice([0, 65]))
    return ",".join(str(n) for n in s) or "-"


def gen_env(r, inherit=True):
    """'none' (the driver's own) or a list of KEY:VALUE pairs, unique keys; now and then one that
    Python refuses (an '=' past the first byte, an empty key) or a NUL byte."""
    if inherit and r.random() < 0.4:
        return "none"
    keys = r.sample(ENV_KEYS, r.randrange(len(ENV_KEYS) + 1))
    pairs = []
    for k in keys:
        v = {"SP_EXIT": lambda: r.choice(EXITS), "PATH": lambda: r.choice([p for p in PATHS if p is not None])}.get(
            k, lambda: r.choice(["1", "~", "x%3dy", "%ff"]))()
        pairs.append("%s:%s" % (k, v))
    x = r.random()
    if x < 0.05:
        pairs.append("A%3dB:1")
    elif x < 0.08:
        pairs.append("~:1")
    elif x < 0.1:
        pairs.append("N:a%00b")
    return ",".join(pairs) or "-"


def gen_argv(r, prog):
    x = r.random()
    if x < 0.04:
        return "-"  # empty: Python's ValueError
    first = r.choice([prog if prog != "~" else "p", "argv0", "~"] if x < 0.1 else [prog if prog != "~" else "p"])
    rest = [r.choice(ARGS) for _ in range(r.choice([0, 0, 1, 2, 3]))]
    if r.random() < 0.03:
        rest.append("n%00ul")
    return ",".join([first] + rest)


def gen_actions(r):
    acts = []
    for _ in range(r.choice([1, 1, 2, 3])):
        x = r.random()
        if x < 0.35:
            acts.append("o:%d:%s:%s:%s" % (r.choice([1, 3, 5, 40, 41, 5, 1, -1, 1048576]), r.choice(["f", "g", "missing/x", "d1", "/dev/null"]),
                                           r.choice(["r", "wc", "Rc", "wct", "wca", "rd", "wcx"]),
                                           r.choice(["644", "600", "0"])))
        elif x < 0.6:
            acts.append("c:%d" % r.choice([0, 1, 5, 40, 41, 42, 77, -1, 1048576]))
        else:
            acts.append("d:%d:%d" % (r.choice([40, 40, 41, 42, 1, 77, -1, 5]), r.choice([1, 3, 5, 40, 42, 41, 1, 3, -1, 1048576])))
    return ",".join(acts)


def gen_options(r):
    opts = []
    if r.random() < 0.4:
        opts.append("fa=" + gen_actions(r))
    if r.random() < 0.2:
        opts.append("pg=" + r.choice(["0", "0", "P", "999999", "-1"]))
    if r.random() < 0.1:
        opts.append("ri")
    if r.random() < 0.15:
        opts.append("ss")
    if r.random() < 0.15:
        opts.append("mask=" + gen_signals(r))
    if r.random() < 0.15:
        opts.append("def=" + gen_signals(r))
    if r.random() < 0.1:
        opts.append("sch=" + r.choice(["0:0", "1:1", "2:99", "1:0", "3:0", "5:0", "0:5", "1:100", "-1:0"]))
    return opts


def gen_spawn_op(r):
    prog = r.choice(PROGS)
    A = lambda: gen_argv(r, prog)
    ops = [
        (2, lambda: "setenv PATH %s" % r.choice([p for p in PATHS if p is not None])),
        (0.7, lambda: "unsetenv PATH"),
        (1, lambda: "setenv SP_EXIT %s" % r.choice(EXITS)),
        (0.5, lambda: "unsetenv SP_EXIT"),
        (0.5, lambda: "sig %d %s" % (r.choice([1, 10, 12, 15]), r.choice(["ign", "dfl"]))),
        (0.5, lambda: "block %s" % (",".join(str(s) for s in r.sample([1, 10, 12, 15], r.randrange(3))) or "-")),
        (1, lambda: "execpath %s" % gen_env(r)),
        # the driver's effective uid: nobody's (as root: then only resetids lets the child into the
        # script's directory, which is root's alone; as nobody: no change) and back (EPERM as nobody)
        (0.4, lambda: "euid %d" % r.choice([65534, 0])),
        (6, lambda: " ".join(["ps", r.choice(["posix_spawn", "posix_spawnp"]), prog, A(), gen_env(r)] + gen_options(r))),
        (5, lambda: (lambda f: "sp %s %d %s %s %s" % (f, r.choice([0, 1]), prog, A(), gen_env(r, False) if f.endswith("e") else "none"))(
            r.choice(["spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe"]))),
        (5, lambda: (lambda f: "ex %s %s %s %s" % (f, prog, A(), gen_env(r, False) if f.endswith("e") else "none"))(
            r.choice(["execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe"]))),
    ]
    return r.choices(ops, [w for w, _ in ops])[0][1]()


def gen_spawn_script(r, n_ops):
    ops = list(FILES)
    p = r.choice(PATHS)
    ops.append("unsetenv PATH" if p is None else "setenv PATH %s" % p)
    return ops + [gen_spawn_op(r) for _ in range(n_ops)]
