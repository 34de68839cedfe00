// tools/daemonize_args.cpp — parse_args: the ospp-daemonize command line, without side effects.
#include "daemonize_args.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>

#include "ospp/ids.hpp"

namespace ospp_daemonize {

namespace {

// How an option takes its value.
enum class arg_kind { none, required, optional };

struct option_spec {
    std::string_view long_name;
    char short_name;  // '\0': long only
    arg_kind kind;
    // Stores the value (empty for arg_kind::none, or for an absent optional value); returns an
    // error message, empty on success.
    std::string (*apply)(options& o, std::string_view value);
    // Instead of apply, for a plain non-empty path or name: the field it goes to.
    std::string options::*text = nullptr;
};

using failure = tl::unexpected<usage_error>;

// Octal digits, leading zeros allowed ("00022", as umask(1) and chmod(1) take it), at most 0777.
bool parse_octal_mode(std::string_view text, ::mode_t& out) noexcept {
    if (text.empty()) return false;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '7') return false;
        value = value * 8 + static_cast<unsigned>(c - '0');
        if (value > 0777) return false;  // before it could overflow
    }
    out = static_cast<::mode_t>(value);
    return true;
}

bool parse_fd_number(std::string_view text, int& out) noexcept {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

// A non-negative decimal number of seconds ("1", "0.25"), at most a day ("SECS" in --help).
bool parse_seconds(std::string_view text, seconds& out) noexcept {
    if (text.empty() || text[0] == '+' || text[0] == '-') return false;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value,
                                           std::chars_format::fixed);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return false;
    if (value < 0 || value > 86400) return false;
    out = seconds(value);
    return true;
}

// Appends rather than `"'" + std::string(s) + "'"`, which trips a GCC 12 -Wrestrict false
// positive at -O3.
std::string in_quotes(std::string_view s) {
    std::string quoted;
    quoted.reserve(s.size() + 2);
    quoted.append(1, '\'').append(s).append(1, '\'');
    return quoted;
}

std::string set_verb(options& o, verb v) {
    if (o.action != verb::start && o.action != v) return "--status, --stop and --signal exclude each other";
    o.action = v;
    return {};
}

std::string invalid_seconds(std::string_view name, std::string_view value) {
    return "invalid " + std::string(name) + " " + in_quotes(value) + " (0 to 86400 seconds expected)";
}

std::string set_seconds(seconds& field, std::string_view name, std::string_view value) {
    if (!parse_seconds(value, field)) return invalid_seconds(name, value);
    return {};
}

// Sorted as --help lists them.
constexpr option_spec option_table[] = {
    {"pidfile", 'p', arg_kind::required, nullptr, &options::pidfile},
    {"chdir", 'C', arg_kind::required, nullptr, &options::working_directory},
    {"umask", 'm', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         if (!parse_octal_mode(v, o.umask)) return "invalid umask " + in_quotes(v) + " (octal 0 to 0777 expected)";
         return {};
     }},
    {"chroot", 'r', arg_kind::required, nullptr, &options::chroot_directory},
    {"user", 'u', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         const auto colon = v.find(':');
         const std::string_view user = v.substr(0, colon);
         if (user.empty()) return "empty user in --user " + in_quotes(v);
         o.user = user;
         if (colon != std::string_view::npos) {
             const std::string_view group = v.substr(colon + 1);
             if (group.empty()) return "empty group in --user " + in_quotes(v);
             o.group = group;
         }
         return {};
     }},
    {"group", 'g', arg_kind::required, nullptr, &options::group},
    {"stdin", 'i', arg_kind::required, nullptr, &options::stdin_path},
    {"stdout", 'o', arg_kind::required, nullptr, &options::stdout_path},
    {"stderr", 'e', arg_kind::required, nullptr, &options::stderr_path},
    {"keep-fd", 'k', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         int n = 0;
         if (!parse_fd_number(v, n)) return "invalid --keep-fd " + in_quotes(v) + " (a file descriptor number expected)";
         if (n <= 2) return "invalid --keep-fd " + in_quotes(v) + " (0-2 are --stdin, --stdout and --stderr: use e.g. -o /dev/stdout)";
         o.keep_fds.push_back(n);
         return {};
     }},
    {"env", 'E', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         const auto eq = v.find('=');
         if (eq == std::string_view::npos || eq == 0) return "invalid --env " + in_quotes(v) + " (NAME=VALUE expected)";
         o.env.emplace_back(v);
         return {};
     }},
    {"clear-env", '\0', arg_kind::none,
     [](options& o, std::string_view) -> std::string {
         o.clear_env = true;
         return {};
     }},
    {"core", '\0', arg_kind::none,
     [](options& o, std::string_view) -> std::string {
         o.core = true;
         return {};
     }},
    {"foreground", 'f', arg_kind::none,
     [](options& o, std::string_view) -> std::string {
         o.foreground = true;
         return {};
     }},
    {"respawn", 'R', arg_kind::optional,
     [](options& o, std::string_view v) -> std::string {
         seconds delay{1.0};
         if (!v.empty() && !parse_seconds(v, delay)) return invalid_seconds("--respawn", v);
         o.respawn = delay;
         return {};
     }},
    {"ready-timeout", '\0', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         // 0 would kill every daemon before it could execute COMMAND.
         if (parse_seconds(v, o.ready_timeout) && o.ready_timeout.count() == 0)
             return "invalid --ready-timeout " + in_quotes(v) + " (more than 0, at most 86400 seconds expected)";
         return set_seconds(o.ready_timeout, "--ready-timeout", v);
     }},
    {"status", '\0', arg_kind::none, [](options& o, std::string_view) { return set_verb(o, verb::status); }},
    {"stop", '\0', arg_kind::none, [](options& o, std::string_view) { return set_verb(o, verb::stop); }},
    {"timeout", '\0', arg_kind::required,
     [](options& o, std::string_view v) { return set_seconds(o.stop_timeout, "--timeout", v); }},
    {"signal", '\0', arg_kind::required,
     [](options& o, std::string_view v) -> std::string {
         const auto s = ospp::signal_from_name(v);
         if (!s) return "invalid --signal " + in_quotes(v) + " (a signal name or number expected)";
         o.signal = *s;
         return set_verb(o, verb::signal);
     }},
    {"help", 'h', arg_kind::none, [](options& o, std::string_view) { return set_verb(o, verb::help); }},
    {"version", 'V', arg_kind::none, [](options& o, std::string_view) { return set_verb(o, verb::version); }},
};

const option_spec* find_long(std::string_view name) noexcept {
    for (const auto& spec : option_table)
        if (spec.long_name == name) return &spec;
    return nullptr;
}

const option_spec* find_short(char c) noexcept {
    for (const auto& spec : option_table)
        if (spec.short_name != '\0' && spec.short_name == c) return &spec;
    return nullptr;
}

// Once the whole line is read: the checks that involve more than one option.
std::string check_combination(const options& o) {
    switch (o.action) {
    case verb::help:
    case verb::version:
        return {};
    case verb::status:
    case verb::stop:
    case verb::signal:
        if (o.pidfile.empty()) return "--status, --stop and --signal need --pidfile";
        if (!o.command.empty()) return "unexpected COMMAND with --status, --stop or --signal";
        return {};
    case verb::start:
        if (o.command.empty()) return "missing COMMAND";
        if (o.command.front().empty()) return "empty COMMAND";
        return {};
    }
    return {};
}

}  // namespace

tl::expected<options, usage_error> parse_args(int argc, const char* const* argv) {
    options o;
    bool timeout_given = false;
    int i = 1;
    const auto apply = [&](const option_spec& spec, std::string_view value) -> std::string {
        if (spec.long_name == "timeout") timeout_given = true;
        if (spec.text == nullptr) return spec.apply(o, value);
        if (value.empty()) return "empty --" + std::string(spec.long_name);
        o.*spec.text = value;
        return {};
    };
    while (i < argc) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;  // the first operand is COMMAND
        ++i;
        if (arg[1] == '-') {
            // --name, --name=value, --name value
            const std::string_view body = arg.substr(2);
            const auto eq = body.find('=');
            const std::string_view name = body.substr(0, eq);
            const option_spec* spec = find_long(name);
            if (spec == nullptr) return failure(usage_error{"unrecognized option " + in_quotes(arg)});
            std::string_view value;
            if (eq != std::string_view::npos) {
                if (spec->kind == arg_kind::none)
                    return failure(usage_error{"option '--" + std::string(name) + "' doesn't allow an argument"});
                value = body.substr(eq + 1);
            } else if (spec->kind == arg_kind::required) {
                if (i >= argc)
                    return failure(usage_error{"option '--" + std::string(name) + "' requires an argument"});
                value = argv[i++];
            }
            if (auto err = apply(*spec, value); !err.empty()) return failure(usage_error{std::move(err)});
            continue;
        }
        // -abc: bundled short options; one taking a value ends the bundle (-pFILE, -p FILE).
        for (std::size_t k = 1; k < arg.size(); ++k) {
            const option_spec* spec = find_short(arg[k]);
            if (spec == nullptr) return failure(usage_error{"invalid option -- '" + std::string(1, arg[k]) + "'"});
            std::string_view value;
            const std::string_view rest = arg.substr(k + 1);
            if (spec->kind == arg_kind::required) {
                if (!rest.empty()) {
                    value = rest;
                } else if (i < argc) {
                    value = argv[i++];
                } else {
                    return failure(usage_error{"option requires an argument -- '" + std::string(1, arg[k]) + "'"});
                }
                k = arg.size();
            } else if (spec->kind == arg_kind::optional) {
                value = rest;  // only attached: -R5
                k = arg.size();
            }
            if (auto err = apply(*spec, value); !err.empty()) return failure(usage_error{std::move(err)});
        }
    }
    for (; i < argc; ++i) o.command.emplace_back(argv[i]);
    if (timeout_given && o.action != verb::stop) return failure(usage_error{"--timeout is only for --stop"});
    if (auto err = check_combination(o); !err.empty()) return failure(usage_error{std::move(err)});
    return o;
}

namespace {

template <class T>
bool parse_id(std::string_view text, T& out) noexcept {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
    if (value >= static_cast<T>(-1)) return false;  // (uid_t)-1 means "unchanged" to setuid
    out = static_cast<T>(value);
    return true;
}

}  // namespace

tl::expected<ids, usage_error> resolve_ids(const options& o) {
    ids result;
    if (!o.user.empty()) {
        ::uid_t uid = 0;
        const bool numeric = parse_id(o.user, uid);
        const auto entry = numeric ? ospp::getpwuid(uid) : ospp::getpwnam(o.user);
        if (entry) {
            result.uid = entry->pw_uid;
            result.gid = entry->pw_gid;
            result.user_name = entry->pw_name;
        } else if (entry.error().code() != ENOENT) {
            return failure(usage_error{"cannot look up user " + in_quotes(o.user) + ": " + entry.error().message()});
        } else if (!numeric) {
            return failure(usage_error{"unknown user " + in_quotes(o.user)});
        } else if (o.group.empty()) {
            return failure(usage_error{"user " + o.user + " has no passwd entry: give its --group"});
        } else {
            result.uid = uid;
        }
    }
    if (!o.group.empty()) {
        ::gid_t gid = 0;
        if (parse_id(o.group, gid)) {
            result.gid = gid;
        } else if (const auto entry = ospp::getgrnam(o.group)) {
            result.gid = entry->gr_gid;
        } else if (entry.error().code() == ENOENT) {
            return failure(usage_error{"unknown group " + in_quotes(o.group)});
        } else {
            return failure(usage_error{"cannot look up group " + in_quotes(o.group) + ": " + entry.error().message()});
        }
    }
    return result;
}

std::string_view help_text() noexcept {
    return R"(Usage: ospp-daemonize [OPTIONS] [--] COMMAND [ARG...]
       ospp-daemonize --status|--stop [--timeout=SECS]|--signal=SIG -p FILE
Run COMMAND as a daemon (every step of daemon(7)); exit 0 once it was executed.
  -p, --pidfile=FILE       locked pidfile; refuse to start while it is held
  -C, --chdir=DIR          working directory (default /)
  -m, --umask=MODE         octal umask (default 022)
  -r, --chroot=DIR         chroot before running
  -u, --user=USER[:GROUP]  run as USER (name or number) with its groups
  -g, --group=GROUP        primary group (name or number)
  -i, --stdin=FILE         default /dev/null
  -o, --stdout=FILE        append; default /dev/null
  -e, --stderr=FILE        append; default: the --stdout file, else /dev/null
  -k, --keep-fd=N          keep fd N open in the daemon (repeatable)
  -E, --env=NAME=VALUE     set a variable (repeatable)
      --clear-env          start from an empty environment
      --core               allow core dumps (default: prevented)
  -f, --foreground         do everything but detach
  -R, --respawn[=SECS]     supervise: restart COMMAND SECS (1) after it ends
      --ready-timeout=SECS wait at most SECS for the start (default 10)
  -h, --help    -V, --version
Exit: 0 ok, 1 other, 2 usage, 4 already running, 5 pidfile, 6 setup, 7 exec
--status: 0 running, 1 stale pidfile, 3 not running.  See ospp-daemonize(1).
)";
}

std::string version_text() {
#ifdef OSPP_VERSION
    return "ospp-daemonize " OSPP_VERSION "\n";
#else
    return "ospp-daemonize\n";
#endif
}

}  // namespace ospp_daemonize
