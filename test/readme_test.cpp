// test/readme_test.cpp — the C++ column of README.md's "Python beside C++" table, compiled and run,
// so the README cannot drift from the API.
#include <ospp/ospp.hpp>

#include <cstdio>

#include "support.hpp"

using ospp::open_flags;
using ospp::fcntl::lock_op;
using ospp::resource::limit;
using ospp::resource::rlimit_resource;
using ospp::daemon::pidfile_state;

TEST_CASE("README: files, fds and errors") {
    ospp_test::temp_dir dir;
    const std::string log = dir / "log";
    const std::string data = "more data\n";

    auto fd = ospp::open(log, open_flags::wronly | open_flags::creat | open_flags::append, 0644);
    REQUIRE(fd.has_value());
    CHECK(ospp::write(*fd, "hello\n").has_value());
    CHECK(ospp::write_all(*fd, data).has_value());
    CHECK(ospp_test::read_file(log) == "hello\nmore data\n");

    auto st = ospp::stat(log, {.follow_symlinks = false});
    REQUIRE(st.has_value());
    CHECK(ospp::filemode(st->st_mode).substr(0, 1) == "-");

    int dirs = 0;
    auto it = ospp::scandir(dir.path());
    for (auto& e : *it) dirs += e.is_dir() ? 1 : 0;
    CHECK(dirs == 0);
    int levels = 0;
    for (auto [root, dirnames, files] : ospp::walk(dir.path())) {
        ++levels;
        CHECK(files.size() == 1);
    }
    CHECK(levels == 1);

    CHECK(ospp::fcntl::flock(*fd, lock_op::ex | lock_op::nb).has_value());

    auto r = ospp::open(dir / "nope", open_flags::rdonly);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message() == "open: [Errno 2] No such file or directory: '" + (dir / "nope") + "'");
}

TEST_CASE("README: pipes, spawn, wait, limits") {
    auto [r, w] = ospp::pipe().value();
    CHECK(ospp::write(w, "x").has_value());
    CHECK(ospp::read(r, 1).value() == "x");

    auto pid = ospp::posix_spawnp("true", {"true"}, std::nullopt);
    REQUIRE(pid.has_value());
    CHECK(ospp::waitpid(*pid)->status.to_exitcode().value() == 0);

    const std::string report = [] {
        // In a child: lowering a hard limit cannot be undone.
        const pid_t child = ::fork();
        if (child == 0) {
            auto ok = ospp::resource::setrlimit(rlimit_resource::core, {limit{0}, limit{0}});
            ::_exit(ok ? 0 : 1);
        }
        return std::string(ospp::waitpid(child)->status.to_exitcode().value() == 0 ? "" : "setrlimit failed");
    }();
    CHECK(report.empty());
}

TEST_CASE("README: daemon_context takes PEP 3143's options as designated initializers") {
    ospp_test::temp_dir dir;
    const std::string pidfile = dir / "x.pid";
    ospp::daemon::daemon_context ctx({.pidfile = pidfile});
    CHECK_FALSE(ctx.is_open());
    // The README's line, compiled only: entering would make this test process a daemon.
    [[maybe_unused]] auto as_in_readme = [&ctx](void (*run)()) {
        if (auto s = ctx.enter()) run();
    };
}

TEST_CASE("README: pidfile::status asks the lock, not the file") {
    ospp_test::temp_dir dir;
    const std::string path = dir / "x.pid";
    ospp_test::write_file(path, "1\n");  // a file a crash left: is_locked() would say true
    CHECK_FALSE(ospp::daemon::pidfile::status(path)->state == pidfile_state::running);
    auto held = ospp::daemon::pidfile::acquire(path);
    REQUIRE(held.has_value());
    REQUIRE(held->write().has_value());
    CHECK(ospp::daemon::pidfile::status(path)->state == pidfile_state::running);
}
