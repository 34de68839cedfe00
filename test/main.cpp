// test/main.cpp — the main of every ospp test suite.
//
// A doctest listener checks each test case for leaks: the set of open file descriptors
// (/proc/self/fd) and the set of child processes must be the same after the test case as before,
// and every temp_dir the test case made must be gone. A leaking test case counts as failed, and
// a temp_dir made outside any test case and still there at the end fails the run. The run ends
// with one line, read by .ci/run:
//   [ospp] test cases: N passed, N failed, N skipped
#define DOCTEST_CONFIG_IMPLEMENT
#include <dirent.h>
#include <fcntl.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

std::set<int> open_fds() {
    std::set<int> fds;
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return fds;
    const int own = ::dirfd(d);
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const int n = std::atoi(e->d_name);
        if (n != own) fds.insert(n);
    }
    ::closedir(d);
    return fds;
}

std::string fd_target(int n) {
    char buf[4096];
    const std::string link = "/proc/self/fd/" + std::to_string(n);
    const ssize_t len = ::readlink(link.c_str(), buf, sizeof buf - 1);
    return len < 0 ? std::string("?") : std::string(buf, static_cast<std::size_t>(len));
}

// The pids of this process's children, from every thread's /proc children list.
std::set<int> children() {
    std::set<int> pids;
    DIR* d = ::opendir("/proc/self/task");
    if (d == nullptr) return pids;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
        int pid = 0;
        while (in >> pid) pids.insert(pid);
    }
    ::closedir(d);
    return pids;
}

// Every temp_dir this process made, in order. mkdtemp made each name unique, so one that still
// exists was left behind by this process (suites running at the same time have their own names).
std::vector<std::string> g_temp_dirs;

// The temp_dirs made since index `from` that still exist.
std::vector<std::string> temp_dirs_left(std::size_t from) {
    std::vector<std::string> left;
    for (std::size_t i = from; i < g_temp_dirs.size(); ++i) {
        struct ::stat st {};
        if (::lstat(g_temp_dirs[i].c_str(), &st) == 0) left.push_back(g_temp_dirs[i]);
    }
    return left;
}

struct counts {
    int passed = 0, failed = 0, skipped = 0;
};
counts g_counts;
std::string g_skip_reason;
std::vector<std::string> g_skips;
std::vector<std::string> g_leaks;

struct leak_listener : doctest::IReporter {
    explicit leak_listener(const doctest::ContextOptions&) {}

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {
        for (const auto& d : temp_dirs_left(0)) g_leaks.push_back("test run: left temporary directory " + d);
    }
    void test_case_start(const doctest::TestCaseData& tc) override {
        name_ = tc.m_name;
        fds_ = open_fds();
        children_ = children();
        temp_dirs_ = g_temp_dirs.size();
        g_skip_reason.clear();
    }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats& st) override {
        bool ok = st.testCaseSuccess;
        const std::set<int> now = open_fds();
        for (int n : now) {
            if (fds_.count(n) == 0) {
                g_leaks.push_back(name_ + ": leaked fd " + std::to_string(n) + " -> " + fd_target(n));
                ok = false;
            }
        }
        for (int pid : children()) {
            if (children_.count(pid) == 0) {
                g_leaks.push_back(name_ + ": left child process " + std::to_string(pid));
                ok = false;
                // Reap it so that one leak does not cascade into the next test case.
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
        for (const auto& d : temp_dirs_left(temp_dirs_)) {
            g_leaks.push_back(name_ + ": left temporary directory " + d);
            ok = false;
        }
        g_temp_dirs.resize(temp_dirs_);  // checked: the end of the run checks the others
        if (!ok) {
            ++g_counts.failed;
        } else if (!g_skip_reason.empty()) {
            ++g_counts.skipped;
            g_skips.push_back(name_ + ": " + g_skip_reason);
        } else {
            ++g_counts.passed;
        }
    }
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}

private:
    std::string name_;
    std::set<int> fds_;
    std::set<int> children_;
    std::size_t temp_dirs_ = 0;  // g_temp_dirs' size when the test case started
};

}  // namespace

REGISTER_LISTENER("ospp-leaks", 1, leak_listener);

namespace ospp_test {

temp_dir::temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ospp-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
    g_temp_dirs.push_back(path_);
}

temp_dir::~temp_dir() {
    // Make everything removable (tests chmod directories to 0), then remove the tree.
    const std::string cmd = "chmod -R u+rwx '" + path_ + "' 2>/dev/null; rm -rf '" + path_ + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "temp_dir: could not remove %s\n", path_.c_str());
}

std::string temp_dir::operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    REQUIRE(out.good());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void mark_skipped(std::string_view reason) {
    g_skip_reason = std::string(reason);
    MESSAGE("skipped: " << g_skip_reason);
}

bool is_root() { return ::geteuid() == 0; }

bool cloexec(int n) { return (::fcntl(n, F_GETFD) & FD_CLOEXEC) != 0; }

void wait_for_go(int fd) noexcept {
    char c;
    while (::read(fd, &c, 1) < 0 && errno == EINTR) {
    }
}

std::optional<std::string> command_output(const char* command) {
    FILE* p = ::popen(command, "re");
    if (p == nullptr) return std::nullopt;
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (::pclose(p) != 0) return std::nullopt;
    return out;
}

}  // namespace ospp_test

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int rc = context.run();
    if (context.shouldExit()) return rc;
    for (const auto& s : g_skips) std::printf("[ospp] skipped %s\n", s.c_str());
    for (const auto& l : g_leaks) std::printf("[ospp] LEAK %s\n", l.c_str());
    std::printf("[ospp] test cases: %d passed, %d failed, %d skipped\n", g_counts.passed, g_counts.failed,
                g_counts.skipped);
    return (rc != 0 || g_counts.failed != 0 || !g_leaks.empty()) ? 1 : 0;
}
