// tools/daemonize_args.hpp — the command line of ospp-daemonize, parsed without side effects.
//
//   ospp-daemonize [OPTIONS] [--] COMMAND [ARG...]     start COMMAND as a daemon
//   ospp-daemonize --status --pidfile=FILE             is it running?
//   ospp-daemonize --stop [--timeout=SECS] --pidfile=FILE
//   ospp-daemonize --signal=SIG --pidfile=FILE
//
// parse_args() only looks at the text: it touches no file, user database or process, so it can be
// unit-tested and fuzzed. Names of users and groups are resolved later (resolve_ids in the tool);
// an unknown one is a usage error there too.
//
// GNU conventions: long options take `--opt=value` or `--opt value`, short ones `-o value` or
// `-ovalue`, flags bundle (`-fR`), `--` ends the options, and so does the first argument that is not
// an option (so `ospp-daemonize sleep -f` hands -f to sleep, like env(1) and nohup(1)). An option
// given twice keeps the last value, except --keep-fd and --env, which accumulate. Long options must be
// spelled in full: unlike getopt_long, no abbreviations, so a new option never breaks a script.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "ospp/signal.hpp"

namespace ospp_daemonize {

// The exit codes of the launcher and the control verbs (documented in docs/ospp-daemonize.1).
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;          // daemon died before exec, --ready-timeout, --stop failed
inline constexpr int usage = 2;            // bad command line, unknown user or group
inline constexpr int not_running = 3;      // --status / --signal: no live daemon (LSB "not running")
inline constexpr int already_running = 4;  // start: another process holds the pidfile lock
inline constexpr int pidfile_error = 5;    // start: the pidfile cannot be created, locked or written
inline constexpr int setup_failed = 6;     // start: a daemonizing step failed (chdir, chroot, setuid...)
inline constexpr int exec_failed = 7;      // start: COMMAND could not be executed
inline constexpr int dead_with_pidfile = 1;  // --status: stale pidfile (LSB "dead, pid file exists")
inline constexpr int status_unknown = 4;     // --status: the pidfile cannot be read (LSB "unknown")
}  // namespace exit_code

enum class verb {
    start,    // run COMMAND as a daemon (the default)
    status,   // --status
    stop,     // --stop
    signal,   // --signal=SIG
    help,     // -h, --help
    version,  // -V, --version
};

using seconds = std::chrono::duration<double>;

// Everything the command line says, as given (names not yet resolved).
struct options {
    verb action = verb::start;
    std::string pidfile;                  // -p; empty: no pidfile
    std::string working_directory = "/";  // -C
    ::mode_t umask = 022;                 // -m
    std::string chroot_directory;         // -r; empty: none
    std::string user;                     // -u USER (name or number); empty: keep
    std::string group;                    // -g GROUP or -u USER:GROUP; empty: USER's primary group
    std::string stdin_path = "/dev/null";
    std::string stdout_path;              // empty: /dev/null
    std::string stderr_path;              // empty: stdout_path, else /dev/null
    std::vector<int> keep_fds;            // -k, repeatable, in order given; all >= 3
    std::vector<std::string> env;         // -E NAME=VALUE, repeatable, in order given
    bool clear_env = false;
    bool core = false;
    bool foreground = false;
    std::optional<seconds> respawn;       // -R[SECONDS]: restart delay; unset: exec mode
    seconds ready_timeout{10.0};
    seconds stop_timeout{10.0};           // --timeout, for --stop
    ospp::signum signal = ospp::signum::term;  // --signal
    std::vector<std::string> command;     // COMMAND [ARG...]
};

// A command line that cannot be obeyed: what to tell the user before "Try --help".
struct usage_error {
    std::string message;  // e.g. "unrecognized option '--bogus'"
};

// Parses argv[1..argc). argv[0] is ignored.
tl::expected<options, usage_error> parse_args(int argc, const char* const* argv);

// --user / --group resolved against the user database (numbers are taken as they are).
struct ids {
    std::optional<::uid_t> uid;  // unset: keep the launcher's
    std::optional<::gid_t> gid;  // unset: keep the launcher's
    // The name whose supplementary groups the daemon gets (initgroups); empty: no supplementary
    // groups at all (a --user number without a passwd entry, or --group alone).
    std::string user_name;
};

// Looks up o.user and o.group. Errors (usage errors, exit code 2): an unknown name, a user number
// without a passwd entry and no --group to go with it.
tl::expected<ids, usage_error> resolve_ids(const options& o);

// The text of --help (fits on one 80x24 screen) and of --version.
std::string_view help_text() noexcept;
std::string version_text();

}  // namespace ospp_daemonize
