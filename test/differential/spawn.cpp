// test/differential/spawn.cpp — the ospp side of the spawn domain (see run.py): starting programs
// with posix_spawn/posix_spawnp (every option), the spawn* family (P_WAIT, P_NOWAIT), exec* in a
// forked child, and get_exec_path. spawn.py does the same with Python's os and must print the
// same lines.
//
// The program started is spawn_helper (its path comes from OSPP_SPAWN_HELPER, read before the
// script empties the environment), reached through symlinks and #! scripts in the script's
// directory. It writes what it saw to descriptor 1, which for the whole script is a capture file
// beside the script's directory (the driver collects its own lines in memory); after each child
// is reaped, its lines are printed, prefixed "| ", and the file is emptied. An exec failure in a
// forked child comes back over a close-on-exec pipe as the error line. Every child is reaped.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ospp/environ.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/ids.hpp"
#include "ospp/process.hpp"
#include "ospp/signal_state.hpp"
#include "ospp/spawn.hpp"
#include "ospp/wait.hpp"

#include "common.hpp"

namespace differential {
namespace {

constexpr int driver_signals[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGTERM};  // those the scripts change

const std::string& helper() {
    static const std::string path = [] {
        const char* h = std::getenv("OSPP_SPAWN_HELPER");
        return std::string(h != nullptr ? h : "/nonexistent/spawn_helper");
    }();
    return path;
}

std::string prog(const std::string& t) { return t == "@H" ? helper() : dec(t); }

std::vector<std::string> strings(const std::string& t) {
    std::vector<std::string> out;
    for (const auto& s : list(t)) out.push_back(dec(s));
    return out;
}

// An environment token: "none" (the driver's own) or KEY:VALUE pairs.
std::optional<ospp::cstring_array> env_of(const std::string& t) {
    if (t == "none") return std::nullopt;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& p : list(t)) {
        const auto colon = p.find(':');
        pairs.emplace_back(dec(p.substr(0, colon)), dec(p.substr(colon + 1)));
    }
    return ospp::cstring_array::from_env(pairs);
}

ospp::signal_set signals_of(const std::string& t) {
    ospp::signal_set s;
    for (const auto& n : list(t)) s.add(static_cast<ospp::signum>(std::stoi(n)));
    return s;
}

std::string status_line(const ospp::wait_status& st) {
    const int code = st.to_exitcode().value_or(-999);
    return code < 0 ? "signal " + std::to_string(-code) : "exit " + std::to_string(code);
}

// Calls f(args...) with the strings of `a` as separate arguments (execl*, spawnl*).
template <class F>
auto with_args(const std::vector<std::string>& a, F f) {
    switch (a.size()) {
        case 0: return f();
        case 1: return f(a[0]);
        case 2: return f(a[0], a[1]);
        case 3: return f(a[0], a[1], a[2]);
        case 4: return f(a[0], a[1], a[2], a[3]);
        default: return f(a[0], a[1], a[2], a[3], a[4]);
    }
}

class spawn_driver : public line_driver {
public:
    spawn_driver(std::vector<std::string>& out, ospp::fd cap) : line_driver(out), cap_(std::move(cap)) {}
    ospp::fd cap_;

    // The helper's lines, then an empty capture file.
    void dump() {
        auto all = ospp::pread(cap_, 1 << 20, 0);
        must(all.map([](const std::string&) {}));
        std::size_t start = 0;
        while (start < all->size()) {
            auto nl = all->find('\n', start);
            if (nl == std::string::npos) nl = all->size();
            emit("| " + all->substr(start, nl - start));
            start = nl + 1;
        }
        must(ospp::ftruncate(cap_, 0));
    }

    void reap(::pid_t pid) {
        auto w = ospp::waitpid(pid);
        emit(w ? status_line(w->status) : err_line(w.error()));
        dump();
    }

    void run(const std::vector<std::string>& t) {
        const std::string& op = t[0];
        // The tree and the slots: quiet, and a failure is skipped alike in both drivers (the
        // minimiser may drop the directory a later step needs).
        if (op == "mkdir") {
            (void)ospp::mkdir(dec(t[1]));
        } else if (op == "link") {
            (void)ospp::symlink(helper(), dec(t[1]));
        } else if (op == "file") {
            const std::string text = t[3] == "sh" ? "exit 7\n" : t[3] == "shebang" ? "#!" + helper() + " sbarg\n" : "";
            auto f = ospp::open(dec(t[1]), ospp::open_flags::wronly | ospp::open_flags::creat, 0600);
            if (!f) return;
            if (!text.empty()) must(ospp::write(*f, text).map([](std::size_t) {}));
            must(ospp::chmod(dec(t[1]), static_cast<::mode_t>(std::stoul(t[2], nullptr, 8))));
        } else if (op == "open") {
            auto f = ospp::open(dec(t[2]), parse_open_flags(t[3]), 0644);
            if (!f) return;
            must(ospp::dup2(*f, ospp::fd_ref(std::stoi(t[1])), t[4] == "1").map([](ospp::fd_ref) {}));
        } else if (op == "setenv") {
            ok_or_err(ospp::putenv(dec(t[1]), dec(t[2])));
        } else if (op == "unsetenv") {
            ok_or_err(ospp::unsetenv(dec(t[1])));
        } else if (op == "sig") {
            ok_or_err(t[2] == "ign" ? ospp::ignore_signal(static_cast<ospp::signum>(std::stoi(t[1])))
                                    : ospp::default_signal_handler(static_cast<ospp::signum>(std::stoi(t[1]))));
        } else if (op == "block") {
            ok_or_err(ospp::set_signal_mask(signals_of(t[1])));
        } else if (op == "euid") {
            ok_or_err(ospp::seteuid(static_cast<::uid_t>(std::stoul(t[1]))));
        } else if (op == "execpath") {
            const auto env = env_of(t[1]);
            std::string line = "ok";
            for (const auto& d : env ? ospp::get_exec_path(*env) : ospp::get_exec_path()) (line += ' ') += enc(d);
            emit(line);
        } else if (op == "ps") {
            posix_spawn(t);
        } else if (op == "sp") {
            spawn(t);
        } else if (op == "ex") {
            exec(t);
        } else {
            emit("unknown " + op);
        }
    }

    void posix_spawn(const std::vector<std::string>& t) {
        ospp::posix_spawn_options o;
        for (std::size_t i = 5; i < t.size(); ++i) {
            const std::string& k = t[i];
            const std::string v = k.find('=') != std::string::npos ? k.substr(k.find('=') + 1) : "";
            if (k.starts_with("fa=")) {
                for (const auto& a : list(v)) {
                    std::vector<std::string> f;
                    for (std::size_t s = 0;;) {
                        const auto c = a.find(':', s);
                        f.push_back(a.substr(s, c - s));
                        if (c == std::string::npos) break;
                        s = c + 1;
                    }
                    const ospp::fd_ref fd(std::stoi(f[1]));
                    if (f[0] == "o") {
                        o.file_actions.push_back(ospp::spawn_file_action::open(
                            fd, dec(f[2]), parse_open_flags(f[3]), static_cast<::mode_t>(std::stoul(f[4], nullptr, 8))));
                    } else if (f[0] == "c") {
                        o.file_actions.push_back(ospp::spawn_file_action::close(fd));
                    } else {
                        o.file_actions.push_back(ospp::spawn_file_action::dup2(fd, ospp::fd_ref(std::stoi(f[2]))));
                    }
                }
            } else if (k.starts_with("pg=")) {
                o.setpgroup = v == "P" ? ::getpgrp() : std::stoi(v);
            } else if (k == "ri") {
                o.resetids = true;
            } else if (k == "ss") {
                o.setsid = true;
            } else if (k.starts_with("mask=")) {
                o.setsigmask = signals_of(v);
            } else if (k.starts_with("def=")) {
                o.setsigdef = signals_of(v);
            } else if (k.starts_with("sch=")) {
                const auto c = v.find(':');
                o.scheduler = ospp::spawn_scheduler{static_cast<ospp::sched_policy>(std::stoi(v.substr(0, c))),
                                                    ospp::sched_param{std::stoi(v.substr(c + 1))}};
            }
        }
        const std::string path = prog(t[2]);
        const ospp::cstring_array argv(strings(t[3]));
        const auto env = env_of(t[4]);
        const bool search = t[1] == "posix_spawnp";
        const auto pid = env ? (search ? ospp::posix_spawnp(path, argv, *env, o) : ospp::posix_spawn(path, argv, *env, o))
                             : (search ? ospp::posix_spawnp(path, argv, std::nullopt, o)
                                       : ospp::posix_spawn(path, argv, std::nullopt, o));
        if (!pid) return emit(err_line(pid.error()));
        emit("ok");
        reap(*pid);
    }

    void spawn(const std::vector<std::string>& t) {
        const std::string& fn = t[1];
        const auto mode = static_cast<ospp::spawn_mode>(std::stoi(t[2]));
        const std::string path = prog(t[3]);
        const auto args = strings(t[4]);
        const ospp::cstring_array argv(args);
        const auto env = env_of(t[5]);
        const ospp::cstring_array& e = env ? *env : argv;  // only the *e calls read it, given then
        ospp::result<int> r = 0;
        if (fn == "spawnv") r = ospp::spawnv(mode, path, argv);
        if (fn == "spawnve") r = ospp::spawnve(mode, path, argv, e);
        if (fn == "spawnvp") r = ospp::spawnvp(mode, path, argv);
        if (fn == "spawnvpe") r = ospp::spawnvpe(mode, path, argv, e);
        if (fn == "spawnl") r = with_args(args, [&](const auto&... a) { return ospp::spawnl(mode, path, a...); });
        if (fn == "spawnlp") r = with_args(args, [&](const auto&... a) { return ospp::spawnlp(mode, path, a...); });
        if (fn == "spawnle") r = with_args(args, [&](const auto&... a) { return ospp::spawnle(mode, path, a..., e); });
        if (fn == "spawnlpe") r = with_args(args, [&](const auto&... a) { return ospp::spawnlpe(mode, path, a..., e); });
        // deliberate: Python's spawn* report an exec failure only as the child's exit 127; the
        // errno alone is compared (spawn.py finds it by the same exec in a forked child).
        if (!r) return emit("ERR " + std::to_string(r.error().code()));
        if (mode == ospp::spawn_mode::wait) {
            emit("ok " + std::to_string(*r));
            return dump();
        }
        emit("ok");
        reap(*r);
    }

    void exec(const std::vector<std::string>& t) {
        const std::string& fn = t[1];
        const std::string path = prog(t[2]);
        const auto args = strings(t[3]);
        const ospp::cstring_array argv(args);
        const auto env = env_of(t[4]);
        const ospp::cstring_array& e = env ? *env : argv;
        int raw[2];
        if (::pipe2(raw, O_CLOEXEC) < 0) std::exit(2);
        const ospp::fd report_r(raw[0]);
        ospp::fd report_w(raw[1]);
        auto f = ospp::fork();
        must(f.map([](ospp::fork_result) {}));
        if (f->is_child()) {
            ospp::errno_error err(0, "none");
            if (fn == "execv") err = ospp::execv(path, argv);
            if (fn == "execve") err = ospp::execve(path, argv, e);
            if (fn == "execvp") err = ospp::execvp(path, argv);
            if (fn == "execvpe") err = ospp::execvpe(path, argv, e);
            if (fn == "execl") err = with_args(args, [&](const auto&... a) { return ospp::execl(path, a...); });
            if (fn == "execlp") err = with_args(args, [&](const auto&... a) { return ospp::execlp(path, a...); });
            if (fn == "execle") err = with_args(args, [&](const auto&... a) { return ospp::execle(path, a..., e); });
            if (fn == "execlpe") err = with_args(args, [&](const auto&... a) { return ospp::execlpe(path, a..., e); });
            const std::string line = err_line(err);
            (void)!::write(report_w.get(), line.data(), line.size());
            ::_exit(127);
        }
        report_w.reset();
        std::string line;
        for (;;) {
            auto r = ospp::read(report_r, 4096);
            if (!r || r->empty()) break;
            line += *r;
        }
        emit(line.empty() ? "ok" : line);
        reap(f->pid());
    }
};

// A close-on-exec copy of `f` at 100 or above: the driver's own descriptors stay out of the numbers
// the scripts use (as spawn.py's).
ospp::fd high(ospp::fd_ref f) {
    const int r = ::fcntl(f.get(), F_DUPFD_CLOEXEC, 100);
    if (r < 0) std::exit(2);
    return ospp::fd(r);
}

// The driver's state the children inherit, as each script starts: its own effective uid, no
// environment, no blocked signal, the changed signals at their default, SIGPIPE and SIGXFSZ ignored (as Python starts).
void reset_state() {
    if (::getuid() == 0) must(ospp::seteuid(0));
    ::clearenv();
    must(ospp::set_signal_mask({}).map([](const ospp::signal_set&) {}));
    for (const int s : driver_signals) ::signal(s, SIG_DFL);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace

void run_spawn_script(std::istream& script, std::vector<std::string>& out) {
    (void)helper();  // read before the environment goes
    auto cap = ospp::open("../cap", ospp::open_flags::rdwr | ospp::open_flags::creat | ospp::open_flags::append, 0600);
    must(cap.map([](const ospp::fd&) {}));
    const ospp::fd cap_high = high(*cap);
    const ospp::fd saved = high(ospp::stdout_fd);
    cap->reset();
    must(ospp::dup2(cap_high, ospp::stdout_fd, true).map([](ospp::fd_ref) {}));
    reset_state();
    spawn_driver d(out, high(cap_high));
    apply_script(script, out, d);
    must(ospp::dup2(saved, ospp::stdout_fd, true).map([](ospp::fd_ref) {}));
    for (const int slot : {40, 41, 42}) ::close(slot);
    reset_state();
}

}  // namespace differential
