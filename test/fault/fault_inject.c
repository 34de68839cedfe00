// test/fault/fault_inject.c — an LD_PRELOAD interposer that makes chosen libc calls fail.
//
// Loaded with LD_PRELOAD=libospp_fault.so, it defines the libc functions ospp calls; each one
// forwards to the real function (dlsym RTLD_NEXT) unless a fault is armed for it. A fault says:
// "calls to SYMBOL fail with ERRNO, starting at the NTH call from now, TIMES times (0 = forever)",
// or fail with a probability. It is armed two ways:
//   - from the environment at load time, for running a whole program under one fault:
//       OSPP_FAULT=openat:EIO:1:0            (symbol:errno:nth:times; errno by name or number)
//       OSPP_FAULT=read:EINTR:p0.25          (each call fails with probability 0.25)
//       several faults separated by commas;
//   - from the program, through the C functions below (found with dlsym by test/fault_test.cpp).
// The faults are plain memory, so a forked child inherits them with their counts: a child's "nth
// call" and "times" go on from its parent's counts at the fork, then each process counts alone.
// The failures injected are also added up over the whole tree of processes forked after arming
// (a shared page), so that a test sees a failure injected in a daemon's grandchild.
// Functions that report errors through their return value (posix_fallocate, posix_fadvise,
// posix_spawn, pthread_sigmask) return the errno instead of setting it.
//
// Written in C, built without _FILE_OFFSET_BITS, and including no header that declares the
// interposed functions, so nothing here conflicts with libc's prototypes (see OSPP_FAULT_DEFINE).
// (It is C because C++20's <atomic> pulls in <unistd.h> and <sched.h>.)
#define _GNU_SOURCE 1  // strerrorname_np, RTLD_NEXT
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>


enum { max_faults = 16 };

struct fault {
    char symbol[64];
    int err;
    long nth;            // fail from the nth call on (1-based)
    long times;          // how many failures; 0 = unlimited
    double probability;  // >= 0: fail at random instead of nth/times
    long calls;          // calls seen since armed
    long failed;         // failures injected
};

// A spinlock: <pthread.h> would declare functions this file defines.
static atomic_flag g_lock = ATOMIC_FLAG_INIT;
static void lock(void) { while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire)) {} }
static void unlock(void) { atomic_flag_clear_explicit(&g_lock, memory_order_release); }

static struct fault g_faults[max_faults];
// Failures injected per fault slot by this process and every process forked from it after the
// slot was armed: a MAP_SHARED page survives fork (not exec). Arm only in the forking process.
static atomic_long* g_tree_failed = NULL;
static int g_count = 0;
static atomic_bool g_armed = false;
static atomic_bool g_suspended = false;  // this process's calls pass (see ospp_fault_suspend)
static atomic_long g_total_injected = 0;
static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static double next_random(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

static int errno_from_text(const char* text) {
    if (text[0] >= '0' && text[0] <= '9') return atoi(text);
    for (int e = 1; e < 4096; ++e) {
        const char* name = strerrorname_np(e);
        if (name != NULL && strcmp(name, text) == 0) return e;
    }
    return EIO;
}

// <sys/mman.h> would declare memfd_create, which this file defines: declared here, as on Linux.
void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset);
enum { prot_read_write = 0x1 | 0x2, map_shared_anonymous = 0x01 | 0x20 };

static void arm_locked(const char* symbol, int err, long nth, long times, double probability) {
    if (g_count == max_faults) return;
    if (g_tree_failed == NULL) {
        void* page = mmap(NULL, sizeof(atomic_long) * max_faults, prot_read_write, map_shared_anonymous, -1, 0);
        if (page == (void*)-1) abort();
        g_tree_failed = page;
    }
    atomic_store(&g_tree_failed[g_count], 0);
    struct fault* f = &g_faults[g_count++];
    memset(f, 0, sizeof *f);
    strncpy(f->symbol, symbol, sizeof f->symbol - 1);
    f->err = err;
    f->nth = nth < 1 ? 1 : nth;
    f->times = times;
    f->probability = probability;
    atomic_store(&g_armed, true);
}

// Parses OSPP_FAULT once, before main.
__attribute__((constructor)) static void arm_from_environment(void) {
    const char* spec = getenv("OSPP_FAULT");
    if (spec == NULL) return;
    char buf[1024];
    strncpy(buf, spec, sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    char* save = NULL;
    for (char* item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char* fields[4] = {0};
        int n = 0;
        char* s2 = NULL;
        for (char* p = strtok_r(item, ":", &s2); p != NULL && n < 4; p = strtok_r(NULL, ":", &s2)) fields[n++] = p;
        if (n < 2) continue;
        const int err = errno_from_text(fields[1]);
        if (n >= 3 && fields[2][0] == 'p') {
            arm_locked(fields[0], err, 1, 0, atof(fields[2] + 1));
        } else {
            arm_locked(fields[0], err, n >= 3 ? atol(fields[2]) : 1, n >= 4 ? atol(fields[3]) : 0, -1);
        }
    }
}

// The errno to fail this call of `symbol` with, or 0 to let it through.
static int should_fail(const char* symbol) {
    if (!atomic_load_explicit(&g_armed, memory_order_relaxed) || atomic_load(&g_suspended)) return 0;
    int err = 0;
    lock();
    for (int i = 0; i < g_count && err == 0; ++i) {
        struct fault* f = &g_faults[i];
        if (strcmp(f->symbol, symbol) != 0) continue;
        ++f->calls;
        const int fail = f->probability >= 0 ? next_random() < f->probability
                                             : f->calls >= f->nth && (f->times == 0 || f->failed < f->times);
        if (fail) {
            ++f->failed;
            atomic_fetch_add(&g_tree_failed[i], 1);
            ++g_total_injected;
            err = f->err;
        }
    }
    unlock();
    return err;
}

// ---- control API --------------------------------------------------------------------------

// Arms a fault: calls to `symbol` fail with `err` from the `nth` call on, `times` times (0: all).
void ospp_fault_arm(const char* symbol, int err, long nth, long times) {
    lock();
    arm_locked(symbol, err, nth, times, -1);
    unlock();
}

// While `on`, this process's calls go through, neither failed nor counted, and the faults stay
// armed for its children: for a test's own calls while a forked child runs under a fault.
void ospp_fault_suspend(int on) { atomic_store(&g_suspended, on != 0); }

// Removes every fault.
void ospp_fault_disarm(void) {
    lock();
    g_count = 0;
    atomic_store(&g_armed, false);
    unlock();
}

// How many failures were injected into `symbol` since it was armed, by this process and the
// processes forked from it since (-1 if it is not armed).
long ospp_fault_injected(const char* symbol) {
    long n = -1;
    lock();
    for (int i = 0; i < g_count; ++i)
        if (strcmp(g_faults[i].symbol, symbol) == 0) n = atomic_load(&g_tree_failed[i]);
    unlock();
    return n;
}

long ospp_fault_total_injected(void) { return atomic_load(&g_total_injected); }

// ---- the interposed functions -------------------------------------------------------------

// Functions that return -1 and set errno. The prototypes use void* for struct pointers and no
// libc header declares these names here, so one definition can serve both the plain and the
// *64 symbol (identical on x86_64; _FILE_OFFSET_BITS=64 builds call the *64 ones).
// OSPP_FAULT_FAILS_WITH names the value a function reports failure with (getcwd: NULL, confstr: 0).
#define OSPP_FAULT_FAILS_WITH(ret, symbol, name, failure, params, args)   \
    ret symbol params {                                                   \
        static ret(*next) params;                                         \
        if (!next) *(void**)&next = dlsym(RTLD_NEXT, #symbol);            \
        const int e = should_fail(name);                                  \
        if (e) {                                                          \
            errno = e;                                                    \
            return failure;                                               \
        }                                                                 \
        return next args;                                                 \
    }
#define OSPP_FAULT_DEFINE(ret, symbol, name, params, args) \
    OSPP_FAULT_FAILS_WITH(ret, symbol, name, (ret)-1, params, args)
#define OSPP_FAULT_ERRNO(ret, name, params, args) OSPP_FAULT_DEFINE(ret, name, #name, params, args)
#define OSPP_FAULT_ERRNO64(ret, name, params, args)  \
    OSPP_FAULT_DEFINE(ret, name, #name, params, args) \
    OSPP_FAULT_DEFINE(ret, name##64, #name, params, args)

// Functions that return the error number.
#define OSPP_FAULT_RETURN_DEFINE(symbol, name, params, args)              \
    int symbol params {                                                   \
        static int(*next) params;                                         \
        if (!next) *(void**)&next = dlsym(RTLD_NEXT, #symbol);       \
        const int e = should_fail(name);                                  \
        if (e) return e;                                                  \
        return next args;                                                 \
    }
#define OSPP_FAULT_RETURN64(name, params, args)             \
    OSPP_FAULT_RETURN_DEFINE(name, #name, params, args)      \
    OSPP_FAULT_RETURN_DEFINE(name##64, #name, params, args)

typedef void* P;        // a pointer to a struct this file does not declare
typedef const void* CP;

// fd operations
OSPP_FAULT_ERRNO(ssize_t, read, (int fd, P buf, size_t n), (fd, buf, n))
OSPP_FAULT_ERRNO(ssize_t, write, (int fd, CP buf, size_t n), (fd, buf, n))
OSPP_FAULT_ERRNO64(ssize_t, pread, (int fd, P buf, size_t n, off_t off), (fd, buf, n, off))
OSPP_FAULT_ERRNO64(ssize_t, pwrite, (int fd, CP buf, size_t n, off_t off), (fd, buf, n, off))
OSPP_FAULT_ERRNO(ssize_t, readv, (int fd, CP v, int n), (fd, v, n))
OSPP_FAULT_ERRNO(ssize_t, writev, (int fd, CP v, int n), (fd, v, n))
OSPP_FAULT_ERRNO64(ssize_t, preadv, (int fd, CP v, int n, off_t o), (fd, v, n, o))
OSPP_FAULT_ERRNO64(ssize_t, pwritev, (int fd, CP v, int n, off_t o), (fd, v, n, o))
// glibc spells the 64-bit offset variants of the *v2 calls preadv64v2 and pwritev64v2.
OSPP_FAULT_ERRNO(ssize_t, preadv2, (int fd, CP v, int n, off_t o, int fl), (fd, v, n, o, fl))
OSPP_FAULT_DEFINE(ssize_t, preadv64v2, "preadv2", (int fd, CP v, int n, off_t o, int fl), (fd, v, n, o, fl))
OSPP_FAULT_ERRNO(ssize_t, pwritev2, (int fd, CP v, int n, off_t o, int fl), (fd, v, n, o, fl))
OSPP_FAULT_DEFINE(ssize_t, pwritev64v2, "pwritev2", (int fd, CP v, int n, off_t o, int fl), (fd, v, n, o, fl))
OSPP_FAULT_ERRNO(int, close_range, (unsigned a, unsigned b, int fl), (a, b, fl))
OSPP_FAULT_ERRNO(int, pipe2, (int* fds, int flags), (fds, flags))
OSPP_FAULT_ERRNO(int, dup, (int fd), (fd))
OSPP_FAULT_ERRNO(int, dup2, (int fd, int fd2), (fd, fd2))
OSPP_FAULT_ERRNO(int, dup3, (int fd, int fd2, int flags), (fd, fd2, flags))
OSPP_FAULT_ERRNO64(off_t, lseek, (int fd, off_t off, int whence), (fd, off, whence))
OSPP_FAULT_ERRNO(int, fsync, (int fd), (fd))
OSPP_FAULT_ERRNO(int, fdatasync, (int fd), (fd))
OSPP_FAULT_ERRNO64(int, ftruncate, (int fd, off_t len), (fd, len))
OSPP_FAULT_ERRNO(int, fchmod, (int fd, mode_t mode), (fd, mode))
OSPP_FAULT_ERRNO(int, fchown, (int fd, uid_t u, gid_t g), (fd, u, g))
OSPP_FAULT_ERRNO64(ssize_t, sendfile, (int out, int in, P off, size_t n), (out, in, off, n))
OSPP_FAULT_ERRNO(ssize_t, copy_file_range, (int a, P oa, int b, P ob, size_t n, unsigned fl), (a, oa, b, ob, n, fl))
OSPP_FAULT_ERRNO(ssize_t, splice, (int a, P oa, int b, P ob, size_t n, unsigned fl), (a, oa, b, ob, n, fl))
OSPP_FAULT_ERRNO64(int, lockf, (int fd, int cmd, off_t len), (fd, cmd, len))
OSPP_FAULT_ERRNO(int, flock, (int fd, int op), (fd, op))
OSPP_FAULT_ERRNO(int, memfd_create, (const char* n, unsigned fl), (n, fl))
OSPP_FAULT_ERRNO(int, eventfd, (unsigned v, int fl), (v, fl))
OSPP_FAULT_ERRNO(int, timerfd_create, (int c, int fl), (c, fl))
OSPP_FAULT_ERRNO(int, timerfd_settime, (int fd, int fl, CP n, P o), (fd, fl, n, o))
OSPP_FAULT_ERRNO(int, timerfd_gettime, (int fd, P c), (fd, c))
OSPP_FAULT_ERRNO(int, posix_openpt, (int fl), (fl))
OSPP_FAULT_ERRNO(int, grantpt, (int fd), (fd))
OSPP_FAULT_ERRNO(int, unlockpt, (int fd), (fd))
OSPP_FAULT_ERRNO(int, openpty, (int* a, int* b, char* n, CP t, CP w), (a, b, n, t, w))
OSPP_FAULT_ERRNO(int, login_tty, (int fd), (fd))
OSPP_FAULT_ERRNO(pid_t, tcgetpgrp, (int fd), (fd))
OSPP_FAULT_ERRNO(int, tcsetpgrp, (int fd, pid_t p), (fd, p))
// files and directories
OSPP_FAULT_ERRNO64(int, fstatat, (int d, const char* p, P st, int fl), (d, p, st, fl))
OSPP_FAULT_ERRNO64(int, fstat, (int fd, P st), (fd, st))
OSPP_FAULT_ERRNO(int, statx, (int d, const char* p, int fl, unsigned m, P st), (d, p, fl, m, st))
OSPP_FAULT_ERRNO64(int, statvfs, (const char* p, P st), (p, st))
OSPP_FAULT_ERRNO64(int, fstatvfs, (int fd, P st), (fd, st))
OSPP_FAULT_ERRNO(int, mkdirat, (int d, const char* p, mode_t m), (d, p, m))
OSPP_FAULT_ERRNO(int, unlinkat, (int d, const char* p, int fl), (d, p, fl))
OSPP_FAULT_ERRNO(int, renameat, (int a, const char* p, int b, const char* q), (a, p, b, q))
OSPP_FAULT_ERRNO(int, renameat2, (int a, const char* p, int b, const char* q, unsigned fl), (a, p, b, q, fl))
OSPP_FAULT_ERRNO(int, linkat, (int a, const char* p, int b, const char* q, int fl), (a, p, b, q, fl))
OSPP_FAULT_ERRNO(int, symlinkat, (const char* t, int d, const char* p), (t, d, p))
OSPP_FAULT_ERRNO(ssize_t, readlinkat, (int d, const char* p, char* b, size_t n), (d, p, b, n))
OSPP_FAULT_ERRNO(int, fchmodat, (int d, const char* p, mode_t m, int fl), (d, p, m, fl))
OSPP_FAULT_ERRNO(int, fchownat, (int d, const char* p, uid_t u, gid_t g, int fl), (d, p, u, g, fl))
OSPP_FAULT_ERRNO(int, faccessat, (int d, const char* p, int m, int fl), (d, p, m, fl))
OSPP_FAULT_ERRNO(int, utimensat, (int d, const char* p, CP t, int fl), (d, p, t, fl))
OSPP_FAULT_ERRNO(int, mknodat, (int d, const char* p, mode_t m, dev_t dev), (d, p, m, dev))
OSPP_FAULT_ERRNO(int, mkfifoat, (int d, const char* p, mode_t m), (d, p, m))
OSPP_FAULT_ERRNO(int, access, (const char* p, int m), (p, m))
OSPP_FAULT_ERRNO(int, mkdir, (const char* p, mode_t m), (p, m))
OSPP_FAULT_ERRNO(int, rmdir, (const char* p), (p))
OSPP_FAULT_ERRNO(int, rename, (const char* p, const char* q), (p, q))
OSPP_FAULT_ERRNO64(int, stat, (const char* p, P st), (p, st))
OSPP_FAULT_ERRNO(int, lchown, (const char* p, uid_t u, gid_t g), (p, u, g))
OSPP_FAULT_ERRNO64(ssize_t, getdents, (int fd, P b, size_t n), (fd, b, n))
OSPP_FAULT_ERRNO(long, fpathconf, (int fd, int name), (fd, name))
OSPP_FAULT_ERRNO(int, chdir, (const char* p), (p))
OSPP_FAULT_ERRNO(int, fchdir, (int fd), (fd))
OSPP_FAULT_ERRNO(int, chroot, (const char* p), (p))
OSPP_FAULT_ERRNO64(int, truncate, (const char* p, off_t len), (p, len))
OSPP_FAULT_ERRNO(ssize_t, getxattr, (const char* p, const char* n, P v, size_t s), (p, n, v, s))
OSPP_FAULT_ERRNO(ssize_t, lgetxattr, (const char* p, const char* n, P v, size_t s), (p, n, v, s))
OSPP_FAULT_ERRNO(ssize_t, fgetxattr, (int fd, const char* n, P v, size_t s), (fd, n, v, s))
OSPP_FAULT_ERRNO(int, setxattr, (const char* p, const char* n, CP v, size_t s, int f), (p, n, v, s, f))
OSPP_FAULT_ERRNO(int, lsetxattr, (const char* p, const char* n, CP v, size_t s, int f), (p, n, v, s, f))
OSPP_FAULT_ERRNO(int, fsetxattr, (int fd, const char* n, CP v, size_t s, int f), (fd, n, v, s, f))
OSPP_FAULT_ERRNO(ssize_t, listxattr, (const char* p, char* l, size_t s), (p, l, s))
OSPP_FAULT_ERRNO(ssize_t, llistxattr, (const char* p, char* l, size_t s), (p, l, s))
OSPP_FAULT_ERRNO(ssize_t, flistxattr, (int fd, char* l, size_t s), (fd, l, s))
OSPP_FAULT_ERRNO(int, removexattr, (const char* p, const char* n), (p, n))
OSPP_FAULT_ERRNO(int, lremovexattr, (const char* p, const char* n), (p, n))
OSPP_FAULT_ERRNO(int, fremovexattr, (int fd, const char* n), (fd, n))
// processes
OSPP_FAULT_ERRNO(pid_t, fork, (), ())
OSPP_FAULT_ERRNO(pid_t, waitpid, (pid_t p, int* s, int o), (p, s, o))
OSPP_FAULT_ERRNO(pid_t, wait4, (pid_t p, int* s, int o, P r), (p, s, o, r))
OSPP_FAULT_ERRNO(int, waitid, (int t, id_t i, P s, int o), (t, i, s, o))
OSPP_FAULT_ERRNO(int, kill, (pid_t p, int s), (p, s))
OSPP_FAULT_ERRNO(int, killpg, (pid_t p, int s), (p, s))
OSPP_FAULT_ERRNO(int, pidfd_open, (pid_t p, unsigned fl), (p, fl))
OSPP_FAULT_ERRNO(int, pidfd_send_signal, (int fd, int s, P i, unsigned fl), (fd, s, i, fl))
OSPP_FAULT_ERRNO(pid_t, setsid, (), ())
OSPP_FAULT_ERRNO(int, setpgid, (pid_t p, pid_t g), (p, g))
OSPP_FAULT_ERRNO(int, setuid, (uid_t u), (u))
OSPP_FAULT_ERRNO(int, setgid, (gid_t g), (g))
OSPP_FAULT_ERRNO(int, setresuid, (uid_t a, uid_t b, uid_t c), (a, b, c))
OSPP_FAULT_ERRNO(int, setresgid, (gid_t a, gid_t b, gid_t c), (a, b, c))
OSPP_FAULT_ERRNO(int, setgroups, (size_t n, const gid_t* g), (n, g))
OSPP_FAULT_ERRNO(int, initgroups, (const char* u, gid_t g), (u, g))
OSPP_FAULT_ERRNO(int, sigaction, (int s, CP a, P o), (s, a, o))
OSPP_FAULT_ERRNO(int, sigprocmask, (int h, CP s, P o), (h, s, o))
OSPP_FAULT_ERRNO(int, sched_setaffinity, (pid_t p, size_t n, CP s), (p, n, s))
OSPP_FAULT_ERRNO(int, sched_getaffinity, (pid_t p, size_t n, P s), (p, n, s))
OSPP_FAULT_ERRNO(int, setpriority, (int w, id_t i, int p), (w, i, p))
OSPP_FAULT_ERRNO(int, getresuid, (P a, P b, P c), (a, b, c))
OSPP_FAULT_ERRNO(int, getresgid, (P a, P b, P c), (a, b, c))
OSPP_FAULT_ERRNO(int, seteuid, (uid_t u), (u))
OSPP_FAULT_ERRNO(int, setegid, (gid_t g), (g))
OSPP_FAULT_ERRNO(int, setreuid, (uid_t a, uid_t b), (a, b))
OSPP_FAULT_ERRNO(int, setregid, (gid_t a, gid_t b), (a, b))
OSPP_FAULT_ERRNO(int, getgroups, (int n, P g), (n, g))
OSPP_FAULT_ERRNO(pid_t, getpgid, (pid_t p), (p))
OSPP_FAULT_ERRNO(pid_t, getsid, (pid_t p), (p))
OSPP_FAULT_ERRNO(int, getpriority, (int w, id_t i), (w, i))
OSPP_FAULT_ERRNO(int, nice, (int inc), (inc))
OSPP_FAULT_ERRNO(long, times, (P t), (t))
OSPP_FAULT_ERRNO(int, unshare, (int fl), (fl))
OSPP_FAULT_ERRNO(int, setns, (int fd, int t), (fd, t))
OSPP_FAULT_ERRNO(int, sigpending, (P s), (s))
OSPP_FAULT_ERRNO(int, sched_get_priority_min, (int p), (p))
OSPP_FAULT_ERRNO(int, sched_get_priority_max, (int p), (p))
OSPP_FAULT_ERRNO(int, sched_setscheduler, (pid_t p, int pol, CP prm), (p, pol, prm))
OSPP_FAULT_ERRNO(int, sched_getscheduler, (pid_t p), (p))
OSPP_FAULT_ERRNO(int, sched_setparam, (pid_t p, CP prm), (p, prm))
OSPP_FAULT_ERRNO(int, sched_getparam, (pid_t p, P prm), (p, prm))
OSPP_FAULT_ERRNO(int, sched_rr_get_interval, (pid_t p, P ts), (p, ts))
OSPP_FAULT_ERRNO(int, uname, (P u), (u))
OSPP_FAULT_ERRNO(ssize_t, getrandom, (P b, size_t n, unsigned fl), (b, n, fl))
// sockets (the daemon's sd_notify), signals, sleeping, unlinking (the pidfile)
OSPP_FAULT_ERRNO(int, socket, (int d, int t, int p), (d, t, p))
OSPP_FAULT_ERRNO(int, connect, (int fd, CP a, unsigned len), (fd, a, len))
OSPP_FAULT_ERRNO(ssize_t, send, (int fd, CP b, size_t n, int fl), (fd, b, n, fl))
OSPP_FAULT_ERRNO(int, sigtimedwait, (CP s, P i, CP t), (s, i, t))
OSPP_FAULT_ERRNO(int, nanosleep, (CP t, P r), (t, r))
OSPP_FAULT_ERRNO(int, unlink, (const char* p), (p))
OSPP_FAULT_ERRNO(int, prctl, (int o, unsigned long a, unsigned long b, unsigned long c, unsigned long d), (o, a, b, c, d))
// resource
OSPP_FAULT_ERRNO64(int, getrlimit, (int r, P l), (r, l))
OSPP_FAULT_ERRNO64(int, setrlimit, (int r, CP l), (r, l))
OSPP_FAULT_ERRNO64(int, prlimit, (pid_t p, int r, CP n, P o), (p, r, n, o))
OSPP_FAULT_ERRNO(int, getrusage, (int w, P u), (w, u))
// error-number returners
OSPP_FAULT_RETURN64(posix_fallocate, (int fd, off_t o, off_t l), (fd, o, l))
OSPP_FAULT_RETURN64(posix_fadvise, (int fd, off_t o, off_t l, int a), (fd, o, l, a))
OSPP_FAULT_RETURN_DEFINE(pthread_sigmask, "pthread_sigmask", (int h, CP s, P o), (h, s, o))
OSPP_FAULT_RETURN_DEFINE(posix_spawn, "posix_spawn", (P pid, const char* p, CP fa, CP at, P argv, P envp), (pid, p, fa, at, argv, envp))
OSPP_FAULT_RETURN_DEFINE(posix_spawnp, "posix_spawnp", (P pid, const char* p, CP fa, CP at, P argv, P envp), (pid, p, fa, at, argv, envp))
OSPP_FAULT_RETURN_DEFINE(ttyname_r, "ttyname_r", (int fd, char* b, size_t n), (fd, b, n))
OSPP_FAULT_RETURN_DEFINE(ptsname_r, "ptsname_r", (int fd, char* b, size_t n), (fd, b, n))
OSPP_FAULT_RETURN_DEFINE(getlogin_r, "getlogin_r", (char* b, size_t n), (b, n))
OSPP_FAULT_RETURN_DEFINE(getpwnam_r, "getpwnam_r", (const char* k, P ent, char* b, size_t n, P r), (k, ent, b, n, r))
OSPP_FAULT_RETURN_DEFINE(getpwuid_r, "getpwuid_r", (uid_t k, P ent, char* b, size_t n, P r), (k, ent, b, n, r))
OSPP_FAULT_RETURN_DEFINE(getgrnam_r, "getgrnam_r", (const char* k, P ent, char* b, size_t n, P r), (k, ent, b, n, r))
OSPP_FAULT_RETURN_DEFINE(getgrgid_r, "getgrgid_r", (gid_t k, P ent, char* b, size_t n, P r), (k, ent, b, n, r))

// getcwd reports failure with a null pointer.
OSPP_FAULT_FAILS_WITH(char*, getcwd, "getcwd", NULL, (char* buf, size_t size), (buf, size))

// close: on Linux the descriptor is released even when close reports an error (EINTR, EIO), so
// the injected failure closes it for real first.
int close(int fd) {
    static int (*next)(int);
    if (!next) *(void**)&next = dlsym(RTLD_NEXT, "close");
    const int e = should_fail("close");
    const int r = next(fd);
    if (e) {
        errno = e;
        return -1;
    }
    return r;
}

// Variadic ones: the mode/argument is read only when the flags say it is there.
enum { o_creat = 0100,  // O_CREAT and O_TMPFILE on Linux (fcntl.h is not included here)
o_tmpfile = 020200000 };

// open and openat: the mode is read only when the flags say it was passed.
#define OSPP_FAULT_OPEN_LIKE(symbol, name, params, args)                          \
    int symbol params {                                                          \
        static int(*next) params;                                                \
        if (!next) *(void**)&next = dlsym(RTLD_NEXT, #symbol);                   \
        mode_t mode = 0;                                                           \
        if ((flags & o_creat) != 0 || (flags & o_tmpfile) == o_tmpfile) {          \
            va_list ap;                                                            \
            va_start(ap, flags);                                                   \
            mode = va_arg(ap, mode_t);                                             \
            va_end(ap);                                                            \
        }                                                                          \
        const int e = should_fail(name);                                           \
        if (e) {                                                                   \
            errno = e;                                                             \
            return -1;                                                             \
        }                                                                          \
        return next args;                                                          \
    }
#define OSPP_FAULT_OPEN(symbol, name) \
    OSPP_FAULT_OPEN_LIKE(symbol, name, (int dir, const char* path, int flags, ...), (dir, path, flags, mode))
#define OSPP_FAULT_OPEN_CWD(symbol, name) \
    OSPP_FAULT_OPEN_LIKE(symbol, name, (const char* path, int flags, ...), (path, flags, mode))
OSPP_FAULT_OPEN(openat, "openat")
OSPP_FAULT_OPEN(openat64, "openat")

OSPP_FAULT_OPEN_CWD(open, "open")
OSPP_FAULT_OPEN_CWD(open64, "open")

// What a _FORTIFY_SOURCE build calls instead where the flags are not a compile-time constant (no
// mode: these check that O_CREAT is not set), under the same call names.
OSPP_FAULT_DEFINE(int, __openat_2, "openat", (int dir, const char* path, int flags), (dir, path, flags))
OSPP_FAULT_DEFINE(int, __openat64_2, "openat", (int dir, const char* path, int flags), (dir, path, flags))
OSPP_FAULT_DEFINE(int, __open_2, "open", (const char* path, int flags), (path, flags))
OSPP_FAULT_DEFINE(int, __open64_2, "open", (const char* path, int flags), (path, flags))

// fcntl and ioctl: every argument they take fits in one pointer-sized slot.
#define OSPP_FAULT_VARIADIC(symbol, name, second)                                  \
    int symbol(int fd, second cmd, ...) {                                          \
        static int (*next)(int, second, ...);                                      \
        if (!next) *(void**)&next = dlsym(RTLD_NEXT, #symbol);    \
        va_list ap;                                                                \
        va_start(ap, cmd);                                                         \
        void* arg = va_arg(ap, void*);                                             \
        va_end(ap);                                                                \
        const int e = should_fail(name);                                     \
        if (e) {                                     \
            errno = e;                                                             \
            return -1;                                                             \
        }                                                                          \
        return next(fd, cmd, arg);                                                 \
    }
OSPP_FAULT_VARIADIC(fcntl, "fcntl", int)
OSPP_FAULT_VARIADIC(fcntl64, "fcntl", int)
OSPP_FAULT_VARIADIC(ioctl, "ioctl", unsigned long)

// added 2026-11-22: exec family, confstr, ctermid
// exec: ospp calls execve only, for the whole family (execv...execlpe): its PATH search builds
// each candidate itself, as Python's os._execvpe does. glibc's own execv/execvp/fexecve would
// reach the kernel through an internal alias, not through this symbol.
OSPP_FAULT_ERRNO(int, execve, (const char* p, char* const* argv, char* const* envp), (p, argv, envp))
// confstr reports failure with 0 and errno (EINVAL); 0 with errno untouched means "no value".
OSPP_FAULT_FAILS_WITH(size_t, confstr, "confstr", 0, (int name, char* buf, size_t len), (name, buf, len))
// ctermid is not interposed: it cannot fail. glibc (and musl) copy "/dev/tty" and return it; there
// is no errno to inject that a real call could produce (docs/reliability.md).
