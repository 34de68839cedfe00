// test/differential/proc.cpp — the ospp side of the proc domain (see run.py): calls that read or
// change the process's own state. proc.py does the same with Python's os, resource and signal and
// must print the same lines.
//
// Each script runs in a process of its own: the driver forks a process that starts a session of
// its own (so that PRIO_PGRP, kill(0) and setpgid reach nothing of the driver's), and that forks
// the script's process, which writes its lines to a pipe. The script's process is neither a group
// nor a session leader, so its first setsid succeeds. Process ids are printed as tokens: self,
// parent (the session's leader), c0, c1... (the script's children), 0, or "other".
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ospp/environ.hpp"
#include "ospp/ids.hpp"
#include "ospp/process.hpp"
#include "ospp/resource.hpp"
#include "ospp/sched.hpp"
#include "ospp/signal.hpp"
#include "ospp/signal_state.hpp"
#include "ospp/sysinfo.hpp"
#include "ospp/wait.hpp"

#include "common.hpp"

namespace differential {
namespace {

namespace res = ospp::resource;

constexpr ::pid_t none_pid = INT_MAX;  // no such process
constexpr int raised[] = {1, 10, 12, 15, 34, 35, 64};  // gen_proc.py's RAISE: ignored from the start
constexpr unsigned watchdog_seconds = 20;
::pid_t g_script = 0;  // the script's process, for the watchdog's signal handler

// A comma-separated list of numbers; "-" is the empty list.
std::vector<long long> ints(const std::string& t) {
    std::vector<long long> out;
    if (t == "-") return out;
    std::size_t start = 0;
    for (;;) {
        const auto comma = t.find(',', start);
        out.push_back(std::stoll(t.substr(start, comma - start)));
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

template <class Range>
std::string joined(const Range& values) {
    std::string out;
    for (const auto& v : values) (out += out.empty() ? "" : ",") += std::to_string(v);
    return out.empty() ? "-" : out;
}

// "inf" or a count: -2 is 2^64-2, as Python passes it to the kernel.
res::limit limit_value(const std::string& t) {
    if (t == "inf") return res::limit::infinity();
    return res::limit(static_cast<std::uint64_t>(std::stoll(t)));
}

std::string limit_text(res::limit l) { return l.is_infinite() ? "inf" : std::to_string(l.value()); }

std::string limits_text(const res::rlimit& l) { return limit_text(l.soft) + " " + limit_text(l.hard); }

std::string sig_list(const ospp::signal_set& s) {
    std::vector<int> v;
    for (int n = 1; n <= ospp::signal_max(); ++n)
        if (s.contains(ospp::signum{n})) v.push_back(n);
    return joined(v);
}

ospp::signal_set signal_set_of(const std::string& t) {
    if (t == "all") return ospp::signal_set::full();
    ospp::signal_set s;
    for (const auto n : ints(t)) s.add(ospp::signum{static_cast<int>(n)});
    return s;
}

const char* bit(bool b) { return b ? "1" : "0"; }

std::string ids_line() {
    const auto u = ospp::getresuid().value();
    const auto g = ospp::getresgid().value();
    return "res=" + joined(std::vector<long>{long(u.ruid), long(u.euid), long(u.suid)}) +
           " resg=" + joined(std::vector<long>{long(g.rgid), long(g.egid), long(g.sgid)}) +
           " groups=" + joined(ospp::getgroups().value());
}

class proc_driver {
public:
    explicit proc_driver(std::vector<std::string>& out) : out_(out), parent_(::getppid()) {}
    std::vector<std::string>& out_;
    std::vector<::pid_t> children_;
    ::pid_t parent_;
    std::optional<ospp::fd> pidfd_;  // pidfd_open's descriptor
    std::vector<::pid_t> stopped_children_;  // stopped, not continued: a wait that blocks could block for good
    bool stopped_ = false;  // (apply_script's protocol; no proc operation ends a script)

    void emit(std::string line) { out_.push_back(std::move(line)); }

    // A pid token of the script as a number.
    ::pid_t pid(const std::string& t) const {
        if (t == "self") return ::getpid();
        if (t == "parent") return parent_;
        if (t == "none") return none_pid;
        if (t == "neg") return -1;
        if (t == "min") return INT_MIN;
        if (t == "pgrp") return ::getpgrp();
        if (t == "-pgrp") return -::getpgrp();
        if (t[0] == 'c') {
            const auto i = std::stoul(t.substr(1));
            return i < children_.size() ? children_[i] : none_pid;
        }
        return static_cast<::pid_t>(std::stol(t));
    }

    // A pid as a token (pids differ between the drivers).
    std::string tok(::pid_t p) const {
        if (p == 0) return "0";
        if (p == ::getpid()) return "self";
        if (p == parent_) return "parent";
        const auto it = std::find(children_.begin(), children_.end(), p);
        if (it != children_.end()) return "c" + std::to_string(it - children_.begin());
        return "other";
    }

    template <class T, class Show>
    void show(const ospp::result<T>& r, Show s) {
        if (!r) return error(r.error());
        emit("ok " + s(*r));
    }
    void ok_or_err(const ospp::result<void>& r) {
        if (!r) return error(r.error());
        emit("ok");
    }
    void error(const ospp::errno_error& e) {
        std::string msg = e.message();
        const std::string prefix = std::string(e.call()) + ": ";
        if (msg.starts_with(prefix)) msg.erase(0, prefix.size());
        emit("ERR " + std::to_string(e.code()) + " " + msg);
    }

    // Every W* macro of a status, and waitstatus_to_exitcode (as proc.py's status).
    static std::string status(ospp::wait_status st) {
        const auto code = st.to_exitcode();
        char line[256];
        std::snprintf(line, sizeof line,
                      "raw=%x exited=%s code=%d signaled=%s term=%d core=%s stopped=%s stop=%d continued=%s exitcode=%s",
                      static_cast<unsigned>(st.raw()), bit(st.exited()), st.exit_code(), bit(st.signaled()),
                      ospp::to_raw(st.term_signal()), bit(st.core_dumped()), bit(st.stopped()),
                      ospp::to_raw(st.stop_signal()), bit(st.continued()),
                      (code ? std::to_string(*code) : "E" + std::to_string(code.error().code())).c_str());
        return line;
    }

    // A child that exits with a[1] or kills itself with signal a[1]; waited for (without reaping
    // it) until it has, so that a WNOHANG wait finds it ended.
    void spawn(const std::vector<std::string>& a) {
        const int n = std::stoi(a[1]);
        auto f = ospp::fork();
        if (!f) return error(f.error());
        if (f->is_child()) {
            if (a[0] == "stop") {
                (void)ospp::set_signal_mask({});
                (void)ospp::kill(::getpid(), ospp::signum::stop);
                ::_exit(7);
            }
            if (a[0] == "sig") {
                const ospp::signum s{n};
                (void)ospp::default_signal_handler(s);
                (void)ospp::set_signal_mask({});
                (void)ospp::kill(::getpid(), s);
                ::_exit(99);
            }
            ::_exit(n & 0xff);
        }
        children_.push_back(f->pid());
        if (a[0] == "stop") stopped_children_.push_back(f->pid());
        settle(f->pid(), a[0] == "stop" ? ospp::wait_flags::stopped : ospp::wait_flags::exited);
        emit("ok " + tok(f->pid()));
    }

    // Waits, without reaping it, until child p has stopped or exited.
    static void settle(::pid_t p, ospp::wait_flags state) {
        must(ospp::waitid(ospp::id_type::pid, static_cast<::id_t>(p), state | ospp::wait_flags::nowait).map([](auto) {}));
    }

    // SIGCONT to a stopped child, then waited for (without reaping it) until it has exited.
    void cont(const std::string& t) {
        const auto it = std::find(stopped_children_.begin(), stopped_children_.end(), pid(t));
        if (it == stopped_children_.end()) return emit("ok not stopped");
        const ::pid_t p = *it;
        // (EPERM once the script has changed its uids and session)
        if (auto r = ospp::kill(p, ospp::signum::cont); !r) return error(r.error());
        stopped_children_.erase(it);
        settle(p, ospp::wait_flags::exited);
        emit("ok");
    }

    // Whether a wait operation would wait (no WNOHANG), as proc.py's blocks.
    static bool blocks(const std::string& op, const std::vector<std::string>& a) {
        std::size_t i = 0;
        if (op == "wait") return true;
        if (op == "waitpid" || op == "wait4") {
            i = 1;
        } else if (op == "waitid") {
            i = 2;
        } else if (op != "wait3" && op != "pidfd_wait") {
            return false;
        }
        return (std::stoll(a.at(i)) & WNOHANG) == 0;
    }

    // The pidfd, or -1 when none is open (as proc.py's).
    ospp::fd_ref pidfd() const { return pidfd_ ? ospp::fd_ref(*pidfd_) : ospp::fd_ref(-1); }

    std::string waitid_text(const std::optional<ospp::waitid_result>& r) const {
        if (!r) return "None";
        return "pid=" + tok(r->pid) + " uid=" + std::to_string(r->uid) + " signo=" + std::to_string(ospp::to_raw(r->signo)) +
               " status=" + std::to_string(r->status) + " code=" + std::to_string(static_cast<int>(r->code));
    }

    void wait_line(const ospp::result<ospp::wait_result>& r) {
        show(r, [&](const ospp::wait_result& w) { return tok(w.pid) + " " + status(w.status); });
    }
    void wait_usage_line(const ospp::result<ospp::wait_rusage_result>& r) {
        show(r, [&](const ospp::wait_rusage_result& w) {
            return tok(w.pid) + " " + status(w.status) + " utime>=0:" + bit(w.rusage.ru_utime.count() >= 0);
        });
    }

    void run(const std::vector<std::string>& t) {
        const std::string& op = t[0];
        const std::vector<std::string> a(t.begin() + 1, t.end());
        const auto num = [&](std::size_t i) { return std::stoll(a.at(i)); };
        const auto resource = [&](std::size_t i) { return res::rlimit_resource(num(i)); };
        const auto flags = [&](std::size_t i) { return ospp::wait_flags(static_cast<int>(num(i))); };
        if (!stopped_children_.empty() && blocks(op, a)) return emit("ok not while a child is stopped");
        if (op == "umask") {
            emit("ok " + octal(ospp::umask(static_cast<::mode_t>(std::stoul(a[0], nullptr, 8)))));
        } else if (op == "getrlimit") {
            show(res::getrlimit(resource(0)), limits_text);
        } else if (op == "setrlimit") {
            ok_or_err(res::setrlimit(resource(0), {limit_value(a[1]), limit_value(a[2])}));
        } else if (op == "prlimit") {
            if (a.size() > 2) {
                show(res::prlimit(pid(a[0]), resource(1), {limit_value(a[2]), limit_value(a[3])}), limits_text);
            } else {
                show(res::prlimit(pid(a[0]), resource(1)), limits_text);
            }
        } else if (op == "getrusage") {
            show(res::getrusage(res::rusage_who(num(0))), [](const res::rusage& ru) {
                return std::string("utime>=0:") + bit(ru.ru_utime.count() >= 0) + " maxrss>0:" + bit(ru.ru_maxrss > 0);
            });
        } else if (op == "getpriority") {
            show(ospp::getpriority(ospp::prio_which(num(0)), static_cast<::id_t>(pid(a[1]))),
                 [](int v) { return std::to_string(v); });
        } else if (op == "setpriority") {
            ok_or_err(ospp::setpriority(ospp::prio_which(num(0)), static_cast<::id_t>(pid(a[1])), static_cast<int>(num(2))));
        } else if (op == "nice") {
            show(ospp::nice(static_cast<int>(num(0))), [](int v) { return std::to_string(v); });
        } else if (op == "getaffinity") {
            show(ospp::sched_getaffinity(pid(a[0])), [](const ospp::cpu_set& s) { return joined(s.cpus()); });
        } else if (op == "setaffinity") {
            ospp::cpu_set s;
            try {
                for (const auto c : ints(a[1])) s.add(static_cast<std::size_t>(c));
            } catch (const std::length_error&) {
                return emit("RAISE");  // Python's ValueError / OverflowError (sched.hpp, cpu_set)
            }
            ok_or_err(ospp::sched_setaffinity(pid(a[0]), s));
        } else if (op == "getscheduler") {
            show(ospp::sched_getscheduler(pid(a[0])), [](ospp::sched_policy p) { return std::to_string(ospp::to_raw(p)); });
        } else if (op == "setscheduler") {
            ok_or_err(ospp::sched_setscheduler(pid(a[0]), ospp::sched_policy(num(1)), {static_cast<int>(num(2))}));
        } else if (op == "getparam") {
            show(ospp::sched_getparam(pid(a[0])), [](ospp::sched_param p) { return std::to_string(p.sched_priority); });
        } else if (op == "setparam") {
            ok_or_err(ospp::sched_setparam(pid(a[0]), {static_cast<int>(num(1))}));
        } else if (op == "primin" || op == "primax") {
            const auto policy = ospp::sched_policy(num(0));
            show(op == "primin" ? ospp::sched_get_priority_min(policy) : ospp::sched_get_priority_max(policy),
                 [](int v) { return std::to_string(v); });
        } else if (op == "rrinterval") {
            show(ospp::sched_rr_get_interval(pid(a[0])), [](std::chrono::nanoseconds d) { return std::string(bit(d.count() >= 0)); });
        } else if (op == "putenv") {
            ok_or_err(ospp::putenv(dec(a[0]), dec(a[1])));
        } else if (op == "unsetenv") {
            ok_or_err(ospp::unsetenv(dec(a[0])));
        } else if (op == "getenv") {
            const auto v = ospp::getenv(dec(a[0]));
            emit("ok " + (v ? enc(*v) : std::string("None")));
        } else if (op == "execpath") {
            std::string line;
            for (const auto& p : ospp::get_exec_path()) (line += line.empty() ? "" : " ") += enc(p);
            emit("ok " + (line.empty() ? std::string("-") : line));
        } else if (op == "execpathenv") {
            std::vector<std::string> env;
            if (!a.empty()) {
                for (std::size_t start = 0;;) {
                    const auto comma = a[0].find(',', start);
                    env.push_back(dec(a[0].substr(start, comma - start)));
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
            }
            std::string line;
            for (const auto& p : ospp::get_exec_path(ospp::cstring_array(env))) (line += line.empty() ? "" : " ") += enc(p);
            emit("ok " + (line.empty() ? std::string("-") : line));
        } else if (op == "sigmask") {
            show(ospp::pthread_sigmask(ospp::sigmask_how(num(0)), signal_set_of(a[1])), sig_list);
        } else if (op == "raise") {
            const ospp::signum s{static_cast<int>(num(0))};
            if (!ospp::signal_mask().value().contains(s)) return emit("ok not blocked");
            ok_or_err(ospp::kill(::getpid(), s));
        } else if (op == "signame") {
            emit("ok " + ospp::signal_name(ospp::signum{static_cast<int>(num(0))}));
        } else if (op == "strsignal") {
            emit("ok " + enc(ospp::strsignal(ospp::signum{static_cast<int>(num(0))})));
        } else if (op == "validsignals") {
            emit("ok " + sig_list(ospp::signal_set::full()));
        } else if (op == "pcpucount") {
            const auto n = ospp::process_cpu_count();
            emit("ok " + (n ? std::to_string(*n) : std::string("None")));
        } else if (op == "getppid") {
            emit("ok " + tok(ospp::getppid()));
        } else if (op == "pidfd_open") {
            pidfd_.reset();
            auto f = ospp::pidfd_open(pid(a[0]), static_cast<unsigned>(num(1)));
            if (f) pidfd_ = std::move(*f);
            ok_or_err(f.map([](const ospp::fd&) {}));
        } else if (op == "pidfd_send") {
            ok_or_err(ospp::pidfd_send_signal(pidfd(), ospp::signum{static_cast<int>(num(0))}));
        } else if (op == "pidfd_wait") {
            show(ospp::waitid(pidfd(), flags(0)), [&](const auto& r) { return waitid_text(r); });
        } else if (op == "pidfd_close") {
            pidfd_.reset();
            emit("ok");
        } else if (op == "sigpending") {
            show(ospp::sigpending(), sig_list);
        } else if (op == "sigdfl") {
            ok_or_err(ospp::default_signal_handler(ospp::signum{static_cast<int>(num(0))}));
        } else if (op == "sigign") {
            ok_or_err(ospp::ignore_signal(ospp::signum{static_cast<int>(num(0))}));
        } else if (op == "kill") {
            ok_or_err(ospp::kill(pid(a[0]), ospp::signum{static_cast<int>(num(1))}));
        } else if (op == "killpg") {
            ok_or_err(ospp::killpg(pid(a[0]), ospp::signum{static_cast<int>(num(1))}));
        } else if (op == "ids") {
            emit("ok " + ids_line());
        } else if (op == "setuid" || op == "setgid" || op == "seteuid" || op == "setegid" || op == "setreuid" ||
                   op == "setregid" || op == "setresuid" || op == "setresgid") {
            set_ids(op, a);
        } else if (op == "setgroups") {
            std::vector<::gid_t> groups;
            if (a[0] == "many" || a[0] == "toomany") {
                const long n = ospp::sysconf(ospp::sysconf_name::ngroups_max).value().value() + (a[0] == "toomany");
                for (long g = 0; g < n; ++g) groups.push_back(static_cast<::gid_t>(g));
            } else {
                for (const auto g : ints(a[0])) groups.push_back(static_cast<::gid_t>(g));
            }
            ok_or_err(ospp::setgroups(std::span<const ::gid_t>(groups)));
        } else if (op == "getpwnam" || op == "getpwuid") {
            show(op == "getpwnam" ? ospp::getpwnam(dec(a[0])) : ospp::getpwuid(static_cast<::uid_t>(num(0))),
                 [](const ospp::passwd_entry& e) {
                     return enc(e.pw_name) + " " + enc(e.pw_passwd) + " " + std::to_string(e.pw_uid) + " " +
                            std::to_string(e.pw_gid) + " " + enc(e.pw_gecos) + " " + enc(e.pw_dir) + " " + enc(e.pw_shell);
                 });
        } else if (op == "getgrnam" || op == "getgrgid") {
            show(op == "getgrnam" ? ospp::getgrnam(dec(a[0])) : ospp::getgrgid(static_cast<::gid_t>(num(0))),
                 [](const ospp::group_entry& e) {
                     std::string members;
                     for (const auto& m : e.gr_mem) (members += members.empty() ? "" : ",") += enc(m);
                     return enc(e.gr_name) + " " + enc(e.gr_passwd) + " " + std::to_string(e.gr_gid) + " " +
                            (members.empty() ? std::string("-") : members);
                 });
        } else if (op == "getgrouplist") {
            show(ospp::getgrouplist(dec(a[0]), static_cast<::gid_t>(num(1))), [](const std::vector<::gid_t>& g) { return joined(g); });
        } else if (op == "getlogin") {
            show(ospp::getlogin(), [](const std::string& s) { return enc(s); });
        } else if (op == "ctermid") {
            emit("ok " + enc(ospp::ctermid()));
        } else if (op == "getpgid") {
            show(ospp::getpgid(pid(a[0])), [&](::pid_t p) { return tok(p); });
        } else if (op == "getsid") {
            show(ospp::getsid(pid(a[0])), [&](::pid_t p) { return tok(p); });
        } else if (op == "setpgid") {
            ok_or_err(ospp::setpgid(pid(a[0]), pid(a[1])));
        } else if (op == "setsid") {
            show(ospp::setsid(), [&](::pid_t p) { return tok(p); });
        } else if (op == "setpgrp") {
            ok_or_err(ospp::setpgrp());
        } else if (op == "getpgrp") {
            emit("ok " + tok(ospp::getpgrp()));
        } else if (op == "spawn") {
            spawn(a);
        } else if (op == "cont") {
            cont(a[0]);
        } else if (op == "waitpid") {
            wait_line(ospp::waitpid(pid(a[0]), flags(1)));
        } else if (op == "wait") {
            wait_line(ospp::wait());
        } else if (op == "wait3") {
            wait_usage_line(ospp::wait3(flags(0)));
        } else if (op == "wait4") {
            wait_usage_line(ospp::wait4(pid(a[0]), flags(1)));
        } else if (op == "waitid") {
            show(ospp::waitid(ospp::id_type(num(0)), static_cast<::id_t>(pid(a[1])), flags(2)),
                 [&](const auto& r) { return waitid_text(r); });
        } else if (op == "status") {
            emit("ok " + status(ospp::wait_status(static_cast<int>(num(0)))));
        } else if (op == "sysconf") {
            // the free memory changes from one call to the next
            show(ospp::sysconf(a[0]), [&](std::optional<long> v) {
                return a[0] == "SC_AVPHYS_PAGES" ? std::string("varies") : std::to_string(v.value_or(-1));
            });
        } else if (op == "confstr") {
            show(ospp::confstr(a[0]), [](const std::optional<std::string>& v) { return v ? enc(*v) : std::string("None"); });
        } else if (op == "sysconfall" || op == "confstrall" || op == "strerrorall") {
            // every name, every errno: the single operation's line for each, after the name
            std::vector<std::string> names;
            if (op == "sysconfall") {
                for (const auto& e : ospp::sysconf_names()) names.emplace_back(e.name);
            } else if (op == "confstrall") {
                for (const auto& e : ospp::confstr_names()) names.emplace_back(e.name);
            } else {
                for (int n = -2; n < 140; ++n) names.push_back(std::to_string(n));
            }
            if (op != "strerrorall") std::sort(names.begin(), names.end());
            for (const auto& name : names) {
                run({op.substr(0, op.size() - 3), name});
                out_.back() = name + " " + out_.back();
            }
            emit("ok");
        } else if (op == "sysconfnames" || op == "confstrnames") {
            std::vector<std::pair<std::string, int>> names;
            if (op == "sysconfnames") {
                for (const auto& e : ospp::sysconf_names()) names.emplace_back(e.name, ospp::to_raw(e.value));
            } else {
                for (const auto& e : ospp::confstr_names()) names.emplace_back(e.name, ospp::to_raw(e.value));
            }
            std::sort(names.begin(), names.end());
            std::string line = "ok";
            for (const auto& [n, v] : names) line += " " + n + "=" + std::to_string(v);
            emit(line);
        } else if (op == "uname") {
            show(ospp::uname(), [](const ospp::uname_result& u) {
                return enc(u.sysname) + " " + enc(u.nodename) + " " + enc(u.release) + " " + enc(u.version) + " " +
                       enc(u.machine);
            });
        } else if (op == "cpucount") {
            const auto n = ospp::cpu_count();
            emit("ok " + (n ? std::to_string(*n) : std::string("None")));
        } else if (op == "pagesize") {
            emit("ok " + std::to_string(res::getpagesize()) + " " +
                 std::to_string(ospp::sysconf(ospp::sysconf_name::pagesize).value().value_or(-1)));
        } else if (op == "strerror") {
            emit("ok " + enc(ospp::strerror(static_cast<int>(num(0)))));
        } else {
            std::cerr << "unknown proc op " << op << '\n';
            std::exit(2);
        }
    }

    void set_ids(const std::string& op, const std::vector<std::string>& a) {
        std::vector<::uid_t> v;
        for (const auto& x : a) v.push_back(static_cast<::uid_t>(std::stoll(x)));
        if (op == "setuid") return ok_or_err(ospp::setuid(v[0]));
        if (op == "setgid") return ok_or_err(ospp::setgid(v[0]));
        if (op == "seteuid") return ok_or_err(ospp::seteuid(v[0]));
        if (op == "setegid") return ok_or_err(ospp::setegid(v[0]));
        if (op == "setreuid") return ok_or_err(ospp::setreuid(v[0], v[1]));
        if (op == "setregid") return ok_or_err(ospp::setregid(v[0], v[1]));
        if (op == "setresuid") return ok_or_err(ospp::setresuid(v[0], v[1], v[2]));
        if (op == "setresgid") return ok_or_err(ospp::setresgid(v[0], v[1], v[2]));
        std::cerr << "unknown proc op " << op << '\n';
        std::exit(2);
    }

    void dump() {
        const ::mode_t m = ospp::umask(0);
        ospp::umask(m);
        emit("umask " + octal(m));
        for (int r = 0; r < 16; ++r)
            emit("rlimit " + std::to_string(r) + " " + limits_text(res::getrlimit(res::rlimit_resource(r)).value()));
        emit("priority " + std::to_string(ospp::getpriority(ospp::prio_which::process, 0).value()));
        emit("affinity " + joined(ospp::sched_getaffinity(0).value().cpus()));
        emit("scheduler " + std::to_string(ospp::to_raw(ospp::sched_getscheduler(0).value())) + " " +
             std::to_string(ospp::sched_getparam(0).value().sched_priority));
        // through the live view (start() went through environ_map)
        std::vector<std::pair<std::string, std::string>> env;
        for (const auto [k, v] : ospp::environ()) env.emplace_back(k, v);
        std::sort(env.begin(), env.end());  // as bytes (char_traits<char> compares unsigned)
        for (const auto& [k, v] : env) emit("env " + enc(k) + "=" + enc(v));
        emit("blocked " + sig_list(ospp::signal_mask().value()));
        emit("pending " + sig_list(ospp::sigpending().value()));
        emit("ids " + ids_line());
        emit("pgrp " + tok(ospp::getpgrp()) + " sid " + tok(ospp::getsid(0).value()));
    }
};

// The state every script starts from: an environment of PATH alone, the signals a script may
// raise ignored, none blocked (as proc.py's start).
void start() {
    for (const auto& [k, v] : ospp::environ_map()) must(ospp::unsetenv(k));
    must(ospp::putenv("PATH", "/usr/bin:/bin"));
    for (const int s : raised) must(ospp::ignore_signal(ospp::signum{s}));
    must(ospp::set_signal_mask({}).map([](auto) {}));
}

void write_all(int fd, const std::string& data) {
    std::string_view rest(data);
    while (!rest.empty()) {
        const auto n = ospp::write(ospp::fd_ref(fd), rest);
        if (!n) ::_exit(3);
        rest.remove_prefix(*n);
    }
}

// The script's process: applies it and writes its lines to w.
[[noreturn]] void script_process(std::istream& script, int w) {
    std::vector<std::string> out;
    start();
    proc_driver d(out);
    apply_script(script, out, d);
    d.dump();
    // Reaps what the script left. A stopped child (alive: never another process) is killed first;
    // one the script may no longer kill (setuid and the like) is left to the session's leader.
    for (const auto c : d.children_) {
        const bool stopped = std::find(d.stopped_children_.begin(), d.stopped_children_.end(), c) != d.stopped_children_.end();
        if (!stopped || ::kill(c, SIGKILL) == 0) ::waitpid(c, nullptr, 0);
    }
    std::string all;
    for (const auto& l : out) (all += l) += '\n';
    write_all(w, all);
    ::_exit(0);
}

// The session leader's end: kills and reaps the children the script's process left it (stopped
// ones it could no longer kill itself). Each is a child of this process, not yet reaped, so its
// pid is never another process's.
void sweep() {
    const std::string path = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
    std::ifstream children(path);
    for (::pid_t c; children >> c;) ::kill(c, SIGKILL);
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
}

}  // namespace

void run_proc_script(std::istream& script, std::vector<std::string>& out) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) std::exit(2);
    std::cout.flush();
    const ::pid_t leader = ::fork();
    if (leader < 0) std::exit(2);
    if (leader == 0) {
        ::close(p[0]);
        ::setsid();
        // The script's children that outlive it come here (sweep)
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        const ::pid_t child = ::fork();
        if (child == 0) script_process(script, p[1]);
        // A watchdog: a script that waits for good (a bug of the drivers, or of ospp) is killed
        // after a while, and its status is the difference.
        g_script = child;
        struct ::sigaction kill_script {};
        kill_script.sa_handler = [](int) { ::kill(g_script, SIGKILL); };
        ::sigaction(SIGALRM, &kill_script, nullptr);
        ::alarm(watchdog_seconds);
        int st = 0;
        while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
        }
        if (st != 0) {
            char line[64];
            std::snprintf(line, sizeof line, "script process: status %x\n", static_cast<unsigned>(st));
            write_all(p[1], line);
        }
        sweep();
        ::_exit(0);
    }
    ::close(p[1]);
    std::string data;
    char buf[65536];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) != 0;) {
        if (n < 0) std::exit(2);
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(p[0]);
    ::waitpid(leader, nullptr, 0);
    std::istringstream lines(data);
    for (std::string l; std::getline(lines, l);)
        if (!l.empty()) out.push_back(l);
}

}  // namespace differential
