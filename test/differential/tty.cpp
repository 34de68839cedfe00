// test/differential/tty.cpp — the ospp side of the tty domain (see run.py): terminals and
// pseudo-terminals (terminal.hpp, isatty, ctermid, forkpty, and the ioctls a terminal program
// makes through fcntl::ioctl). tty.py does the same with Python's os and fcntl and must print the
// same lines; its header says how a script runs, why nothing blocks and how pty numbers are shown.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ospp/fcntl.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/ids.hpp"
#include "ospp/process.hpp"
#include "ospp/terminal.hpp"

#include "common.hpp"

namespace differential {
namespace {

namespace fc = ospp::fcntl;
using ospp::open_flags;

constexpr int FD0 = 40;
constexpr int slots = 6;
constexpr ::pid_t none_pid = 0x7fffffff;
constexpr unsigned watchdog_seconds = 20;
// tty.py's BLOCKED.
constexpr std::array blocked{SIGHUP, SIGINT, SIGQUIT, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH};

// tty.py's FLAGS.
int raw_flags(const std::string& letters) {
    int f = 0;
    for (const char c : letters) {
        switch (c) {
            case 'R': f |= O_RDWR; break;
            case 'w': f |= O_WRONLY; break;
            case 'N': f |= O_NOCTTY; break;
            case 'n': f |= O_NONBLOCK; break;
            case 'd': f |= O_DIRECTORY; break;
            case 'D': f |= O_DIRECT; break;
            case 'c': f |= O_CREAT; break;
            case 'x': f |= O_EXCL; break;
            case 'P': f |= O_PATH; break;
            default: break;  // 'r': O_RDONLY is 0
        }
    }
    return f;
}

// The pty number of a master (TIOCGPTN), or -1.
long long pty_number(int f) {
    unsigned n = 0;
    return ::ioctl(f, TIOCGPTN, &n) < 0 ? -1 : static_cast<long long>(n);
}

// This process's controlling terminal as /dev/pts/N, "none" or "other" (/proc/self/stat).
std::string ctty_number() {
    std::ifstream in("/proc/self/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 1));
    std::string field;
    for (int i = 0; i < 5; ++i) rest >> field;  // state ppid pgrp session tty_nr
    const unsigned long nr = std::stoul(field);
    const unsigned long major = (nr >> 8) & 0xfff, minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    if (nr == 0) return "none";
    if (major >= 136 && major < 144) return "/dev/pts/" + std::to_string((major - 136) * 256 + minor);
    return "other";
}

std::string errno_token(const ospp::errno_error& e) { return "E" + std::to_string(e.code()); }

// What a child on a new terminal sees (login, forkpty): tty.py's describe_terminal.
std::string describe_terminal(int given = -1) {
    std::string line = "sid=" + std::to_string(::getsid(0) == ::getpid());
    line += " tty0=" + std::to_string(ospp::isatty(ospp::stdin_fd));
    line += " inh=";
    for (int i = 0; i < 3; ++i) line += std::to_string((::fcntl(i, F_GETFD) & FD_CLOEXEC) == 0);
    if (given >= 0) line += " given=" + std::to_string(::fcntl(given, F_GETFD) >= 0);
    const auto name = ospp::ttyname(ospp::stdin_fd);
    line += " name=" + (name ? *name : errno_token(name.error()));
    const auto fg = ospp::tcgetpgrp(ospp::stdin_fd);
    line += " fg=" + (fg ? std::to_string(*fg == ::getpgrp()) : errno_token(fg.error()));
    return line + " ctty=" + ctty_number();
}

void write_all(int f, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(f, s.data(), s.size());
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// In the parent of a child writing to pipe p: what it wrote, and its wait status (tty.py's collect).
std::pair<std::string, int> collect(const int (&p)[2], ::pid_t pid) {
    ::close(p[1]);
    std::string data;
    char buf[65536];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) data.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return {std::move(data), st};
}

// A regular file, or a descriptor that polls readable (or hung up, in error, closed).
bool readable(int f) {
    struct ::stat st {};
    if (::fstat(f, &st) < 0 || S_ISREG(st.st_mode)) return true;
    ::pollfd p{f, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

struct tty_driver : line_driver {
    using line_driver::line_driver;
    std::vector<long long> pairs_;          // the pty number of each pair made, in order
    std::array<int, slots> master_of_{-1, -1, -1, -1, -1, -1};  // slot -> pair, or -1
    ::pid_t parent_pgrp_ = ::getpgid(::getppid());
    std::array<std::string, slots> held_{};  // what settle read from a pty end, not yet read by the script
    std::array<std::optional<ospp::result<void>>, slots> ended_{};  // end of file, or the error

    std::string pair_token(long long n) const {
        for (auto k = pairs_.size(); k-- > 0;)
            if (pairs_[k] == n) {
                std::string token = "p";  // not "p" + to_string: GCC 12's -O3 -Wrestrict misfires on it
                return token += std::to_string(k);
            }
        return "unknown";
    }

    // Every /dev/pts/N in the lines from `first` on as /dev/pts/pK (tty.py's emit).
    void tokenise(std::size_t first) {
        static const std::regex pts("/dev/pts/([0-9]+)");
        for (auto i = first; i < out_.size(); ++i) {
            const std::string line = out_[i];
            std::string tokens;
            auto from = line.cbegin();
            for (std::sregex_iterator m(line.begin(), line.end(), pts), end; m != end; ++m) {
                tokens.append(from, (*m)[0].first);
                tokens += "/dev/pts/" + pair_token(std::stoll((*m)[1].str()));
                from = (*m)[0].second;
            }
            out_[i] = tokens.append(from, line.cend());
        }
    }

    void place(ospp::fd f, int slot) {
        if (!ospp::dup2(f, ospp::fd_ref(FD0 + slot), false)) std::exit(2);
        f.reset();
        master_of_[slot] = -1;
        held_[slot].clear();
        if (const auto n = pty_number(FD0 + slot); n >= 0) {
            master_of_[slot] = static_cast<int>(pairs_.size());
            pairs_.push_back(n);
        }
    }

    // Reads what every pty end in a slot holds into held_, round after round until two rounds
    // running get nothing (tty.py's settle); a read's error or end of file is kept in ended_ for
    // this operation.
    void settle() {
        ended_.fill(std::nullopt);
        for (int empty = 0; empty < 2;) {
            bool got = false;
            for (std::size_t i = 0; i < slots; ++i) {
                const int f = FD0 + static_cast<int>(i);
                if (ended_[i] || !is_pty(f) || !readable(f)) continue;
                auto chunk = ospp::read(ospp::fd_ref(f), 4096);
                if (!chunk) {
                    ended_[i] = tl::unexpected(std::move(chunk.error()));
                    continue;
                }
                if (chunk->empty()) ended_[i] = ospp::result<void>();
                held_[i] += *chunk;
                got = got || !chunk->empty();
            }
            empty = got ? 0 : empty + 1;
        }
    }

    static bool is_pty(int f) {
        const auto link = link_of(f);
        return link.starts_with("/dev/pts/") || link == "/dev/ptmx" || link == "/dev/tty";  // tty.py's is_pty
    }

    // Whether a slot holds the slave of `pair`.
    bool slave_held(int pair) const {
        const auto name = "/dev/pts/" + std::to_string(pairs_[static_cast<std::size_t>(pair)]);
        for (int i = 0; i < slots; ++i)
            if (link_of(FD0 + i) == name) return true;
        return false;
    }

    // Where /proc/self/fd/f points, or "" for a closed slot.
    static std::string link_of(int f) {
        char target[256];
        const auto proc = "/proc/self/fd/" + std::to_string(f);
        const ssize_t n = ::readlink(proc.c_str(), target, sizeof target - 1);
        return n < 0 ? std::string() : std::string(target, static_cast<std::size_t>(n));
    }

    ::pid_t pgrp(const std::string& t) const {
        if (t == "self") return ::getpgrp();
        if (t == "none") return none_pid;
        if (t == "init") return 1;
        if (t == "parent") return parent_pgrp_;
        return std::stoi(t);
    }

    void run(const std::vector<std::string>& t) {
        settle();
        const auto first = out_.size();
        apply(t);
        tokenise(first);
    }

    void apply(const std::vector<std::string>& t) {
        const auto& op = t[0];
        const int slot = t.size() > 1 && !t[1].empty() && std::isdigit(static_cast<unsigned char>(t[1][0]))
                             ? std::stoi(t[1]) : 0;
        const ospp::fd_ref s(FD0 + slot);
        const auto number = [](auto v) { return std::to_string(v); };
        if (op == "openpty") {
            auto r = ospp::openpty();
            if (r) {
                place(std::move(r->master), slot);
                place(std::move(r->slave), std::stoi(t[2]));
            }
            ok_or_err(r);
        } else if (op == "openpt") {
            auto r = ospp::posix_openpt(static_cast<open_flags>(raw_flags(t[2])));
            if (r) place(std::move(*r), slot);
            ok_or_err(r);
        } else if (op == "grantpt") {
            ok_or_err(ospp::grantpt(s));
        } else if (op == "unlockpt") {
            ok_or_err(ospp::unlockpt(s));
        } else if (op == "ptsname") {
            show(ospp::ptsname(s), [](const std::string& n) { return enc(n); });
        } else if (op == "openpts") {
            if (master_of_[slot] < 0) return emit("ok nomaster");
            const auto path = "/dev/pts/" + std::to_string(pairs_[master_of_[slot]]);
            auto r = ospp::open(path, static_cast<open_flags>(raw_flags(t[3])));
            if (r) place(std::move(*r), std::stoi(t[2]));
            ok_or_err(r);
        } else if (op == "file") {
            auto r = ospp::open("f", open_flags::rdwr | open_flags::creat, 0644);
            if (r) place(std::move(*r), slot);
            ok_or_err(r);
        } else if (op == "pipe") {
            auto r = ospp::pipe();
            if (r) {
                place(std::move(r->read_end), slot);
                place(std::move(r->write_end), std::stoi(t[2]));
            }
            ok_or_err(r);
        } else if (op == "devtty") {  // the controlling terminal (ENXIO: none)
            auto r = ospp::open("/dev/tty", static_cast<open_flags>(raw_flags(t[2])));
            if (r) place(std::move(*r), slot);
            ok_or_err(r);
        } else if (op == "null") {
            auto r = ospp::open("/dev/null", open_flags::rdwr);
            if (r) place(std::move(*r), slot);
            ok_or_err(r);
        } else if (op == "close") {
            master_of_[slot] = -1;
            held_[slot].clear();
            ok_or_err(ospp::close(s));
        } else if (op == "isatty") {
            emit("ok " + boolean(ospp::isatty(s)));
        } else if (op == "ttyname") {
            show(ospp::ttyname(s), [](const std::string& n) { return enc(n); });
        } else if (op == "gts") {
            show(ospp::get_terminal_size(s),
                 [](ospp::terminal_size z) { return std::to_string(z.columns) + "x" + std::to_string(z.lines); });
        } else if (op == "setwinsz") {
            ::winsize w{static_cast<unsigned short>(std::stoul(t[2])), static_cast<unsigned short>(std::stoul(t[3])), 0, 0};
            ok_or_err(fc::ioctl(s, TIOCSWINSZ, std::as_bytes(std::span(&w, 1))));
        } else if (op == "getwinsz") {
            show(fc::ioctl(s, TIOCGWINSZ, std::string(sizeof(::winsize), '\0')), [](const std::string& b) {
                ::winsize w{};
                std::memcpy(&w, b.data(), sizeof w);
                return std::to_string(w.ws_row) + " " + std::to_string(w.ws_col) + " " + std::to_string(w.ws_xpixel) +
                       " " + std::to_string(w.ws_ypixel);
            });
        } else if (op == "fionread") {
            int n = 0;
            show(fc::ioctl<int>(s, FIONREAD, n), [&](int) { return std::to_string(n); });
        } else if (op == "write") {
            // the line discipline of a slave that no slot holds works on the input (and echoes
            // it) when it gets to it: no poll of ours can wait for that
            if (master_of_[slot] >= 0 && !slave_held(master_of_[slot])) return emit("ok noslave");
            const auto d = dec(t[2]);
            show(ospp::write(s, std::as_bytes(std::span(d))), number);
        } else if (op == "read") {
            if (is_pty(s.get())) {  // what settle read, then its error or end of file
                auto& held = held_[slot];
                const auto n = std::min<std::size_t>(std::stoul(t[2]), held.size());
                if (!held.empty()) {
                    emit("ok " + enc(held.substr(0, n)));
                    held.erase(0, n);
                } else if (!ended_[slot]) {
                    emit("ok blocking");
                } else {
                    emit(*ended_[slot] ? "ok ~" : err_line(ended_[slot]->error()));
                }
                return;
            }
            if (!readable(s.get())) return emit("ok blocking");
            show(ospp::read(s, std::stoul(t[2])), [](const std::string& b) { return enc(b); });
        } else if (op == "sctty") {
            show(fc::ioctl(s, TIOCSCTTY, std::stol(t[2])), number);
        } else if (op == "notty") {
            show(fc::ioctl(s, TIOCNOTTY, 0), number);
        } else if (op == "tcgetpgrp") {
            show(ospp::tcgetpgrp(s), [](::pid_t g) { return std::string(g == ::getpgrp() ? "self" : g == 0 ? "0" : "other"); });
        } else if (op == "tcsetpgrp") {
            ok_or_err(ospp::tcsetpgrp(s, pgrp(t[2])));
        } else if (op == "ctermid") {
            emit("ok " + enc(ospp::ctermid()));
        } else if (op == "login" || op == "steal") {
            login(s.get(), op == "steal");
        } else if (op == "hupchild") {
            hupchild(slot);
        } else if (op == "forkpty") {
            auto r = ospp::forkpty();
            if (r && r->process.is_child()) {
                write_all(1, describe_terminal() + "\n");
                ::_exit(0);
            }
            if (!r) return ok_or_err(r);
            int st = 0;
            ::waitpid(r->process.pid(), &st, 0);
            place(std::move(r->master), slot);
            emit("ok status " + hex(st));
        } else {
            std::cerr << "tty.cpp: unknown operation " << op << '\n';
            std::exit(2);
        }
    }

    static std::string hex(int v) {
        char b[16];
        std::snprintf(b, sizeof b, "%x", static_cast<unsigned>(v));
        return b;
    }

    // ospp::login_tty(slot) in a child; its report (or error) comes back over a pipe.
    // tty.py's login: ospp::login_tty(slot), or (steal) setsid and TIOCSCTTY with 1, in a child.
    void login(int s, bool steal) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) std::exit(2);
        const ::pid_t pid = ::fork();
        if (pid == 0) {
            ::close(p[0]);
            if (steal) {
                ::setsid();
                const auto r = fc::ioctl(ospp::fd_ref(s), TIOCSCTTY, 1);
                write_all(p[1], r ? std::to_string(*r) + " " + describe_terminal() : err_line(r.error()));
            } else {
                const auto r = ospp::login_tty(ospp::fd(s));
                write_all(p[1], r ? describe_terminal(s) : err_line(r.error()));
            }
            ::_exit(0);
        }
        const auto [data, st] = collect(p, pid);
        emit("ok " + data + " status " + hex(st));
    }

    // tty.py's hupchild: a child with SIGHUP unblocked waits while the slot is closed.
    void hupchild(int slot) {
        int ready[2], go[2];
        if (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(go, O_CLOEXEC) < 0) std::exit(2);
        const ::pid_t pid = ::fork();
        if (pid == 0) {
            ::close(ready[0]);
            ::close(go[1]);
            sigset_t hup;
            sigemptyset(&hup);
            sigaddset(&hup, SIGHUP);
            ::sigprocmask(SIG_UNBLOCK, &hup, nullptr);
            write_all(ready[1], "x");
            char c;
            (void)!::read(go[0], &c, 1);
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(go[0]);
        char c;
        (void)!::read(ready[0], &c, 1);
        ::close(ready[0]);
        master_of_[slot] = -1;
        held_[slot].clear();
        const auto r = ospp::close(ospp::fd_ref(FD0 + slot));
        ::close(go[1]);
        int st = 0;
        ::waitpid(pid, &st, 0);
        emit("ok " + (r ? std::string("closed") : err_line(r.error())) + " status " + hex(st));
    }

    void dump() {
        settle();
        const auto first = out_.size();
        for (int i = 0; i < slots; ++i) emit("slot " + std::to_string(i) + " " + describe(FD0 + i));
        sigset_t pending;
        ::sigpending(&pending);
        std::string shown;
        for (const int g : blocked)
            if (sigismember(&pending, g)) shown += (shown.empty() ? "" : ",") + std::to_string(g);
        emit("ctty " + ctty_number() + " pending " + (shown.empty() ? "-" : shown));
        tokenise(first);
    }

    std::string describe(int f) const {
        const std::string link = link_of(f);
        if (link.empty()) return "closed";
        std::string kind;
        if (link == "/dev/ptmx" || link == "/dev/pts/ptmx") {
            const auto num = pty_number(f);
            kind = num >= 0 ? "master:/dev/pts/" + std::to_string(num) : "ptmx";
        } else if (link.starts_with("/dev/pts/")) {
            kind = "slave:" + link;
        } else if (link == "/dev/tty") {
            kind = "devtty";
        } else if (link == "/dev/null") {
            kind = "null";
        } else if (link.starts_with("pipe:")) {
            kind = "pipe";
        } else {
            kind = "file";
        }
        std::string line = kind + " tty=" + std::to_string(ospp::isatty(ospp::fd_ref(f)));
        const auto w = fc::ioctl(ospp::fd_ref(f), TIOCGWINSZ, std::string(sizeof(::winsize), '\0'));
        if (w) {
            ::winsize ws{};
            std::memcpy(&ws, w->data(), sizeof ws);
            line += " winsz=" + std::to_string(ws.ws_row) + "," + std::to_string(ws.ws_col);
        } else {
            line += " winsz=" + errno_token(w.error());
        }
        int inq = 0;
        const auto q = fc::ioctl<int>(ospp::fd_ref(f), FIONREAD, inq);
        line += " inq=" + (q ? std::to_string(inq) : errno_token(q.error()));
        if (kind == "file" || kind == "null") return line;
        if (kind.starts_with("master") || kind.starts_with("slave") || kind == "ptmx" || kind == "devtty") {
            const auto i = static_cast<std::size_t>(f - FD0);
            const auto& end = ended_[i];
            return line + " data=" + enc(held_[i]) + " end=" + (!end ? "-" : *end ? "eof" : errno_token(end->error()));
        }
        std::string data, end = "-";
        for (int i = 0; i < 16 && readable(f); ++i) {
            const auto chunk = ospp::read(ospp::fd_ref(f), 4096);
            if (!chunk) {
                end = errno_token(chunk.error());
                break;
            }
            if (chunk->empty()) {
                end = "eof";
                break;
            }
            data += *chunk;
        }
        return line + " data=" + enc(data) + " end=" + end;
    }
};

[[noreturn]] void script_process(std::istream& script, int out_fd) {
    ::setsid();
    sigset_t set;
    sigemptyset(&set);
    for (const int g : blocked) sigaddset(&set, g);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // as Python: a write with no reader is EPIPE
    ::alarm(watchdog_seconds);
    std::vector<std::string> lines;
    tty_driver d(lines);
    apply_script(script, lines, d);
    d.dump();
    std::string all;
    for (const auto& l : lines) (all += l) += '\n';
    write_all(out_fd, all);
    ::_exit(0);
}

}  // namespace

void run_tty_script(std::istream& script, std::vector<std::string>& out) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) std::exit(2);
    std::cout.flush();
    const ::pid_t pid = ::fork();
    if (pid < 0) std::exit(2);
    if (pid == 0) {
        ::close(p[0]);
        script_process(script, p[1]);
    }
    auto [data, st] = collect(p, pid);
    if (st != 0) data += "script process: status " + tty_driver::hex(st) + "\n";
    std::istringstream lines(data);
    for (std::string l; std::getline(lines, l);)
        if (!l.empty()) out.push_back(l);
}

}  // namespace differential
