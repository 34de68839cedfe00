#!/usr/bin/env python3
# test/systrees/systrees.py — ospp's reading calls against Python's os on the real trees of the
# machine (/dev, /proc, /sys, /etc, /run, /usr/include, /usr/lib/<multiarch>, /boot, the mount
# points), which the generated temp trees of the other tests never show: device nodes, sockets,
# procfs magic links and per-process directories, sysfs attributes whose size lies, write-only
# files, mount points (st_dev changes, walks crossing them), xattrs and ACLs of a real system.
#
#   systrees.py run --driver BUILD/test/ospp_systrees [--set full|stable] [--show N]
#
# gathers a list of paths (bounded: a depth per root), then runs ospp_systrees (systrees.cpp)
# on it, then this script's "os" mode, then ospp_systrees again, each printing one line per path
# and call: "<call> <path> [<what>] | <result>". The calls: lstat and stat with every stat_result
# field; readlink; access with each mode, following links or not, with effective ids; statvfs;
# listxattr and getxattr of each name, following links or not; pathconf of each name; on an O_PATH
# descriptor fstat, fstatvfs, fpathconf, listxattr, readlink and stat of "" with dir_fd; listdir
# and scandir (every DirEntry answer), by path and by descriptor, and stat, readlink and access of
# each entry with dir_fd; the content of chosen files (a hash); walk top-down and bottom-up and
# fwalk, following links or not. An error is its errno, the function's name and str(OSError).
# Python's line must equal ospp's; a line on which ospp's two runs differ is volatile (an atime,
# a tty's times, a directory other processes write): Python's must then equal one of them or,
# for a number, lie between them (times only grow).
#
# Normalised on purpose (and counted in the summary):
#  - /proc/self and /proc/thread-self are each process's own: their inode numbers, times, the
#    link targets that name the process (self, thread-self, exe, fd/N) and what stat finds behind
#    those links are not compared; nor the pid entries of /proc's listing (processes come and go);
#  - the counters of the whole system (the link count of /proc, /proc/sys/fs/file-nr, statvfs's
#    free blocks and inodes of a file system mounted read-write, the size of /proc/PID/fd (the
#    number of descriptors open there), the size and link count of /tmp,
#    /dev/shm and the like, where other processes make and remove entries): not compared;
#  - the fd forms of the xattr calls: Python's error names the descriptor's number, ospp's nothing;
#  - DirEntry.is_dir()/is_file(): Python raises for a stat error other than ENOENT, ospp answers
#    False (scandir.hpp): Python's error counts as False.
#
# Run it as root and as nobody:
#   chmod -R a+rX build && setpriv --reuid=65534 --regid=65534 --clear-groups \
#       /usr/bin/python3 test/systrees/systrees.py run --driver build/test/ospp_systrees
# `--set stable` keeps to the trees that do not change while other tests run (/dev's nodes, not
# its pts, shm and mqueue mounts; /etc, /usr/include, /sys/class) and the scratch directory: the
# meson test "systrees" (suite parity) runs that set, in about 3 seconds. The full set (/proc,
# /sys, /run, /, /usr/lib/<multiarch>, /boot too) takes about 5.
# Exit status: 0 no difference, 1 differences (printed), 2 a usage or setup error.
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "differential"))
from driver import dec, enc  # noqa: E402  (percent-encoded tokens, as differential/common.hpp's)


# ---------------------------------------------------------------- the path list

# Regular files read whole (r): the world-readable files of /etc (no secrets), the CPU attributes
# of sysfs (size 4096, shorter content), /proc/sys (0200 and 0600 entries too), and sysfs
# attributes nobody may read (write-only: open fails before the kernel calls anything). Never
# another sysfs attribute: reading one can act (/sys/class/zram-control/hot_add adds a device,
# /sys/power/wakeup_count can block); never a device, never /sys/fs/cgroup.
def readable(p):
    try:
        st = os.lstat(p)
    except OSError:
        return False
    if not os.path.isfile(p) or os.path.islink(p):
        return False
    if p.startswith("/etc/"):
        return st.st_mode & 0o004
    if p.startswith("/sys/fs/cgroup/"):
        return False  # cgroupfs opens its write-only files for reading
    if p.startswith("/sys/"):
        return p.startswith("/sys/devices/system/cpu/") or not st.st_mode & 0o444
    # vm/stat_refresh: a read by root folds the per-CPU counters; init_private*: the sandbox's own.
    return (p.startswith("/proc/sys/") and p != "/proc/sys/vm/stat_refresh"
            and "init_private" not in p)


def gather(roots):
    """[(flags, path)] for the roots: (path, depth, walk flags). p on every path, l on every
    directory (not a symlink) above the depth limit, r on the files to read, w/f on the root."""
    out = []
    seen = set()

    def add(flags, p):
        if (flags, p) not in seen:
            seen.add((flags, p))
            out.append((flags, p))

    def visit(p, depth, skip):
        add("p", p)
        if readable(p):
            add("r", p)
        try:
            is_dir = os.path.isdir(p) and not os.path.islink(p)
        except OSError:
            is_dir = False
        if not is_dir or depth == 0:
            return
        add("l", p)
        try:
            names = sorted(os.listdir(p))
        except OSError:
            return
        for n in names:
            child = os.path.join(p, n)
            if child in skip:
                continue
            visit(child, depth - 1, skip)

    for top, depth, walkflags, skip in roots:
        if depth > 0 and not os.path.lexists(top):
            continue
        visit(top, depth, skip)
        if walkflags:
            add(walkflags, top)
    return out


def proc_names():
    """The non-pid entries of /proc, and 1, self and thread-self."""
    return [n for n in sorted(os.listdir("/proc")) if not n.isdigit() or n == "1"]


def root_sets(which, scratch):
    """(top, depth, flags, names to skip) for the set: "stable" (trees that do not change while
    other tests run: /dev's nodes but not its pts, shm and mqueue mounts, where tests make and
    remove entries, /etc, /usr/include, /sys/class),
    or "full" (that and /, /run, /usr/lib/<multiarch>, /boot, /sys, /proc)."""
    # The scratch directory, and paths that fail: ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP, a
    # non-UTF-8 name, the empty path.
    out = [(scratch, 2, "wf", set())]
    for name, _ in MODE_DIRS:
        out.append((os.path.join(scratch, name, "a"), 0, "", set()))
    for p in ("/nonexistent", "/etc/passwd/x", "/etc/passwd/", "/" + "a" * 300, "/etc/" + "b" * 5000,
              os.fsdecode(b"/etc/\xff\xfe"), "", scratch + "/loop/x", scratch + "/self/x"):
        out.append((p, 0, "l", set()))
    for p in ("/nonexistent", "/etc/passwd", scratch + "/loop", scratch + "/dangling"):
        out.append((p, 0, "w", set()))
    if which == "stable":
        return out + [
            ("/dev", 1, "", {"/dev/pts", "/dev/shm", "/dev/mqueue"}),
            ("/etc", 10, "wfWF", set()),
            ("/usr/include", 2, "", set()),
            ("/usr/include", 0, "wfWF", set()),
            ("/sys/class", 2, "wf", set()),
        ]
    multiarch = "/usr/lib/x86_64-linux-gnu"
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64"):
        if os.path.isdir(d):
            multiarch = d
            break
    out += [
        ("/", 1, "", {"/proc", "/sys", "/dev", "/etc", "/run", "/usr", "/mnt", "/tmp", "/work", "/root"}),
        ("/dev", 3, "wf", set()),
        ("/etc", 10, "wfWF", set()),
        ("/run", 4, "wf", set()),
        ("/usr/include", 2, "", set()),
        ("/usr/include", 0, "wfWF", set()),
        (multiarch, 1, "", set()),
        ("/usr/bin", 1, "", set()),
        ("/boot", 3, "w", set()),
        ("/sys", 1, "", set()),
        ("/sys/class", 2, "wf", set()),
        ("/sys/devices/system/cpu", 2, "", set()),
        ("/sys/fs/cgroup", 2, "", set()),
        ("/sys/fs/cgroup", 0, "wf", set()),  # a tmpfs with a cgroup mount per controller
        ("/sys/kernel", 1, "", set()),
        ("/sys/bus", 2, "", set()),
        ("/sys/power", 1, "", set()),
        ("/proc/sys/kernel", 1, "", set()),
        ("/proc/sys/vm", 1, "", set()),
        ("/proc/sys/fs", 1, "", set()),
    ]
    for n in proc_names():
        out.append(("/proc/" + n, 0, "", set()))
    out.append(("/proc", 0, "", set()))
    out.append(("/proc", 0, "l", set()))
    for pid in ("self", "1", "thread-self"):
        base = "/proc/" + pid
        skip = {base + "/fd", base + "/fdinfo", base + "/map_files", base + "/task", base + "/net"}
        out.append((base, 1, "", skip))
        out.append((base + "/ns", 1, "", set()))
        out.append((base + "/attr", 1, "", set()))
        for f in ("fd", "fdinfo", "map_files", "task", "net"):
            out.append((base + "/" + f, 0, "", set()))
    # ENOENT for a descriptor not open; EACCES as nobody behind /proc/1's magic links.
    for f in ("0", "1", "2", "999"):
        out.append(("/proc/self/fd/" + f, 0, "", set()))
    out.append(("/proc/1/fd/0", 0, "", set()))
    out.append(("/proc/1/root/etc", 0, "", set()))
    out.append(("/proc/1/cwd/.", 0, "", set()))
    return out


# The scratch directory: what the real trees of a machine may lack. A symlink loop, a dangling
# symlink, a FIFO and a socket (stat only: never opened), and a file with extended attributes:
# user.* (empty, binary, large), a POSIX ACL (system.posix_acl_access), trusted.* as root (which
# only root may list), on the directory user.* and a default ACL, and directories one may read but not search, search but not read, neither.
SCRATCH = ("loop", "dangling", "self", "fifo", "socket", "attrs")
# Directories that may be read but not searched, searched but not read, neither (for nobody).
MODE_DIRS = (("read_only", 0o444), ("search_only", 0o111), ("no_access", 0))


def posix_acl(entries):
    import struct
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, uid) for tag, perm, uid in entries)


def make_scratch():
    import socket
    d = tempfile.mkdtemp(prefix="systrees.")
    os.symlink("loop", d + "/loop")
    os.symlink("/nonexistent", d + "/dangling")
    os.symlink("self", d + "/self")
    os.mkfifo(d + "/fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind(d + "/socket")
    s.close()
    with open(d + "/attrs", "wb") as f:
        f.write(b"x" * 100)
    attrs = [("user.empty", b""), ("user.binary", b"\0\xff\n "), ("user.large", b"v" * 3000),
             ("system.posix_acl_access",
              posix_acl([(0x01, 6, 0xFFFFFFFF), (0x02, 4, 0), (0x04, 4, 0xFFFFFFFF), (0x10, 4, 0xFFFFFFFF),
                         (0x20, 0, 0xFFFFFFFF)]))]
    if os.geteuid() == 0:
        attrs.append(("trusted.t", b"root only"))
    for name, mode in MODE_DIRS:
        os.mkdir(os.path.join(d, name))
        with open(os.path.join(d, name, "a"), "wb"):
            pass
        os.chmod(os.path.join(d, name), mode)
    acl = posix_acl([(0x01, 7, 0xFFFFFFFF), (0x04, 5, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF)])
    for path, name, value in [(d + "/attrs", n, v) for n, v in attrs] + [
            (d, "user.dir", b"d"), (d, "system.posix_acl_default", acl)]:
        try:
            os.setxattr(path, name, value)
        except OSError:
            pass  # a file system without it
    return d


def remove_scratch(d):
    for n in SCRATCH:
        os.unlink(os.path.join(d, n))
    for name, _ in MODE_DIRS:
        os.chmod(os.path.join(d, name), 0o700)
        os.unlink(os.path.join(d, name, "a"))
        os.rmdir(os.path.join(d, name))
    os.rmdir(d)


# ---------------------------------------------------------------- Python's side

def err(e, call):
    return "ERR %d %s %s" % (e.errno, call, e)


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def inner(value):
    """A result inside a line of fields: an error without its spaces."""
    return enc(value) if value.startswith("ERR ") else value


def tf(b):
    return "True" if b else "False"


def lst(names):
    return "[" + ",".join(enc(n) for n in names) + "]"


def stat_fields(s):
    return ("mode=%o ino=%d dev=%d nlink=%d uid=%d gid=%d size=%d blocks=%d blksize=%d rdev=%d major=%d "
            "minor=%d dev_major=%d dev_minor=%d atime=%d mtime=%d ctime=%d" % (
                s.st_mode, s.st_ino, s.st_dev, s.st_nlink, s.st_uid, s.st_gid, s.st_size, s.st_blocks,
                s.st_blksize, s.st_rdev, os.major(s.st_rdev), os.minor(s.st_rdev), os.major(s.st_dev),
                os.minor(s.st_dev), s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns))


def statvfs_fields(v):
    return ("bsize=%d frsize=%d blocks=%d bfree=%d bavail=%d files=%d ffree=%d favail=%d flag=%d namemax=%d "
            "fsid=%d" % (v.f_bsize, v.f_frsize, v.f_blocks, v.f_bfree, v.f_bavail, v.f_files, v.f_ffree,
                         v.f_favail, v.f_flag, v.f_namemax, v.f_fsid))


def attempt(call, fn, show):
    try:
        return show(fn())
    except OSError as e:
        return err(e, call)


def py_side(listfile, w):
    def line(key, value):
        w("%s | %s\n" % (key, value))

    def per_path(p):
        e = enc(p)
        line("lstat " + e, attempt("lstat", lambda: os.lstat(p), stat_fields))
        line("stat " + e, attempt("stat", lambda: os.stat(p), stat_fields))
        line("readlink " + e, attempt("readlink", lambda: os.readlink(p), enc))
        for name, mode in (("F", os.F_OK), ("R", os.R_OK), ("W", os.W_OK), ("X", os.X_OK)):
            line("access %s %s" % (e, name), tf(os.access(p, mode)))
            line("access %s %s nofollow" % (e, name), tf(os.access(p, mode, follow_symlinks=False)))
            line("access %s %s effective" % (e, name), tf(os.access(p, mode, effective_ids=True)))
        line("statvfs " + e, attempt("statvfs", lambda: os.statvfs(p), statvfs_fields))
        for follow in (True, False):
            how = "" if follow else " nofollow"
            try:
                names = os.listxattr(p, follow_symlinks=follow)
            except OSError as x:
                line("listxattr " + e + how, err(x, "listxattr"))
                continue
            line("listxattr " + e + how, lst(names))
            for n in names:
                line("getxattr %s %s%s" % (e, enc(n), how),
                     attempt("getxattr", lambda: os.getxattr(p, n, follow_symlinks=follow), enc))
        for name in sorted(os.pathconf_names, key=lambda n: os.pathconf_names[n]):
            line("pathconf %s %s" % (e, name), attempt("pathconf", lambda: os.pathconf(p, name), str))

    def opened(key, p, flags):
        """os.open's descriptor, or None after the error's line."""
        try:
            return os.open(p, flags | os.O_CLOEXEC)
        except OSError as x:
            line(key, err(x, "open"))
            return None

    def by_descriptor(p):
        e = enc(p)
        f = opened("opath " + e, p, os.O_PATH | os.O_NOFOLLOW)
        if f is None:
            return
        try:
            line("fstat " + e, attempt("fstat", lambda: os.fstat(f), stat_fields))
            line("fstatvfs " + e, attempt("fstatvfs", lambda: os.fstatvfs(f), statvfs_fields))
            for name in sorted(os.pathconf_names, key=lambda n: os.pathconf_names[n]):
                line("fpathconf %s %s" % (e, name), attempt("fpathconf", lambda: os.fpathconf(f, name), str))
            line("flistxattr " + e, attempt("listxattr", lambda: os.listxattr(f), lst))
            line("readlink_empty " + e, attempt("readlink", lambda: os.readlink("", dir_fd=f), enc))
            line("stat_empty " + e, attempt("stat", lambda: os.stat("", dir_fd=f), stat_fields))
        finally:
            os.close(f)

    def at_entries(p):
        e = enc(p)
        d = opened("opendir " + e, p, os.O_RDONLY | os.O_DIRECTORY)
        if d is None:
            return
        try:
            try:
                attrs = os.listxattr(d)
                line("flistxattr_dir " + e, lst(attrs))
                for n in attrs:
                    line("fgetxattr_dir %s %s" % (e, enc(n)), attempt("getxattr", lambda: os.getxattr(d, n), enc))
            except OSError as x:
                line("flistxattr_dir " + e, err(x, "listxattr"))
            try:
                names = os.listdir(d)
            except OSError as x:
                line("listdir_fd " + e, err(x, "listdir"))
                return
            line("listdir_fd " + e, lst(names))
            for n in names:
                k = e + " " + enc(n)
                line("lstat_at " + k, attempt("stat", lambda: os.stat(n, dir_fd=d, follow_symlinks=False),
                                              stat_fields))
                line("stat_at " + k, attempt("stat", lambda: os.stat(n, dir_fd=d), stat_fields))
                line("readlink_at " + k, attempt("readlink", lambda: os.readlink(n, dir_fd=d), enc))
                line("access_at " + k, tf(os.access(n, os.R_OK, dir_fd=d)))
            try:
                it = os.scandir(d)
            except OSError as x:
                line("scandir_fd " + e, err(x, "scandir"))
                return
            try:
                with it:
                    for x in it:
                        line("scandir_fd %s %s" % (e, enc(x.name)), "path=%s is_dir=%s lstat_ino=%s" % (
                            enc(x.path), entry_answer(x.is_dir),
                            inner(attempt("stat", lambda: x.stat(follow_symlinks=False),
                                          lambda s: str(s.st_ino)))))
            except OSError as x:
                line("scandir_fd " + e, err(x, "scandir"))
                return
            line("scandir_fd " + e, "ok")
        finally:
            os.close(d)

    def read_file(p):
        try:
            f = open(p, "rb", buffering=0)
        except OSError as x:
            line("read " + enc(p), err(x, "open"))
            return
        with f:
            line("read " + enc(p), attempt("read", f.read, lambda b: "len=%d fnv=%d" % (len(b), fnv(b))))

    def entry_answer(fn):
        try:
            return tf(fn())
        except OSError as x:
            return "RAISES(%d)" % x.errno

    def per_dir(p):
        e = enc(p)
        line("listdir " + e, attempt("listdir", lambda: os.listdir(p), lst))
        try:
            it = os.scandir(p)
        except OSError as x:
            line("scandir " + e, err(x, "scandir"))
            return
        names = []
        try:
            with it:
                for d in it:
                    names.append(d.name)
                    line("scandir %s %s" % (e, enc(d.name)),
                         "path=%s ino=%d is_dir=%s is_dir_nofollow=%s is_file=%s is_file_nofollow=%s "
                         "is_symlink=%s stat_ino=%s lstat_ino=%s" % (
                             enc(d.path), d.inode(), entry_answer(d.is_dir),
                             entry_answer(lambda: d.is_dir(follow_symlinks=False)), entry_answer(d.is_file),
                             entry_answer(lambda: d.is_file(follow_symlinks=False)),
                             entry_answer(d.is_symlink),
                             inner(attempt("stat", lambda: d.stat(), lambda s: str(s.st_ino))),
                             inner(attempt("stat", lambda: d.stat(follow_symlinks=False), lambda s: str(s.st_ino)))))
        except OSError as x:
            line("scandir " + e, err(x, "scandir"))
            return
        line("scandir " + e, lst(names))

    def walk_lines(what, top, steps, errors):
        previous = "-"
        for step in steps:
            extra = ""
            if len(step) == 4:
                extra = " dirfd_ino=" + inner(attempt("fstat", lambda: os.fstat(step[3]), lambda s: str(s.st_ino)))
            d = enc(step[0])
            line("%s %s %s" % (what, enc(top), d),
                 "after=%s dirs=%s files=%s%s" % (previous, lst(step[1]), lst(step[2]), extra))
            previous = d
        for i, x in enumerate(errors):
            # deliberate: fwalk's errors name the directory's full path, Python's the bare name it
            # opened relative to the parent's descriptor (walk.hpp).
            line("%s %s onerror%d" % (what, enc(top), i), err(x, "scandir"))

    def walks(top, plain, f):
        if plain:
            for topdown in (True, False):
                errors = []
                walk_lines("walk" if topdown else "walkup", top,
                           os.walk(top, topdown=topdown, onerror=errors.append), errors)
        if f:
            errors = []
            walk_lines("fwalk", top, os.fwalk(top, onerror=errors.append), errors)

    def walks_following(top, plain, f):
        errors = []
        if plain:
            walk_lines("walk_follow", top, os.walk(top, onerror=errors.append, followlinks=True), errors)
        errors = []
        if f:
            walk_lines("fwalk_follow", top, os.fwalk(top, onerror=errors.append, follow_symlinks=True), errors)

    with open(listfile, encoding="ascii") as f:
        for raw in f:
            flags, _, token = raw.rstrip("\n").partition(" ")
            p = dec(token)
            if "p" in flags:
                per_path(p)
                by_descriptor(p)
            if "l" in flags:
                per_dir(p)
                at_entries(p)
            if "r" in flags:
                read_file(p)
            if "w" in flags or "f" in flags:
                walks(p, "w" in flags, "f" in flags)
            if "W" in flags or "F" in flags:
                walks_following(p, "W" in flags, "F" in flags)


# ---------------------------------------------------------------- the comparison

SELF_PREFIXES = ("/proc/self", "/proc/thread-self")
# Directories where other processes make and remove entries: their size and link count go up
# and down (/dev's shm, pts and mqueue are not listed, but are entries of /dev).
SHARED_DIRS = {"/tmp", "/dev/shm", "/dev/pts", "/dev/mqueue", "/run", "/run/lock", "/var/tmp"}
# /proc/sys files that count what the whole system does: their content is not compared.
COUNTERS = {"/proc/sys/fs/file-nr", "/proc/sys/fs/inode-nr", "/proc/sys/fs/inode-state",
            "/proc/sys/fs/dentry-state", "/proc/sys/fs/aio-nr", "/proc/sys/kernel/ns_last_pid",
            "/proc/sys/kernel/hung_task_detect_count", "/proc/sys/kernel/msg_next_id",
            "/proc/sys/kernel/sem_next_id", "/proc/sys/kernel/shm_next_id", "/proc/sys/kernel/tainted"}


def split_line(l):
    key, _, value = l.partition(" | ")
    return key, value


def key_path(key):
    parts = key.split(" ")
    return dec(parts[1]) if len(parts) > 1 else ""


def is_self(path):
    return any(path == s or path.startswith(s + "/") for s in SELF_PREFIXES)


def fields(value):
    if value.startswith("ERR ") or value.startswith("["):
        return None
    out = {}
    for item in value.split(" "):
        k, eq, v = item.partition("=")
        if not eq:
            return None
        out[k] = v
    return out


# Calls whose key names a directory and an entry in it.
ENTRY_CALLS = {"scandir", "scandir_fd", "lstat_at", "stat_at", "readlink_at", "access_at"}
STAT_CALLS = {"lstat", "stat", "fstat", "lstat_at", "stat_at"}
# Calls that follow a final symlink (DirEntry lines have the followed stat_ino).
FOLLOWING_CALLS = {"stat", "stat_at", "scandir", "scandir_fd"}
MASK_SELF = {"ino", "atime", "mtime", "ctime", "stat_ino", "lstat_ino", "dirfd_ino", "size", "blocks"}


class Comparer:
    def __init__(self):
        self.counts = {}
        self.diffs = []

    def note(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    @staticmethod
    def leads_to_self(path):
        """A path that resolves into the process's own /proc directory (/dev/stdout, /etc/mtab,
        /proc/mounts): resolved here, it leads into this process's."""
        own = "/proc/%d" % os.getpid()
        try:
            real = os.path.realpath(path)
        except OSError:  # a magic link one may not follow (/proc/1/root as nobody)
            return False
        return real == own or real.startswith(own + "/")

    def normalise(self, key, value):
        """Python's and ospp's line alike, for the differences that are expected."""
        call = key.split(" ")[0]
        path = key_path(key)
        if call.startswith("fwalk") and key.split(" ")[-1].startswith("onerror") and value.endswith("'"):
            # deliberate: ospp's fwalk names the directory's full path, Python's the bare name.
            head, quote, name = value[:-1].rpartition("'")
            return head + quote + os.path.basename(name) + "'"
        if call in ("flistxattr", "flistxattr_dir", "fgetxattr_dir") and value.startswith("ERR "):
            # deliberate: the fd forms of the xattr calls name no path, Python's OSError the fd
            # number (xattr.hpp).
            return re.sub(r": \d+$", "", value)
        if call in ("listdir", "scandir", "listdir_fd") and path == "/proc" and value.startswith("["):
            names = [n for n in value[1:-1].split(",") if not n.isdigit()]
            return "[" + ",".join(names) + "]"
        if call in ("statvfs", "fstatvfs") and not value.startswith("ERR") and not int(fields(value)["flag"]) & os.ST_RDONLY:
            return re.sub(r"(bfree|bavail|ffree|favail)=\d+", r"\1=*", value)  # others write there
        if call == "read" and path in COUNTERS and not value.startswith("ERR"):
            return "len=* fnv=*"
        parts = key.split(" ")
        full = path  # the file the line is about
        if call in ENTRY_CALLS and len(parts) == 3:
            full = os.path.join(path, dec(parts[2]))
        if full == "/proc" and call in STAT_CALLS and not value.startswith("ERR"):
            return re.sub(r"nlink=\d+", "nlink=*", value)  # 2 + the number of processes
        if re.fullmatch(r"/proc/\d+/fd", full) and call in STAT_CALLS and not value.startswith("ERR"):
            return re.sub(r"size=\d+", "size=*", value)  # the number of descriptors open there
        if full in SHARED_DIRS and call in STAT_CALLS and not value.startswith("ERR"):
            return re.sub(r"(nlink|size|blocks|atime|mtime|ctime)=\d+", r"\1=*", value)
        # what stat (following links) finds behind a link into /proc/self is the process's own too
        if is_self(full) or (call in FOLLOWING_CALLS and self.leads_to_self(full)):
            if call.startswith("readlink") and not value.startswith("ERR"):
                return "<own link>"
            f = fields(value)
            if f is not None:
                for k in MASK_SELF & f.keys():
                    f[k] = "*"
                value = " ".join("%s=%s" % kv for kv in f.items())
        if call in ("scandir", "scandir_fd"):
            f = fields(value)
            if f is not None:
                for k in ("is_dir", "is_file"):
                    if f.get(k, "").startswith("RAISES("):
                        f[k] = "False"  # deliberate: ospp answers False (scandir.hpp)
                value = " ".join("%s=%s" % kv for kv in f.items())
        return value

    @staticmethod
    def skipped(key):
        """The entries of /proc's pid directories: processes come and go."""
        parts = key.split(" ")
        return len(parts) == 3 and parts[1] == "/proc" and parts[2].isdigit()

    def compare(self, ospp_a, py, ospp_b):
        a, p, b = ({k: v for k, v in map(split_line, out.splitlines()) if not self.skipped(k)}
                   for out in (ospp_a, py, ospp_b))
        for key in p.keys() - a.keys():
            self.diffs.append((key, "<missing>", p[key]))
        for key in a.keys() - p.keys():
            self.diffs.append((key, a[key], "<missing>"))
        for key in a.keys() & p.keys():
            va, vp, vb = a[key], p[key], b.get(key)
            if va == vp:
                continue
            na, np_, nb = self.normalise(key, va), self.normalise(key, vp), self.normalise(key, vb or "")
            if na == np_:
                self.note("normalised " + key.split(" ")[0])
                continue
            if vb is not None and na != nb:
                if np_ == nb or self.between(na, np_, nb):
                    self.note("volatile " + key.split(" ")[0])
                    continue
            self.diffs.append((key, va, vp))

    @staticmethod
    def between(a, p, b):
        fa, fp, fb = fields(a), fields(p), fields(b)
        if fa is None or fp is None or fb is None or fa.keys() != fp.keys() or fb.keys() != fp.keys():
            return False
        for k in fp:
            if fp[k] in (fa[k], fb[k]):
                continue
            try:
                x, y, z = int(fa[k]), int(fp[k]), int(fb[k])
            except ValueError:
                return False
            if not min(x, z) <= y <= max(x, z):
                return False
        return True


def run(args):
    scratch = make_scratch()
    try:
        entries = gather(root_sets(args.set, scratch))
        with tempfile.NamedTemporaryFile("w", prefix="systrees.", suffix=".list", delete=False,
                                         encoding="ascii") as f:
            for flags, p in entries:
                f.write("%s %s\n" % (flags, enc(p)))
            listfile = f.name
        try:
            def out(cmd):
                r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=False)
                if r.returncode != 0:
                    sys.exit("systrees: %s exited with %d" % (cmd[0], r.returncode))
                return r.stdout.decode("ascii")
            ospp_a = out([args.driver, listfile])
            py = out([sys.executable, os.path.abspath(__file__), "os", listfile])
            ospp_b = out([args.driver, listfile])
        finally:
            if args.keep:
                os.replace(listfile, os.path.join(args.keep, "list"))
            else:
                os.unlink(listfile)
    finally:
        remove_scratch(scratch)
    if args.keep:
        for name, text in (("ospp_a", ospp_a), ("py", py), ("ospp_b", ospp_b)):
            with open(os.path.join(args.keep, name), "w", encoding="ascii") as f:
                f.write(text)
    c = Comparer()
    c.compare(ospp_a, py, ospp_b)
    paths = sum(1 for flags, _ in entries if "p" in flags)
    print("systrees: uid %d, %d paths, %d directories listed, %d walks, %d lines; %s" % (
        os.getuid(), paths, sum(1 for flags, _ in entries if "l" in flags),
        sum(1 for flags, _ in entries if "w" in flags or "f" in flags), len(py.splitlines()),
        ", ".join("%s %d" % kv for kv in sorted(c.counts.items())) or "nothing normalised"))
    for key, va, vp in sorted(c.diffs)[:args.show]:
        print("DIFF %s\n  ospp:   %s\n  python: %s" % (key, va, vp))
    if c.diffs:
        print("systrees: %d differences" % len(c.diffs))
        return 1
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "os":
        py_side(sys.argv[2], sys.stdout.write)
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["run"])
    ap.add_argument("--driver", required=True)
    ap.add_argument("--set", choices=["full", "stable"], default="full")
    ap.add_argument("--show", type=int, default=40)
    ap.add_argument("--keep", help="a directory to keep the three outputs in")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
