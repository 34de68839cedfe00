# test/differential/driver.py — the Python side of the differential test (see run.py).
#
# Usage: driver.py WORKDIR SCRIPT...   For each script i it makes WORKDIR/i/root, applies the
# script's operations there with Python's os, and prints one normalised line per operation, then a
# dump of the tree. driver.cpp does the same with ospp and must print the same lines.
#
# Where ospp differs from Python on purpose (its headers say so), this driver turns Python's
# answer into ospp's; each such place is marked "deliberate:" and listed in run.py.
import errno
import os
import shutil
import stat
import sys

SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-+")


def enc(b):
    """Bytes as one token: percent-encoded, "~" for the empty string (as driver.cpp's enc)."""
    if isinstance(b, str):
        b = os.fsencode(b)
    if not b:
        return "~"
    return "".join(chr(c) if c in SAFE else "%%%02x" % c for c in b)


def dec(token):
    """The inverse of enc, to a str path (surrogateescape, as Python programs see file names)."""
    return os.fsdecode(dec_bytes(token))


def dec_bytes(token):
    if token == "~":
        return b""
    out = bytearray()
    i = 0
    while i < len(token):
        if token[i] == "%":
            out.append(int(token[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(ord(token[i]))
            i += 1
    return bytes(out)


def read_to_end(r, w):
    """In the parent of a child writing to the pipe (r, w): closes w, reads r to its end, closes it."""
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    return data


def err_line(e, fill=None):
    """ERR errno path path2 message: the message is str(OSError), as ospp's message() after "call: "."""
    filename, filename2 = e.filename, e.filename2
    if filename is None and fill is not None:
        # deliberate: CPython 3.11's mkfifo and utime errors name no path; ospp names it.
        filename = fill
    rebuilt = OSError(e.errno, os.strerror(e.errno), filename, None, filename2)
    return "ERR %d %s %s %s" % (e.errno, enc(filename) if filename is not None else "-",
                                enc(filename2) if filename2 is not None else "-", str(rebuilt))


def relative(root, cwd):
    """A working directory as the path below the script's directory `root` ("." for root itself),
    since the two drivers' directories differ; "outside" for any other (as driver.cpp's)."""
    if cwd == root:
        return "."
    if cwd.startswith(root + "/"):
        return enc(cwd[len(root) + 1:])
    return "outside"


def stat_line(st):
    return "mode=%o size=%d nlink=%d uid=%d gid=%d atime=%d mtime=%d ctime=%d" % (
        st.st_mode, st.st_size if not stat.S_ISDIR(st.st_mode) else 0, st.st_nlink, st.st_uid,
        st.st_gid, st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


# the letters of a script's open flags (as driver.cpp's parse_open_flags)
OPEN_FLAGS = {"c": os.O_CREAT, "x": os.O_EXCL, "t": os.O_TRUNC, "a": os.O_APPEND,
              "d": os.O_DIRECTORY, "n": os.O_NOFOLLOW, "w": os.O_WRONLY, "R": os.O_RDWR, "r": 0,
              "p": os.O_PATH, "T": os.O_TMPFILE, "N": os.O_NONBLOCK}
XATTR_FLAGS = {"0": 0, "1": os.XATTR_CREATE, "2": os.XATTR_REPLACE}


class Driver:
    def __init__(self, out):
        self.out = out
        self.dfd = None  # the directory opened by "opendir", for the dir_fd variants
        self.stopped = False  # a failed rmtree ends the script

    def emit(self, line):
        self.out.append(line)

    def kw(self, at, name="dir_fd"):
        return {name: self.dfd} if at else {}

    # ---- walk and fwalk ----

    def walk(self, top, topdown, follow, at=False, fwalk=False):
        """Steps as lines (sorted dirnames when topdown; all steps sorted when bottom-up, with an
        order check), then the errors onerror got, sorted."""
        errors = []
        steps = []
        if fwalk:
            def onerror(e):
                # deliberate: without follow_symlinks Python's fwalk opens each symlink to a
                # directory (following it) before it sees that it will not walk it, and gives
                # onerror what that open met (EACCES); ospp's O_NOFOLLOW open skips it silently,
                # as os.walk does (walk.hpp). The caller, os._fwalk, has the directory's fd.
                caller = sys._getframe(1).f_locals
                if not follow and is_link(caller.get("name"), caller.get("topfd")):
                    return
                # deliberate: Python's fwalk names the bare name it opened; ospp the full path.
                # Both are compared by the last component.
                errors.append((e.errno, base(e.filename)))
        else:
            def onerror(e):
                errors.append((e.errno, enc(e.filename)))
        if fwalk and not follow and is_link(top, self.dfd if at else None):
            # deliberate: ospp's fwalk opens a symlink top with O_NOFOLLOW | O_DIRECTORY and gives
            # onerror its ENOTDIR (walk.hpp); Python's follows it to see that it is no directory
            # of its own, yielding nothing, or raising what the open met (ELOOP, ENOENT).
            return self.walk_lines([], [(errno.ENOTDIR, base(top))], topdown)
        if fwalk and is_non_dir(top, self.dfd if at else None, follow):
            # deliberate: ospp opens fwalk's top with O_DIRECTORY, so anything but a directory is
            # ENOTDIR to onerror (walk.hpp). Python 3.11's bare O_RDONLY gives EACCES for an
            # unreadable file, and blocks for good on a FIFO (3.12 adds O_NONBLOCK).
            return self.walk_lines([], [(errno.ENOTDIR, base(top))], topdown)
        if follow:
            # deliberate: ospp refuses to walk into a directory being walked already (ELOOP to
            # onerror); Python loops until the path is too long (walk) or the fds or the
            # recursion run out (fwalk). Walk top-down here pruning those, as ospp does.
            loops = []
            self.walk_emulated(top, at, fwalk, onerror_to=errors, loops=loops, steps=steps)
            if topdown or loops:
                # reversed, a top-down walk is a bottom-up one: each directory after those below it
                return self.walk_lines(steps if topdown else steps[::-1], errors, topdown)
            errors.clear()
            steps.clear()
        try:
            if fwalk:
                it = os.fwalk(top, topdown=topdown, onerror=onerror, follow_symlinks=follow,
                              **self.kw(at))
                got = False
                for root, dirs, files, rootfd in it:
                    got = True
                    if topdown:
                        dirs.sort()
                    steps.append((root, list(dirs), files))
            else:
                for root, dirs, files in os.walk(top, topdown=topdown, onerror=onerror,
                                                 followlinks=follow):
                    if topdown:
                        dirs.sort()
                    steps.append((root, list(dirs), files))
        except ValueError:
            # deliberate: a NUL byte in top is an EINVAL to onerror in ospp (walk.hpp), a
            # ValueError raised in Python
            errors.append((errno.EINVAL, base(top) if fwalk else enc(top)))
        except OSError as e:
            # deliberate: Python's fwalk raises for a top it cannot walk (missing; a file with
            # follow_symlinks, naming the fd); ospp passes that to onerror.
            errors.append((e.errno, base(top) if fwalk else enc(e.filename)))
        return self.walk_lines(steps, errors, topdown)

    def walk_emulated(self, top, at, fwalk, onerror_to, loops, steps):
        """A top-down walk (followlinks) that skips a directory whose (dev, ino) is one being
        walked, reporting ELOOP, as ospp's engine does."""
        chain = {}

        def onerror(e):
            if fwalk:
                onerror_to.append((e.errno, base(e.filename)))
            else:
                onerror_to.append((e.errno, enc(e.filename)))
        try:
            if fwalk:
                it = os.fwalk(top, topdown=True, onerror=onerror, follow_symlinks=True, **self.kw(at))
            else:
                it = os.walk(top, topdown=True, onerror=onerror, followlinks=True)
            for item in it:
                root, dirs, files = item[0], item[1], item[2]
                st = os.stat(item[3]) if fwalk else os.stat(root)
                parent = chain.get(parent_of(root), ())
                ancestors = parent + ((st.st_dev, st.st_ino),)
                chain[root] = ancestors
                dirs.sort()
                keep = []
                for d in dirs:
                    try:
                        cst = os.stat(d, dir_fd=item[3]) if fwalk else os.stat(os.path.join(root, d))
                    except OSError:
                        keep.append(d)
                        continue
                    if (cst.st_dev, cst.st_ino) in ancestors:
                        loops.append(d)
                        onerror_to.append((errno.ELOOP, base(d) if fwalk else enc(os.path.join(root, d))))
                    else:
                        keep.append(d)
                steps.append((root, list(dirs), files))
                dirs[:] = keep
        except ValueError:  # a NUL byte (see walk)
            onerror_to.append((errno.EINVAL, base(top) if fwalk else enc(top)))
        except OSError as e:
            onerror_to.append((e.errno, base(top) if fwalk else enc(e.filename)))

    def walk_lines(self, steps, errors, topdown):
        if not topdown:
            # bottom-up: every directory comes after the subdirectories walked below it
            seen = set()
            for root, dirs, files in steps:
                seen.add(root)
            order = "ok"
            done = set()
            for root, dirs, files in steps:
                for d in dirs:
                    child = os.path.join(root, d)
                    if child in seen and child not in done:
                        order = "bad"
                done.add(root)
            steps = sorted(steps, key=lambda s: os.fsencode(s[0]))
            self.emit("order " + order)
        for root, dirs, files in steps:
            self.emit(words(words("step " + enc(root) + " |", dirs) + " |", files))
        for e in sorted(set(errors)):
            self.emit("onerror %d %s" % e)

    # ---- the operations ----

    def run(self, tokens):
        op = tokens[0]
        at = False
        if op == "at":
            at = True
            tokens = tokens[1:]
            op = tokens[0]
            if self.dfd is None:
                self.emit("nodir")
                return
        a = tokens[1:]
        P = dec(a[0]) if a else None
        two_paths = op in ("rename", "replace", "renames", "link", "symlink", "copyfile")
        try:
            if op == "opendir" and self.dfd is not None:
                os.close(self.dfd)
                self.dfd = None
            # listdir(fd), scandir(fd), fchdir, fstatvfs, fpathconf: the path is not used
            unused = at and op in ("listdir", "scandir", "chdir", "statvfs", "pathconf")
            if any("%00" in t for t in a[:2 if two_paths else 1]) and op not in ("walk", "fwalk", "access") \
                    and not unused:
                # deliberate: ospp refuses a NUL byte in a path before it does anything (path.hpp);
                # Python's makedirs, renames and copyfile act on the other paths first
                raise ValueError("embedded null byte")
            self.dispatch(op, a, P, at)
        except OSError as e:
            fill = P if op in ("mkfifo", "mknod", "utime", "utime_now") else None
            self.emit(err_line(e, fill))
        except NotImplementedError:
            # deliberate: chmod(follow_symlinks=False) of a symlink is NotImplementedError in
            # Python, EOPNOTSUPP in ospp.
            self.emit(err_line(OSError(errno.EOPNOTSUPP, "", P)))
        except ValueError as e:
            if "null" in str(e):
                # deliberate: a NUL byte in a path is ValueError in Python, EINVAL in ospp,
                # naming the path (path.hpp); for two-path calls the first that holds one
                bad = [dec(t) for t in a[:2 if two_paths else 1] if "%00" in t]
                self.emit(err_line(OSError(errno.EINVAL, "", bad[0])))
                return
            if "configuration name" in str(e):
                # deliberate: a name pathconf does not know is ValueError in Python, EINVAL in
                # ospp, naming the path (files.hpp, pathconf; fd_ops.hpp, fpathconf names none)
                self.emit(err_line(OSError(errno.EINVAL, "", None if at else P)))
                return
            # deliberate: chmod(dir_fd=..., follow_symlinks=False) of a symlink: ValueError in
            # Python ("cannot use dir_fd and follow_symlinks together"), EOPNOTSUPP in ospp.
            self.emit(err_line(OSError(errno.EOPNOTSUPP, "", P)))

    def dispatch(self, op, a, P, at):
        kw = self.kw(at)
        if op == "opendir":
            if self.dfd is not None:
                os.close(self.dfd)
                self.dfd = None
            self.dfd = os.open(P, os.O_RDONLY | os.O_DIRECTORY)
            self.emit("ok")
        elif op == "mkdir":
            os.mkdir(P, int(a[1], 8), **kw)
            self.emit("ok")
        elif op == "makedirs":
            os.makedirs(P, int(a[1], 8), exist_ok=a[2] == "1")
            self.emit("ok")
        elif op == "mkfifo":
            os.mkfifo(P, int(a[1], 8), **kw)
            self.emit("ok")
        elif op in ("rename", "replace"):
            f = os.rename if op == "rename" else os.replace
            f(P, dec(a[1]), **(dict(src_dir_fd=self.dfd, dst_dir_fd=self.dfd) if at else {}))
            self.emit("ok")
        elif op == "renames":
            renames(P, dec(a[1]))
            self.emit("ok")
        elif op == "link":
            follow = a[2] == "1"
            kws = dict(src_dir_fd=self.dfd, dst_dir_fd=self.dfd) if at else {}
            here = None
            if follow and not at:
                # deliberate: CPython 3.11 without dir_fd calls link(2), which links a symlink
                # itself; ospp does what follow_symlinks=True says (linkat AT_SYMLINK_FOLLOW), as
                # CPython does given a dir_fd: give it one, the working directory's (where a
                # chdir left it; a directory that cannot be searched or is gone fails the link
                # as it fails this open)
                try:
                    here = os.open(".", os.O_PATH | os.O_DIRECTORY)
                except OSError as e:
                    raise OSError(e.errno, "", P, None, dec(a[1]))
                kws = dict(src_dir_fd=here)
            try:
                os.link(P, dec(a[1]), follow_symlinks=follow, **kws)
            finally:
                if here is not None:
                    os.close(here)
            self.emit("ok")
        elif op == "symlink":
            os.symlink(P, dec(a[1]), **kw)
            self.emit("ok")
        elif op == "chdir":
            os.fchdir(self.dfd) if at else os.chdir(P)
            # a symlink to "../" leads one level above the root: back to the root then (driver.cpp)
            try:
                cwd = os.getcwd()
            except OSError:  # a directory removed after a chdir into it: it stays (driver.cpp)
                cwd = self.root
            if relative(self.root, cwd) == "outside":
                os.chdir(self.root)
                self.emit("ok outside: back to the root")
                return
            self.emit("ok")
        elif op == "getcwd":
            self.emit("ok " + relative(self.root, os.getcwd()))
        elif op == "statvfs":
            st = os.fstatvfs(self.dfd) if at else os.statvfs(P)
            # the fields that stay while the drivers run (not the free counts)
            self.emit("ok bsize=%d frsize=%d namemax=%d flag=%x" % (st.f_bsize, st.f_frsize, st.f_namemax, st.f_flag))
        elif op == "pathconf":
            self.emit("ok %d" % (os.fpathconf(self.dfd, a[1]) if at else os.pathconf(P, a[1])))
        elif op == "unlink":
            os.unlink(P, **kw)
            self.emit("ok")
        elif op == "rmdir":
            os.rmdir(P, **kw)
            self.emit("ok")
        elif op == "removedirs":
            os.removedirs(P)
            self.emit("ok")
        elif op == "chmod":
            os.chmod(P, int(a[1], 8), follow_symlinks=a[2] == "1", **kw)
            self.emit("ok")
        elif op == "chown":
            os.chown(P, int(a[1]), int(a[2]), follow_symlinks=a[3] == "1", **kw)
            self.emit("ok")
        elif op == "lchown":
            os.lchown(P, int(a[1]), int(a[2]))
            self.emit("ok")
        elif op == "mknod":
            os.mknod(P, int(a[1], 8), os.makedev(int(a[2]), int(a[3])), **kw)
            self.emit("ok")
        elif op == "truncate":
            os.truncate(P, int(a[1]))
            self.emit("ok")
        elif op == "utime":
            os.utime(P, ns=(int(a[1]), int(a[2])), follow_symlinks=a[3] == "1", **kw)
            self.emit("ok")
        elif op == "utime_now":
            os.utime(P, follow_symlinks=a[1] == "1", **kw)
            self.emit("ok")
        elif op == "open":
            flags = 0
            for c in a[1]:
                flags |= OPEN_FLAGS[c]
            # O_NONBLOCK: a FIFO would block the open for good (ENXIO instead, for writing)
            fd = os.open(P, flags | os.O_NONBLOCK, int(a[2], 8), **kw)
            try:
                n = int(a[3])
                written = os.write(fd, b"x" * n) if n else 0
            finally:
                os.close(fd)
            self.emit("ok %d" % written)
        elif op == "listdir":
            names = os.listdir(self.dfd) if at else os.listdir(P)
            self.emit(words("ok", names))
        elif op == "stat":
            self.emit("ok " + stat_line(os.stat(P, follow_symlinks=a[1] == "1", **kw)))
        elif op == "lstat":
            self.emit("ok " + stat_line(os.lstat(P, **kw)))
        elif op == "readlink":
            self.emit("ok " + enc(os.readlink(P, **kw)))
        elif op == "access":
            try:
                ok = os.access(P, int(a[1]), follow_symlinks=a[2] == "1", effective_ids=a[3] == "1", **kw)
            except ValueError:  # a NUL byte: ospp's access fails (EINVAL), so "False"
                ok = False
            self.emit("ok %s" % ok)
        elif op == "scandir":
            lines = []
            with (os.scandir(self.dfd) if at else os.scandir(P)) as it:
                for e in it:
                    lines.append((os.fsencode(e.name), scandir_line(e)))
            self.emit("ok %d" % len(lines))
            for _, line in sorted(lines):
                self.emit(line)
        elif op == "walk":
            self.walk(P, a[1] == "1", a[2] == "1")
        elif op == "fwalk":
            self.walk(P, a[1] == "1", a[2] == "1", at=at, fwalk=True)
        elif op == "copyfile":
            follow = a[2] == "1"
            if not follow and is_link(P, None):
                # deliberate: shutil compares a symlink src with dst following it even when it
                # copies the link itself; ospp's copy_file makes the link, and its error names
                # src where shutil's os.symlink names the link's target (files.hpp)
                try:
                    os.symlink(os.readlink(P), dec(a[1]))
                except OSError as e:
                    raise OSError(e.errno, "", P, None, dec(a[1]))
                self.emit("ok")
                return
            # deliberate: ospp's copy_file opens src first, so its errors come before shutil's
            # checks of dst (a named pipe) (files.hpp)
            os.close(os.open(P, os.O_RDONLY | os.O_NONBLOCK))
            if os.path.isdir(P):
                # deliberate: ospp's copy_file opens src first: a directory is EISDIR, even when
                # dst is the same (shutil's SameFileError comes first) (files.hpp)
                raise IsADirectoryError(errno.EISDIR, "", P)
            if is_fifo(P):  # likewise a named pipe src, before the same-file check
                raise OSError(errno.EINVAL, "", P)
            try:
                shutil.copyfile(P, dec(a[1]), follow_symlinks=follow)
            except FileNotFoundError as e:
                # shutil's "Directory does not exist: dst" (no errno) is the open's EISDIR
                raise e.__cause__ if e.errno is None else e
            except shutil.SameFileError:
                # deliberate: shutil's SameFileError and SpecialFileError (no errno) are EINVAL
                # in ospp's copy_file (files.hpp), naming both paths, or the named pipe
                raise OSError(errno.EINVAL, "", P, None, dec(a[1]))
            except shutil.SpecialFileError as e:
                raise OSError(errno.EINVAL, "", str(e).split("`")[1])
            self.emit("ok")
        elif op == "rmtree":
            if is_link(P, None) or is_non_dir(P, None, False):
                # deliberate: ospp's rmtree opens path with O_NOFOLLOW | O_DIRECTORY: a symlink
                # or anything else but a directory is ENOTDIR (walk.hpp); shutil's bare O_RDONLY
                # follows a symlink (ENOENT, ELOOP), gives EACCES for an unreadable file, and
                # blocks for good on a FIFO
                raise NotADirectoryError(errno.ENOTDIR, "", P)
            try:
                os.close(os.open(P, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
                top_opens = True
            except OSError:
                top_opens = False
            try:
                shutil.rmtree(P)
            except OSError as e:
                if e.errno is not None and top_opens:
                    # Which entry fails first, and what was removed before, depends on the order
                    # of removal (shutil: in listing order, a directory when met; ospp: bottom-up),
                    # which neither documents: the errno, then the script stops. (shutil's error
                    # names the bare name it passed with dir_fd, ospp's the entry's full path.)
                    self.emit("ERR %d (rmtree: the script stops)" % e.errno)
                    self.stopped = True
                    return
                if e.errno is None:
                    # deliberate: "Cannot call rmtree on a symbolic link" is ENOTDIR in ospp,
                    # from O_NOFOLLOW | O_DIRECTORY (walk.hpp)
                    raise OSError(errno.ENOTDIR, "", P)
                raise
            self.emit("ok")
        elif op == "setxattr":
            os.setxattr(P, dec(a[1]), dec_bytes(a[2]), XATTR_FLAGS[a[3]], follow_symlinks=a[4] == "1")
            self.emit("ok")
        elif op == "getxattr":
            self.emit("ok " + enc(os.getxattr(P, dec(a[1]), follow_symlinks=a[2] == "1")))
        elif op == "listxattr":
            names = os.listxattr(P, follow_symlinks=a[1] == "1")
            self.emit(words("ok", names))
        elif op == "removexattr":
            os.removexattr(P, dec(a[1]), follow_symlinks=a[2] == "1")
            self.emit("ok")
        else:
            raise SystemExit("unknown op " + op)

    def dump(self, sandbox):
        """Every name under the sandbox (the root, and anything a symlink made beside it), sorted,
        with type, permission bits, size of files, target of links, user.* attribute names."""
        def visit(rel):
            try:
                names = sorted(os.listdir(rel or "."), key=os.fsencode)
            except OSError as e:
                self.emit("dump %s %s" % (enc(rel), err_line(e).split(" ")[1]))
                return
            for n in names:
                p = os.path.join(rel, n) if rel else n
                try:
                    st = os.lstat(p)
                except OSError as e:  # a directory that may be read but not searched
                    self.emit("dump %s E%d" % (enc(p), e.errno))
                    continue
                line = "dump %s %s %o %d:%d" % (enc(p), filetype(st.st_mode), stat.S_IMODE(st.st_mode),
                                                st.st_uid, st.st_gid)
                if stat.S_ISREG(st.st_mode):
                    line += " size=%d nlink=%d" % (st.st_size, st.st_nlink)
                if stat.S_ISLNK(st.st_mode):
                    line += " -> " + enc(os.readlink(p))
                elif stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                    try:
                        xs = sorted(os.listxattr(p, follow_symlinks=False), key=os.fsencode)
                        line += " xattr=" + ",".join(enc(x) + "=" + enc(os.getxattr(p, x, follow_symlinks=False))
                                                     for x in xs if x.startswith("user."))
                    except OSError as e:
                        line += " xattr=E%d" % e.errno
                self.emit(line)
                if stat.S_ISDIR(st.st_mode):
                    visit(p)
        os.chdir(sandbox)
        visit("")


def is_link(path, dir_fd):
    if not isinstance(path, (str, bytes)):
        return False
    try:
        return stat.S_ISLNK(os.lstat(path, dir_fd=dir_fd).st_mode)
    except (OSError, ValueError):
        return False


def is_non_dir(path, dir_fd, follow):
    try:
        return not stat.S_ISDIR(os.stat(path, dir_fd=dir_fd, follow_symlinks=follow).st_mode)
    except (OSError, ValueError):
        return False


def is_fifo(path):
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def words(prefix, names):
    """prefix, then each name encoded, sorted as bytes, after a space (as driver.cpp)."""
    return prefix + "".join(" " + enc(n) for n in sorted(names, key=os.fsencode))


def base(path):
    if path is None:
        return "-"
    b = os.fsencode(path).rstrip(b"/")
    return enc(b.rsplit(b"/", 1)[-1])


def parent_of(root):
    return os.path.dirname(root.rstrip("/")) if "/" in root.rstrip("/") else None


def filetype(mode):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "link"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "chr")):
        if test(mode):
            return name
    return "other"


def scandir_line(e):
    def safe(f, **kw):
        # deliberate: ospp's is_dir/is_file return false when their stat fails for any reason;
        # Python's raise for errors other than ENOENT (ELOOP, EACCES).
        try:
            return int(f(**kw))
        except OSError:
            return 0
    try:
        st = "mode=%o" % e.stat().st_mode
    except OSError as err:
        st = "E%d" % err.errno
    return "entry %s %s d%d%d f%d%d l%d %s" % (
        enc(e.name), enc(e.path), safe(e.is_dir), safe(e.is_dir, follow_symlinks=False),
        safe(e.is_file), safe(e.is_file, follow_symlinks=False), safe(e.is_symlink), st)


def renames(old, new):
    # deliberate: os.renames with its makedirs(head, exist_ok=True), as ospp's renames (files.hpp):
    # a parent that exists as a directory by the time it is made is no error.
    head, tail = os.path.split(new)
    if head and tail and not os.path.exists(head):
        os.makedirs(head, exist_ok=True)
    os.rename(old, new)
    head, tail = os.path.split(old)
    if head and tail:
        try:
            os.removedirs(head)
        except OSError:
            pass


def apply_script(path, out, d):
    """Applies a script, one operation a line, with d.run(tokens), each operation's lines after a
    "#n" marker; stops early once d.stopped is set (as driver.cpp's apply_script)."""
    with open(path) as f:
        for n, line in enumerate(f):
            tokens = line.split()
            if not tokens:
                continue
            if d.stopped:
                break
            out.append("#%d" % n)
            d.run(tokens)


def main():
    args = sys.argv[1:]
    domain = "files"
    if args[0] == "--domain":  # --domain fdio: descriptor operations (fdio.py)
        domain, args = args[1], args[2:]
    work = args[0]
    os.umask(0o022)
    out = []
    for i, script in enumerate(args[1:]):
        sandbox = os.path.join(work, str(i))
        os.mkdir(sandbox)
        os.mkdir(os.path.join(sandbox, "root"))
        os.chdir(os.path.join(sandbox, "root"))
        out.append("== %d" % i)
        if domain == "proc":
            import proc
            proc.run_proc_script(apply_script, script, out)
        elif domain == "fdio":
            import fdio
            d = fdio.FdDriver(out)
            apply_script(script, out, d)
            d.dump()
        elif domain == "locks":  # file locks of this process and a child of it (locks.py)
            import locks
            locks.run_locks_script(apply_script, script, out)
        elif domain == "spawn":  # starting programs: posix_spawn, spawn*, exec* (spawn.py)
            import spawn
            spawn.run_spawn_script(script, out)
        elif domain == "tty":  # terminals and ptys, in a process of their own (tty.py)
            import tty as tty_domain
            tty_domain.run_tty_script(apply_script, script, out)
        elif domain == "pipes":  # pipe ends and special descriptors (pipes.py)
            import pipes
            d = pipes.PipeDriver(out)
            apply_script(script, out, d)
            d.dump()
        else:
            d = Driver(out)
            d.root = os.getcwd()
            apply_script(script, out, d)
            if d.dfd is not None:
                os.close(d.dfd)
            # a symlink to "../" lets a script chmod the sandbox itself (one level up, by design)
            os.chmod(sandbox, 0o755)
            os.chdir(sandbox)
            if not d.stopped:
                d.dump(sandbox)
        os.chdir(work)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
