# test/differential/gen_pipes.py — the generator of the pipes domain (see run.py): scripts of
# operations on pipe ends and other special descriptors (eventfd, memfd, a regular file to splice
# from and to), applied by pipes.cpp (ospp) and pipes.py (os, fcntl).
#
# Six descriptor slots, numbered alike in both drivers. A script starts with a small non-blocking
# pipe (one page, so that a few big writes fill it), a memfd, a regular file with some bytes and
# an eventfd, then mixes creations (pipe, pipe2 with good and bogus flags, eventfd, memfd), reads
# and writes of sizes that meet empty, full, PIPE_BUF and partial writes, splice/sendfile/
# copy_file_range between them, positioned calls that pipes refuse (ESPIPE), flag and pipe-size
# changes, seals, dup/dup2/close. The drivers skip (print "blocking") an operation that could
# block: one on a slot that is neither a regular file nor non-blocking.
import os

SLOTS = [0, 0, 1, 1, 2, 3, 4, 5, 5]
# bytes as a token (driver's enc), or *N: N bytes of a pattern (pipes.cpp's pattern)
DATA = ["a", "hello", "~", "%00%ff", "*4096", "*4097", "*100", "*5000", "*65536", "*70000", "*1", "*8"]
SIZES = [0, 1, 5, 8, 100, 4096, 4097, 65536, 70000]
COUNTS = [0, 1, 5, 100, 4096, 5000, 65536, 2**31, 2**63 - 1, 2**64 - 1]
OFFSETS = ["-", "-", "-", "0", "3", "4096", "-1", str(2**62), str(2**63 - 1)]
# (O_EXCL is O_NOTIFICATION_PIPE: a pipe for watch_queue notifications, which refuses writes)
PIPE_FLAGS = [0, os.O_NONBLOCK, os.O_NONBLOCK, os.O_NONBLOCK | os.O_DIRECT, os.O_NONBLOCK | os.O_CLOEXEC,
              os.O_DIRECT, os.O_NONBLOCK | os.O_APPEND, os.O_NONBLOCK | 1, 1 << 30, os.O_NONBLOCK | os.O_EXCL]
PIPE_SIZES = [0, 1, 4096, 4097, 8192, 12288, 65536, 65537, 1048576, 1048577, 2**31, 2**32, -1]
STATUS = [0, os.O_NONBLOCK, os.O_NONBLOCK | os.O_APPEND, os.O_NONBLOCK | os.O_DIRECT, os.O_NONBLOCK | os.O_NOATIME,
          os.O_NONBLOCK | os.O_ASYNC]
EFD_FLAGS = [os.EFD_NONBLOCK, os.EFD_NONBLOCK, os.EFD_NONBLOCK | os.EFD_SEMAPHORE, os.EFD_NONBLOCK | os.EFD_CLOEXEC,
             0, 1]
EFD_INIT = [0, 0, 1, 7, 2**32 - 1]
EFD_VALUES = [0, 1, 2, 2**32, 2**64 - 3, 2**64 - 2, 2**64 - 1]
MFD_NAMES = ["m", "~", "a%20b", "x" * 249, "x" * 250, "n%00ul", "%ff%0a"]
MFD_FLAGS = [os.MFD_ALLOW_SEALING, os.MFD_ALLOW_SEALING, 0, os.MFD_CLOEXEC, 8, 0x40]
SEALS = [1, 2, 4, 8, 16, 2 | 4, 8 | 1, 64]
LENGTHS = [0, 1, 3, 100, 5000, -1]


def gen_pipes_op(r):
    S = lambda: r.choice(SLOTS)
    ops = [
        (2, lambda: "pipe %d %d" % (S(), S())),
        (3, lambda: "pipe2 %d %d %d" % (S(), S(), r.choice(PIPE_FLAGS))),
        (1, lambda: "eventfd %d %d %d" % (S(), r.choice(EFD_INIT), r.choice(EFD_FLAGS))),
        (1, lambda: "memfd %d %s %d" % (S(), r.choice(MFD_NAMES), r.choice(MFD_FLAGS))),
        (0.5, lambda: "file %d %s" % (S(), r.choice(["Rc", "r", "wa"]))),
        (2, lambda: "close %d" % S()),
        (8, lambda: "read %d %d" % (S(), r.choice(SIZES + [-1, 2**63]))),
        (8, lambda: "write %d %s" % (S(), r.choice(DATA))),
        (2, lambda: "readall %d" % S()),
        (2, lambda: "readv %d %s" % (S(), ",".join(str(r.choice(SIZES[:6])) for _ in range(r.choice([0, 1, 2, 3])))
                                     or "-")),
        (2, lambda: "writev %d %s" % (S(), ",".join(r.choice(DATA) for _ in range(r.choice([0, 1, 2, 3]))) or "-")),
        (1, lambda: "pread %d %d %d" % (S(), r.choice(SIZES[:5]), r.choice([0, 3, -1]))),
        (1, lambda: "pwrite %d %s %d" % (S(), r.choice(DATA[:4]), r.choice([0, 3, -1]))),
        (1, lambda: "preadv %d %s %d" % (S(), r.choice(["1", "5,3", "-"]), r.choice([0, -1]))),
        (1, lambda: "pwritev %d %s %d" % (S(), r.choice(["a", "hello,a", "-"]), r.choice([0, -1]))),
        (1, lambda: "lseek %d %d %d" % (S(), r.choice([0, 1, -1]), r.choice([0, 1, 2]))),
        (1, lambda: "ftruncate %d %d" % (S(), r.choice(LENGTHS))),
        (0.5, lambda: "fsync %d" % S()),
        (0.5, lambda: "fallocate %d %d %d" % (S(), r.choice([0, 5]), r.choice(LENGTHS))),
        (0.5, lambda: "fadvise %d %d %d %d" % (S(), r.choice([0, 5]), r.choice(LENGTHS), r.choice([0, 3, 9]))),
        (5, lambda: "splice %d %d %d %s %s %d" % (S(), S(), r.choice(COUNTS), r.choice(OFFSETS), r.choice(OFFSETS),
                                                 r.choice([0, 0, 1, 2, 4, 8, 2 | 4, 16, 1 << 31]))),
        # sendfile's counts stay small (or above SSIZE_MAX, refused): from a file into itself it
        # reads what it has just written, and would copy up to 2 GiB
        (3, lambda: "sendfile %d %d %s %d" % (S(), S(), r.choice(OFFSETS), r.choice(COUNTS[:7] + [2**64 - 1]))),
        (1, lambda: "cfr %d %d %d" % (S(), S(), r.choice(COUNTS[:7]))),
        (2, lambda: "getpipesz %d" % S()),
        (3, lambda: "setpipesz %d %d" % (S(), r.choice(PIPE_SIZES))),
        (2, lambda: "getfl %d" % S()),
        (2, lambda: "setfl %d %d" % (S(), r.choice(STATUS))),
        (1, lambda: "getblk %d" % S()),
        (1, lambda: "setblk %d %s" % (S(), r.choice("0001"))),
        (0.5, lambda: "getinh %d" % S()),
        (0.5, lambda: "setinh %d %s" % (S(), r.choice("01"))),
        (1, lambda: "dupfd %d %d" % (S(), r.choice([40, 42, 45, 46]))),
        (2, lambda: "fionread %d" % S()),
        (3, lambda: "efdread %d" % S()),
        (3, lambda: "efdwrite %d %d" % (S(), r.choice(EFD_VALUES))),
        (2, lambda: "addseals %d %d" % (S(), r.choice(SEALS))),
        (1, lambda: "getseals %d" % S()),
        (2, lambda: "fstat %d" % S()),
        (0.5, lambda: "isatty %d" % S()),
        (2, lambda: "dup %d %d" % (S(), S())),
        (1, lambda: "dup2 %d %d %s" % (S(), S(), r.choice("01"))),
    ]
    return r.choices(ops, [w for w, _ in ops])[0][1]()


def gen_pipes_script(r, n_ops):
    # slot 0 and 1 a non-blocking one-page pipe, 2 a sealable memfd, 3 a file with bytes, 4 an
    # eventfd, 5 another non-blocking pipe's write end (its read end gone: EPIPE)
    ops = ["pipe2 0 1 %d" % os.O_NONBLOCK, "setpipesz 1 4096", "memfd 2 m %d" % os.MFD_ALLOW_SEALING,
           "file 3 Rc", "write 3 *5000", "lseek 3 0 0", "eventfd 4 0 %d" % os.EFD_NONBLOCK,
           "pipe2 5 5 %d" % os.O_NONBLOCK]
    return ops + [gen_pipes_op(r) for _ in range(n_ops)]
