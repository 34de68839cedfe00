// test/differential/locks.cpp — the ospp side of the locks domain (see run.py): file locks of every
// kind — POSIX record locks (get_lock, set_lock, set_lock_wait), OFD locks (ofd_*), flock, Python's
// fcntl.lockf (fcntl::lockf) and os.lockf (ospp::lockf) — taken by this process and by a child of
// it on the same two files. locks.py does the same with Python's fcntl and os and must print the
// same lines.
//
// Descriptor slot i is the number FD0 + i, in each of the two processes. The child is forked at
// the start of the script, and again by "fork" (the old one told to go and reaped first: the new
// one starts with the parent's slots, sharing their open file descriptions), and runs the
// operations prefixed "c", one at a time, sent over a pipe; its lines come back over another and
// are printed in their place. Pids
// in answers are tokens: "parent", "child", or -1 (an OFD lock's). Nothing may block: a waiting
// form is made only when the matching F_GETLK / F_OFD_GETLK finds no conflict (else "blocking").
// At the end the guards still held are released; the dump: each process's slots, then each
// file's lock table as a forked prober sees it (F_OFD_GETLK over a grid of bytes, and whether a
// flock could be taken); then the child is told to go (its pipe closed) and reaped.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ospp/fcntl.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/process.hpp"
#include "ospp/stat.hpp"
#include "ospp/wait.hpp"

#include "common.hpp"

namespace differential {
namespace {

namespace fc = ospp::fcntl;
using ospp::open_flags;

constexpr int FD0 = 40;
constexpr int slots = 6;
const char* const names[] = {"f", "g"};

// The pids the lines name, as tokens: the same in both processes and both drivers.
struct pids {
    ::pid_t parent = 0;
    ::pid_t child = 0;
    [[nodiscard]] std::string token(::pid_t p) const {
        if (p == parent) return "parent";
        if (p == child) return "child";
        return std::to_string(p);  // -1 for an OFD lock; anything else is a difference
    }
};

// The child's end of things: the pipes a command goes out on and its lines come back on.
struct child_link {
    ospp::fd commands;  // the parent's write end
    ospp::fd replies;   // the parent's read end
    std::string pending;
};

// Lines from a pipe: reads into `buf` until it holds a '\n'; nullopt at the end or on an error.
std::optional<std::string> read_line(ospp::fd_ref f, std::string& buf) {
    for (;;) {
        const auto nl = buf.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            return line;
        }
        auto r = ospp::read(f, 4096);
        if (!r || r->empty()) return std::nullopt;
        buf += *r;
    }
}

class locks_driver : public line_driver {
public:
    locks_driver(std::vector<std::string>& out, pids p) : line_driver(out), pids_(p) {}
    pids pids_;
    std::optional<child_link> child_;  // in the parent, while the child runs
    std::map<int, fc::record_lock_guard> guards_;  // by slot
    std::map<int, fc::flock_guard> flock_guards_;  // by slot

    static ospp::fd_ref slot(const std::string& s) { return ospp::fd_ref(FD0 + std::stoi(s)); }

    static void place(ospp::fd f, const std::string& s) {
        must(ospp::dup2(f, slot(s), false).map([](ospp::fd_ref) {}));
    }

    std::string lock_line(const std::optional<fc::record_lock>& l) const {
        if (!l) return "none";
        return std::to_string(static_cast<int>(l->type)) + " " + std::to_string(static_cast<int>(l->whence)) + " " +
               std::to_string(l->start) + " " + std::to_string(l->len) + " " + pids_.token(l->pid);
    }

    // A waiting form, made only when the query finds no conflict: "blocking" otherwise. A query
    // that fails (a bad descriptor, type, whence or range) fails the waiting form the same way
    // before it could wait, so the waiting form is made then.
    template <class Query, class Wait>
    void wait_unless_conflict(bool unlock, Query query, Wait wait) {
        if (!unlock) {
            const auto q = query();
            if (q && q->has_value()) return emit("blocking");
        }
        ok_or_err(wait());
    }

    // Unlocks and drops the guard of slot `s` (unlock(): the error is reported, not ignored).
    template <class Guards>
    void unguard(Guards& guards, const std::string& s) {
        const auto g = guards.find(std::stoi(s));
        if (g == guards.end()) return emit("no guard");
        ok_or_err(g->second.unlock());
        guards.erase(g);
    }

    void run(const std::vector<std::string>& t) {
        if (t[0] == "c") return in_child(t);
        if (t[0] == "fork") {
            // a new child, which starts with this process's slots (sharing their open file
            // descriptions, and so their OFD and flock locks, but none of its POSIX locks)
            stop_child();
            start_child();
            return emit("ok");
        }
        const std::string& op = t[0];
        const std::vector<std::string> a(t.begin() + 1, t.end());
        const auto num = [&](std::size_t i) { return std::stoll(a.at(i)); };
        const ospp::fd_ref f = slot(a.at(0));
        // type whence start len, from argument i on
        const auto lock = [&](std::size_t i) {
            return fc::record_lock{fc::lock_type(static_cast<short>(num(i))), fc::whence(static_cast<short>(num(i + 1))),
                                   num(i + 2), num(i + 3), 0};
        };
        if (op == "open") {
            const open_flags access = a[2] == "R" ? open_flags::rdwr : a[2] == "w" ? open_flags::wronly : open_flags::rdonly;
            auto r = ospp::open(a[1], access | open_flags::creat, 0644);
            if (r) place(std::move(*r), a[0]);
            ok_or_err(r);
        } else if (op == "close") {
            ok_or_err(ospp::close(f));
        } else if (op == "dup") {
            auto r = ospp::dup(f);
            if (r) place(std::move(*r), a[1]);
            ok_or_err(r);
        } else if (op == "lseek") {
            show(ospp::lseek(f, num(1), ospp::whence(num(2))), [](::off_t n) { return std::to_string(n); });
        } else if (op == "ftruncate") {
            ok_or_err(ospp::ftruncate(f, num(1)));
        } else if (op == "getlk") {
            show(fc::get_lock(f, lock(1)), [&](const auto& l) { return lock_line(l); });
        } else if (op == "ofdgetlk") {
            show(fc::ofd_get_lock(f, lock(1)), [&](const auto& l) { return lock_line(l); });
        } else if (op == "setlk") {
            ok_or_err(fc::set_lock(f, lock(1)));
        } else if (op == "ofdsetlk") {
            ok_or_err(fc::ofd_set_lock(f, lock(1)));
        } else if (op == "setlkw") {
            const auto l = lock(1);
            wait_unless_conflict(l.type == fc::lock_type::unlock, [&] { return fc::get_lock(f, l); },
                                 [&] { return fc::set_lock_wait(f, l); });
        } else if (op == "ofdsetlkw") {
            const auto l = lock(1);
            wait_unless_conflict(l.type == fc::lock_type::unlock, [&] { return fc::ofd_get_lock(f, l); },
                                 [&] { return fc::ofd_set_lock_wait(f, l); });
        } else if (op == "flock") {
            ok_or_err(fc::flock(f, fc::lock_op(static_cast<int>(num(1)))));
        } else if (op == "lockf") {
            // fcntl.lockf(fd, cmd, len, start, whence); without LOCK_NB it waits (F_SETLKW): the
            // query is F_GETLK of the type CPython picks (exactly LOCK_UN unlocks, then SH, then EX)
            const auto cmd = fc::lock_op(static_cast<int>(num(1)));
            const auto len = num(2);
            const auto start = num(3);
            const auto wh = fc::whence(static_cast<short>(num(4)));
            const bool waits = !ospp::has(cmd, fc::lock_op::nb) && cmd != fc::lock_op::un &&
                               (ospp::has(cmd, fc::lock_op::sh) || ospp::has(cmd, fc::lock_op::ex));
            const auto type = ospp::has(cmd, fc::lock_op::sh) ? fc::lock_type::read : fc::lock_type::write;
            wait_unless_conflict(!waits, [&] { return fc::get_lock(f, {type, wh, start, len, 0}); },
                                 [&] { return fc::lockf(f, cmd, len, start, wh); });
        } else if (op == "oslockf") {
            // os.lockf(fd, cmd, len): F_LOCK waits (F_SETLKW of a write lock from the offset)
            const auto cmd = ospp::lockf_command(static_cast<int>(num(1)));
            const auto len = num(2);
            wait_unless_conflict(cmd != ospp::lockf_command::lock,
                                 [&] { return fc::get_lock(f, {fc::lock_type::write, fc::whence::cur, 0, len, 0}); },
                                 [&] { return ospp::lockf(f, cmd, len); });
        } else if (op == "raw") {
            // fcntl.fcntl(fd, cmd, struct.pack(...)[:size]) (size 0: the int 0, a null pointer):
            // the answer zero-padded to a whole struct flock, its pid as a token
            const int cmd = static_cast<int>(num(1));
            const auto size = static_cast<std::size_t>(num(2));
            if (size == 0) return show(fc::fcntl(f, cmd, 0), [](int v) { return std::to_string(v); });
            struct ::flock c;
            std::memset(&c, 0, sizeof c);
            c.l_type = static_cast<short>(num(3));
            c.l_whence = static_cast<short>(num(4));
            c.l_start = num(5);
            c.l_len = num(6);
            c.l_pid = static_cast<::pid_t>(num(7));
            show(fc::fcntl(f, cmd, std::string_view(reinterpret_cast<const char*>(&c), size)), [&](const std::string& b) {
                struct ::flock back;
                std::memset(&back, 0, sizeof back);
                std::memcpy(&back, b.data(), std::min(b.size(), sizeof back));
                return std::to_string(back.l_type) + " " + std::to_string(back.l_whence) + " " +
                       std::to_string(back.l_start) + " " + std::to_string(back.l_len) + " " + pids_.token(back.l_pid);
            });
        } else if (op == "guard") {
            // a record_lock_guard kept for the slot (waiting only when the query finds no
            // conflict); one it replaces unlocks after the new one is taken (the move assignment)
            const bool ofd = a.at(5) == "1";
            const bool wait = a.at(6) == "1";
            if (wait && num(1) != F_UNLCK) {
                const auto q = ofd ? fc::ofd_get_lock(f, lock(1)) : fc::get_lock(f, lock(1));
                if (q && q->has_value()) return emit("blocking");
            }
            auto r = fc::record_lock_guard::lock(f, lock(1), {.ofd = ofd, .wait = wait});
            show(r, [](const fc::record_lock_guard& g) {
                return std::to_string(g.range().start) + " " + std::to_string(g.range().len);
            });
            if (r) guards_.insert_or_assign(std::stoi(a[0]), std::move(*r));
        } else if (op == "unguard") {
            unguard(guards_, a[0]);
        } else if (op == "fguard") {
            auto r = fc::flock_guard::lock(f, fc::lock_op(static_cast<int>(num(1))));
            ok_or_err(r);
            if (r) flock_guards_.insert_or_assign(std::stoi(a[0]), std::move(*r));
        } else if (op == "funguard") {
            unguard(flock_guards_, a[0]);
        } else if (op == "slots") {
            dump_slots();
        } else if (op == "release") {
            release_guards();
        } else {
            std::cerr << "unknown locks op " << op << '\n';
            std::exit(2);
        }
    }

    // Each slot: closed, or its file, access mode and offset.
    void dump_slots() {
        for (int i = 0; i < slots; ++i) {
            const ospp::fd_ref f(FD0 + i);
            const auto st = ospp::fstat(f);
            if (!st) {
                emit("slot " + std::to_string(i) + " closed");
                continue;
            }
            std::string name = "?";
            for (const char* n : names) {
                const auto s = ospp::stat(n);
                if (s && s->st_ino == st->st_ino && s->st_dev == st->st_dev) name = n;
            }
            const auto acc = fc::get_status_flags(f).value() & open_flags::accmode;
            emit("slot " + std::to_string(i) + " " + name + " acc=" + std::to_string(ospp::to_raw(acc)) +
                 " off=" + std::to_string(ospp::lseek(f, 0, ospp::whence::cur).value()));
        }
    }

    // ---- the child ----

    // Forks the child, which applies the commands it is sent until its pipe closes.
    void start_child() {
        auto commands = ospp::pipe().value();
        auto replies = ospp::pipe().value();
        const auto forked = ospp::fork().value();
        if (forked.is_child()) {
            commands.write_end.reset();
            replies.read_end.reset();
            serve(commands.read_end, replies.write_end, {pids_.parent, ::getpid()});
        }
        pids_.child = forked.pid();
        child_ = child_link{std::move(commands.write_end), std::move(replies.read_end), {}};
    }

    // The child's loop: one command line in, its lines out, then ".".
    [[noreturn]] static void serve(ospp::fd_ref commands, ospp::fd_ref replies, pids p) {
        std::string buf;
        std::vector<std::string> out;
        locks_driver d(out, p);  // one for all the commands: it keeps the child's guards
        while (auto line = read_line(commands, buf)) {
            out.clear();
            d.run(split(*line));
            std::string reply;
            for (const auto& l : out) (reply += l) += '\n';
            reply += ".\n";
            if (!ospp::write_all(replies, reply)) ::_exit(3);
        }
        ::_exit(0);
    }

    // "c op ...": the child's lines for op, or "child gone" if it does not answer.
    void in_child(const std::vector<std::string>& t) {
        std::string line;
        for (std::size_t i = 1; i < t.size(); ++i) (line += t[i]) += i + 1 < t.size() ? " " : "\n";
        if (!child_ || !ospp::write_all(child_->commands, line)) return emit("child gone");
        while (auto l = read_line(child_->replies, child_->pending)) {
            if (*l == ".") return;
            emit(*l);
        }
        emit("child gone");
    }

    // Tells the child to go (closes its pipe) and reaps it.
    void stop_child() {
        if (!child_) return;
        child_.reset();
        const auto st = ospp::waitpid(pids_.child).value();
        if (!st.status.exited() || st.status.exit_code() != 0) emit("child ended badly");
        pids_.child = 0;
    }

    // Each file's lock table as a third process sees it: a prober forked now (it holds no POSIX
    // lock, and probes through a fresh open file description of its own) asks F_OFD_GETLK for a
    // write lock and a read lock of each byte of the grid, and prints each run of bytes with the
    // same answer; then whether it could take a flock shared or exclusive. (Not /proc/locks: it
    // lists every lock of the system, and one read of it takes a page, so other processes' locks
    // coming and going between reads shift the lines ours are among.)
    void dump_locks() {
        auto p = ospp::pipe().value();
        const auto forked = ospp::fork().value();
        if (forked.is_child()) {
            p.read_end.reset();
            std::vector<std::string> out;
            locks_driver d(out, pids_);
            for (const char* n : names) d.probe(n);
            std::string all;
            for (const auto& l : out) (all += l) += '\n';
            ::_exit(ospp::write_all(p.write_end, all) ? 0 : 3);
        }
        p.write_end.reset();
        std::string buf;
        while (auto l = read_line(p.read_end, buf)) emit(*l);
        const auto st = ospp::waitpid(forked.pid()).value();
        if (!st.status.exited() || st.status.exit_code() != 0) emit("prober ended badly");
    }

    // The prober's lines for one file.
    void probe(const char* name) {
        const auto f = ospp::open(name, open_flags::rdonly);
        if (!f) return emit(std::string(name) + " " + err_line(f.error()));
        for (const auto type : {fc::lock_type::write, fc::lock_type::read}) {
            std::string last;
            ::off_t first = 0;
            ::off_t prev = 0;
            const auto flush = [&] {
                if (!last.empty()) emit("probe " + std::string(name) + " " + std::to_string(static_cast<int>(type)) + " " +
                                        std::to_string(first) + "-" + std::to_string(prev) + " " + last);
            };
            for (const ::off_t at : probe_points()) {
                auto r = fc::ofd_get_lock(*f, {type, fc::whence::set, at, 1, 0});
                const std::string answer = r ? lock_line(*r) : err_line(r.error());
                if (answer != last) {
                    flush();
                    last = answer;
                    first = at;
                }
                prev = at;
            }
            flush();
        }
        const auto shared = fc::flock(*f, fc::lock_op::sh | fc::lock_op::nb);
        const auto exclusive = fc::flock(*f, fc::lock_op::ex | fc::lock_op::nb);
        emit("probe " + std::string(name) + " flock sh=" + (shared ? "ok" : std::to_string(shared.error().code())) +
             " ex=" + (exclusive ? "ok" : std::to_string(exclusive.error().code())));
    }

    // The bytes probed: every one up to past the largest start and length the scripts use, and
    // a few far ones (a lock to EOF, or ending near the largest offset).
    static std::vector<::off_t> probe_points() {
        std::vector<::off_t> at;
        for (::off_t i = 0; i <= 210; ++i) at.push_back(i);
        for (const ::off_t far : {1000LL, 1LL << 40, (1LL << 62) - 1, 1LL << 62, (1LL << 62) + 9, 0x7fffffffffffffffLL - 10,
                                   0x7fffffffffffffffLL - 1}) {
            at.push_back(far);
        }
        return at;
    }

    // Unlocks the guards still held, in slot order, record guards first.
    void release_guards() {
        while (!guards_.empty()) run({"unguard", std::to_string(guards_.begin()->first)});
        while (!flock_guards_.empty()) run({"funguard", std::to_string(flock_guards_.begin()->first)});
    }

    void close_slots() {
        for (int i = 0; i < slots; ++i) (void)ospp::close(ospp::fd_ref(FD0 + i));
    }
};

}  // namespace

void run_locks_script(std::istream& script, std::vector<std::string>& out) {
    locks_driver d(out, {::getpid(), 0});
    d.start_child();
    apply_script(script, out, d);
    d.emit("guards:");
    d.release_guards();
    d.in_child({"c", "release", "0"});
    d.emit("parent:");
    d.dump_slots();
    d.emit("child:");
    d.in_child({"c", "slots", "0"});
    d.dump_locks();
    d.stop_child();
    d.close_slots();
}

}  // namespace differential
