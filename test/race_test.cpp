// test/race_test.cpp — races: many launchers of one daemon at once, and walk/rmtree on a tree that
// another process keeps changing.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "ospp/ospp.hpp"
#include "support.hpp"

namespace {

std::string daemonize_binary() {
    const char* root = std::getenv("OSPP_BUILD_ROOT");
    return std::string(root != nullptr ? root : "build") + "/tools/ospp-daemonize";
}

struct launch {
    pid_t pid;
    std::string log;  // where its stderr goes
};

// Starts `n` launchers of the same daemon as close together as possible: each child blocks on a
// pipe until all exist, then execs ospp-daemonize.
std::vector<launch> start_together(int n, const ospp_test::temp_dir& dir, const std::string& pidfile) {
    auto gate = ospp::pipe().value();
    const std::string binary = daemonize_binary();
    std::vector<launch> launches;
    for (int i = 0; i < n; ++i) {
        const std::string log = dir / ("launcher-" + std::to_string(i) + ".err");
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            gate.write_end.reset();
            ospp_test::wait_for_go(gate.read_end.get());  // EOF: every launcher exists
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (err < 0 || ::dup2(err, 2) < 0) ::_exit(100);
            ::execl(binary.c_str(), "ospp-daemonize", "--pidfile", pidfile.c_str(), "--", "sleep", "600",
                    static_cast<char*>(nullptr));
            ::_exit(101);
        }
        launches.push_back({pid, log});
    }
    gate.write_end.reset();  // EOF releases them all at once
    return launches;
}

struct outcome {
    int started = 0;
    int refused = 0;
    int other = 0;
};

outcome wait_all(const std::vector<launch>& launches) {
    outcome o;
    for (const auto& l : launches) {
        auto w = ospp::waitpid(l.pid);
        REQUIRE(w.has_value());
        const int code = w->status.exited() ? w->status.exit_code() : -1;
        const std::string err = ospp_test::read_file(l.log);
        if (code == 0) {
            ++o.started;
        } else if (code == 4 && err.find("already running (pid ") != std::string::npos) {
            ++o.refused;
        } else {
            ++o.other;
            MESSAGE("launcher exit " << code << ": " << err);
        }
    }
    return o;
}

// Starts n launchers at once and checks exactly one started a daemon, whose pid it returns, and
// the rest said "already running"; the caller stops the daemon.
pid_t race_launchers(int n, const ospp_test::temp_dir& dir, const std::string& pidfile) {
    const outcome o = wait_all(start_together(n, dir, pidfile));
    CHECK(o.started == 1);
    CHECK(o.refused == n - 1);
    CHECK(o.other == 0);
    auto pid = ospp::daemon::pidfile::read_pid(pidfile);
    REQUIRE(pid.has_value());
    CHECK(::kill(*pid, 0) == 0);
    return *pid;
}

void stop_daemon(const std::string& pidfile) {
    const std::string cmd = daemonize_binary() + " --stop --pidfile '" + pidfile + "' >/dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
}

bool daemonize_built() { return ::access(daemonize_binary().c_str(), X_OK) == 0; }

}  // namespace

TEST_CASE("50 launchers of one daemon at once: exactly one starts, 49 say it is already running") {
    if (!daemonize_built()) OSPP_SKIP("ospp-daemonize is not built (-Dtools=disabled)");
    ospp_test::temp_dir dir;
    const std::string pidfile = dir / "one.pid";
    race_launchers(50, dir, pidfile);
    stop_daemon(pidfile);
}

TEST_CASE("a stale pidfile with 20 concurrent starters: exactly one takes it over") {
    if (!daemonize_built()) OSPP_SKIP("ospp-daemonize is not built (-Dtools=disabled)");
    ospp_test::temp_dir dir;
    const std::string pidfile = dir / "stale.pid";
    // A pid that is certainly not running: a child that has been reaped.
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    REQUIRE(ospp::waitpid(gone).has_value());
    ospp_test::write_file(pidfile, std::to_string(gone) + "\n");

    CHECK(race_launchers(20, dir, pidfile) != gone);
    stop_daemon(pidfile);
}

namespace {

// Builds top/d0..d9, each with a file and a subdirectory; `outside` holds a canary.
void build_tree(const std::string& top) {
    REQUIRE(ospp::makedirs(top, 0755, {.exist_ok = true}).has_value());
    for (int i = 0; i < 10; ++i) {
        const std::string d = top + "/d" + std::to_string(i);
        (void)ospp::makedirs(d + "/sub", 0755, {.exist_ok = true});
        ospp_test::write_file(d + "/f", "x");
    }
}

// In a child: until killed, swap each top/dI for a symlink to `outside` and back again.
pid_t start_swapper(const std::string& top, const std::string& outside) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        for (unsigned n = 0;; ++n) {
            const std::string d = top + "/d" + std::to_string(n % 10);
            const std::string aside = top + "/aside" + std::to_string(n % 10);
            if (::rename(d.c_str(), aside.c_str()) == 0) {
                if (::symlink(outside.c_str(), d.c_str()) == 0) (void)::unlink(d.c_str());
                (void)::rename(aside.c_str(), d.c_str());
            }
        }
    }
    return pid;
}

void stop(pid_t pid) {
    ::kill(pid, SIGKILL);
    (void)ospp::waitpid(pid);
}

}  // namespace

TEST_CASE("walk on a tree whose directories are swapped for symlinks never leaves the tree") {
    ospp_test::temp_dir dir;
    const std::string top = dir / "top";
    const std::string outside = dir / "outside";
    build_tree(top);
    REQUIRE(ospp::makedirs(outside + "/secret", 0755).has_value());
    ospp_test::write_file(outside + "/canary", "must never be listed");

    const pid_t swapper = start_swapper(top, outside);
    long walked = 0;
    bool escaped = false;
    for (int round = 0; round < 300 && !escaped; ++round) {
        for (auto [dirpath, dirnames, filenames] : ospp::walk(top)) {
            ++walked;
            if (dirpath.rfind(top, 0) != 0) escaped = true;
            for (const auto& f : filenames) escaped = escaped || f == "canary";
            for (const auto& d : dirnames) escaped = escaped || d == "secret";
        }
    }
    stop(swapper);
    MESSAGE("directories walked while the swapper ran: " << walked);
    CHECK_FALSE(escaped);
    CHECK(ospp_test::read_file(outside + "/canary") == "must never be listed");
}

TEST_CASE("rmtree on a tree whose directories are swapped for symlinks never removes outside it") {
    ospp_test::temp_dir dir;
    const std::string outside = dir / "outside";
    REQUIRE(ospp::makedirs(outside + "/secret", 0755).has_value());
    ospp_test::write_file(outside + "/canary", "keep me");
    for (int round = 0; round < 100; ++round) {
        const std::string top = dir / "top";
        build_tree(top);
        const pid_t swapper = start_swapper(top, outside);
        (void)ospp::rmtree(top, {.ignore_errors = true});  // may race with the swapper: errors are fine
        stop(swapper);
        (void)ospp::rmtree(top, {.ignore_errors = true});  // what the swapper put back
        REQUIRE(ospp_test::read_file(outside + "/canary") == "keep me");
        REQUIRE(::access((outside + "/secret").c_str(), F_OK) == 0);
    }
}
