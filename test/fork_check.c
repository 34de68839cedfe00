// test/fork_check.c — catches allocation in a forked child before it execs or exits.
//
// ospp promises that what runs between fork and exec (and, in daemon_context::open, between the
// fork and open()'s return in the daemon) neither allocates nor frees: after a fork in a
// multi-threaded program only async-signal-safe calls are allowed, and malloc is not one. This
// file replaces glibc's malloc, free, calloc, realloc and the aligned variants (glibc manual,
// "Replacing malloc") with functions that forward to glibc's own (__libc_malloc, ...) but first
// report the call when this process is "armed": a forked child, armed by a pthread_atfork child
// handler. An exec ends the image and the check with it; a child that legitimately goes back to
// ordinary code (the daemon, once open() returned) calls fork_check_disarm().
//
// Used two ways:
//   - linked into test_fork_safety, which drives it through the functions at the end;
//   - built as libospp_fork_check.so and loaded with LD_PRELOAD into a program that knows nothing
//     of it (ospp-daemonize), configured by the environment:
//       OSPP_FORK_CHECK_GENERATIONS=1,3   arm the processes that many forks away from the first
//                                         (1: a child, 2: a grandchild, ...);
//       OSPP_FORK_CHECK_LOG=/path         append the reports there (default: stderr).
// A report is one line: "fork_check: malloc(24) in forked child <pid> (fork generation 1) at 0x..
// 0x..", the return addresses of the call's stack (symbolise with addr2line or dladdr).
//
// Not for sanitizer builds: ASan and the other sanitizers bring their own malloc.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define OSPP_FORK_CHECK_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(OSPP_FORK_CHECK_SANITIZED)
#error "fork_check.c replaces malloc, which the sanitizer runtime owns: leave it out of sanitizer builds"
#endif

#define _GNU_SOURCE 1
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// glibc's allocator under its own names: what replacing malloc forwards to.
extern void* __libc_malloc(size_t size);
extern void __libc_free(void* p);
extern void* __libc_calloc(size_t n, size_t size);
extern void* __libc_realloc(void* p, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void* __libc_valloc(size_t size);
extern void* __libc_pvalloc(size_t size);

// The interface test/fork_safety_test.cpp uses.
void fork_check_arm_children(int on);
void fork_check_disarm(void);
void fork_check_report_to(int fd);
long fork_check_count(void);

// A forked child has one thread, so plain statics do; the parent only sets them before forking.
static volatile sig_atomic_t g_arm_children = 0;  // every forked child is armed
static unsigned long g_arm_generations = 0;       // or: bit g arms fork generation g (LD_PRELOAD)
static int g_generation = 0;
static volatile sig_atomic_t g_armed = 0;
static volatile sig_atomic_t g_reporting = 0;     // inside report(): backtrace may allocate
static long g_count = 0;                          // reports made by this process since armed
static int g_report_fd = -1;
static char g_log_path[512];

enum { max_reports = 16 };  // per process: the first ones say where; the rest would be noise

static size_t append_text(char* out, size_t at, size_t cap, const char* text) {
    while (*text != '\0' && at < cap) out[at++] = *text++;
    return at;
}

static size_t append_unsigned(char* out, size_t at, size_t cap, uintptr_t v, unsigned base) {
    char digits[32];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (base == 16) at = append_text(out, at, cap, "0x");
    while (n > 0 && at < cap) out[at++] = digits[--n];
    return at;
}

static void write_all(int fd, const char* text, size_t size) {
    while (size > 0) {
        const ssize_t n = write(fd, text, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        size -= (size_t)n;
    }
}

// Reports a call made while armed; async-signal-safe itself but for backtrace(), whose own
// allocations (none once warmed up) pass through unreported.
static void report(const char* call, size_t size) {
    if (!g_armed || g_reporting) return;
    g_reporting = 1;
    const int saved = errno;
    if (g_count++ < max_reports) {
        char line[1024];
        const size_t cap = sizeof line - 1;
        size_t n = append_text(line, 0, cap, "fork_check: ");
        n = append_text(line, n, cap, call);
        n = append_text(line, n, cap, "(");
        n = append_unsigned(line, n, cap, size, 10);
        n = append_text(line, n, cap, ") in forked child ");
        n = append_unsigned(line, n, cap, (uintptr_t)getpid(), 10);
        n = append_text(line, n, cap, " (fork generation ");
        n = append_unsigned(line, n, cap, (uintptr_t)g_generation, 10);
        n = append_text(line, n, cap, ") at");
        void* frames[24];
        const int depth = backtrace(frames, 24);
        for (int i = 1; i < depth; ++i) {  // frame 0 is report() itself
            n = append_text(line, n, cap, " ");
            n = append_unsigned(line, n, cap, (uintptr_t)frames[i], 16);
        }
        line[n++] = '\n';
        if (g_report_fd >= 0) {
            write_all(g_report_fd, line, n);
        } else if (g_log_path[0] != '\0') {
            const int f = open(g_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
            if (f >= 0) {
                write_all(f, line, n);
                close(f);
            }
        } else {
            write_all(2, line, n);
        }
    }
    errno = saved;
    g_reporting = 0;
}

void* malloc(size_t size) {
    report("malloc", size);
    return __libc_malloc(size);
}

void free(void* p) {
    if (p != NULL) report("free", 0);
    __libc_free(p);
}

void* calloc(size_t n, size_t size) {
    report("calloc", n * size);
    return __libc_calloc(n, size);
}

void* realloc(void* p, size_t size) {
    report("realloc", size);
    return __libc_realloc(p, size);
}

void* reallocarray(void* p, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

void* memalign(size_t alignment, size_t size) {
    report("memalign", size);
    return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
    report("aligned_alloc", size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
    report("posix_memalign", size);
    if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) return EINVAL;
    void* p = __libc_memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void* valloc(size_t size) {
    report("valloc", size);
    return __libc_valloc(size);
}

void* pvalloc(size_t size) {
    report("pvalloc", size);
    return __libc_pvalloc(size);
}

// Runs in every child glibc's fork() makes (not posix_spawn's, which never runs user code).
static void on_fork_child(void) {
    ++g_generation;
    g_count = 0;
    g_armed = g_arm_children ||
              (g_generation < (int)(8 * sizeof g_arm_generations) && ((g_arm_generations >> g_generation) & 1UL));
}

__attribute__((constructor)) static void fork_check_init(void) {
    pthread_atfork(NULL, NULL, on_fork_child);
    void* warm[2];
    (void)backtrace(warm, 2);  // loads the unwinder now, not in an armed child
    const char* generations = getenv("OSPP_FORK_CHECK_GENERATIONS");
    for (const char* c = generations; c != NULL && *c != '\0';) {
        char* end = NULL;
        const long g = strtol(c, &end, 10);
        if (end == c) break;
        if (g > 0 && g < (long)(8 * sizeof g_arm_generations)) g_arm_generations |= 1UL << g;
        c = *end == ',' ? end + 1 : end;
    }
    const char* log = getenv("OSPP_FORK_CHECK_LOG");
    if (log != NULL && strlen(log) < sizeof g_log_path) strcpy(g_log_path, log);
}

void fork_check_arm_children(int on) { g_arm_children = on; }

void fork_check_disarm(void) { g_armed = 0; }

void fork_check_report_to(int fd) { g_report_fd = fd; }

long fork_check_count(void) { return g_count; }
