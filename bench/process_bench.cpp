// bench/process_bench.cpp — the resource, fcntl, process and spawn wrappers against the raw libc
// call and against Python doing the same work, in one run; prints ospp/raw and Python/ospp.
//
//   ./build/bench/process_bench                      both tables (about 20 s)
//   ./build/bench/process_bench --benchmark_filter=uname --benchmark_repetitions=9 --process_rounds=0
//   ./build/bench/process_bench --benchmark_filter=none --process_rounds=600     fork and spawn only
//
// Three contenders per operation: "raw" (the libc call, as a C programmer would write it), "ospp"
// and "Python". Python runs in one python3 child started at the beginning; the benchmark asks it
// over a pipe to time N calls in-process (interpreter start-up excluded; loop overhead included,
// with the function bound to a local first: Python's best case).
//
// System-call rows (getrlimit ... getgroups): Google Benchmark, 5 repetitions of raw, ospp and one
// Python sample each, all shuffled together (random interleaving), so drift on a shared machine
// hits every contender alike; the ratios compare medians of the calling thread's CPU time
// (time.thread_time_ns() in Python), which a busy neighbour on the machine does not inflate.
//
// fork and posix_spawn: the cost lands in the kernel and in the child, so these compare wall-clock
// time (time.perf_counter_ns() in Python), call by call: each of --process_rounds rounds (300,
// best a multiple of 6) times one call of each contender, and the medians are compared.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <grp.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ospp/fcntl.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/ids.hpp"
#include "ospp/process.hpp"
#include "ospp/resource.hpp"
#include "ospp/spawn.hpp"
#include "ospp/sysinfo.hpp"
#include "ospp/wait.hpp"

namespace {

namespace res = ospp::resource;
namespace fc = ospp::fcntl;

// ---- Python, a child that times loops on request --------------------------------------------------
// Protocol: a line "name n\n" on stdin; the answer is the nanoseconds that n calls took, one line.
constexpr const char* python_script = R"(
import fcntl, os, resource, sys, time
lock_path = sys.argv[1]
fd = os.open(lock_path, os.O_RDWR)
cpu, wall = time.thread_time_ns, time.perf_counter_ns

def getrlimit(n):
    f, r = resource.getrlimit, resource.RLIMIT_NOFILE
    t = cpu()
    for _ in range(n): f(r)
    return cpu() - t
def setrlimit(n):
    f, r = resource.setrlimit, resource.RLIMIT_NOFILE
    cur = resource.getrlimit(r)
    t = cpu()
    for _ in range(n): f(r, cur)
    return cpu() - t
def getrusage(n):
    f, w = resource.getrusage, resource.RUSAGE_SELF
    t = cpu()
    for _ in range(n): f(w)
    return cpu() - t
def getfl(n):
    f, c = fcntl.fcntl, fcntl.F_GETFL
    t = cpu()
    for _ in range(n): f(fd, c)
    return cpu() - t
def flock(n):
    f, ex, un = fcntl.flock, fcntl.LOCK_EX, fcntl.LOCK_UN
    t = cpu()
    for _ in range(n):
        f(fd, ex)
        f(fd, un)
    return cpu() - t
def lockf(n):
    f, ex, un = fcntl.lockf, fcntl.LOCK_EX, fcntl.LOCK_UN
    t = cpu()
    for _ in range(n):
        f(fd, ex)
        f(fd, un)
    return cpu() - t
def uname(n):
    f = os.uname
    t = cpu()
    for _ in range(n): f()
    return cpu() - t
def times(n):
    f = os.times
    t = cpu()
    for _ in range(n): f()
    return cpu() - t
def getgroups(n):
    f = os.getgroups
    t = cpu()
    for _ in range(n): f()
    return cpu() - t
def fork(n):
    fork, exit, waitpid = os.fork, os._exit, os.waitpid
    t = wall()
    for _ in range(n):
        pid = fork()
        if pid == 0: exit(0)
        waitpid(pid, 0)
    return wall() - t
def posix_spawn(n):
    spawn, waitpid, env = os.posix_spawn, os.waitpid, os.environ
    t = wall()
    for _ in range(n):
        waitpid(spawn('/bin/true', ['true'], env), 0)
    return wall() - t

for line in sys.stdin:
    name, n = line.split()
    print(globals()[name](int(n)), flush=True)
)";

class python_child {
public:
    // Starts python3 with the script; false (and a message) when there is no python3.
    bool start(const std::string& script_path, const std::string& lock_path) {
        auto to_child = ospp::pipe();
        auto from_child = ospp::pipe();
        if (!to_child || !from_child) return false;
        const ospp::cstring_array argv{"python3", script_path, lock_path};
        auto pid = ospp::posix_spawnp("python3", argv, std::nullopt,
                                      {.file_actions = {ospp::spawn_file_action::dup2(to_child->read_end, ospp::stdin_fd),
                                                        ospp::spawn_file_action::dup2(from_child->write_end, ospp::stdout_fd)}});
        if (!pid) {
            std::fprintf(stderr, "process_bench: no Python: %s\n", pid.error().message().c_str());
            return false;
        }
        pid_ = *pid;
        commands_ = ::fdopen(to_child->write_end.release(), "w");
        answers_ = ::fdopen(from_child->read_end.release(), "r");
        return commands_ != nullptr && answers_ != nullptr;
    }
    // Nanoseconds per call of `name` over n calls, or -1.
    double time_per_call(const std::string& name, long n) {
        if (commands_ == nullptr) return -1;
        std::fprintf(commands_, "%s %ld\n", name.c_str(), n);
        std::fflush(commands_);
        long long ns = 0;
        if (std::fscanf(answers_, "%lld", &ns) != 1) return -1;
        return static_cast<double>(ns) / static_cast<double>(n);
    }
    ~python_child() {
        if (commands_ != nullptr) std::fclose(commands_);  // EOF: the script's loop ends
        if (answers_ != nullptr) std::fclose(answers_);
        if (pid_ > 0) (void)ospp::waitpid(pid_);
    }

private:
    ::pid_t pid_ = -1;
    FILE* commands_ = nullptr;
    FILE* answers_ = nullptr;
};

// ---- the shared state ---------------------------------------------------------------------------

struct fixture {
    std::string lock_path;    // locked by raw and ospp
    std::string python_lock;  // locked by Python (its own file: no contention even by accident)
    std::string script_path;
    int file = -1;  // lock_path, O_RDWR
    python_child python;
    bool have_python = false;

    static std::string temp_file(const char* stem) {
        const char* base = std::getenv("TMPDIR");
        std::string path = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + stem + "-XXXXXX";
        const int f = ::mkstemp(path.data());
        if (f < 0) std::abort();
        ::close(f);
        return path;
    }
    fixture() {
        lock_path = temp_file("ospp-process-bench");
        python_lock = temp_file("ospp-process-bench-py");
        script_path = temp_file("ospp-process-bench-script");
        FILE* s = std::fopen(script_path.c_str(), "w");
        if (s == nullptr) std::abort();
        std::fputs(python_script, s);
        std::fclose(s);
        file = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
        if (file < 0) std::abort();
        have_python = python.start(script_path, python_lock);
    }
    ~fixture() {
        ::close(file);
        ::unlink(lock_path.c_str());
        ::unlink(python_lock.c_str());
        ::unlink(script_path.c_str());
    }
};
fixture* g;

// The raw form of a call that fills a struct: the call and the struct kept from the optimiser.
template <class T, class Call>
void raw_fill(benchmark::State& s, Call call) {
    T out{};
    for (auto _ : s) {
        benchmark::DoNotOptimize(call(&out));
        benchmark::DoNotOptimize(out);
    }
}

// ---- resource -----------------------------------------------------------------------------------

void raw_getrlimit(benchmark::State& s) {
    raw_fill<struct ::rlimit>(s, [](struct ::rlimit* l) { return ::getrlimit(RLIMIT_NOFILE, l); });
}
void ospp_getrlimit(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(res::getrlimit(res::rlimit_resource::nofile));
}

// Sets the limit it already has: allowed without privilege, and changes nothing.
void raw_setrlimit(benchmark::State& s) {
    struct ::rlimit l {};
    ::getrlimit(RLIMIT_NOFILE, &l);
    for (auto _ : s) benchmark::DoNotOptimize(::setrlimit(RLIMIT_NOFILE, &l));
}
void ospp_setrlimit(benchmark::State& s) {
    const res::rlimit l = res::getrlimit(res::rlimit_resource::nofile).value();
    for (auto _ : s) benchmark::DoNotOptimize(res::setrlimit(res::rlimit_resource::nofile, l));
}

void raw_getrusage(benchmark::State& s) {
    raw_fill<struct ::rusage>(s, [](struct ::rusage* u) { return ::getrusage(RUSAGE_SELF, u); });
}
void ospp_getrusage(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(res::getrusage(res::rusage_who::self));
}

// ---- fcntl --------------------------------------------------------------------------------------

void raw_getfl(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(::fcntl(g->file, F_GETFL));
}
void ospp_fcntl_getfl(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) benchmark::DoNotOptimize(fc::fcntl(f, F_GETFL));
}
void ospp_get_status_flags(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) benchmark::DoNotOptimize(fc::get_status_flags(f));
}

void raw_flock(benchmark::State& s) {
    for (auto _ : s) {
        benchmark::DoNotOptimize(::flock(g->file, LOCK_EX));
        benchmark::DoNotOptimize(::flock(g->file, LOCK_UN));
    }
}
void ospp_flock(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) {
        benchmark::DoNotOptimize(fc::flock(f, fc::lock_op::ex));
        benchmark::DoNotOptimize(fc::flock(f, fc::lock_op::un));
    }
}

// glibc's lockf(3) is fcntl(F_SETLKW / F_SETLK) with a struct flock, as ospp's (and CPython's) is.
void raw_lockf(benchmark::State& s) {
    for (auto _ : s) {
        benchmark::DoNotOptimize(::lockf(g->file, F_LOCK, 0));
        benchmark::DoNotOptimize(::lockf(g->file, F_ULOCK, 0));
    }
}
void ospp_lockf(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) {
        benchmark::DoNotOptimize(fc::lockf(f, fc::lock_op::ex));
        benchmark::DoNotOptimize(fc::lockf(f, fc::lock_op::un));
    }
}

// ---- getters with a conversion --------------------------------------------------------------------

void raw_uname(benchmark::State& s) {
    raw_fill<struct ::utsname>(s, [](struct ::utsname* u) { return ::uname(u); });
}
void ospp_uname(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(ospp::uname());
}

void raw_times(benchmark::State& s) {
    raw_fill<struct ::tms>(s, [](struct ::tms* t) { return ::times(t); });
}
void ospp_times(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(ospp::times());
}

// The same two calls ospp makes (count, then fill), into a stack buffer.
void raw_getgroups(benchmark::State& s) {
    ::gid_t groups[64];
    for (auto _ : s) {
        const int n = ::getgroups(0, nullptr);
        benchmark::DoNotOptimize(::getgroups(std::min(n, 64), groups));
        benchmark::DoNotOptimize(groups);
    }
}
void ospp_getgroups(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(ospp::getgroups());
}

// ---- processes: one call of each contender per round, in turn ------------------------------------
// fork and spawn take 0.1-2 ms and the cost lands in the kernel and the child, so a neighbour's
// burst of work on this 2-core machine moves them by 2-10x for a while. Google Benchmark's
// repetitions (a block of calls each) do not average that out; taking turns call by call does.
// Every round times one call each of raw, ospp and Python.

bool raw_fork() {
    const ::pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid < 0) return false;
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid;
}
bool ospp_fork() {
    auto f = ospp::fork();
    if (!f) return false;
    if (f->is_child()) ospp::_exit(ospp::ex::ok);
    return ospp::waitpid(f->pid()).has_value();
}

char arg0[] = "true";
char* const raw_argv[] = {arg0, nullptr};
bool raw_posix_spawn() {
    ::pid_t pid = 0;
    if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, raw_argv, ::environ) != 0) return false;
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid;
}
const ospp::cstring_array* spawn_argv;  // built once, as a caller that spawns in a loop would
bool ospp_posix_spawn() {
    auto pid = ospp::posix_spawn("/bin/true", *spawn_argv, std::nullopt);
    return pid && ospp::waitpid(*pid).has_value();
}

std::int64_t clock_ns(::clockid_t clock) {
    ::timespec t{};
    ::clock_gettime(clock, &t);
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

struct process_row {
    const char* what;
    bool (*raw)();
    bool (*wrapped)();
    const char* python;
};
const process_row process_rows[] = {
    {"fork + _exit + waitpid", raw_fork, ospp_fork, "fork"},
    {"posix_spawn /bin/true + waitpid", raw_posix_spawn, ospp_posix_spawn, "posix_spawn"},
};

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Wall-clock time of each call (and the parent's CPU time, where a wrapper's cost would show).
struct samples {
    std::vector<double> wall, cpu;
};

void process_table(int rounds) {
    if (rounds <= 0) return;
    const ospp::cstring_array argv{"true"};
    spawn_argv = &argv;
    std::printf("\n%-34s %9s %9s %9s %9s %12s   (%d rounds, median wall-clock time per call)\n", "operation", "raw",
                "ospp", "ospp/raw", "Python", "Python/ospp", rounds);
    for (const auto& r : process_rows) {
        samples raw, wrapped;
        std::vector<double> python;
        auto timed = [](bool (*call)(), samples& out) {
            const std::int64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            const bool ok = call();
            const std::int64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w1 = clock_ns(CLOCK_MONOTONIC);
            out.wall.push_back(static_cast<double>(w1 - w0));
            out.cpu.push_back(static_cast<double>(c1 - c0));
            return ok;
        };
        bool ok = true;
        // Round i runs the contenders in the (i mod 6)-th of the six orders, so that each one follows
        // each other one equally often (a Python fork, for one, leaves the next call a busier kernel).
        static constexpr int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
        for (int i = 0; i < rounds + 6 && ok; ++i) {  // the first six rounds warm up and are dropped
            for (int k = 0; k < 3 && ok; ++k) {
                switch (orders[i % 6][k]) {
                    case 0: ok = timed(r.raw, raw); break;
                    case 1: ok = timed(r.wrapped, wrapped); break;
                    default:
                        if (g->have_python) {
                            const double ns = g->python.time_per_call(r.python, 1);
                            ok = ns >= 0;
                            python.push_back(ns);
                        }
                }
            }
            if (i == 5) raw = wrapped = {}, python.clear();
        }
        if (!ok) {
            std::printf("%-34s failed\n", r.what);
            continue;
        }
        const double rw = median(raw.wall), ow = median(wrapped.wall), pw = median(python);
        std::printf("%-34s %7.1fus %7.1fus %9.3f", r.what, rw / 1e3, ow / 1e3, ow / rw);
        if (pw > 0) {
            std::printf(" %7.1fus %12.2f\n", pw / 1e3, pw / ow);
        } else {
            std::printf(" %9s %12s\n", "-", "-");
        }
        const double rc = median(raw.cpu), oc = median(wrapped.cpu);
        std::printf("%-34s %7.1fus %7.1fus %9.3f   (the parent's CPU time)\n", "", rc / 1e3, oc / 1e3, oc / rc);
        std::fflush(stdout);
    }
}

// ---- the system-call rows: Google Benchmark, CPU time --------------------------------------------

struct row {
    const char* what;
    const char* raw_name;
    void (*raw)(benchmark::State&);
    const char* ospp_name;
    void (*wrapped)(benchmark::State&);
    const char* python;  // the script's function
    long python_calls;   // per Python sample: about 10-20 ms of work
};
const row rows[] = {
    {"getrlimit(NOFILE)", "getrlimit", raw_getrlimit, "getrlimit", ospp_getrlimit, "getrlimit", 50000},
    {"setrlimit(NOFILE, current)", "setrlimit", raw_setrlimit, "setrlimit", ospp_setrlimit, "setrlimit", 50000},
    {"getrusage(SELF)", "getrusage", raw_getrusage, "getrusage", ospp_getrusage, "getrusage", 30000},
    {"fcntl(F_GETFL)", "getfl", raw_getfl, "fcntl_getfl", ospp_fcntl_getfl, "getfl", 50000},
    {"F_GETFL: get_status_flags", "getfl", raw_getfl, "get_status_flags", ospp_get_status_flags, "getfl", 50000},
    {"flock EX + UN", "flock", raw_flock, "flock", ospp_flock, "flock", 30000},
    {"lockf EX + UN", "lockf", raw_lockf, "lockf", ospp_lockf, "lockf", 30000},
    {"uname", "uname", raw_uname, "uname", ospp_uname, "uname", 30000},
    {"times", "times", raw_times, "times", ospp_times, "times", 50000},
    {"getgroups", "getgroups", raw_getgroups, "getgroups", ospp_getgroups, "getgroups", 30000},
};

// One Python sample per repetition; the manual time is the per-call time Python measured.
void python_sample(benchmark::State& s, const row& r) {
    for (auto _ : s) {
        const double ns = g->python.time_per_call(r.python, r.python_calls);
        if (ns < 0) {
            s.SkipWithError("python3 did not answer");
            return;
        }
        s.SetIterationTime(ns / 1e9);
    }
}

// Prints the usual console output and keeps every repetition's time per benchmark name, in ns:
// CPU time for raw and ospp, and for Python its manual time (thread CPU time measured by Python).
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            const std::string name = r.run_name.function_name;
            const bool manual = name.rfind("python/", 0) == 0;
            times_[name].push_back(manual ? r.GetAdjustedRealTime() : r.GetAdjustedCPUTime());
        }
    }
    [[nodiscard]] double median_of(const std::string& name) const {
        auto it = times_.find(name);
        return it == times_.end() ? 0 : median(it->second);
    }

private:
    std::map<std::string, std::vector<double>> times_;
};

// As root, give the process a few supplementary groups, so that getgroups copies a list a user
// would have rather than the empty one root has here. (The Python child inherits them.)
void give_groups() {
    if (::geteuid() != 0) return;
    const ::gid_t groups[] = {4, 20, 24, 25, 27, 29, 30, 44};
    if (::setgroups(std::size(groups), groups) != 0) std::perror("setgroups");
}

}  // namespace

int main(int argc, char** argv) {
    // Our own flag, taken out before Google Benchmark sees the rest.
    int rounds = 300;
    std::vector<char*> args{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--process_rounds=", 0) == 0) {
            rounds = std::atoi(a.c_str() + a.find('=') + 1);
        } else {
            args.push_back(argv[i]);
        }
    }
    give_groups();
    fixture f;
    g = &f;
    // Defaults that make the ratios trustworthy on a shared machine: every repetition of every
    // benchmark shuffled (so drift hits all contenders alike), medians compared. Flags given on
    // the command line come later and win.
    std::string reps = "--benchmark_repetitions=5", inter = "--benchmark_enable_random_interleaving=true",
                min_time = "--benchmark_min_time=0.1";
    args.insert(args.begin() + 1, {reps.data(), inter.data(), min_time.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

    ratio_reporter reporter;
    std::set<std::string> registered;
    auto add = [&](const std::string& name, auto fn) {
        if (!registered.insert(name).second) return static_cast<benchmark::internal::Benchmark*>(nullptr);
        return benchmark::RegisterBenchmark(name.c_str(), fn);
    };
    for (const auto& r : rows) {
        add(std::string("raw/") + r.raw_name, r.raw);
        add(std::string("ospp/") + r.ospp_name, r.wrapped);
        if (!f.have_python) continue;
        if (auto* b = add(std::string("python/") + r.python, [&r](benchmark::State& s) { python_sample(s, r); })) {
            b->UseManualTime()->Iterations(1);
        }
    }
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    std::printf("\n%-34s %9s %9s %9s %9s %12s   (median CPU time per call)\n", "operation", "raw", "ospp", "ospp/raw",
                "Python", "Python/ospp");
    for (const auto& r : rows) {
        const double raw = reporter.median_of(std::string("raw/") + r.raw_name);
        const double wrapped = reporter.median_of(std::string("ospp/") + r.ospp_name);
        const double py = reporter.median_of(std::string("python/") + r.python);
        if (raw <= 0 || wrapped <= 0) continue;  // filtered out
        std::printf("%-34s %7.1fns %7.1fns %9.3f", r.what, raw, wrapped, wrapped / raw);
        if (py > 0) {
            std::printf(" %7.1fns %12.2f\n", py, py / wrapped);
        } else {
            std::printf(" %9s %12s\n", "-", "-");
        }
    }
    std::fflush(stdout);
    process_table(rounds);
    return 0;
}
