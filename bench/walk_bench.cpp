// bench/walk_bench.cpp — ospp::walk / fwalk against a raw getdents64 walker, readdir,
// std::filesystem and Python, on a generated tree and on /usr.
//
//   walk_bench [--rounds N] [--entries N] [--usr PATH] [--keep] [--tree PATH]
//
// --keep leaves the generated tree in place (its path is printed) and --tree walks one kept before,
// because generating 200,000 files takes longer than walking them.
//
// The walkers run in turn inside each round (raw, readdir, ospp, std::filesystem, Python, then the
// next round), so machine noise hits all of them alike; the table gives each walker's median time
// and its ratio to the raw walker's median. Warm cache: one untimed walk precedes the rounds.
//
// "names": list every entry and tell directories from the rest as os.walk does — which means a
// stat of each symlink (is_dir() follows it) — and descend into real directories only.
// "lstat": the same plus an lstat of every entry, summing st_size (what du does).
// Python is timed inside its own process (startup excluded) and reports nanoseconds on stdout.
// First it prints what single system calls cost on this machine, the floor every walker shares.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ospp/stat.hpp"
#include "ospp/walk.hpp"

namespace {

struct counts {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
};

// One entry as os.walk classifies it: counted, lstat'ed when asked (or when d_type is unknown), a
// symlink stat'ed to see whether it points at a directory. True for a real directory to descend into.
bool visit_entry(int fd, const char* name, unsigned char type, bool with_lstat, counts& c) {
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) return false;
    ++c.entries;
    struct ::stat st {};
    if ((with_lstat || type == DT_UNKNOWN) && ::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = static_cast<unsigned char>(IFTODT(st.st_mode));
        c.bytes += static_cast<std::uint64_t>(st.st_size);
    }
    if (type == DT_LNK) {
        struct ::stat target {};
        benchmark::DoNotOptimize(::fstatat(fd, name, &target, 0));
    }
    return type == DT_DIR;
}

// ---- the baseline: getdents64 + openat(O_NOFOLLOW) relative to the parent, one reused buffer ----
struct raw_walker {
    bool with_lstat;
    std::vector<std::unique_ptr<char[]>> buffers;  // one per depth, allocated once
    counts c;

    void dir(int fd, std::size_t depth) {
        if (buffers.size() <= depth) buffers.emplace_back(new char[64 * 1024]);
        char* buf = buffers[depth].get();
        for (;;) {
            const ssize_t n = ::getdents64(fd, buf, 64 * 1024);
            if (n <= 0) break;
            for (ssize_t pos = 0; pos < n;) {
                const auto* d = reinterpret_cast<const struct ::dirent64*>(buf + pos);
                pos += d->d_reclen;
                if (!visit_entry(fd, d->d_name, d->d_type, with_lstat, c)) continue;
                const int sub = ::openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) {
                    dir(sub, depth + 1);
                    ::close(sub);
                }
            }
        }
    }
    counts run(const std::string& top) {
        c = {};
        const int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            dir(fd, 0);
            ::close(fd);
        }
        return c;
    }
};

// ---- the same with glibc's readdir (fdopendir: a heap buffer per directory) ----
counts readdir_walk(int fd, bool with_lstat, counts c = {}) {
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
        ::close(fd);
        return c;
    }
    while (const struct ::dirent* e = ::readdir(d)) {
        if (visit_entry(fd, e->d_name, e->d_type, with_lstat, c)) {
            const int sub = ::openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) c = readdir_walk(sub, with_lstat, c);
        }
    }
    ::closedir(d);
    return c;
}

// ---- ospp ----
counts ospp_walk(const std::string& top) {
    counts c;
    for (auto [dirpath, dirnames, filenames] : ospp::walk(top)) c.entries += dirnames.size() + filenames.size();
    return c;
}
counts ospp_fwalk_lstat(const std::string& top) {
    counts c;
    for (auto [dirpath, dirnames, filenames, dirfd] : ospp::fwalk(top)) {
        const std::vector<std::string_view>* lists[] = {&dirnames, &filenames};
        for (const auto* names : lists) {
            for (std::string_view name : *names) {
                ++c.entries;
                // The walk's names are NUL-terminated: a const char* path_ref, no copy.
                if (auto st = ospp::lstat(name.data(), {.dir_fd = dirfd})) c.bytes += static_cast<std::uint64_t>(st->st_size);
            }
        }
    }
    return c;
}

// ---- std::filesystem ----
counts fs_walk(const std::string& top, bool with_lstat) {
    namespace fs = std::filesystem;
    counts c;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(top, fs::directory_options::skip_permission_denied, ec), end;
         it != end; it.increment(ec)) {
        ++c.entries;
        if (with_lstat) {
            const fs::file_status st = it->symlink_status(ec);
            if (fs::is_regular_file(st)) c.bytes += it->file_size(ec);
        } else {
            benchmark::DoNotOptimize(it->is_directory(ec));  // follows symlinks, like os.walk's is_dir()
        }
    }
    return c;
}

// ---- Python, in a child process that times itself ----
constexpr const char* python_names = R"(
import os, sys, time
t = time.perf_counter_ns()
n = 0
for d, dirs, files in os.walk(sys.argv[1]):
    n += len(dirs) + len(files)
print(time.perf_counter_ns() - t, n)
)";
constexpr const char* python_lstat = R"(
import os, sys, time
def du(path):
    n = b = 0
    with os.scandir(path) as it:
        for e in it:
            n += 1
            st = e.stat(follow_symlinks=False)
            b += st.st_size
            if e.is_dir(follow_symlinks=False):
                sn, sb = du(e.path)
                n += sn
                b += sb
    return n, b
t = time.perf_counter_ns()
n, b = du(sys.argv[1])
print(time.perf_counter_ns() - t, n)
)";

double python_seconds(const std::string& script_path, const std::string& top, std::uint64_t& entries) {
    const std::string cmd = "python3 '" + script_path + "' '" + top + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    unsigned long long ns = 0, n = 0;
    const int got = std::fscanf(p, "%llu %llu", &ns, &n);
    ::pclose(p);
    entries = n;
    return got == 2 ? static_cast<double>(ns) / 1e9 : -1;
}

// ---- the generated tree: 20 x 20 x 20 directories, 22 files and 2 symlinks in each leaf ----
std::string make_tree(std::size_t target_entries) {
    const char* base = std::getenv("TMPDIR");
    std::string top = std::string(base != nullptr && *base ? base : "/tmp") + "/ospp-walk-bench-XXXXXX";
    if (::mkdtemp(top.data()) == nullptr) std::exit(1);
    const std::size_t leaves = 8000, per_leaf = std::max<std::size_t>(target_entries / leaves, 4) - 2;
    std::size_t made = 0;
    for (int a = 0; a < 20; ++a) {
        const std::string pa = top + "/d" + std::to_string(a);
        ::mkdir(pa.c_str(), 0755);
        for (int b = 0; b < 20; ++b) {
            const std::string pb = pa + "/d" + std::to_string(b);
            ::mkdir(pb.c_str(), 0755);
            for (int c = 0; c < 20; ++c) {
                const std::string pc = pb + "/leaf" + std::to_string(c);
                ::mkdir(pc.c_str(), 0755);
                for (std::size_t f = 0; f < per_leaf; ++f) {
                    const std::string file = pc + "/file_" + std::to_string(f) + ".txt";
                    const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                    if (fd >= 0) {
                        if (f % 4 == 0) benchmark::DoNotOptimize(::write(fd, "data", 4));
                        ::close(fd);
                    }
                }
                benchmark::DoNotOptimize(::symlink("file_0.txt", (pc + "/link_to_file").c_str()));
                benchmark::DoNotOptimize(::symlink("..", (pc + "/link_to_parent").c_str()));
                made += per_leaf + 3;
            }
        }
    }
    std::printf("generated %s: %zu entries\n", top.c_str(), made + 20 + 400);
    return top;
}

struct walker {
    const char* name;
    std::function<double(std::uint64_t&)> run;  // seconds, and the entries it saw
    std::vector<double> times;
    std::vector<double> user_times;  // user-space CPU seconds (in-process walkers only)
    std::uint64_t entries = 0;
};

double user_cpu_seconds() {
    struct ::rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
}

double g_last_user = -1;  // the user CPU time of the last in-process run (-1: not measured)

double seconds_of(const std::function<counts()>& f, std::uint64_t& entries) {
    const double u0 = user_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const counts c = f();
    const auto t1 = std::chrono::steady_clock::now();
    g_last_user = user_cpu_seconds() - u0;
    benchmark::DoNotOptimize(c.bytes);
    entries = c.entries;
    return std::chrono::duration<double>(t1 - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void table(const char* title, const std::string& top, bool with_lstat, int rounds, const std::string& py_script) {
    raw_walker raw{with_lstat, {}, {}};
    std::vector<walker> ws;
    auto in_process = [&](const char* name, std::function<counts()> walk) {
        ws.push_back(walker{name, [walk](std::uint64_t& n) { return seconds_of(walk, n); }, {}, {}, 0});
    };
    auto python = [&](const char* name) {
        ws.push_back(walker{name, [&](std::uint64_t& n) { return python_seconds(py_script, top, n); }, {}, {}, 0});
    };
    in_process("raw getdents64", [&] { return raw.run(top); });
    in_process("readdir", [&] { return readdir_walk(::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), with_lstat); });
    if (with_lstat) {
        in_process("ospp::fwalk + lstat", [&] { return ospp_fwalk_lstat(top); });
        in_process("std::filesystem + symlink_status", [&] { return fs_walk(top, true); });
        python("Python scandir + stat");
    } else {
        in_process("ospp::walk", [&] { return ospp_walk(top); });
        in_process("std::filesystem", [&] { return fs_walk(top, false); });
        python("Python os.walk");
    }
    for (auto& w : ws) w.run(w.entries);  // warm-up, untimed
    for (int r = 0; r < rounds; ++r) {
        for (auto& w : ws) {
            g_last_user = -1;
            w.times.push_back(w.run(w.entries));
            if (g_last_user >= 0) w.user_times.push_back(g_last_user);
        }
    }
    const double base = median(ws[0].times);
    std::printf("\n%s (%d rounds, median)\n", title, rounds);
    std::printf("  %-34s %10s %8s %10s %14s\n", "walker", "seconds", "ratio", "entries", "user ns/entry");
    for (auto& w : ws) {
        const double m = median(w.times);
        const double user_ns = w.user_times.empty() || w.entries == 0
                                   ? -1
                                   : median(w.user_times) * 1e9 / static_cast<double>(w.entries);
        std::printf("  %-34s %10.4f %8.2f %10llu ", w.name, m, m / base, static_cast<unsigned long long>(w.entries));
        if (user_ns < 0) {
            std::printf("%14s\n", "-");
        } else {
            std::printf("%14.0f\n", user_ns);
        }
    }
    std::fflush(stdout);
}

// What single system calls cost here, hot in cache: the walkers' shared, kernel-side floor. Printed
// before the tables so that every run records the machine the ratios came from.
void syscall_costs(const std::string& top) {
    const std::string leaf = top + "/d0/d0/leaf0";
    const int dir = ::open(leaf.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;  // --tree names a tree of another shape
    auto ns_per_call = [](int calls, auto&& f) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) f();
        const auto t1 = std::chrono::steady_clock::now();
        return std::chrono::duration<double, std::nano>(t1 - t0).count() / calls;
    };
    struct ::stat st {};
    char buf[64 * 1024];
    long entries = 0;
    for (ssize_t n; (n = ::getdents64(dir, buf, sizeof buf)) > 0;) {
        for (ssize_t pos = 0; pos < n; ++entries) pos += reinterpret_cast<const struct ::dirent64*>(buf + pos)->d_reclen;
    }
    std::printf("\nsystem call costs (hot cache, ns per call)\n");
    std::printf("  null system call (getppid)          %6.0f\n", ns_per_call(200000, [] { benchmark::DoNotOptimize(::getppid()); }));
    std::printf("  fstat of a directory fd             %6.0f\n", ns_per_call(200000, [&] { benchmark::DoNotOptimize(::fstat(dir, &st)); }));
    std::printf("  stat of a symlink, followed         %6.0f\n", ns_per_call(200000, [&] {
        benchmark::DoNotOptimize(::fstatat(dir, "link_to_file", &st, 0));
    }));
    std::printf("  openat + close of a directory       %6.0f\n", ns_per_call(100000, [&] {
        ::close(::openat(dir, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }));
    std::printf("  getdents64 at end of directory      %6.0f\n", ns_per_call(200000, [&] {
        benchmark::DoNotOptimize(::getdents64(dir, buf, sizeof buf));
    }));
    const double listing = ns_per_call(50000, [&] {
        ::lseek(dir, 0, SEEK_SET);
        benchmark::DoNotOptimize(::getdents64(dir, buf, sizeof buf));
    });
    std::printf("  getdents64 of a leaf, per entry     %6.0f  (%ld entries)\n", listing / static_cast<double>(entries), entries);
    ::close(dir);
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 5;
    std::size_t entries = 200'000;
    std::string usr = "/usr";
    bool keep = false;
    std::string tree;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else if (a == "--entries" && i + 1 < argc) entries = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--usr" && i + 1 < argc) usr = argv[++i];
        else if (a == "--keep") keep = true;
        else if (a == "--tree" && i + 1 < argc) tree = argv[++i];
        else {
            std::fprintf(stderr, "usage: walk_bench [--rounds N] [--entries N] [--usr PATH] [--keep] [--tree PATH]\n");
            return 2;
        }
    }
    if (!tree.empty()) keep = true;
    const std::string top = tree.empty() ? make_tree(entries) : tree;
    const std::string names_py = top + ".names.py", lstat_py = top + ".lstat.py";
    for (const auto& [path, text] : {std::pair{names_py, python_names}, std::pair{lstat_py, python_lstat}}) {
        FILE* f = std::fopen(path.c_str(), "w");
        if (f == nullptr) return 1;
        std::fputs(text, f);
        std::fclose(f);
    }
    syscall_costs(top);
    const std::string label = tree.empty() ? "generated tree" : tree;
    table((label + ", names").c_str(), top, false, rounds, names_py);
    table((label + ", names + lstat").c_str(), top, true, rounds, lstat_py);
    if (!usr.empty()) {
        table((usr + ", names").c_str(), usr, false, rounds, names_py);
        table((usr + ", names + lstat").c_str(), usr, true, rounds, lstat_py);
    }
    std::remove(names_py.c_str());
    std::remove(lstat_py.c_str());
    if (!keep) {
        if (auto r = ospp::rmtree(top); !r) std::fprintf(stderr, "%s\n", r.error().message().c_str());
    }
    return 0;
}
