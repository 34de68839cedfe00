#!/usr/bin/env python3
# test/differential/run.py — differential testing of ospp's file and directory calls against
# Python's os.
#
# A seeded generator writes random scripts of file operations over a small name space (a few
# names, depth <= 3, names with a space, a newline and a non-UTF-8 byte, symlinks to files, to
# directories, dangling ones and loops), so that calls collide often: ENOENT, EEXIST, ENOTEMPTY,
# ENOTDIR, EISDIR, ELOOP, EINVAL (a directory renamed into itself), EACCES as a non-root user.
# Two drivers apply each script in a fresh directory of their own — driver.cpp with ospp,
# driver.py with Python's os — and print one normalised line per operation (the result, or the
# errno, the path(s) the error names and the message after ospp's "call: ", which must be
# str(OSError)), then a dump of the tree (names, types, modes, sizes, link targets, user.*
# attributes). This runner diffs the two outputs and, for a difference, prints the first
# differing line and the script that led there, minimised (operations dropped while the
# difference stays).
#
# A second domain, --domain fdio, does the same for operations on open descriptors: fdio.cpp and
# fdio.py apply scripts of open (O_APPEND, O_TRUNC, O_PATH, O_TMPFILE, O_DIRECTORY...), read,
# write, pread, pwrite, readv, writev, preadv, pwritev (offset -1, RWF_* flags), lseek (SEEK_SET
# to SEEK_HOLE), ftruncate, posix_fallocate, posix_fadvise, fsync, fdatasync, dup, dup2,
# get/set_inheritable, get/set_blocking, fstat, fchmod, fstatvfs, sendfile, copy_file_range, close,
# fcntl F_GETFL/F_SETFL/F_GETFD/F_SETFD/F_DUPFD(_CLOEXEC) and the typed getters (lease, seals,
# pipe size, owner, signal), os.lockf, fcntl.flock, fcntl.lockf, fpathconf, fchown, isatty,
# closerange, the fd forms of the xattr calls, fchdir and getcwd to a few descriptor slots, then
# dump each slot (its file, offset and flags) and each file's bytes.
#
# A third domain, --domain pipes (generator gen_pipes.py, drivers pipes.cpp and pipes.py), does
# the same for pipe ends and other special descriptors in six slots: pipe, pipe2 (O_NONBLOCK,
# O_DIRECT packet mode, O_NOTIFICATION_PIPE, bogus flags), eventfd (EFD_NONBLOCK, EFD_SEMAPHORE,
# initial values), eventfd_read/eventfd_write (zero, overflow, 2^64-1, on other descriptors),
# memfd_create (names empty, long, with a NUL or non-UTF-8 byte; flags good and bogus), F_ADD_SEALS
# and F_GET_SEALS, a regular file; read, write (empty, PIPE_BUF, partial, to a full pipe, with no
# reader: EPIPE, SIGPIPE ignored by both), readv, writev, pread, pwrite, preadv, pwritev, lseek,
# ftruncate, fsync, posix_fallocate, posix_fadvise (ESPIPE, EINVAL on pipes), splice (offsets on
# either side, SPLICE_F_*, counts 0 to 2^64-1), sendfile, copy_file_range, F_GETPIPE_SZ and
# F_SETPIPE_SZ (0, odd sizes, above pipe-max-size: EPERM without CAP_SYS_RESOURCE, below the bytes
# held: EBUSY), F_GETFL/F_SETFL (O_NONBLOCK, O_APPEND, O_DIRECT), F_DUPFD_CLOEXEC, ioctl FIONREAD,
# get/set_blocking, get/set_inheritable, fstat, isatty, dup, dup2, close, read_all; then it dumps each slot
# (type and permission bits, status and fd flags, the memfd or anon inode name, a pipe's size and
# the bytes a read end still holds, drained without blocking, a file's size, bytes and seals, an
# eventfd's count). Nothing may hang the run: both drivers skip (print "blocking") an operation
# that could block, one naming a slot that is neither a regular file nor non-blocking.
#
# A fourth domain, --domain proc, does the same for the process's own state: proc.cpp and proc.py
# apply scripts (written by gen_proc.py) of umask, getrlimit/setrlimit/prlimit over every resource
# (infinity, soft above hard, raising hard, NOFILE past nr_open, 2^64-2), getrusage,
# getpriority/setpriority/nice, sched_get/setaffinity (empty, CPUs past the machine, huge and
# negative), sched_get/setscheduler, sched_get/setparam, sched_get_priority_min/max,
# sched_rr_get_interval, putenv/unsetenv/getenvb (names with '=', empty, NUL, non-UTF-8 bytes) and
# get_exec_path (of the environment, and of a given one), pthread_sigmask (SIGKILL, 0, 65, every
# signal), raising a blocked signal, sigpending, SIG_DFL/SIG_IGN, kill/killpg with signal 0 or
# none, valid_signals, signal names and strsignal, the id setters and setgroups (as root: dropping
# and trying to come back), getpwnam/getpwuid/getgrnam/getgrgid, getgrouplist, getlogin and
# ctermid, getpgid/setpgid/getsid/setsid/setpgrp/getpgrp, children that exit, kill themselves or
# stop and are continued, with waitpid/wait/wait3/wait4/waitid and pidfd_open/pidfd_send_signal/
# waitid(P_PIDFD) on them, the W* macros and waitstatus_to_exitcode of any status, sysconf and
# confstr of every name (and their tables), uname, cpu_count and strerror; then dump the umask,
# every limit, the priority, affinity and scheduler, the environment, the blocked and pending
# signals, the ids and groups, and the group and session. Each script runs in a process of its
# own, in a session of its own, so that nothing it changes reaches the driver; process ids are
# printed as tokens (self, parent, c0...).
#
# A fifth domain, --domain locks (generator gen_locks.py, drivers locks.cpp and locks.py), does the
# same for file locks of every kind, taken by the driver and by a child it forks at the script's
# start, or again by "fork" (then sharing the driver's open file descriptions, and so their OFD
# and flock locks), and drives over a pipe, one operation at a time (those prefixed "c"), on two
# small files in six descriptor slots each (several open file descriptions of one file, dups
# sharing one, read-only and write-only opens): F_GETLK/F_SETLK/F_SETLKW and F_OFD_GETLK/
# F_OFD_SETLK/F_OFD_SETLKW (ospp's get_lock, set_lock, set_lock_wait, ofd_*; Python's fcntl.fcntl with a packed
# struct flock), the raw fcntl.fcntl(fd, cmd, bytes) with a struct flock whole, cut short or the
# int 0, and a pid for the OFD commands, fcntl.flock (LOCK_NB only), fcntl.lockf (cmd, len, start,
# whence) and os.lockf (F_LOCK, F_TLOCK, F_ULOCK, F_TEST), ospp's record_lock_guard and
# flock_guard (against a Python model of what fcntl.hpp says they do), over ranges that overlap,
# split and merge, from SEEK_SET, SEEK_CUR (the offset moved by lseek) and SEEK_END (the size
# changed by ftruncate), negative, zero (to EOF) and huge lengths and starts (EINVAL, EOVERFLOW),
# with opens, dups and closes between them (a close drops the process's POSIX locks on the file,
# not its OFD or flock locks). The child's locks make F_SETLK fail with EAGAIN and F_GETLK report
# them; pids are printed as tokens (parent, child; an OFD lock's -1 as is). A waiting form is made
# only when F_GETLK (F_OFD_GETLK) finds no conflict, else the line is "blocking". At the end the
# guards still held are released, and the dump shows each process's slots (file, access mode,
# offset) and each file's lock table as a third process sees it: a prober forked for it asks
# F_OFD_GETLK, through an open file description of its own, for a write and a read lock of every
# byte up to 210 and a few far ones (runs of equal answers on a line), and tries a flock shared and
# exclusive (not /proc/locks: it lists the whole system's locks a page per read, so others' locks
# coming and going shift the lines between reads); then the child is told to go and reaped.
#
# A sixth domain, --domain spawn (generator gen_spawn.py, drivers spawn.cpp and spawn.py), does the
# same for starting programs: posix_spawn and posix_spawnp with every keyword (file_actions OPEN
# with flags and mode, CLOSE and DUP2, bad descriptors, a close then a dup2 of the same number, a
# missing path; setpgroup 0, the parent's group, -1 or none such; resetids, with the driver's
# effective uid now and then nobody's (as root, only resetids then lets the child into the script's
# directory, which is root's alone); setsid; setsigmask; setsigdef; scheduler, EINVAL for a policy
# glibc does not take or a priority out of range, EPERM for a real-time one as an ordinary user),
# env given or not; spawnv/spawnve/spawnvp/spawnvpe/spawnl/spawnle/spawnlp/spawnlpe
# with P_WAIT (the exit code or -signal) and P_NOWAIT (then waitpid); execv/execve/execvp/execvpe/
# execl/execle/execlp/execlpe in a forked child, which sends its error line back over a pipe; and
# get_exec_path. Argument lists are empty now and then, or hold an empty argv[0], non-UTF-8 bytes
# or a NUL byte; environments hold an illegal name. The PATH search meets every case: PATH unset
# (os.defpath), empty, with empty entries (the current directory), an entry that is a file
# (ENOTDIR), one too long, a non-executable file before an executable one (EACCES remembered while
# the search goes on), a directory named like the program, an executable without #! (ENOEXEC: no
# /bin/sh fallback, neither in Python's exec*p nor in posix_spawnp), an empty executable, a #!
# script (the helper sees the candidate as its argument), names with '/', non-UTF-8 bytes, a NUL
# byte, or 300 bytes (ENAMETOOLONG); the env's PATH for the *pe calls, the driver's for the rest
# and for posix_spawnp. The program started is ospp_spawn_helper (built beside the driver, found
# through OSPP_SPAWN_HELPER), which writes what it got to descriptor 1 — a capture file for the
# whole script: argv, environment, open descriptors (close-on-exec flag, access mode, append,
# target), its group and session as tokens (self, parent, other), blocked signals, the dispositions
# of a few signals, ids and scheduler — and exits as SP_EXIT says (a code, or raising a signal).
# Each script starts with an empty environment, no blocked signal and SIGPIPE and SIGXFSZ ignored
# (as Python starts), the driver's own descriptors at 100 and above; every child is reaped.
#
# A seventh domain, --domain tty (generator gen_tty.py, drivers tty.cpp and tty.py), does the same
# for terminals and pseudo-terminals, each script in a process that leads a session of its own
# with no controlling terminal, and with SIGHUP, SIGINT, SIGWINCH and the job control signals
# blocked: six slots hold pty masters from openpty, posix_openpt (with and without O_NOCTTY, and
# with flags that make it fail or open no master: O_DIRECTORY, O_CREAT|O_EXCL, O_PATH), slaves
# (openpty's, or opened by ptsname's path, with or without O_NOCTTY, before unlockpt: EIO), a
# regular file, pipe ends, /dev/null or nothing (EBADF). Over them: grantpt, unlockpt, ptsname
# (Python 3.13's; tty.py calls the C library's as 3.13 does), isatty, ttyname (of a master:
# /dev/ptmx), get_terminal_size (ENOTTY, 0x0 for a size never set), TIOCSWINSZ/TIOCGWINSZ with a
# packed struct winsize (0 rows, 65535 columns; SIGWINCH), FIONREAD, writes to either end (the
# line discipline's defaults: canonical mode, echo, ICRNL, ONLCR, ^C's SIGINT) and reads of what
# they left, TIOCSCTTY (arg 0 or 1), TIOCNOTTY, tcgetpgrp and
# tcsetpgrp (ENOTTY off the controlling terminal, EINVAL, ESRCH, EPERM for a group of another
# session), ctermid, login_tty in a child (EPERM when the terminal is already the script's), and
# forkpty, whose child describes its terminal on it; a child takes the terminal with TIOCSCTTY 1
# (EPERM but for root). Closing a master hangs its slave up (EIO, end of file, SIGHUP and SIGCONT
# to the session's leader, not to a child in its foreground group). Pty numbers are printed as the pair that has
# them (/dev/pts/p0...). The dump shows each slot's kind (master, slave, pipe...), whether it is a
# tty, its window size, FIONREAD and the bytes it holds, the controlling terminal and the blocked
# signals pending. Nothing may block, and nothing may depend on when the kernel's line discipline
# gets to its input: tty.py's header says how.
#
# Usage: run.py --driver BUILD/test/ospp_differential
#        [--domain files|fdio|pipes|proc|locks|spawn|tty] [--seed S] [-n N] [--ops K] [--show]
# `meson test -C build --suite parity` runs a bounded run of each domain (fixed seed, 200 scripts
# of files, 600 of fdio, 3000 of pipes, 800 of proc, 1000 of locks, 100 of spawn, 500 of tty).
# Exit status: 0 no difference, 1 a difference.
#
# Normalised on purpose (ospp differs from Python and says so in its headers; each place is marked
# "deliberate:" in driver.py):
#  - times: a stat time that no utime of the script set is printed as T (it is "now");
#  - os.link(follow_symlinks=True) without dir_fd: CPython 3.11 calls link(2), which links the
#    symlink itself; ospp follows it (files.hpp, link_options). Python gets a src_dir_fd so that it
#    uses linkat(AT_SYMLINK_FOLLOW) too;
#  - os.renames makes the new parents with exist_ok=True, as ospp's renames (files.hpp);
#  - mkfifo, mknod and utime errors: CPython 3.11 names no path, ospp names it;
#  - chmod(follow_symlinks=False) of a symlink: NotImplementedError / ValueError in Python,
#    EOPNOTSUPP in ospp;
#  - DirEntry.is_dir()/is_file(): Python raises for a stat error other than ENOENT (ELOOP,
#    EACCES), ospp answers false (scandir.hpp);
#  - walk/fwalk following links: ospp does not walk into a directory being walked (ELOOP to
#    onerror); Python loops until the path grows too long or the fds run out. driver.py prunes
#    those the same way;
#  - fwalk errors: Python names the bare name it opened, ospp the full path: compared by the last
#    component; a top fwalk cannot walk is an onerror call in ospp, where Python raises (missing)
#    or yields nothing (a symlink without follow_symlinks) (walk.hpp);
#  - fwalk's top: ospp opens it with O_DIRECTORY (and O_NOFOLLOW), so a symlink (without
#    follow_symlinks) or any non-directory is ENOTDIR; Python 3.11's bare O_RDONLY gives EACCES
#    for an unreadable file, ELOOP/ENOENT for a bad symlink, and blocks for good on a FIFO;
#  - fwalk without follow_symlinks: Python opens a symlink to a directory (following it) before
#    it decides not to walk it, and passes that open's EACCES to onerror; ospp skips it silently;
#  - open: both drivers add O_NONBLOCK, so that opening a FIFO does not block the run;
#  - a NUL byte in a path: ValueError in Python, EINVAL in ospp naming the (first) path that holds
#    it, refused before anything is done (Python's makedirs, renames, copyfile act first);
#    os.access gives False;
#  - copyfile: ospp opens src first, so its errors (ENOENT, EISDIR, a named pipe) come before
#    shutil's same-file and named-pipe checks; with follow_symlinks=False a symlink src is copied
#    without comparing its target with dst, and the error names src (files.hpp). shutil's
#    SameFileError and SpecialFileError are EINVAL;
#  - rmtree: a symlink or non-directory path is ENOTDIR (shutil: "Cannot call rmtree on a
#    symbolic link", ENOENT/ELOOP for a bad symlink, EACCES for an unreadable file, a FIFO blocks
#    it for good). Once past its top, which entry fails first and what was removed before depend
#    on the order of removal, which neither documents: only the errno is compared and the script
#    stops there;
#  - walk/fwalk order: dirnames are sorted in place (top-down), and bottom-up steps are compared
#    as a sorted set plus a check that each directory comes after those walked below it;
#  - pathconf of a name Python does not know: ValueError in Python, EINVAL naming the path in
#    ospp (files.hpp); getcwd is shown below the script's directory, which differs per driver.
# and in the fdio domain (marked "deliberate:" in fdio.py):
#  - dup2(fd, fd, inheritable=False): EINVAL in Python (dup3), ospp sets FD_CLOEXEC (fd_ops.hpp);
#  - copy_file_range with a count above SSIZE_MAX: OverflowError in Python, ospp copies what
#    there is, as with SSIZE_MAX (fd_ops.hpp);
#  - Python's ValueError (fcntl.lockf's unknown cmd, os.fpathconf's unknown name) and
#    OverflowError (os.read of more than SSIZE_MAX bytes) are EINVAL in ospp (fcntl.hpp, fd_ops.hpp);
#  - the xattr calls given an fd: Python's error names the fd number as the file name, ospp's
#    names no path (xattr.hpp);
#  - the drivers never fchmod or fchown /dev/null (it is the system's), and print the working directory's
#    mode before they make it searchable again for the dump.
# and in the pipes domain (marked "deliberate:" in pipes.py):
#  - a count above SSIZE_MAX for splice or sendfile, a read of more than SSIZE_MAX bytes:
#    OverflowError in Python, EINVAL in ospp (fd_ops.hpp);
#  - F_SETPIPE_SZ with a size outside int: ospp refuses it with EINVAL before the descriptor is
#    looked at, Python's fcntl wraps it modulo 2^32 (fcntl.hpp, set_pipe_size);
#  - eventfd_read/eventfd_write on a descriptor that is not an eventfd and moves fewer than 8
#    bytes: glibc leaves a stale errno (0, or an earlier call's), ospp says EINVAL
#    (special_fds.hpp); pipes.py does the same 8-byte read or write itself for those;
#  - read_all (Python's FileIO.readall, None for "nothing yet" being ospp's EAGAIN): of a pipe,
#    every read of ospp's has room for a packet (O_DIRECT), FileIO.readall's not; pipes.py reads
#    a pipe with os.read(fd, 65536) to the end or EAGAIN, as readall, and never readall an eventfd
#    (no end in semaphore mode) or a file over 4 MiB;
#  - memfd_create with a NUL byte in the name: ValueError in Python, EINVAL naming the name in ospp;
#  - dup2(f, f, inheritable=False), as in fdio;
#  - the drivers never set O_DIRECT on a regular file (whether a read then succeeds depends on
#    where each driver's buffer lies), and every new descriptor is placed close-on-exec in its
#    slot, so that pipe2/eventfd/memfd_create without their CLOEXEC flag (ospp always adds it,
#    Python does not) compare alike.
# and in the proc domain (marked "deliberate:" in proc.py):
#  - Python's ValueError is EINVAL in ospp (resource.hpp, sched.hpp, environ.hpp, wait.hpp,
#    sysinfo.hpp), but setrlimit's "not allowed to raise maximum limit", which is EPERM;
#  - a negative or huge CPU number: Python's ValueError or OverflowError, std::length_error from
#    ospp's cpu_set (sched.hpp): both print RAISE;
#  - putenv/unsetenv of a bad name: ospp's EINVAL names the name, as an error names a path
#    (environ.hpp); Python's ValueError (putenv) or unnamed EINVAL (unsetenv) do not;
#  - nice: ospp counts an increment beyond +-40 as +-40, which glibc's nice(3) may wrap
#    (process.hpp); Python's increment is clamped alike;
#  - pthread_sigmask with a number that is no signal (0, 65, negative): Python's ValueError,
#    left out by ospp's signal_set, as glibc's reserved 32 and 33 (signal.hpp);
#  - signal names and strsignal: ospp names RTMIN+n, 32 and 33 where Python has no name, and says
#    "Unknown signal N" where Python gives None or ValueError (signal.hpp);
#  - WCOREDUMP: ospp's core_dumped() is false unless the status is signaled() (wait.hpp);
#  - setgroups of too many groups without CAP_SETGID is EPERM, and prlimit of a missing pid is
#    ESRCH whatever the resource: the kernel's order; Python's ValueError comes before the call
#    (ids.hpp, resource.hpp);
#  - pwd's and grp's KeyError is ENOENT naming the name or number, and a NUL byte in a name is
#    EINVAL naming it, as for a path (ids.hpp); getgrouplist is given no non-UTF-8 name (Python
#    encodes it strictly: UnicodeEncodeError);
#  - a limit above 2^63 and the gid 2^32-1 are shown unsigned (Python's getrlimit and
#    getgrouplist give them negative); os.setsid() returns None, the new session is read back
#    with getsid(0).
#  Nondeterministic values are not compared: rusage counters and times (only utime >= 0),
#  sched_rr_get_interval (only >= 0), SC_AVPHYS_PAGES, process ids (tokens). A blocking wait is
#  not made while a stopped child could keep it waiting for good.
# and in the locks domain (marked "deliberate:" in locks.py):
#  - fcntl.lockf's ValueError (a cmd without LOCK_SH, LOCK_EX or exactly LOCK_UN) is EINVAL in
#    ospp (fcntl.hpp, lockf), as in fdio;
#  - fcntl.fcntl(fd, cmd, bytes) with fewer bytes than the command reads (a cut struct flock):
#    CPython 3.11 copies them into an uninitialised stack buffer, so the kernel reads garbage past
#    them; ospp's buffer is zeroed (fcntl.hpp). locks.py passes the cut struct zero-padded and cuts
#    the answer again.
# and in the spawn domain (marked "deliberate:" in spawn.py):
#  - os.spawn* report an exec failure only as the child's exit code 127; ospp's return the exec's
#    error (spawn.hpp). spawn.py finds it by the same exec (execv, execve, execvp, execvpe) in a
#    forked child, and only the errno is compared;
#  - Python's ValueError (an empty argv or argv[0], a NUL byte, an illegal environment name) is
#    EINVAL in ospp, naming the path where the call names one (posix_spawn*, spawn*, execve,
#    execvpe, execle, execlpe) (spawn.hpp, process.hpp);
#  - os.execvpe searches PATH with bytes, so its error names the candidate as bytes (b'd1/prog');
#    ospp's names it as any path (process.hpp);
#  - setsigmask/setsigdef: ospp's signal_set leaves out a number that is no signal (0, 65: Python's
#    ValueError) and glibc's reserved 32 and 33 (Python leaves them out with a RuntimeWarning)
#    (signal.hpp).
import argparse
import os
import random
import signal
import re
import shutil
import stat
import subprocess
import sys
import tempfile

from gen_pipes import gen_pipes_script  # the pipes domain's generator
from gen_locks import gen_locks_script  # the locks domain's generator
from gen_proc import gen_proc_script  # the proc domain's generator
from gen_spawn import gen_spawn_script  # the spawn domain's generator
from gen_tty import gen_tty_script  # the tty domain's generator

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the generator ----

NAMES = [b"a", b"b", b"c", b"s p", b"n\nl", b"x\xff",
         # for the quoting of error messages (Python's repr): quotes, tab, escape, DEL, UTF-8
         # printable and not (U+2028), a lone continuation byte, a backslash
         b"it's", b"q\"'", b"t\tb", b"\x1b[0m", b"d\x7f", "caf\u00e9".encode(), "l\u2028s".encode(),
         b"\x80", b"b\\s"]
NAME_WEIGHTS = [5, 5, 3, 1, 1, 1] + [0.2] * 9
MODES = ["755", "700", "750", "500", "0", "777", "1777", "311"]
FILE_MODES = ["644", "600", "0", "755", "400", "4755"]
TIMES = [0, -1, 1000000000123456789, 1700000000999999999, 999, -1000000001, 2**61]
OPEN_FLAGS = ["wc", "wct", "wcx", "wa", "r", "rd", "wn", "wcn", "R", "rdn", "wcd", "Rt"]
XATTR_NAMES = [b"user.k", b"user.k", b"user.j", b"user.", b"bogus", b""]
XATTR_VALUES = [b"v", b"", b"\x00x", b"long" * 20]


def enc(b):
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-+")
    if not b:
        return "~"
    return "".join(chr(c) if c in safe else "%%%02x" % c for c in b)


def gen_path(r, max_depth=3, hist=None):
    """A path of the name space; most reuse a path the script named before, or go below one, so
    that calls meet what earlier ones made."""
    x = r.random()
    if hist and x < 0.45:
        p = r.choice(hist)
    elif hist and x < 0.7 and r.choice(hist).count(b"/") < max_depth - 1:
        p = r.choice(hist).rstrip(b"/") + b"/" + r.choices(NAMES, NAME_WEIGHTS)[0]
    else:
        depth = r.choices([1, 2, 3][:max_depth], [10, 4, 2][:max_depth])[0]
        p = b"/".join(r.choices(NAMES, NAME_WEIGHTS)[0] for _ in range(depth))
    if hist is not None and len(hist) < 12 and p and p not in hist:
        hist.append(p)
    x = r.random()
    if x < 0.04:
        p += b"/"
    elif x < 0.06:
        p = b"./" + p
    elif x < 0.08:
        p = p.replace(b"/", b"//", 1) if b"/" in p else p
    elif x < 0.10:
        p = p + b"/.."
    elif x < 0.11:
        p = b"."
    elif x < 0.115:
        p = b""
    elif x < 0.13:
        p = p + b"/."
    elif x < 0.135:
        p = p + b"\0z"  # EINVAL (Python: ValueError)
    elif x < 0.14:
        p = p + b"/" + b"L" * 256  # ENAMETOOLONG
    return p


def gen_target(r, link):
    """A symlink target, relative to the link's directory, that never leaves the tree by more than
    one level (the driver's sandbox holds the tree's root and nothing else)."""
    x = r.random()
    depth = link.count(b"/")
    if x < 0.1:
        return link.rsplit(b"/", 1)[-1]  # itself: a loop
    if x < 0.2:
        return b"."  # its own directory: a cycle for a walk that follows links
    if x < 0.3:
        return b"nowhere"  # dangling
    if x < 0.4 and depth >= 1:
        return b"../" + gen_path(r, 2)
    return gen_path(r, 2).rstrip(b"/") or b"a"


def gen_op(r, hist):
    P = lambda: enc(gen_path(r, 3, hist))
    f = lambda: r.choice(["0", "1"])
    ops = [
        (8, lambda: "mkdir %s %s" % (P(), r.choice(MODES))),
        (3, lambda: "makedirs %s %s %s" % (P(), r.choice(MODES), f())),
        (1, lambda: "mkfifo %s %s" % (P(), r.choice(FILE_MODES))),
        (8, lambda: "open %s %s %s %d" % (P(), r.choice(OPEN_FLAGS), r.choice(FILE_MODES), r.choice([0, 0, 3, 10]))),
        (4, lambda: "rename %s %s" % (P(), P())),
        (2, lambda: "replace %s %s" % (P(), P())),
        (2, lambda: "renames %s %s" % (P(), P())),
        (2, lambda: "link %s %s %s" % (P(), P(), f())),
        (5, lambda: (lambda l: "symlink %s %s" % (enc(gen_target(r, l)), enc(l)))(gen_path(r, 3, hist))),
        (3, lambda: "unlink %s" % P()),
        (3, lambda: "rmdir %s" % P()),
        (1, lambda: "removedirs %s" % P()),
        (2, lambda: "chmod %s %s %s" % (P(), r.choice(MODES + FILE_MODES), f())),
        (1, lambda: "chown %s %d %d %s" % (P(), r.choice([-1, 0, 65534]), r.choice([-1, 0, 65534]), f())),
        (1, lambda: "lchown %s %d %d" % (P(), r.choice([-1, 0, 65534]), r.choice([-1, 65534]))),
        (1, lambda: "mknod %s %s %s" % (P(), r.choice(["10644", "100600", "20600", "140600", "600", "170600"]),
                                        r.choice(["0 0", "1 3", "4095 1048575"]))),
        (1, lambda: "truncate %s %d" % (P(), r.choice([0, 5, -1]))),
        (2, lambda: "utime %s %d %d %s" % (P(), r.choice(TIMES), r.choice(TIMES), f())),
        (1, lambda: "utime_now %s %s" % (P(), f())),
        (3, lambda: "listdir %s" % P()),
        (3, lambda: "stat %s %s" % (P(), f())),
        (2, lambda: "lstat %s" % P()),
        (2, lambda: "readlink %s" % P()),
        (2, lambda: "access %s %d %s %s" % (P(), r.randrange(8), f(), f())),
        (2, lambda: "scandir %s" % P()),
        (2, lambda: "walk %s %s %s" % (r.choice([".", ".", P()]), f(), f())),
        (2, lambda: "fwalk %s %s %s" % (r.choice([".", ".", P()]), f(), f())),
        (2, lambda: "copyfile %s %s %s" % (P(), P(), f())),
        (1, lambda: "rmtree %s" % P()),
        (1, lambda: "setxattr %s %s %s %s %s" % (P(), enc(r.choice(XATTR_NAMES)), enc(r.choice(XATTR_VALUES)),
                                                 r.choice("0012"), f())),
        (1, lambda: "getxattr %s %s %s" % (P(), enc(r.choice(XATTR_NAMES)), f())),
        (1, lambda: "listxattr %s %s" % (P(), f())),
        (1, lambda: "removexattr %s %s %s" % (P(), enc(r.choice(XATTR_NAMES)), f())),
        (3, lambda: "opendir %s" % r.choice([".", enc(gen_path(r, 1)), P()])),
        (1, lambda: "chdir %s" % P()),
        (1, lambda: "getcwd"),
        (1, lambda: "statvfs %s" % P()),
        (1, lambda: "pathconf %s %s" % (P(), r.choice(sorted(os.pathconf_names) + ["PC_BOGUS"]))),
    ]
    weights = [w for w, _ in ops]
    line = r.choices(ops, weights)[0][1]()
    name = line.split()[0]
    if name in ("mkdir", "mkfifo", "open", "rename", "replace", "link", "symlink", "unlink", "rmdir",
                "chmod", "chown", "mknod", "utime", "utime_now", "stat", "lstat", "readlink", "access", "fwalk") and r.random() < 0.15:
        line = "at " + line
    elif name in ("listdir", "scandir", "chdir", "statvfs", "pathconf") and r.random() < 0.1:
        line = "at " + line  # listdir(fd), scandir(fd), fchdir, fstatvfs, fpathconf of the opened directory
    return line


def gen_script(r, n_ops):
    hist = []
    # a starting tree, so that most operations meet something
    ops = []
    for _ in range(3):
        d = gen_path(r, 3, hist).strip(b"/.") or b"a"
        ops.append("makedirs %s 755 1" % enc(d))
        ops.append("open %s wc 644 3" % enc(d + b"/" + r.choices(NAMES, NAME_WEIGHTS)[0]))
    for _ in range(2):
        l = gen_path(r, 3, hist)
        ops.append("symlink %s %s" % (enc(gen_target(r, l)), enc(l)))
    return ops + [gen_op(r, hist) for _ in range(n_ops)]


# ---- the generator of the fdio domain: operations on open descriptors ----
#
# A few descriptor slots (numbered alike in both drivers), opened on two files, a directory, a
# symlink, /dev/null, a missing name and an O_TMPFILE, with flags that collide (O_APPEND, O_PATH,
# O_RDONLY for a write...), then reads, writes, seeks, copies, flag changes and locks at offsets
# and sizes that meet 0, negative, past the end and huge. Valid offsets stay within a few MiB: a copy
# of SIZE_MAX bytes copies the whole file, and a sparse file of a terabyte would copy gigabytes.

FD_SLOTS = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 9]  # 9 is never opened: EBADF
FD_NAMES = [b"f", b"f", b"g", b"g", b"d", b"l", b"/dev/null", b"missing", b"."]
FD_OPEN = ["R", "Rc", "wc", "wct", "r", "wa", "Ra", "Rca", "rd", "Rd", "p", "RT", "wT", "wcx", "rn",
           "Rn", "rN", "wt", "Rt", "pd"]
FD_OFFSETS = [0, 0, 0, 1, 3, 5, 100, 4096, 4097, 65536, 1 << 20, -1, -1, -2, -4096, 2**63 - 1, 2**62, 2**44]
FD_LENGTHS = [0, 0, 1, 3, 10, 100, 4096, 1 << 20, -1, -5, 2**63 - 1]
FD_COUNTS = [0, 1, 3, 5, 100, 4096, 2**31, 2**63 - 1, 2**64 - 1]
FD_SIZES = [0, 1, 3, 10, 100, 5000, -1]
FD_DATA = [b"a", b"hello", b"", b"\x00\xff", b"xyz" * 5, b"\n"]
FD_RWF = [0, 0, 0, 0, 1, 2, 4, 8, 16, 16, 2**30]  # RWF_HIPRI, DSYNC, SYNC, NOWAIT, APPEND, none such
# (no O_DIRECT, also not in "every bit": whether a read through it succeeds depends on where each
# driver's buffers happen to lie in memory, aligned or not)
FD_STATUS = [0, os.O_APPEND, os.O_NONBLOCK, os.O_APPEND | os.O_NONBLOCK, os.O_RDWR | os.O_APPEND,
             os.O_NOATIME, os.O_ASYNC, ~os.O_DIRECT]


def gen_fdio_op(r):
    S = lambda: r.choice(FD_SLOTS)
    T = lambda: r.choice([0, 1, 2, 3])
    O = lambda: r.choice(FD_OFFSETS)
    L = lambda: r.choice(FD_LENGTHS)
    D = lambda: enc(r.choice(FD_DATA))
    Ds = lambda: ",".join(enc(r.choice(FD_DATA)) for _ in range(r.choice([0, 1, 2, 3]))) or "-"
    Ns = lambda: ",".join(str(r.choice(FD_SIZES[:-1])) for _ in range(r.choice([0, 1, 2, 3]))) or "-"
    Opt = lambda: r.choice(["-", "-", str(O())])
    ops = [
        (6, lambda: "open %d %s %s %s" % (T(), enc(r.choice(FD_NAMES)), r.choice(FD_OPEN), r.choice(FILE_MODES))),
        (2, lambda: "close %d" % S()),
        (5, lambda: "read %d %d" % (S(), r.choice(FD_SIZES))),
        (5, lambda: "write %d %s" % (S(), D())),
        (3, lambda: "pread %d %d %d" % (S(), r.choice(FD_SIZES), O())),
        (3, lambda: "pwrite %d %s %d" % (S(), D(), O())),
        (2, lambda: "readv %d %s" % (S(), Ns())),
        (2, lambda: "writev %d %s" % (S(), Ds())),
        (2, lambda: "preadv %d %s %d %d" % (S(), Ns(), r.choice([-1, -1, O()]), r.choice(FD_RWF))),
        (2, lambda: "pwritev %d %s %d %d" % (S(), Ds(), r.choice([-1, -1, O()]), r.choice(FD_RWF))),
        (5, lambda: "lseek %d %d %d" % (S(), O(), r.choice([0, 0, 1, 1, 2, 2, 3, 4, 7]))),
        (2, lambda: "ftruncate %d %d" % (S(), L())),
        (1, lambda: "fallocate %d %d %d" % (S(), O(), L())),
        (1, lambda: "fadvise %d %d %d %d" % (S(), O(), L(), r.choice([0, 1, 2, 3, 4, 5, 9]))),
        (0.3, lambda: "fsync %d" % S()),
        (0.3, lambda: "fdatasync %d" % S()),
        (2, lambda: "dup %d %d" % (S(), T())),
        (2, lambda: "dup2 %d %d %s" % (S(), T(), r.choice("01"))),
        (1, lambda: "getinh %d" % S()),
        (1, lambda: "setinh %d %s" % (S(), r.choice("01"))),
        (1, lambda: "getblk %d" % S()),
        (1, lambda: "setblk %d %s" % (S(), r.choice("01"))),
        (2, lambda: "fstat %d" % S()),
        (1, lambda: "fchmod %d %s" % (S(), r.choice(FILE_MODES))),
        (0.5, lambda: "fstatvfs %d" % S()),
        # sendfile's counts stay small: from a file into itself it reads what it has just
        # written, so it would copy the whole count
        (2, lambda: "sendfile %d %d %s %d" % (S(), S(), Opt(), r.choice(FD_COUNTS[:6]))),
        (2, lambda: "cfr %d %d %d %s %s" % (S(), S(), r.choice(FD_COUNTS), Opt(), Opt())),
        (1, lambda: "getfl %d" % S()),
        (1, lambda: "setfl %d %d" % (S(), r.choice(FD_STATUS))),
        (1, lambda: "getfd %d" % S()),
        (1, lambda: "setfd %d %d" % (S(), r.choice([0, 1, 1, 3, -1]))),
        (1, lambda: "lockf %d %d %d" % (S(), r.choice([0, 1, 2, 3, 7, -1]), L())),
        # flock without LOCK_NB could wait for good on a lock of another open of the same file
        (1, lambda: "flock %d %d" % (S(), r.choice([5, 6, 8, 12, 0, 4, 13]))),
        (1, lambda: "flockf %d %d %d %d %d" % (S(), r.choice([1, 2, 5, 6, 8, 12, 0, 4, 3]), L(), r.choice([0, 0, 1, -1, -5, 2**62]),
                                               r.choice([0, 0, 1, 2, 3]))),
        (1, lambda: "fpathconf %d %s" % (S(), r.choice(sorted(os.pathconf_names) + ["PC_BOGUS"]))),
        (1, lambda: "fchown %d %d %d" % (S(), r.choice([-1, 0, 65534]), r.choice([-1, 0, 65534]))),
        (0.3, lambda: "isatty %d" % S()),
        # closerange and dupfd stay among the slots: the drivers' own descriptors are below them
        (0.5, lambda: "closerange %d %d" % (r.choice([40, 41, 42, 43, 44]), r.choice([40, 42, 43, 44, 45]))),
        (1, lambda: "dupfd %d %d %s" % (S(), r.choice([40, 41, 42, 43, 44, -1, 2**31 - 1]), r.choice("01"))),
        (1, lambda: "%s %d" % (r.choice(["getlease", "getseals", "getpipesz", "getown", "getsig"]), S())),
        (1, lambda: "fsetxattr %d %s %s %s" % (S(), enc(r.choice(XATTR_NAMES)), enc(r.choice(XATTR_VALUES)), r.choice("00123"))),
        (1, lambda: "fgetxattr %d %s" % (S(), enc(r.choice(XATTR_NAMES)))),
        (0.5, lambda: "flistxattr %d" % S()),
        (0.5, lambda: "fremovexattr %d %s" % (S(), enc(r.choice(XATTR_NAMES)))),
        (1, lambda: "fchdir %d" % S()),
        (0.5, lambda: "getcwd"),
    ]
    return r.choices(ops, [w for w, _ in ops])[0][1]()


def gen_fdio_script(r, n_ops):
    # every slot open to start with: f read-write, g too, f again appending, a dup of the first
    ops = ["mkdir d", "symlink f l", "open 0 f Rc 644", "write 0 hello", "open 1 g Rc 600", "open 2 f Ra 644",
           "dup 0 3"]
    return ops + [gen_fdio_op(r) for _ in range(n_ops)]


# ---- running and comparing ----

TIME_RE = re.compile(r"\b(atime|mtime|ctime)=(-?\d+)")


def normalise(lines, script):
    known = set()
    for op in script:
        t = op.split()
        if t[0] == "at":
            t = t[1:]
        if t[0] == "utime":
            known.update(t[2:4])
    return [TIME_RE.sub(lambda m: m.group(0) if m.group(2) in known else m.group(1) + "=T", l) for l in lines]


def split_output(text):
    """{script index: [lines]} from a driver's output."""
    out = {}
    cur = None
    for line in text.split("\n"):
        if line.startswith("== "):
            cur = out.setdefault(int(line[3:]), [])
        elif cur is not None and line:
            cur.append(line)
    return out


def make_writable(top):
    """chmod u+rwx every directory (a script may have made some unreadable) so the tree can go."""
    for dirpath, dirnames, _ in os.walk(top):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                try:
                    os.chmod(p, 0o700)
                except OSError:
                    pass


def run_drivers(args, work, scripts):
    """Runs both drivers on the scripts; returns (ospp outputs, python outputs) per script."""
    paths = []
    sdir = os.path.join(work, "scripts")
    os.makedirs(sdir, exist_ok=True)
    for i, s in enumerate(scripts):
        p = os.path.join(sdir, "%d.txt" % i)
        with open(p, "w") as f:
            f.write("\n".join(s) + "\n")
        paths.append(p)
    results = []
    domain = ["--domain", args.domain]
    env = dict(os.environ)
    if args.domain == "spawn":  # the program it starts: ospp_spawn_helper, built beside the driver
        env["OSPP_SPAWN_HELPER"] = os.path.join(os.path.dirname(os.path.abspath(args.driver)), "ospp_spawn_helper")
    for name, cmd in (("ospp", [args.driver] + domain), ("py", [sys.executable, os.path.join(HERE, "driver.py")] + domain)):
        wd = os.path.join(work, name)
        os.mkdir(wd)
        try:
            proc = subprocess.run(cmd + [wd] + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, timeout=120)
        finally:
            make_writable(wd)
            shutil.rmtree(wd)
        if proc.returncode != 0:
            sys.exit("%s driver failed (%d): %s" % (name, proc.returncode, proc.stderr.decode(errors="replace")))
        results.append(split_output(proc.stdout.decode("utf-8", "surrogateescape")))
    shutil.rmtree(sdir)
    return results


def first_difference(a, b):
    for i in range(max(len(a), len(b))):
        la = a[i] if i < len(a) else "<end>"
        lb = b[i] if i < len(b) else "<end>"
        if la != lb:
            return i, la, lb
    return None


def differs(args, work, script):
    o, p = run_drivers(args, work, [script])
    return first_difference(normalise(o[0], script), normalise(p[0], script)) is not None


def minimise(args, work, script):
    """Drops operations, one at a time from the end, while a difference stays."""
    i = len(script) - 1
    while i >= 0 and len(script) > 1:
        candidate = script[:i] + script[i + 1:]
        if differs(args, work, candidate):
            script = candidate
        i -= 1
    return script


def op_of(lines, index):
    """The "#n" marker at or before line `index`: the operation the line belongs to."""
    for j in range(index, -1, -1):
        if lines[j].startswith("#"):
            return int(lines[j][1:])
    return None


def report(args, work, script, first):
    """Prints where the script's outputs differ; `first` is the (ospp, python) lines of the first
    run, shown when a rerun does not differ (a difference that depends on timing or cache state)."""
    o, p = run_drivers(args, work, [script])
    a, b = normalise(o[0], script), normalise(p[0], script)
    d = first_difference(a, b)
    if d is None:
        print("  (not again on a rerun: the first run's lines)")
        a, b = first
        d = first_difference(a, b)
    at, la, lb = d
    n = op_of(a, min(at, len(a) - 1))
    print("  at: %s" % (script[n] if n is not None and n < len(script) else "<dump>"))
    print("  ospp:   %s" % la)
    print("  python: %s" % lb)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--driver", required=True, help="the ospp driver (build/test/ospp_differential)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-n", type=int, default=200, help="number of scripts")
    ap.add_argument("--ops", type=int, default=30, help="operations per script")
    ap.add_argument("--batch", type=int, default=100, help="scripts per driver run")
    ap.add_argument("--max-report", type=int, default=3, help="differences to minimise and print")
    ap.add_argument("--show", action="store_true", help="print the scripts and outputs")
    ap.add_argument("--domain", choices=["files", "fdio", "pipes", "proc", "locks", "spawn", "tty"], default="files",
                    help="files: file and directory calls; fdio: operations on open descriptors; "
                         "pipes: pipe ends and special descriptors; proc: the process's own state; "
                         "locks: file locks of a process and its child; spawn: starting programs; "
                         "tty: terminals and ptys")
    args = ap.parse_args()
    if not (hasattr(os, "setxattr") and hasattr(os, "fwalk")):
        print("python3 without os.setxattr/os.fwalk: skipped")
        return 77
    r = random.Random(args.seed)
    # meson's timeout (SIGTERM) still removes the work directory
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    work = tempfile.mkdtemp(prefix="ospp-differential-")
    found = 0
    try:
        done = 0
        while done < args.n:
            gen = {"fdio": gen_fdio_script, "pipes": gen_pipes_script, "proc": gen_proc_script,
                   "locks": gen_locks_script, "spawn": gen_spawn_script, "tty": gen_tty_script}.get(args.domain, gen_script)
            scripts = [gen(r, args.ops) for _ in range(min(args.batch, args.n - done))]
            o, p = run_drivers(args, work, scripts)
            for i, s in enumerate(scripts):
                a, b = normalise(o.get(i, []), s), normalise(p.get(i, []), s)
                if args.show:
                    print("\n".join(s) + "\n--\n" + "\n".join(a))
                if first_difference(a, b) is None:
                    continue
                found += 1
                if found > args.max_report:
                    continue
                print("difference in script %d (seed %d):" % (done + i, args.seed))
                small = minimise(args, work, s)
                print("  script (minimised, %d of %d ops):" % (len(small), len(s)))
                for line in small:
                    print("    " + line)
                report(args, work, small, (a, b))
            done += len(scripts)
    finally:
        make_writable(work)
        shutil.rmtree(work)
    print("%d scripts, %d with a difference" % (args.n, found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
