// test/daemonize_args_test.cpp — the ospp-daemonize command line (tools/daemonize_args.hpp).
#include <initializer_list>
#include <string>
#include <vector>

#include "../tools/daemonize_args.hpp"
#include "support.hpp"

using namespace ospp_daemonize;

namespace {

// parse_args over {"ospp-daemonize", args...}.
tl::expected<options, usage_error> parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"ospp-daemonize"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    return parse_args(static_cast<int>(argv.size() - 1), argv.data());
}

// The usage error's message, or "" when the line was accepted.
std::string error_of(std::initializer_list<const char*> args) {
    const auto r = parse(args);
    return r ? std::string() : r.error().message;
}

}  // namespace

TEST_CASE("defaults: a bare COMMAND") {
    const auto r = parse({"sleep", "10"});
    REQUIRE(r);
    CHECK(r->action == verb::start);
    CHECK(r->command == std::vector<std::string>{"sleep", "10"});
    CHECK(r->pidfile.empty());
    CHECK(r->working_directory == "/");
    CHECK(r->umask == 022);
    CHECK(r->stdin_path == "/dev/null");
    CHECK(r->stdout_path.empty());
    CHECK(r->stderr_path.empty());
    CHECK(r->keep_fds.empty());
    CHECK_FALSE(r->respawn.has_value());
    CHECK_FALSE(r->foreground);
    CHECK_FALSE(r->core);
    CHECK_FALSE(r->clear_env);
    CHECK(r->ready_timeout == seconds(10));
}

TEST_CASE("long options: --opt=value and --opt value") {
    const auto r = parse({"--pidfile=/run/a.pid", "--chdir", "/tmp", "--umask=027", "--chroot", "/srv", "--user=www:web",
                          "--stdin", "/in", "--stdout=/out", "--stderr", "/err", "--ready-timeout=2.5", "--core",
                          "--foreground", "--clear-env", "--", "prog", "-x"});
    REQUIRE(r);
    CHECK(r->pidfile == "/run/a.pid");
    CHECK(r->working_directory == "/tmp");
    CHECK(r->umask == 027);
    CHECK(r->chroot_directory == "/srv");
    CHECK(r->user == "www");
    CHECK(r->group == "web");
    CHECK(r->stdin_path == "/in");
    CHECK(r->stdout_path == "/out");
    CHECK(r->stderr_path == "/err");
    CHECK(r->ready_timeout == seconds(2.5));
    CHECK(r->core);
    CHECK(r->foreground);
    CHECK(r->clear_env);
    CHECK(r->command == std::vector<std::string>{"prog", "-x"});
}

TEST_CASE("short options: -o value, -ovalue, bundled flags") {
    const auto r = parse({"-p", "a.pid", "-C/var", "-m0", "-u", "1000", "-g", "100", "-fR", "-k", "5", "-k7", "prog"});
    REQUIRE(r);
    CHECK(r->pidfile == "a.pid");
    CHECK(r->working_directory == "/var");
    CHECK(r->umask == 0);
    CHECK(r->user == "1000");
    CHECK(r->group == "100");
    CHECK(r->foreground);
    REQUIRE(r->respawn.has_value());
    CHECK(*r->respawn == seconds(1));
    CHECK(r->keep_fds == std::vector<int>{5, 7});
    CHECK(r->command == std::vector<std::string>{"prog"});
}

TEST_CASE("--respawn takes an optional attached value only") {
    auto r = parse({"--respawn=0.25", "prog"});
    REQUIRE(r);
    CHECK(*r->respawn == seconds(0.25));
    r = parse({"-R3", "prog"});
    REQUIRE(r);
    CHECK(*r->respawn == seconds(3));
    // Detached, the next word is COMMAND, not the delay.
    r = parse({"--respawn", "5"});
    REQUIRE(r);
    CHECK(*r->respawn == seconds(1));
    CHECK(r->command == std::vector<std::string>{"5"});
}

TEST_CASE("repeatable options accumulate, others keep the last value") {
    const auto r = parse({"-E", "A=1", "--env=B=x=y", "-k3", "--keep-fd=3", "-p", "one", "-p", "two", "prog"});
    REQUIRE(r);
    CHECK(r->env == std::vector<std::string>{"A=1", "B=x=y"});
    CHECK(r->keep_fds == std::vector<int>{3, 3});
    CHECK(r->pidfile == "two");
}

TEST_CASE("the first operand ends the options, and -- does too") {
    auto r = parse({"-f", "sleep", "-p", "x"});
    REQUIRE(r);
    CHECK_FALSE(r->pidfile.size() > 0);
    CHECK(r->command == std::vector<std::string>{"sleep", "-p", "x"});
    r = parse({"--", "-weird-name", "--help"});
    REQUIRE(r);
    CHECK(r->action == verb::start);
    CHECK(r->command == std::vector<std::string>{"-weird-name", "--help"});
    // A lone "-" is an operand (conventionally stdin), so it is COMMAND here.
    r = parse({"-"});
    REQUIRE(r);
    CHECK(r->command == std::vector<std::string>{"-"});
}

TEST_CASE("control verbs") {
    auto r = parse({"--status", "--pidfile=/run/x.pid"});
    REQUIRE(r);
    CHECK(r->action == verb::status);
    r = parse({"--stop", "--timeout=3", "-p", "x.pid"});
    REQUIRE(r);
    CHECK(r->action == verb::stop);
    CHECK(r->stop_timeout == seconds(3));
    r = parse({"--signal=HUP", "-p", "x.pid"});
    REQUIRE(r);
    CHECK(r->action == verb::signal);
    CHECK(r->signal == ospp::signum::hup);
    r = parse({"--signal", "SIGUSR1", "-p", "x.pid"});
    REQUIRE(r);
    CHECK(r->signal == ospp::signum::usr1);
    r = parse({"--signal=9", "-p", "x.pid"});
    REQUIRE(r);
    CHECK(r->signal == ospp::signum::kill);
    r = parse({"--signal=IO", "-p", "x.pid"});  // Python's SIGIO (glibc's abbreviation is POLL)
    REQUIRE(r);
    CHECK(r->signal == ospp::signum::io);
    r = parse({"--signal=SIGIOT", "-p", "x.pid"});  // an alias Python's signal.Signals accepts
    REQUIRE(r);
    CHECK(r->signal == ospp::signum::abrt);
    r = parse({"--help"});
    REQUIRE(r);
    CHECK(r->action == verb::help);
    r = parse({"-V"});
    REQUIRE(r);
    CHECK(r->action == verb::version);
}

TEST_CASE("usage errors name what is wrong") {
    CHECK(error_of({}) == "missing COMMAND");
    CHECK(error_of({"-p", "x.pid"}) == "missing COMMAND");
    CHECK(error_of({"--bogus", "prog"}) == "unrecognized option '--bogus'");
    CHECK(error_of({"--pid=x", "prog"}) == "unrecognized option '--pid=x'");  // no abbreviations
    CHECK(error_of({"-Z", "prog"}) == "invalid option -- 'Z'");
    CHECK(error_of({"--umask=0999", "prog"}) == "invalid umask '0999' (octal 0 to 0777 expected)");
    CHECK(error_of({"-m", "028", "prog"}) == "invalid umask '028' (octal 0 to 0777 expected)");  // small, not octal
    CHECK(error_of({"-m", "u+rwx", "prog"}) == "invalid umask 'u+rwx' (octal 0 to 0777 expected)");
    CHECK(error_of({"-m", "1777", "prog"}) == "invalid umask '1777' (octal 0 to 0777 expected)");
    for (const char* leading_zeros : {"00022", "000000022"}) {  // as umask(1) and chmod(1) take them
        CAPTURE(leading_zeros);
        CHECK(error_of({"-m", leading_zeros, "prog"}) == "");
        const auto zeros = parse({"-m", leading_zeros, "prog"});
        REQUIRE(zeros);
        CHECK(zeros->umask == 022);
    }
    CHECK(error_of({"-m", "01777", "prog"}) == "invalid umask '01777' (octal 0 to 0777 expected)");
    // A number too big once said "seconds expected", of a number of seconds.
    CHECK(error_of({"--timeout=86401", "--stop", "-p", "x"}) == "invalid --timeout '86401' (0 to 86400 seconds expected)");
    CHECK(error_of({"-R100000", "prog"}) == "invalid --respawn '100000' (0 to 86400 seconds expected)");
    // 0 would kill every daemon before it could execute COMMAND.
    CHECK(error_of({"--ready-timeout=0", "prog"}) == "invalid --ready-timeout '0' (more than 0, at most 86400 seconds expected)");
    const auto tiny = parse({"--ready-timeout=0.001", "prog"});
    REQUIRE(tiny);
    CHECK(tiny->ready_timeout == seconds(0.001));
    CHECK(error_of({"-k", "x", "prog"}) == "invalid --keep-fd 'x' (a file descriptor number expected)");
    CHECK(error_of({"-k", "-1", "prog"}) == "invalid --keep-fd '-1' (a file descriptor number expected)");
    // 0-2 were silently replaced by --stdin, --stdout and --stderr (default /dev/null), not kept.
    for (const char* stdio : {"0", "1", "2"}) {
        CAPTURE(stdio);
        CHECK(error_of({"-k", stdio, "prog"}) == "invalid --keep-fd '" + std::string(stdio) +
                                                     "' (0-2 are --stdin, --stdout and --stderr: use e.g. -o /dev/stdout)");
    }
    CHECK(error_of({"-k", "99999999999", "prog"}) == "invalid --keep-fd '99999999999' (a file descriptor number expected)");
    CHECK(error_of({"-E", "NOVALUE", "prog"}) == "invalid --env 'NOVALUE' (NAME=VALUE expected)");
    CHECK(error_of({"-E", "=x", "prog"}) == "invalid --env '=x' (NAME=VALUE expected)");
    CHECK(error_of({"--respawn=soon", "prog"}) == "invalid --respawn 'soon' (0 to 86400 seconds expected)");
    CHECK(error_of({"--ready-timeout=-1", "prog"}) == "invalid --ready-timeout '-1' (0 to 86400 seconds expected)");
    CHECK(error_of({"--ready-timeout=nan", "prog"}) == "invalid --ready-timeout 'nan' (0 to 86400 seconds expected)");
    CHECK(error_of({"--signal=NOPE", "-p", "x"}) == "invalid --signal 'NOPE' (a signal name or number expected)");
    CHECK(error_of({"--core=yes", "prog"}) == "option '--core' doesn't allow an argument");
    CHECK(error_of({"--pidfile"}) == "option '--pidfile' requires an argument");
    CHECK(error_of({"-p"}) == "option requires an argument -- 'p'");
    CHECK(error_of({"--user=:grp", "prog"}) == "empty user in --user ':grp'");
    CHECK(error_of({"--user=me:", "prog"}) == "empty group in --user 'me:'");
    CHECK(error_of({"--status"}) == "--status, --stop and --signal need --pidfile");
    CHECK(error_of({"--status", "-p", "x", "prog"}) == "unexpected COMMAND with --status, --stop or --signal");
    CHECK(error_of({"--status", "--stop", "-p", "x"}) == "--status, --stop and --signal exclude each other");
    CHECK(error_of({"--timeout=3", "prog"}) == "--timeout is only for --stop");
    CHECK(error_of({"", "x"}) == "empty COMMAND");
}

TEST_CASE("resolve_ids: names and numbers") {
    auto o = parse({"-u", "root", "prog"});
    REQUIRE(o);
    auto ids = resolve_ids(*o);
    REQUIRE(ids);
    CHECK(*ids->uid == 0);
    CHECK(*ids->gid == 0);
    CHECK(ids->user_name == "root");

    o = parse({"-u", "0:0", "prog"});
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE(ids);
    CHECK(*ids->uid == 0);
    CHECK(ids->user_name == "root");

    o = parse({"-g", "root", "prog"});
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE(ids);
    CHECK_FALSE(ids->uid.has_value());
    CHECK(*ids->gid == 0);
    CHECK(ids->user_name.empty());

    // A number with no passwd entry is taken as it is, given a group.
    o = parse({"-u", "54321:54321", "prog"});
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE(ids);
    CHECK(*ids->uid == 54321);
    CHECK(*ids->gid == 54321);
    CHECK(ids->user_name.empty());
}

TEST_CASE("resolve_ids: unknown names are usage errors") {
    auto o = parse({"-u", "no-such-user-ospp", "prog"});
    REQUIRE(o);
    auto ids = resolve_ids(*o);
    REQUIRE_FALSE(ids);
    CHECK(ids.error().message == "unknown user 'no-such-user-ospp'");

    o = parse({"-g", "no-such-group-ospp", "prog"});
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE_FALSE(ids);
    CHECK(ids.error().message == "unknown group 'no-such-group-ospp'");

    o = parse({"-u", "54321", "prog"});
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE_FALSE(ids);
    CHECK(ids.error().message == "user 54321 has no passwd entry: give its --group");

    o = parse({"-u", "4294967295:0", "prog"});  // (uid_t)-1 means "unchanged" to setuid: refused as a name
    REQUIRE(o);
    ids = resolve_ids(*o);
    REQUIRE_FALSE(ids);
    CHECK(ids.error().message == "unknown user '4294967295'");
}

TEST_CASE("--help fits on one 80x24 screen") {
    const std::string_view text = help_text();
    int lines = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        REQUIRE(end != std::string_view::npos);
        CHECK(end - start < 80);
        ++lines;
        start = end + 1;
    }
    CHECK(lines <= 23);
    CHECK(text.find("--pidfile") != std::string_view::npos);
    CHECK(version_text().rfind("ospp-daemonize", 0) == 0);
}
