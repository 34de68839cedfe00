# test/differential/gen_tty.py — the generator of the tty domain (see run.py): scripts of terminal
# and pseudo-terminal calls, applied by tty.cpp (ospp) and tty.py (os, fcntl, and the C library's
# posix_openpt/grantpt/unlockpt/ptsname_r through ctypes, as Python 3.13's os calls them) in a
# process of their own that leads a session without a controlling terminal.
#
# Six descriptor slots hold pty masters (openpty, posix_openpt with and without O_NOCTTY, bogus
# flags), slaves (openpty's, or opened by ptsname before or after grantpt/unlockpt: EIO while
# locked), a regular file, pipe ends, /dev/null, or nothing (EBADF). Writes to either end of a
# pty and non-blocking reads meet the line discipline's defaults (canonical mode, echo, ICRNL,
# ONLCR); window sizes are set and read back (0 rows, 65535 columns); TIOCSCTTY, TIOCNOTTY,
# tcgetpgrp and tcsetpgrp act on the process's controlling terminal (SIGHUP is blocked, and the
# dump says which are pending); "login" runs os.login_tty in a child, "steal" a child that takes
# the terminal with TIOCSCTTY 1 (root only), "hupchild" closes a slot while a child in the
# process's group waits (a hangup signals the session's leader only: the child lives on),
# "forkpty" a child that describes its terminal on it.
SLOTS = [0, 0, 1, 1, 2, 2, 3, 4, 5]
# (no O_WRONLY master: what its slave echoes to it can never be read, so the pending work that
# carries the echo cannot be waited for, and FIONREAD would count it or not)
OPENPT_FLAGS = ["R", "R", "RN", "RN", "r", "Rd", "Rcx", "RP", "RD", "P"]  # see tty.py's FLAGS
OPEN_FLAGS = ["R", "R", "RN", "RN", "r", "Rn"]  # opening a slave by its name: "n" non-blocking
DATA = ["a", "hello%0d", "x%0a", "%0d", "%0a", "ab", "%03", "%7f", "%04", "a%0db%0dc"]
SIZES = [0, 1, 5, 100, 4096]
ROWS = [0, 0, 1, 24, 25, 65535]
COLS = [0, 80, 132, 65535, 1]
PGRPS = ["self", "self", "0", "-1", "none", "init", "parent"]


def gen_tty_op(r):
    S = lambda: r.choice(SLOTS)
    ops = [
        (4, lambda: "openpty %d %d" % (S(), S())),
        (3, lambda: "openpt %d %s" % (S(), r.choice(OPENPT_FLAGS))),
        (2, lambda: "grantpt %d" % S()),
        (2.5, lambda: "unlockpt %d" % S()),
        (2, lambda: "ptsname %d" % S()),
        (3, lambda: "openpts %d %d %s" % (S(), S(), r.choice(OPEN_FLAGS))),
        (1, lambda: "file %d" % S()),
        (1, lambda: "pipe %d %d" % (S(), S())),
        (1, lambda: "null %d" % S()),
        (1, lambda: "devtty %d %s" % (S(), r.choice(["R", "RN", "r"]))),
        (2, lambda: "close %d" % S()),
        (2, lambda: "isatty %d" % S()),
        (3, lambda: "ttyname %d" % S()),
        (2, lambda: "gts %d" % S()),
        (3, lambda: "setwinsz %d %d %d" % (S(), r.choice(ROWS), r.choice(COLS))),
        (2, lambda: "getwinsz %d" % S()),
        (2, lambda: "fionread %d" % S()),
        (5, lambda: "write %d %s" % (S(), r.choice(DATA))),
        (4, lambda: "read %d %d" % (S(), r.choice(SIZES))),
        (2, lambda: "sctty %d %d" % (S(), r.choice([0, 0, 1]))),
        (1, lambda: "notty %d" % S()),
        (2, lambda: "tcgetpgrp %d" % S()),
        (2, lambda: "tcsetpgrp %d %s" % (S(), r.choice(PGRPS))),
        (0.5, lambda: "ctermid"),
        (1, lambda: "login %d" % S()),
        (0.7, lambda: "steal %d" % S()),
        (1, lambda: "hupchild %d" % S()),
        (0.7, lambda: "forkpty %d" % S()),
    ]
    return r.choices(ops, [w for w, _ in ops])[0][1]()


def gen_tty_script(r, n_ops):
    # most scripts start with a pty pair, a second master, and a file, /dev/null or a pipe
    ops = []
    if r.random() < 0.9:
        ops.append("openpty 0 1")
    if r.random() < 0.6:
        ops.append("openpt 2 %s" % r.choice(["R", "RN"]))
    x = r.random()
    if x < 0.2:
        ops.append("file 3")
    elif x < 0.4:
        ops.append("null 3")
    elif x < 0.6:
        ops.append("pipe 3 4")
    if r.random() < 0.3:
        ops.append("openpty 4 5")
    return ops + [gen_tty_op(r) for _ in range(n_ops)]
