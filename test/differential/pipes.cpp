// test/differential/pipes.cpp — the ospp side of the pipes domain (see run.py): pipe ends and
// other special descriptors (eventfd, memfd, a regular file). pipes.py does the same with Python's
// os and fcntl and must print the same lines.
//
// Descriptor slot i is the number FD0 + i in both drivers, as in fdio. Nothing may block: an
// operation that could (a read, write, splice, sendfile, eventfd read or write) is skipped with
// the line "blocking" when a slot it names is neither a regular file nor non-blocking.
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ospp/fcntl.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/signal_state.hpp"
#include "ospp/special_fds.hpp"
#include "ospp/stat.hpp"

#include "common.hpp"

namespace differential {
namespace {

namespace fc = ospp::fcntl;
using ospp::open_flags;

constexpr int FD0 = 40;
constexpr int slots = 6;
constexpr std::size_t shown_whole = 32;  // bytes shown whole; longer ones as length, hash and head
constexpr std::size_t drain_limit = 4 << 20;  // the most bytes the dump takes out of a pipe or reads of a file

// The bytes of a *N data token (pipes.py's pattern).
std::string pattern(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
    return out;
}

std::string data(const std::string& token) {
    return token.starts_with('*') ? pattern(std::stoul(token.substr(1))) : dec(token);
}

// CRC-32 as zlib's (pipes.py uses zlib.crc32: a hash in Python itself is too slow for the MiB a
// pipe may hold).
std::uint32_t crc32(std::string_view b) {
    std::uint32_t c = 0xffffffff;
    for (const char ch : b) {
        c ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1U)));
    }
    return ~c;
}

// Bytes whole, or as length, CRC-32 and the first 8.
std::string shown(std::string_view b) {
    if (b.size() <= shown_whole) return enc(b);
    char h[64];
    std::snprintf(h, sizeof h, "%zu:%08x:", b.size(), static_cast<unsigned>(crc32(b)));
    return h + enc(b.substr(0, 8));
}

std::string hex(unsigned long long v) {
    char h[32];
    std::snprintf(h, sizeof h, "%llx", v);
    return h;
}

std::string count(std::size_t n) { return std::to_string(n); }

class pipes_driver : public line_driver {
public:
    using line_driver::line_driver;

    static ospp::fd_ref slot(const std::string& s) { return ospp::fd_ref(FD0 + std::stoi(s)); }

    // Moves a new descriptor into slot `s` (closing what the slot held).
    static void place(ospp::fd f, const std::string& s) {
        must(ospp::dup2(f, slot(s), false).map([](ospp::fd_ref) {}));
    }
    // A pipe's ends into two slots, the read end first (so that "pipe2 5 5" keeps the write end).
    static void place(ospp::pipe_fds p, const std::string& r, const std::string& w) {
        place(std::move(p.read_end), r);
        place(std::move(p.write_end), w);
    }

    // Neither a regular file nor non-blocking (a closed slot fails at once: EBADF).
    static bool could_block(ospp::fd_ref f) {
        const auto st = ospp::fstat(f);
        if (!st || ospp::s_isreg(st->st_mode)) return false;
        const auto fl = fc::get_status_flags(f);
        return fl && !ospp::has(*fl, open_flags::nonblock);
    }

    // readv/preadv: the total, then the bytes the buffers got, in order.
    void read_into(const std::string& sizes, auto call) {
        show(read_buffers(sizes, call),
             [](const std::string& got) { return std::to_string(got.size()) + " " + shown(got); });
    }

    void run(const std::vector<std::string>& t) {
        const std::string& op = t[0];
        const std::vector<std::string> a(t.begin() + 1, t.end());
        const auto num = [&](std::size_t i) { return std::stoll(a.at(i)); };
        const auto unum = [&](std::size_t i) { return std::stoull(a.at(i)); };
        const ospp::fd_ref f = slot(a.at(0));
        const bool two = op == "splice" || op == "sendfile";
        const bool blocks = op == "read" || op == "write" || op == "readv" || op == "writev" || op == "preadv" ||
                            op == "pwritev" || op == "efdread" || op == "efdwrite" || op == "readall" || two;
        if (blocks && (could_block(f) || (two && could_block(slot(a.at(1)))))) return emit("blocking");
        // the data of writev/pwritev: decoded tokens, and views of them
        std::vector<std::string> bufs;
        std::vector<std::string_view> views;
        if (op == "writev" || op == "pwritev") {
            for (const auto& d : list(a[1])) bufs.push_back(data(d));
            views.assign(bufs.begin(), bufs.end());
        }
        if (op == "pipe") {
            auto r = ospp::pipe();
            if (r) place(std::move(*r), a[0], a[1]);
            ok_or_err(r);
        } else if (op == "pipe2") {
            auto r = ospp::pipe2(open_flags(num(2)));
            if (r) place(std::move(*r), a[0], a[1]);
            ok_or_err(r);
        } else if (op == "eventfd") {
            auto r = ospp::eventfd(static_cast<unsigned>(unum(1)), ospp::eventfd_flags(num(2)));
            if (r) place(std::move(*r), a[0]);
            ok_or_err(r);
        } else if (op == "memfd") {
            auto r = ospp::memfd_create(dec(a[1]), ospp::memfd_flags(unum(2)));
            if (r) place(std::move(*r), a[0]);
            ok_or_err(r);
        } else if (op == "file") {
            const auto flags = a[1] == "Rc"  ? open_flags::rdwr | open_flags::creat
                               : a[1] == "r" ? open_flags::rdonly
                                             : open_flags::wronly | open_flags::append;
            auto r = ospp::open("f", flags, 0644);
            if (r) place(std::move(*r), a[0]);
            ok_or_err(r);
        } else if (op == "close") {
            ok_or_err(ospp::close(f));
        } else if (op == "read") {
            show(ospp::read(f, static_cast<std::size_t>(unum(1))), shown);  // -1: SIZE_MAX
        } else if (op == "write") {
            show(ospp::write(f, data(a[1])), count);
        } else if (op == "readall") {
            // an eventfd never ends: in semaphore mode each read takes 1 from up to 2^64-2; a
            // splice at offset 2^62 makes a sparse file of 4 EiB (pipes.py alike)
            const auto st = ospp::fstat(f);
            if (ospp::readlink("/proc/self/fd/" + std::to_string(f.get())).value_or("") == "anon_inode:[eventfd]") {
                return emit("not on an eventfd");
            }
            if (st && ospp::s_isreg(st->st_mode) && static_cast<std::size_t>(st->st_size) > drain_limit) {
                return emit("too big");
            }
            show(ospp::read_all(f), shown);
        } else if (op == "readv") {
            read_into(a[1], [&](auto spans) { return ospp::readv(f, spans); });
        } else if (op == "preadv") {
            read_into(a[1], [&](auto spans) { return ospp::preadv(f, spans, num(2)); });
        } else if (op == "writev") {
            show(ospp::writev(f, std::span<const std::string_view>(views)), count);
        } else if (op == "pwritev") {
            show(ospp::pwritev(f, std::span<const std::string_view>(views), num(2)), count);
        } else if (op == "pread") {
            show(ospp::pread(f, static_cast<std::size_t>(num(1)), num(2)), shown);
        } else if (op == "pwrite") {
            show(ospp::pwrite(f, data(a[1]), num(2)), count);
        } else if (op == "lseek") {
            show(ospp::lseek(f, num(1), ospp::whence(num(2))), [](::off_t n) { return std::to_string(n); });
        } else if (op == "ftruncate") {
            ok_or_err(ospp::ftruncate(f, num(1)));
        } else if (op == "fsync") {
            ok_or_err(ospp::fsync(f));
        } else if (op == "fallocate") {
            ok_or_err(ospp::posix_fallocate(f, num(1), num(2)));
        } else if (op == "fadvise") {
            ok_or_err(ospp::posix_fadvise(f, num(1), num(2), ospp::fadvise_advice(num(3))));
        } else if (op == "splice") {
            show(ospp::splice(f, slot(a[1]), unum(2), opt(a[3]), opt(a[4]), ospp::splice_flags(unum(5))), count);
        } else if (op == "sendfile") {
            show(ospp::sendfile(f, slot(a[1]), opt(a[2]), unum(3)), count);
        } else if (op == "cfr") {
            show(ospp::copy_file_range(f, slot(a[1]), unum(2)), count);
        } else if (op == "getpipesz") {
            show(fc::get_pipe_size(f), count);
        } else if (op == "setpipesz") {
            show(fc::set_pipe_size(f, static_cast<std::size_t>(num(1))), count);
        } else if (op == "getfl") {
            show(fc::get_status_flags(f), [](open_flags v) { return hex(static_cast<unsigned>(ospp::to_raw(v))); });
        } else if (op == "setfl") {
            // O_DIRECT: packet mode on pipes only (pipes.py alike; a file's O_DIRECT read depends
            // on where each driver's buffer lies in memory)
            const auto st = ospp::fstat(f);
            if (ospp::has(open_flags(num(1)), open_flags::direct) && st && ospp::s_isreg(st->st_mode)) {
                return emit("direct: not on a file");
            }
            ok_or_err(fc::set_status_flags(f, open_flags(num(1))));
        } else if (op == "getblk") {
            show(ospp::get_blocking(f), boolean);
        } else if (op == "setblk") {
            ok_or_err(ospp::set_blocking(f, a[1] == "1"));
        } else if (op == "getinh") {
            show(ospp::get_inheritable(f), boolean);
        } else if (op == "setinh") {
            ok_or_err(ospp::set_inheritable(f, a[1] == "1"));
        } else if (op == "dupfd") {
            // a slot number comes out when it is free; any other is closed again
            auto r = fc::dupfd(f, static_cast<int>(num(1)));
            show(r, [](const ospp::fd& n) { return std::to_string(n.get()); });
            if (r && r->get() < FD0 + slots) (void)r->release();
        } else if (op == "fionread") {
            int n = 0;
            show(fc::ioctl<int>(f, FIONREAD, n), [&](int) { return std::to_string(n); });
        } else if (op == "efdread") {
            show(ospp::eventfd_read(f), [](std::uint64_t v) { return std::to_string(v); });
        } else if (op == "efdwrite") {
            ok_or_err(ospp::eventfd_write(f, unum(1)));
        } else if (op == "addseals") {
            ok_or_err(fc::add_seals(f, fc::seals(num(1))));
        } else if (op == "getseals") {
            show(fc::get_seals(f), [](fc::seals v) { return std::to_string(ospp::to_raw(v)); });
        } else if (op == "fstat") {
            show(ospp::fstat(f), [](const ospp::stat_result& st) {
                return "mode=" + octal(st.st_mode) + " size=" + std::to_string(st.st_size) +
                       " nlink=" + std::to_string(st.st_nlink);
            });
        } else if (op == "isatty") {
            emit("ok " + boolean(ospp::isatty(f)));
        } else if (op == "dup") {
            auto r = ospp::dup(f);
            if (r) place(std::move(*r), a[1]);
            ok_or_err(r);
        } else if (op == "dup2") {
            show(ospp::dup2(f, slot(a[1]), a[2] == "1"), [](ospp::fd_ref n) { return std::to_string(n.get()); });
        } else {
            std::cerr << "unknown pipes op " << op << '\n';
            std::exit(2);
        }
    }

    // Each slot: its type and permission bits, status and fd flags, what /proc names it, the
    // pipe's size and the bytes it holds (drained from a read end), a file's size, bytes and
    // seals, an eventfd's count; closes the slots.
    void dump() {
        for (int i = 0; i < slots; ++i) {
            const ospp::fd_ref f(FD0 + i);
            const auto st = ospp::fstat(f);
            if (!st) {
                emit("slot " + std::to_string(i) + " closed");
                continue;
            }
            const auto fl = fc::get_status_flags(f).value();
            const ::mode_t mode = st->st_mode;
            std::string line = "slot " + std::to_string(i) + " type=" + octal(mode & S_IFMT) +
                               " perm=" + octal(mode & 07777) + " fl=" + hex(static_cast<unsigned>(ospp::to_raw(fl))) +
                               " fd=" + hex(static_cast<unsigned>(ospp::to_raw(fc::get_fd_flags(f).value())));
            const std::string proc = "/proc/self/fd/" + std::to_string(f.get());
            const std::string link = ospp::readlink(proc).value();
            if (link.starts_with("pipe:")) {
                line += " pipe size=" + count(fc::get_pipe_size(f).value());
                if ((fl & open_flags::accmode) == open_flags::rdonly) {
                    must(fc::set_status_flags(f, fl | open_flags::nonblock));
                    std::string held;
                    while (held.size() < drain_limit) {
                        auto b = ospp::read(f, 65536);
                        if (!b || b->empty()) break;
                        held += *b;
                    }
                    line += " held=" + shown(held);
                }
            } else if (link.starts_with("anon_inode:")) {
                line += " " + enc(link);
                std::ifstream info("/proc/self/fdinfo/" + std::to_string(f.get()));
                for (std::string l; std::getline(info, l);) {
                    if (!l.starts_with("eventfd-count:")) continue;
                    line += " count=" + hex(std::stoull(l.substr(14), nullptr, 16));
                }
            } else if (ospp::s_isreg(mode)) {
                line += " " + (link.starts_with("/memfd:") ? enc(link) : std::string("file")) +
                        " size=" + std::to_string(st->st_size);
                // (at most drain_limit bytes: a splice at offset 2^62 makes a sparse file of 4 EiB)
                const auto bytes = ospp::pread(f, std::min(static_cast<std::size_t>(st->st_size), drain_limit), 0);
                line += " data=" + (bytes ? shown(*bytes) : "E" + std::to_string(bytes.error().code()));
                const auto s = fc::get_seals(f);
                line += " seals=" + (s ? std::to_string(ospp::to_raw(*s)) : "E" + std::to_string(s.error().code()));
            }
            emit(line);
            (void)ospp::close(f);
        }
    }
};

}  // namespace

void run_pipes_script(std::istream& script, std::vector<std::string>& out) {
    // as Python, which ignores SIGPIPE from its start: a write to a pipe with no reader is EPIPE
    must(ospp::ignore_signal(ospp::signum::pipe));
    pipes_driver d(out);
    apply_script(script, out, d);
    d.dump();
}

}  // namespace differential
