// test/spawn_test.cpp — posix_spawn options checked from inside the child, and the spawn* family.
#include "ospp/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "ospp/environ.hpp"
#include "ospp/ids.hpp"
#include "ospp/wait.hpp"
#include "child.hpp"
#include "support.hpp"

using ospp::spawn_file_action;
using ospp::spawn_mode;

namespace {

// Spawns argv[0] with stdout on a pipe (plus `options`), returns what it printed; checks exit 0.
std::string output_of(const ospp::cstring_array& argv, const ospp::cstring_array* env,
                      ospp::posix_spawn_options options = {}) {
    auto out = ospp::pipe();
    REQUIRE(out.has_value());
    options.file_actions.insert(options.file_actions.begin(),
                                spawn_file_action::dup2(out->write_end, ospp::stdout_fd));
    auto pid = env != nullptr ? ospp::posix_spawnp(argv[0], argv, *env, options)
                              : ospp::posix_spawnp(argv[0], argv, std::nullopt, options);
    REQUIRE(pid.has_value());
    out->write_end.reset();
    std::string text;
    for (;;) {
        auto chunk = ospp::read(out->read_end, 4096);
        REQUIRE(chunk.has_value());
        if (chunk->empty()) break;
        text += *chunk;
    }
    auto w = ospp::waitpid(*pid);
    REQUIRE(w.has_value());
    CHECK(w->status.exit_code() == 0);
    return text;
}

// A child that waits on stdin until the returned write end is closed.
struct waiting_child {
    ospp::pipe_fds stdin_pipe;
    pid_t pid = -1;
    void finish() {
        stdin_pipe.write_end.reset();
        auto w = ospp::waitpid(pid);
        REQUIRE(w.has_value());
        CHECK(w->status.exit_code() == 0);
    }
};

waiting_child spawn_waiting(ospp::posix_spawn_options options) {
    waiting_child c{ospp::pipe().value(), -1};
    options.file_actions.push_back(spawn_file_action::dup2(c.stdin_pipe.read_end, ospp::stdin_fd));
    auto pid = ospp::posix_spawn("/bin/sh", {"sh", "-c", "read x; exit 0"}, std::nullopt, options);
    REQUIRE(pid.has_value());
    c.pid = *pid;
    c.stdin_pipe.read_end.reset();
    return c;
}

}  // namespace

TEST_CASE("posix_spawn passes argv and the environment exactly") {
    const ospp::cstring_array env{"A=1", "B=two words", "EMPTY="};
    CHECK(output_of({"env"}, &env) == "A=1\nB=two words\nEMPTY=\n");
    CHECK(output_of({"sh", "-c", "printf '%s|' \"$@\"", "zero", "a b", "", "c"}, &env) == "a b||c|");
    // std::nullopt: the current environment.
    REQUIRE(ospp::putenv("OSPP_SPAWN_VAR", "inherited").has_value());
    CHECK(output_of({"sh", "-c", "echo $OSPP_SPAWN_VAR"}, nullptr) == "inherited\n");
    REQUIRE(ospp::unsetenv("OSPP_SPAWN_VAR").has_value());
}

TEST_CASE("posix_spawn file actions: open, close, dup2 and closefrom, as the child sees them") {
    ospp_test::temp_dir dir;
    auto extra = ospp::pipe();
    REQUIRE(extra.has_value());
    const ospp::fd_ref five{5};
    const ospp::fd_ref seven{7};
    const ospp::fd_ref eight{8};
    const ospp::fd_ref nine{9};
    const std::string out = output_of(
        {"sh", "-c",
         "echo written >&5; for n in 7 8 9; do if [ -e /proc/$$/fd/$n ]; then echo open$n; else echo closed$n; fi; done"},
        nullptr,
        {.file_actions = {spawn_file_action::open(five, dir / "out.txt",
                                                  ospp::open_flags::wronly | ospp::open_flags::creat, 0600),
                          spawn_file_action::dup2(extra->write_end, seven), spawn_file_action::close(seven),
                          spawn_file_action::dup2(extra->write_end, eight),
                          spawn_file_action::dup2(extra->write_end, nine), spawn_file_action::closefrom(9)}});
    CHECK(out == "closed7\nopen8\nclosed9\n");
    CHECK(ospp_test::read_file(dir / "out.txt") == "written\n");

    CHECK_ERRNO(ospp::posix_spawn("/bin/true", {"true"}, std::nullopt,
                                  {.file_actions = {spawn_file_action::open(five, dir / "missing/x", ospp::open_flags::rdonly)}}),
                ENOENT, "posix_spawn: [Errno 2] No such file or directory: '/bin/true'");
    // A descriptor that posix_spawn_file_actions_add* refuse (negative, past the limit) fails before
    // anything is started; like Python's (os.posix_spawn's posix_error()), the error names no path.
    CHECK_ERRNO(ospp::posix_spawn("/bin/true", {"true"}, std::nullopt,
                                  {.file_actions = {spawn_file_action::close(ospp::fd_ref(-1))}}),
                EBADF, "posix_spawn: [Errno 9] Bad file descriptor");
    CHECK_ERRNO(ospp::posix_spawnp("true", {"true"}, std::nullopt,
                                   {.file_actions = {spawn_file_action::dup2(ospp::fd_ref(-1), five)}}),
                EBADF, "posix_spawnp: [Errno 9] Bad file descriptor");
}

TEST_CASE("posix_spawn setsid and setpgroup, read back with getsid and getpgid") {
    auto leader = spawn_waiting({.setsid = true});
    CHECK(ospp::getsid(leader.pid).value() == leader.pid);
    CHECK(ospp::getpgid(leader.pid).value() == leader.pid);
    leader.finish();

    auto grouped = spawn_waiting({.setpgroup = 0});
    CHECK(ospp::getpgid(grouped.pid).value() == grouped.pid);
    CHECK(ospp::getsid(grouped.pid).value() == ospp::getsid(0).value());
    grouped.finish();

    auto plain = spawn_waiting({});
    CHECK(ospp::getpgid(plain.pid).value() == ospp::getpgrp());
    plain.finish();
}

TEST_CASE("posix_spawn setsigmask and setsigdef, read from the child's /proc status") {
    const std::string blocked = output_of({"grep", "^SigBlk", "/proc/self/status"}, nullptr,
                                          {.setsigmask = ospp::signal_set{ospp::signum::usr1, ospp::signum::term}});
    CHECK(blocked == "SigBlk:\t0000000000004200\n");
    const std::string cleared = output_of({"grep", "^SigBlk", "/proc/self/status"}, nullptr, {.setsigmask = ospp::signal_set{}});
    CHECK(cleared == "SigBlk:\t0000000000000000\n");

    // An ignored signal stays ignored across exec unless setsigdef resets it.
    struct sigaction old {};
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGUSR2, &ign, &old) == 0);
    const std::string kept = output_of({"grep", "^SigIgn", "/proc/self/status"}, nullptr);
    const std::string reset = output_of({"grep", "^SigIgn", "/proc/self/status"}, nullptr,
                                        {.setsigdef = ospp::signal_set{ospp::signum::usr2}});
    REQUIRE(::sigaction(SIGUSR2, &old, nullptr) == 0);
    const unsigned long long usr2 = 1ULL << (SIGUSR2 - 1);
    CHECK((std::stoull(kept.substr(8), nullptr, 16) & usr2) != 0);
    CHECK((std::stoull(reset.substr(8), nullptr, 16) & usr2) == 0);
}

TEST_CASE("posix_spawn scheduler and resetids") {
    auto other = spawn_waiting({.resetids = true, .scheduler = ospp::spawn_scheduler{ospp::sched_policy::other, {0}}});
    CHECK(ospp::sched_getscheduler(other.pid).value() == ospp::sched_policy::other);
    other.finish();
    // glibc's posix_spawnattr_setschedpolicy takes only other, fifo and rr (Python's too). The
    // error comes before anything is started: like Python's, it names no path.
    CHECK_ERRNO(ospp::posix_spawn("/bin/true", {"true"}, std::nullopt,
                                  {.scheduler = ospp::spawn_scheduler{ospp::sched_policy::batch, {0}}}),
                EINVAL, "posix_spawn: [Errno 22] Invalid argument");
    if (!ospp_test::is_root()) {
        CHECK_ERRNO(ospp::posix_spawn("/bin/true", {"true"}, std::nullopt,
                                      {.scheduler = ospp::spawn_scheduler{ospp::sched_policy::fifo, {1}}}),
                    EPERM, "posix_spawn: [Errno 1] Operation not permitted: '/bin/true'");
        OSPP_SKIP("a real-time policy needs root");
    }
    auto fifo = ospp::posix_spawn("/bin/true", {"true"}, std::nullopt,
                                  {.scheduler = ospp::spawn_scheduler{ospp::sched_policy::fifo, {1}}});
    if (!fifo && fifo.error().code() == EPERM) OSPP_SKIP("real-time policies are not permitted here, even as root");
    REQUIRE(fifo.has_value());
    ospp::waitpid(*fifo).value();
    auto rt = spawn_waiting({.scheduler = ospp::spawn_scheduler{ospp::sched_policy::fifo, {1}}});
    CHECK(ospp::sched_getscheduler(rt.pid).value() == ospp::sched_policy::fifo);
    CHECK(ospp::sched_getparam(rt.pid).value().sched_priority == 1);
    rt.finish();
}

TEST_CASE("posix_spawn resetids: the child's effective uid becomes its real uid") {
    OSPP_REQUIRE_ROOT();
    // In a child with euid 65534 over ruid 0: id -u prints 65534 unless resetids sets it back to 0.
    CHECK(ospp_test::in_child([]() -> std::string {
              if (::seteuid(65534) != 0) return "seteuid failed";
              std::string seen;
              for (const bool reset : {false, true}) {
                  auto out = ospp::pipe();
                  if (!out) return out.error().message();
                  auto pid = ospp::posix_spawn(
                      "/usr/bin/id", {"id", "-u"}, std::nullopt,
                      {.file_actions = {spawn_file_action::dup2(out->write_end, ospp::stdout_fd)}, .resetids = reset});
                  if (!pid) return pid.error().message();
                  out->write_end.reset();
                  auto text = ospp::read(out->read_end, 64);
                  if (!text || !ospp::waitpid(*pid)) return "no output";
                  seen += *text;
              }
              return seen == "65534\n0\n" ? "" : "id -u printed " + seen;
          }) == "");
}

TEST_CASE("posix_spawn errors carry the path, like Python's") {
    CHECK_ERRNO(ospp::posix_spawn("/no/such/program", {"x"}, std::nullopt), ENOENT,
                "posix_spawn: [Errno 2] No such file or directory: '/no/such/program'");
    // posix_spawnp searches the caller's PATH (not env's), like posix_spawnp(3).
    const std::string saved_path = ospp::getenv("PATH").value_or("");
    REQUIRE(ospp::putenv("PATH", "/no/such:/no/other").has_value());
    auto missing = ospp::posix_spawnp("no-such-program-ospp", {"x"}, ospp::cstring_array{"PATH=/bin"});
    REQUIRE(ospp::putenv("PATH", saved_path).has_value());
    CHECK_ERRNO(missing, ENOENT, "posix_spawnp: [Errno 2] No such file or directory: 'no-such-program-ospp'");
    CHECK_ERRNO(ospp::posix_spawn("/bin/true", ospp::cstring_array{}, std::nullopt), EINVAL,
                "posix_spawn: [Errno 22] Invalid argument: '/bin/true'");
    const std::vector<std::string> bad{"true", std::string("a\0b", 3)};
    CHECK_ERRNO(ospp::posix_spawn("/bin/true", bad, std::nullopt), EINVAL,
                "posix_spawn: [Errno 22] Invalid argument: '/bin/true'");
    ospp_test::temp_dir dir;
    ospp_test::write_file(dir / "script", "#!/bin/sh\n");
    CHECK_ERRNO(ospp::posix_spawn(dir / "script", {"script"}, std::nullopt), EACCES,
                "posix_spawn: [Errno 13] Permission denied: '" + dir / "script" + "'");
}

TEST_CASE("posix_spawn and spawn* refuse an empty argv or an empty argv[0], as Python's ValueError") {
    // Python: "argv must not be empty", "argv first element cannot be empty" (ospp::execv: EINVAL).
    for (const ospp::cstring_array& argv : {ospp::cstring_array{}, ospp::cstring_array{""}, ospp::cstring_array{"", "x"}}) {
        CAPTURE(argv.size());
        CHECK_ERRNO(ospp::posix_spawn("/bin/true", argv, std::nullopt), EINVAL,
                    "posix_spawn: [Errno 22] Invalid argument: '/bin/true'");
        CHECK_ERRNO(ospp::posix_spawnp("true", argv, ospp::cstring_array{}), EINVAL,
                    "posix_spawnp: [Errno 22] Invalid argument: 'true'");
        CHECK_ERRNO(ospp::spawnv(spawn_mode::wait, "/bin/true", argv), EINVAL,
                    "spawnv: [Errno 22] Invalid argument: '/bin/true'");
        // The PATH search does not start: the error names the file, not a directory tried.
        CHECK_ERRNO(ospp::spawnvp(spawn_mode::wait, "true", argv), EINVAL,
                    "spawnvp: [Errno 22] Invalid argument: 'true'");
        CHECK_ERRNO(ospp::spawnvpe(spawn_mode::wait, "true", argv, ospp::cstring_array{"PATH=/bin"}), EINVAL,
                    "spawnvpe: [Errno 22] Invalid argument: 'true'");
    }
    const std::vector<std::string> nul{"true", std::string("a\0b", 3)};
    CHECK_ERRNO(ospp::spawnvp(spawn_mode::wait, "true", nul), EINVAL, "spawnvp: [Errno 22] Invalid argument: 'true'");
}

TEST_CASE("posix_spawn and spawnve refuse an env key that is empty or holds '=', as Python's ValueError") {
    // Without the check the child would see {"A=B": "1"} as A with the value "B=1".
    for (const char* key : {"A=B", ""}) {
        CAPTURE(key);
        const std::map<std::string, std::string> mapping{{"OK", "1"}, {key, "1"}};
        const auto env = ospp::cstring_array::from_env(mapping);
        CHECK_ERRNO(ospp::posix_spawn("/bin/true", {"true"}, env), EINVAL,
                    "posix_spawn: [Errno 22] Invalid argument: '/bin/true'");
        CHECK_ERRNO(ospp::posix_spawnp("true", {"true"}, env), EINVAL,
                    "posix_spawnp: [Errno 22] Invalid argument: 'true'");
        CHECK_ERRNO(ospp::spawnve(spawn_mode::wait, "/bin/true", {"true"}, env), EINVAL,
                    "spawnve: [Errno 22] Invalid argument: '/bin/true'");
        CHECK_ERRNO(ospp::spawnvpe(spawn_mode::wait, "true", {"true"}, env), EINVAL,
                    "spawnvpe: [Errno 22] Invalid argument: 'true'");
    }
    const std::map<std::string, std::string> leading{{"=A", "1"}};  // Python allows a leading '='
    const auto env = ospp::cstring_array::from_env(leading);
    CHECK(output_of({"env"}, &env) == "=A=1\n");
}

TEST_CASE("spawn* with P_WAIT return the exit code or -signal; P_NOWAIT the pid") {
    CHECK(ospp::spawnv(spawn_mode::wait, "/bin/sh", {"sh", "-c", "exit 3"}).value() == 3);
    CHECK(ospp::spawnl(spawn_mode::wait, "/bin/sh", "sh", "-c", "kill -9 $$").value() == -9);
    CHECK(ospp::spawnlp(spawn_mode::wait, "sh", "sh", "-c", std::string("exit 4")).value() == 4);
    CHECK(ospp::spawnvp(spawn_mode::wait, "sh", {"sh", "-c", "exit 5"}).value() == 5);
    const ospp::cstring_array env{"V=6"};
    CHECK(ospp::spawnve(spawn_mode::wait, "/bin/sh", {"sh", "-c", "exit $V"}, env).value() == 6);
    CHECK(ospp::spawnle(spawn_mode::wait, "/bin/sh", "sh", "-c", "exit $V", env).value() == 6);

    auto pid = ospp::spawnv(spawn_mode::nowait, "/bin/sh", {"sh", "-c", "exit 7"});
    REQUIRE(pid.has_value());
    auto w = ospp::waitpid(*pid);
    REQUIRE(w.has_value());
    CHECK(w->status.exit_code() == 7);

    CHECK_ERRNO(ospp::spawnv(spawn_mode::wait, "/no/such", {"x"}), ENOENT,
                "spawnv: [Errno 2] No such file or directory: '/no/such'");
    // The l forms are spawnv/spawnve/spawnvp on a built argv, as in Python's os.py, and say so.
    CHECK_ERRNO(ospp::spawnl(spawn_mode::wait, "/no/such", "x"), ENOENT,
                "spawnv: [Errno 2] No such file or directory: '/no/such'");
    CHECK_ERRNO(ospp::spawnle(spawn_mode::nowait, "/no/such", "x", env), ENOENT,
                "spawnve: [Errno 2] No such file or directory: '/no/such'");
    // spawnvp searches the caller's PATH: set in a child, so that an unsearchable directory in the
    // test's own PATH (EACCES, e.g. under /root for nobody) does not decide the error.
    CHECK(ospp_test::in_child([]() -> std::string {
              if (::setenv("PATH", "/no/such:/no/other", 1) != 0) return "setenv failed";
              const std::string want = "spawnvp: [Errno 2] No such file or directory: 'no-such-program-ospp'";
              auto v = ospp::spawnvp(spawn_mode::wait, "no-such-program-ospp", {"x"});
              if (v || v.error().code() != ENOENT || v.error().message() != want)
                  return v ? "spawnvp ran" : v.error().message();
              auto l = ospp::spawnlp(spawn_mode::nowait, "no-such-program-ospp", "x");
              if (l || l.error().code() != ENOENT || l.error().message() != want)
                  return l ? "spawnlp ran" : l.error().message();
              return "";
          }) == "");
}

// glibc 2.34+'s posix_spawn makes its child with clone3 and falls back to clone only on ENOSYS; a
// seccomp filter that predates clone3 refuses it with EPERM. Python's os.spawnv forks and execs,
// which such a filter lets through: so must ospp's spawn*. os.posix_spawn fails there, as ospp's.
TEST_CASE("spawn* work where clone3 is refused by seccomp (EPERM); posix_spawn says EPERM, as Python's") {
    const std::string report = ospp_test::in_child([]() -> std::string {
        if (!ospp_test::refuse_syscall(SYS_clone3, EPERM)) return "cannot install the seccomp filter";
        auto direct = ospp::posix_spawn("/bin/true", {"true"}, std::nullopt);
        if (direct || direct.error().code() != EPERM) return "posix_spawn: not the filter's EPERM";
        auto v = ospp::spawnv(spawn_mode::wait, "/bin/sh", {"sh", "-c", "exit 3"});
        if (!v || *v != 3) return v ? "spawnv: exit " + std::to_string(*v) : v.error().message();
        auto ve = ospp::spawnve(spawn_mode::wait, "/bin/sh", {"sh", "-c", "exit $V"}, ospp::cstring_array{"V=6"});
        if (!ve || *ve != 6) return ve ? "spawnve: exit " + std::to_string(*ve) : ve.error().message();
        auto vpe = ospp::spawnvpe(spawn_mode::wait, "sh", {"sh", "-c", "exit 5"}, ospp::cstring_array{"PATH=/no/such:/bin"});
        if (!vpe || *vpe != 5) return vpe ? "spawnvpe: exit " + std::to_string(*vpe) : vpe.error().message();
        auto nowait = ospp::spawnv(spawn_mode::nowait, "/bin/sh", {"sh", "-c", "exit 7"});
        if (!nowait) return nowait.error().message();
        auto w = ospp::waitpid(*nowait);
        if (!w || w->status.exit_code() != 7) return "spawnv nowait: not its child's exit 7";
        auto missing = ospp::spawnv(spawn_mode::wait, "/no/such", {"x"});  // the exec's error, as without the filter
        if (missing || missing.error().message() != "spawnv: [Errno 2] No such file or directory: '/no/such'")
            return missing ? "/no/such ran" : missing.error().message();
        return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD ? "" : "a child left unreaped";
    });
    CHECK(report == "");
}

TEST_CASE("spawnvpe and spawnlpe search the PATH of the given environment") {
    const ospp::cstring_array env{"PATH=/no/such:/bin", "V=8"};
    CHECK(ospp::spawnvpe(spawn_mode::wait, "sh", {"sh", "-c", "exit $V"}, env).value() == 8);
    CHECK(ospp::spawnlpe(spawn_mode::wait, "sh", "sh", "-c", "exit $V", env).value() == 8);
    const ospp::cstring_array nowhere{"PATH=/no/such:/no/other"};
    CHECK_ERRNO(ospp::spawnvpe(spawn_mode::wait, "sh", {"sh"}, nowhere), ENOENT,
                "spawnvpe: [Errno 2] No such file or directory: 'sh'");
    CHECK_ERRNO(ospp::spawnlpe(spawn_mode::wait, "sh", "sh", nowhere), ENOENT,
                "spawnvpe: [Errno 2] No such file or directory: 'sh'");
    ospp_test::temp_dir dir;
    ospp_test::write_file(dir / "sh", "not executable");
    const ospp::cstring_array denied{"PATH=" + dir.path()};
    // A real error names the candidate that gave it, as os.execvpe's does.
    CHECK_ERRNO(ospp::spawnvpe(spawn_mode::wait, "sh", {"sh"}, denied), EACCES,
                "spawnvpe: [Errno 13] Permission denied: " + ospp::quote_path(dir / "sh"));
    // The candidate is put together as Python's os.path.join: no second '/' after a PATH entry
    // that ends with one (a #! script sees the candidate as $0; the error names it).
    ospp_test::write_file(dir / "dollar0", "#!/bin/sh\n[ \"$0\" = '" + dir / "dollar0" + "' ] && exit 5\nexit 6\n");
    REQUIRE(::chmod((dir / "dollar0").c_str(), 0755) == 0);
    const ospp::cstring_array slash{"PATH=" + dir.path() + "/"};
    CHECK(ospp::spawnvpe(spawn_mode::wait, "dollar0", {"dollar0"}, slash).value() == 5);
    CHECK_ERRNO(ospp::spawnvpe(spawn_mode::wait, "sh", {"sh"}, slash), EACCES,
                "spawnvpe: [Errno 13] Permission denied: " + ospp::quote_path(dir / "sh"));
}
