// bench/fd_ops_bench.cpp — the per-call cost of ospp's fd operations against the raw libc call,
// measured in the same run, and the ratio ospp/raw (target: <= 1.05).
//
//   ./build/bench/fd_ops_bench                  the table (5 interleaved repetitions, medians)
//   ./build/bench/fd_ops_bench --benchmark_repetitions=9 --benchmark_filter=pread
//
// Every pair does the same system call with the same arguments; what differs is only the wrapper:
// result<T>, EINTR retry, path_ref, the fd_ref/fd types, and the call into libospp.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "ospp/fd_ops.hpp"
#include "ospp/stat.hpp"

namespace {

using ospp::open_flags;

// A 4 KiB file in $TMPDIR (page-cached after the first read), removed at exit.
struct fixture {
    std::string path;
    int zero = -1;     // /dev/zero
    int null = -1;     // /dev/null
    int file = -1;     // `path`, read-only
    int pipe_r = -1, pipe_w = -1;
    fixture() {
        const char* base = std::getenv("TMPDIR");
        path = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ospp-bench-XXXXXX";
        const int f = ::mkstemp(path.data());
        if (f < 0) std::abort();
        const std::string page(4096, 'p');
        if (::write(f, page.data(), page.size()) != 4096) std::abort();
        ::close(f);
        zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
        null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        int p[2];
        if (zero < 0 || null < 0 || file < 0 || ::pipe2(p, O_CLOEXEC) != 0) std::abort();
        pipe_r = p[0];
        pipe_w = p[1];
    }
    ~fixture() {
        ::close(zero);
        ::close(null);
        ::close(file);
        ::close(pipe_r);
        ::close(pipe_w);
        ::unlink(path.c_str());
    }
};
fixture* g;

// ---- open + close of an existing file ----
void raw_open_close(benchmark::State& s) {
    const char* p = g->path.c_str();
    for (auto _ : s) {
        const int f = ::open(p, O_RDONLY | O_CLOEXEC);
        benchmark::DoNotOptimize(f);
        ::close(f);
    }
}
void ospp_open_close(benchmark::State& s) {
    const char* p = g->path.c_str();
    for (auto _ : s) {
        auto f = ospp::open(p, open_flags::rdonly);
        benchmark::DoNotOptimize(f);
    }  // ospp::fd's destructor closes
}

// ---- read 1 byte from /dev/zero ----
void raw_read_1(benchmark::State& s) {
    char c;
    for (auto _ : s) benchmark::DoNotOptimize(::read(g->zero, &c, 1));
}
void ospp_read_1(benchmark::State& s) {
    std::byte c[1];
    const ospp::fd_ref f(g->zero);
    for (auto _ : s) benchmark::DoNotOptimize(ospp::read(f, c));
}

// ---- pread 4 KiB from a cached file ----
void raw_pread_4k(benchmark::State& s) {
    alignas(64) static char buf[4096];
    for (auto _ : s) benchmark::DoNotOptimize(::pread(g->file, buf, sizeof buf, 0));
}
void ospp_pread_4k(benchmark::State& s) {
    alignas(64) static std::byte buf[4096];
    const ospp::fd_ref f(g->file);
    for (auto _ : s) benchmark::DoNotOptimize(ospp::pread(f, buf, 0));
}

// ---- a 10-byte message from a pipe, asked for with read(fd, 65536) ----
// The string form: ospp::read(fd, n) as Python's os.read(fd, n), against a read(2) into a buffer
// that exists already. Both sides write the message first.
void raw_read_message(benchmark::State& s) {
    alignas(64) static char buf[65536];
    for (auto _ : s) {
        if (::write(g->pipe_w, "0123456789", 10) != 10) std::abort();
        benchmark::DoNotOptimize(::read(g->pipe_r, buf, sizeof buf));
    }
}
void ospp_read_message(benchmark::State& s) {
    const ospp::fd_ref r(g->pipe_r);
    for (auto _ : s) {
        if (::write(g->pipe_w, "0123456789", 10) != 10) std::abort();
        benchmark::DoNotOptimize(ospp::read(r, 65536));
    }
}

// ---- write 64 bytes to /dev/null ----
constexpr char line[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
void raw_write_64(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize(::write(g->null, line, 64));
}
void ospp_write_64(benchmark::State& s) {
    const ospp::fd_ref f(g->null);
    for (auto _ : s) benchmark::DoNotOptimize(ospp::write(f, std::string_view(line, 64)));
}

// ---- fstat ----
// ospp::fstat fills a stat_result from statx(2) (for the birth time), so it is measured twice:
// against glibc's fstat (what a user would otherwise call) and against the same statx call.
void raw_fstat(benchmark::State& s) {
    struct ::stat st;
    for (auto _ : s) {
        benchmark::DoNotOptimize(::fstat(g->file, &st));
        benchmark::DoNotOptimize(st);
    }
}
void raw_statx(benchmark::State& s) {
    struct ::statx stx;
    for (auto _ : s) {
        benchmark::DoNotOptimize(::statx(g->file, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
                                         STATX_BASIC_STATS | STATX_BTIME, &stx));
        benchmark::DoNotOptimize(stx);
    }
}
void ospp_fstat(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) benchmark::DoNotOptimize(ospp::fstat(f));
}

// ---- a getpid-class trivial call: fcntl(F_GETFL), as ospp::get_blocking ----
// (ospp has no getpid in this area; get_blocking is the cheapest system call it wraps here.)
void raw_get_blocking(benchmark::State& s) {
    for (auto _ : s) benchmark::DoNotOptimize((::fcntl(g->file, F_GETFL) & O_NONBLOCK) == 0);
}
void ospp_get_blocking(benchmark::State& s) {
    const ospp::fd_ref f(g->file);
    for (auto _ : s) benchmark::DoNotOptimize(ospp::get_blocking(f));
}

// Prints the usual console output and keeps every repetition's CPU time per benchmark name.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
                times_[r.run_name.function_name].push_back(r.GetAdjustedCPUTime());
            }
        }
    }
    [[nodiscard]] double median(const std::string& name) const {
        auto it = times_.find(name);
        if (it == times_.end() || it->second.empty()) return 0;
        std::vector<double> v = it->second;
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    }

private:
    std::map<std::string, std::vector<double>> times_;
};

struct pair_spec {
    const char* what;
    const char* name;
    void (*raw)(benchmark::State&);
    void (*wrapped)(benchmark::State&);
};
const pair_spec pairs[] = {
    {"open+close existing file", "open_close", raw_open_close, ospp_open_close},
    {"read 1 byte /dev/zero", "read_1", raw_read_1, ospp_read_1},
    {"pread 4 KiB cached file", "pread_4k", raw_pread_4k, ospp_pread_4k},
    {"10 B from a pipe, read(fd, 65536)", "read_message", raw_read_message, ospp_read_message},
    {"write 64 B /dev/null", "write_64", raw_write_64, ospp_write_64},
    {"fstat (raw: glibc fstat)", "fstat", raw_fstat, ospp_fstat},
    {"fstat (raw: the same statx)", "fstat_statx", raw_statx, ospp_fstat},
    {"fcntl F_GETFL / get_blocking", "get_blocking", raw_get_blocking, ospp_get_blocking},
};

}  // namespace

int main(int argc, char** argv) {
    fixture f;
    g = &f;
    // Defaults that make the ratios trustworthy on a shared machine: repetitions interleaved
    // across all benchmarks (so drift hits raw and ospp alike), medians compared. Flags given on
    // the command line come later and win.
    std::vector<char*> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=5", inter = "--benchmark_enable_random_interleaving=true",
                min_time = "--benchmark_min_time=0.2";
    args.insert(args.begin() + 1, {reps.data(), inter.data(), min_time.data()});
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    for (const auto& p : pairs) {
        benchmark::RegisterBenchmark((std::string("raw/") + p.name).c_str(), p.raw);
        benchmark::RegisterBenchmark((std::string("ospp/") + p.name).c_str(), p.wrapped);
    }
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    std::printf("\n%-32s %12s %12s %8s\n", "operation (median CPU time)", "raw ns", "ospp ns", "ratio");
    for (const auto& p : pairs) {
        const double raw = reporter.median(std::string("raw/") + p.name);
        const double wrapped = reporter.median(std::string("ospp/") + p.name);
        if (raw <= 0 || wrapped <= 0) continue;  // filtered out
        std::printf("%-32s %12.1f %12.1f %8.3f\n", p.what, raw, wrapped, wrapped / raw);
    }
    return 0;
}
