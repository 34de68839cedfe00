# test/differential/gen_locks.py — the generator of the locks domain (see run.py): scripts of file
# locks of every kind (POSIX record locks, OFD locks, flock, fcntl.lockf, os.lockf), applied by
# locks.cpp (ospp) and locks.py (fcntl, os) in a process and a child of it.
#
# Six descriptor slots in each of the two processes, on two small files f and g: several open file
# descriptions of the same file, dups sharing one, read-only and write-only opens (EBADF for the
# lock type they cannot take). An operation prefixed "c" runs in the child (forked at the start,
# and again by "fork", then sharing the parent's open file descriptions), which holds locks of
# its own on the same files, so that F_SETLK meets EAGAIN and F_GETLK reports the child (or the
# parent) as the holder. Ranges overlap, split and merge; starts count from SEEK_SET, SEEK_CUR (the
# offset moved by lseek) and SEEK_END (the size changed by ftruncate); lengths are negative, zero
# (to EOF) and huge, so that start+len overflows off_t. A waiting form (F_SETLKW, F_OFD_SETLKW,
# fcntl.lockf without LOCK_NB, os.lockf F_LOCK) is made only when F_GETLK finds no conflict (else
# the line is "blocking"); flock is always given LOCK_NB.
SLOTS = [0, 0, 1, 1, 2, 3, 4, 5]
NAMES = ["f", "f", "f", "g"]
MODES = ["R", "R", "r", "w"]  # O_RDWR, O_RDONLY, O_WRONLY (each with O_CREAT)
TYPES = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2] + [3]  # F_RDLCK, F_WRLCK, F_UNLCK, none such
WHENCE = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2] + [3]
# mostly small ranges within and just past the files (so that locks collide, split and merge), now
# and then a negative start or length and one whose end overflows off_t
STARTS = [0, 0, 0, 5, 10, 10, 15, 20, 20, 30, 50, 90, 100]
LENS = [0, 0, 0, 1, 5, 10, 10, 10, 20, 20, 40, 100, -1, -5, -10]
RARE = [-1, -10, -200, 2**62, 2**63 - 1, -2**63, 2**63 - 10]
# fcntl.flock: LOCK_SH|NB, LOCK_EX|NB, LOCK_UN, LOCK_UN|NB, and invalid ones (0, SH|EX, NB alone)
FLOCK_OPS = [5, 5, 5, 6, 6, 6, 8, 8, 12, 0, 7, 4]
# fcntl.lockf: with LOCK_NB, LOCK_UN, waiting (checked first), and ValueErrors (none, NB alone, UN|NB)
LOCKF_OPS = [5, 5, 5, 6, 6, 6, 8, 8, 1, 2, 0, 4, 12, 7]
# os.lockf: F_ULOCK, F_LOCK (waiting, checked first), F_TLOCK, F_TEST, and bogus commands
OS_LOCKF = [0, 0, 1, 2, 2, 2, 3, 3, 7, -1]
# F_GETLK, F_SETLK, F_OFD_GETLK, F_OFD_SETLK
RAW_CMDS = [5, 6, 6, 36, 37, 37]
OFFSETS = [0, 0, 5, 10, 20, 50, 100, -5, -200]
SIZES = [0, 10, 50, 100, 100, 200]


def gen_locks_op(r):
    S = lambda: r.choice(SLOTS)
    start = lambda: r.choice(STARTS if r.random() < 0.9 else RARE)
    length = lambda: r.choice(LENS if r.random() < 0.9 else RARE)
    rng = lambda: "%d %d %d" % (r.choice(WHENCE), start(), length())
    lock = lambda: "%d %s" % (r.choice(TYPES), rng())
    # a query of F_UNLCK (or none such) is EINVAL: now and then
    probe = lambda: "%d %s" % (r.choice([0, 1, 1] * 6 + [2, 3]), rng())
    ops = [
        (2, lambda: "open %d %s %s" % (S(), r.choice(NAMES), r.choice(MODES))),
        (1.5, lambda: "close %d" % S()),
        (0.4, lambda: "fork"),
        (1.5, lambda: "dup %d %d" % (S(), S())),
        (2, lambda: "lseek %d %d %d" % (S(), r.choice(OFFSETS), r.choice([0, 0, 1, 2]))),
        (1, lambda: "ftruncate %d %d" % (S(), r.choice(SIZES))),
        (5, lambda: "getlk %d %s" % (S(), probe())),
        (8, lambda: "setlk %d %s" % (S(), lock())),
        (2, lambda: "setlkw %d %s" % (S(), lock())),
        (4, lambda: "ofdgetlk %d %s" % (S(), probe())),
        (6, lambda: "ofdsetlk %d %s" % (S(), lock())),
        (1.5, lambda: "ofdsetlkw %d %s" % (S(), lock())),
        (3, lambda: "flock %d %d" % (S(), r.choice(FLOCK_OPS))),
        # the raw form: fcntl.fcntl(fd, cmd, bytes) with a packed struct flock, whole or cut short
        # (the rest of Python's 1024-byte buffer is zeros), or the int 0 (a null pointer: EFAULT);
        # a pid other than 0 for the OFD commands is EINVAL
        (3, lambda: "raw %d %d %d %s %d" % (S(), r.choice(RAW_CMDS), r.choice([32, 32, 32, 32, 24, 8, 0]), lock(),
                                            r.choice([0, 0, 0, 1, -1]))),
        # ospp's guards (Python's try/finally around a lock and its unlock): record_lock_guard
        # (OFD or POSIX, waiting or not) and flock_guard (LOCK_NB), one per slot
        (3, lambda: "guard %d %s %s %s" % (S(), lock(), r.choice("01"), r.choice("001"))),
        (1.5, lambda: "unguard %d" % S()),
        (1.5, lambda: "fguard %d %d" % (S(), r.choice([5, 5, 6, 6, 8, 12, 0, 7]))),
        (1, lambda: "funguard %d" % S()),
        (4, lambda: "lockf %d %d %d %d %d" % (S(), r.choice(LOCKF_OPS), length(), start(), r.choice(WHENCE))),
        (3, lambda: "oslockf %d %d %d" % (S(), r.choice(OS_LOCKF), length())),
    ]
    line = r.choices(ops, [w for w, _ in ops])[0][1]()
    return ("c " + line) if r.random() < 0.4 and line != "fork" else line


def gen_locks_script(r, n_ops):
    # the parent: two descriptions of f read-write, a dup of the first, f read-only, g read-write,
    # f write-only. f is 100 bytes, g 10. Then a child that shares those descriptions (fork) or
    # one that opens its own (the one the script starts with): f read-write, g read-write, f
    # read-only, a dup of its first, f write-only, and one slot closed.
    ops = ["open 0 f R", "ftruncate 0 100", "open 1 f R", "dup 0 2", "open 3 f r", "open 4 g R", "ftruncate 4 10",
           "open 5 f w"]
    if r.random() < 0.4:
        ops += ["fork", "c open 1 g R", "c open 3 f R"]
    else:
        ops += ["c open 0 f R", "c open 1 g R", "c open 2 f r", "c dup 0 3", "c open 4 f w"]
    return ops + [gen_locks_op(r) for _ in range(n_ops)]
