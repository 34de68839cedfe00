// bench/daemon_bench.cpp — daemon_context::open() must not grow with RLIMIT_NOFILE.
//
// python-daemon closes every descriptor number below the fd limit, one close() each, so its
// open() grows linearly with RLIMIT_NOFILE; ospp closes the gaps between kept fds with
// close_range(), a handful of system calls whatever the limit. Each iteration forks a launcher that
// sets the soft limit, notes the time and calls open(); the daemon notes the time when open()
// returns in it and sends the difference back. python-daemon's DaemonContext.open() is timed the
// same way, by /usr/bin/python3, in the same run. Run: ./build/bench/daemon_bench
#include <benchmark/benchmark.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ospp/daemon.hpp"
#include "ospp/fd_ops.hpp"

namespace {

std::int64_t now_ns() {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

void set_nofile(rlim_t soft) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = std::min(soft, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
}

// One start-up: the nanoseconds from open() in the launcher to open() returning in the daemon.
std::int64_t ospp_open_once(rlim_t nofile) {
    auto p = ospp::pipe().value();
    std::fflush(nullptr);  // or the launcher would print our buffered report a second time
    const pid_t launcher = ::fork();
    if (launcher == 0) {
        set_nofile(nofile);
        ospp::daemon::daemon_context ctx;
        ctx.files_preserve = {p.write_end};
        const std::int64_t start = now_ns();
        if (!ctx.open()) ::_exit(1);
        const std::int64_t took[2] = {now_ns() - start, ::getpid()};
        (void)ospp::write(p.write_end, std::as_bytes(std::span(took)));
        ::_exit(0);
    }
    p.write_end.reset();
    std::int64_t took[2] = {-1, -1};
    (void)ospp::read(p.read_end, std::as_writable_bytes(std::span(took)));
    ::waitpid(launcher, nullptr, 0);
    if (took[1] > 0) ::waitpid(static_cast<pid_t>(took[1]), nullptr, 0);  // we are its subreaper
    return took[0];
}

void BM_ospp_open(benchmark::State& state) {
    const auto nofile = static_cast<rlim_t>(state.range(0));
    for (auto _ : state) {
        const std::int64_t ns = ospp_open_once(nofile);
        if (ns < 0) {
            state.SkipWithError("open() failed");
            return;
        }
        state.SetIterationTime(static_cast<double>(ns) / 1e9);
    }
}
BENCHMARK(BM_ospp_open)->Arg(1024)->Arg(20000)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

// python-daemon timed the same way; prints the median in nanoseconds.
constexpr const char* python_script = R"(
import ctypes, os, resource, sys, time, daemon
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the daemons come back to be reaped
nofile, runs = int(sys.argv[1]), int(sys.argv[2])
times = []
for _ in range(runs):
    r, w = os.pipe()
    launcher = os.fork()
    if launcher == 0:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))
        ctx = daemon.DaemonContext(files_preserve=[w])
        start = time.monotonic_ns()
        ctx.open()
        os.write(w, b"%d %d" % (time.monotonic_ns() - start, os.getpid()))
        os._exit(0)
    os.close(w)
    took, pid = os.read(r, 64).split()
    os.close(r)
    while True:  # the launcher, its orphaned first child and the daemon: all exit on their own
        try:
            os.wait()
        except ChildProcessError:
            break
    times.append(int(took))
times.sort()
print(times[0], times[len(times) // 2])
)";

struct timing {
    double min_us = -1, median_us = -1;
};

timing python_timing(rlim_t nofile, int runs) {
    const std::string cmd = "/usr/bin/python3 -c '" + std::string(python_script) + "' " + std::to_string(nofile) +
                            " " + std::to_string(runs);
    std::fflush(nullptr);
    FILE* out = ::popen(cmd.c_str(), "r");
    if (out == nullptr) return {};
    double min_ns = -1, median_ns = -1;
    if (std::fscanf(out, "%lf %lf", &min_ns, &median_ns) != 2) min_ns = median_ns = -1000;
    ::pclose(out);
    return {min_ns / 1000, median_ns / 1000};
}

timing ospp_timing(rlim_t nofile, int runs) {
    std::vector<std::int64_t> times;
    for (int i = 0; i < runs; ++i) times.push_back(ospp_open_once(nofile));
    std::sort(times.begin(), times.end());
    return {static_cast<double>(times.front()) / 1000, static_cast<double>(times[times.size() / 2]) / 1000};
}

}  // namespace

int main(int argc, char** argv) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    // Wall time from open() in the launcher to open() returning in the daemon: two forks and the
    // scheduler are in it, so the minimum is the steadier figure on a busy machine.
    constexpr int runs = 100;
    std::printf("\n| RLIMIT_NOFILE | ospp min / median | python-daemon min / median | python-daemon / ospp (min) |\n");
    std::printf("|---:|---:|---:|---:|\n");
    for (rlim_t nofile : {rlim_t{1024}, rlim_t{20000}}) {
        const timing ours = ospp_timing(nofile, runs);
        const timing theirs = python_timing(nofile, runs);
        std::printf("| %lu | %.0f / %.0f µs | %.0f / %.0f µs | %.1f× |\n", static_cast<unsigned long>(nofile),
                    ours.min_us, ours.median_us, theirs.min_us, theirs.median_us, theirs.min_us / ours.min_us);
    }
    return 0;
}
