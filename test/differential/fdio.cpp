// test/differential/fdio.cpp — the ospp side of the fdio domain (see run.py): operations on open
// descriptors. fdio.py does the same with Python's os and fcntl and must print the same lines.
//
// Descriptor slot i is the number FD0 + i in both drivers: open and dup move their new descriptor
// there (dup2, not inheritable, then close), so that numbers, dup2 targets and a closed slot's
// EBADF compare between the two processes.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ospp/fcntl.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/signal.hpp"
#include "ospp/stat.hpp"
#include "ospp/xattr.hpp"

#include "common.hpp"

namespace differential {
namespace {

namespace fc = ospp::fcntl;
using ospp::open_flags;

constexpr int FD0 = 40;
constexpr int slots = 4;

// Bytes as lowercase hex, "~" for none (as fdio.py's hexs).
std::string hexs(std::string_view b) {
    if (b.empty()) return "~";
    std::string out;
    for (const char c : b) {
        char h[3];
        std::snprintf(h, sizeof h, "%02x", static_cast<unsigned char>(c));
        out += h;
    }
    return out;
}

// The runs of non-zero bytes as pos:hex,... ("-" for none): a file's content, sparse or not.
std::string runs(std::string_view data) {
    std::string out;
    std::size_t i = 0;
    while (i < data.size()) {
        if (data[i] == '\0') {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < data.size() && data[j] != '\0') ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(i) + ":" + hexs(data.substr(i, j - i));
        i = j;
    }
    return out.empty() ? "-" : out;
}

class fdio_driver : public line_driver {
public:
    explicit fdio_driver(std::vector<std::string>& out) : line_driver(out), root_(ospp::getcwd().value()) {}
    std::string root_;  // the script's directory (fchdir may leave it)

    // Moves a new descriptor into slot `s` (closing what the slot held).
    void place(ospp::fd f, const std::string& s) {
        must(ospp::dup2(f, ospp::fd_ref(FD0 + std::stoi(s)), false).map([](ospp::fd_ref) {}));
    }

    // readv/preadv: the total, then the bytes the buffers got, in order.
    void read_into(const std::string& sizes, auto call) {
        show(read_buffers(sizes, call), [](const std::string& got) { return std::to_string(got.size()) + " " + hexs(got); });
    }

    void run(const std::vector<std::string>& t) {
        const std::string& op = t[0];
        const std::vector<std::string> a(t.begin() + 1, t.end());
        const auto num = [&](std::size_t i) { return std::stoll(a.at(i)); };
        // the slot an operation acts on (mkdir, symlink, getcwd and closerange name none)
        const bool slot_op = !(op == "mkdir" || op == "symlink" || op == "getcwd" || op == "closerange");
        const ospp::fd_ref f(slot_op ? FD0 + std::stoi(a.at(0)) : -1);
        // the data of writev/pwritev: decoded tokens, and views of them
        std::vector<std::string> data;
        std::vector<std::string_view> views;
        if (op == "writev" || op == "pwritev") {
            for (const auto& d : list(a[1])) data.push_back(dec(d));
            views.assign(data.begin(), data.end());
        }
        if (op == "mkdir") {
            ok_or_err(ospp::mkdir(dec(a[0])));
        } else if (op == "symlink") {
            ok_or_err(ospp::symlink(dec(a[0]), dec(a[1])));
        } else if (op == "open") {
            auto r = ospp::open(dec(a[1]), parse_open_flags(a[2]), static_cast<::mode_t>(std::stoul(a[3], nullptr, 8)));
            if (r) place(std::move(*r), a[0]);
            ok_or_err(r);
        } else if (op == "close") {
            ok_or_err(ospp::close(f));
        } else if (op == "read") {
            show(ospp::read(f, static_cast<std::size_t>(num(1))), hexs);
        } else if (op == "write") {
            show(ospp::write(f, dec(a[1])), [](std::size_t n) { return std::to_string(n); });
        } else if (op == "pread") {
            show(ospp::pread(f, static_cast<std::size_t>(num(1)), num(2)), hexs);
        } else if (op == "pwrite") {
            show(ospp::pwrite(f, dec(a[1]), num(2)), [](std::size_t n) { return std::to_string(n); });
        } else if (op == "readv") {
            read_into(a[1], [&](auto spans) { return ospp::readv(f, spans); });
        } else if (op == "preadv") {
            read_into(a[1], [&](auto spans) { return ospp::preadv(f, spans, num(2), ospp::rw_flags(num(3))); });
        } else if (op == "writev") {
            show(ospp::writev(f, std::span<const std::string_view>(views)), [](std::size_t n) { return std::to_string(n); });
        } else if (op == "pwritev") {
            show(ospp::pwritev(f, std::span<const std::string_view>(views), num(2), ospp::rw_flags(num(3))),
                 [](std::size_t n) { return std::to_string(n); });
        } else if (op == "lseek") {
            show(ospp::lseek(f, num(1), ospp::whence(num(2))), [](::off_t n) { return std::to_string(n); });
        } else if (op == "ftruncate") {
            ok_or_err(ospp::ftruncate(f, num(1)));
        } else if (op == "fallocate") {
            ok_or_err(ospp::posix_fallocate(f, num(1), num(2)));
        } else if (op == "fadvise") {
            ok_or_err(ospp::posix_fadvise(f, num(1), num(2), ospp::fadvise_advice(num(3))));
        } else if (op == "fsync") {
            ok_or_err(ospp::fsync(f));
        } else if (op == "fdatasync") {
            ok_or_err(ospp::fdatasync(f));
        } else if (op == "dup") {
            auto r = ospp::dup(f);
            if (r) place(std::move(*r), a[1]);
            ok_or_err(r);
        } else if (op == "dup2") {
            show(ospp::dup2(f, ospp::fd_ref(FD0 + std::stoi(a[1])), a[2] == "1"),
                 [](ospp::fd_ref n) { return std::to_string(n.get()); });
        } else if (op == "getinh") {
            show(ospp::get_inheritable(f), boolean);
        } else if (op == "setinh") {
            ok_or_err(ospp::set_inheritable(f, a[1] == "1"));
        } else if (op == "getblk") {
            show(ospp::get_blocking(f), boolean);
        } else if (op == "setblk") {
            ok_or_err(ospp::set_blocking(f, a[1] == "1"));
        } else if (op == "fstat") {
            show(ospp::fstat(f), [](const ospp::stat_result& st) {
                return "mode=" + octal(st.st_mode) + " size=" + std::to_string(st.st_size) +
                       " nlink=" + std::to_string(st.st_nlink);
            });
        } else if (op == "fchmod") {
            // /dev/null is the system's: never changed (fdio.py alike)
            const auto st = ospp::fstat(f);
            if (st && ospp::s_ischr(st->st_mode)) return emit("not on /dev/null");
            ok_or_err(ospp::fchmod(f, static_cast<::mode_t>(std::stoul(a[1], nullptr, 8))));
        } else if (op == "fstatvfs") {
            show(ospp::fstatvfs(f), [](const ospp::statvfs_result& st) {
                char line[128];
                std::snprintf(line, sizeof line, "bsize=%lu frsize=%lu namemax=%lu flag=%lx", st.f_bsize, st.f_frsize,
                              st.f_namemax, static_cast<unsigned long>(ospp::to_raw(st.f_flag)));
                return std::string(line);
            });
        } else if (op == "sendfile") {
            show(ospp::sendfile(f, ospp::fd_ref(FD0 + std::stoi(a[1])), opt(a[2]), std::stoull(a[3])),
                 [](std::size_t n) { return std::to_string(n); });
        } else if (op == "cfr") {
            show(ospp::copy_file_range(f, ospp::fd_ref(FD0 + std::stoi(a[1])), std::stoull(a[2]), opt(a[3]), opt(a[4])),
                 [](std::size_t n) { return std::to_string(n); });
        } else if (op == "getfl") {
            show(fc::get_status_flags(f), [](open_flags v) { return hex(ospp::to_raw(v)); });
        } else if (op == "setfl") {
            ok_or_err(fc::set_status_flags(f, open_flags(num(1))));
        } else if (op == "getfd") {
            show(fc::get_fd_flags(f), [](fc::fd_flags v) { return hex(ospp::to_raw(v)); });
        } else if (op == "setfd") {
            ok_or_err(fc::set_fd_flags(f, fc::fd_flags(num(1))));
        } else if (op == "lockf") {
            ok_or_err(ospp::lockf(f, ospp::lockf_command(num(1)), num(2)));
        } else if (op == "flock") {
            ok_or_err(fc::flock(f, fc::lock_op(num(1))));
        } else if (op == "flockf") {
            ok_or_err(fc::lockf(f, fc::lock_op(num(1)), num(2), num(3), fc::whence(num(4))));
        } else if (op == "fchown") {
            const auto st = ospp::fstat(f);
            if (st && ospp::s_ischr(st->st_mode)) return emit("not on /dev/null");
            ok_or_err(ospp::fchown(f, static_cast<::uid_t>(num(1)), static_cast<::gid_t>(num(2))));
        } else if (op == "isatty") {
            emit("ok " + boolean(ospp::isatty(f)));
        } else if (op == "closerange") {
            ospp::closerange(static_cast<int>(num(0)), static_cast<int>(num(1)));
            emit("ok");
        } else if (op == "dupfd") {
            // a slot number comes out when it is free; any other is closed again
            auto r = fc::dupfd(f, static_cast<int>(num(1)), a[2] == "1");
            show(r, [](const ospp::fd& n) { return std::to_string(n.get()); });
            if (r && r->get() < FD0 + slots) (void)r->release();
        } else if (op == "getlease") {
            show(fc::get_lease(f), [](fc::lock_type v) { return std::to_string(ospp::to_raw(v)); });
        } else if (op == "getseals") {
            show(fc::get_seals(f), [](fc::seals v) { return std::to_string(ospp::to_raw(v)); });
        } else if (op == "getpipesz") {
            show(fc::get_pipe_size(f), [](std::size_t v) { return std::to_string(v); });
        } else if (op == "getown") {
            show(fc::get_owner(f), [](::pid_t v) { return std::to_string(v); });
        } else if (op == "getsig") {
            show(fc::get_signal(f), [](std::optional<ospp::signum> v) { return std::to_string(v ? ospp::to_raw(*v) : 0); });
        } else if (op == "fsetxattr") {
            ok_or_err(ospp::setxattr(f, dec(a[1]), dec(a[2]), ospp::xattr_flags(num(3))));
        } else if (op == "fgetxattr") {
            show(ospp::getxattr(f, dec(a[1])), [](const std::string& v) { return enc(v); });
        } else if (op == "flistxattr") {
            show(ospp::listxattr(f), [](std::vector<std::string> names) {
                std::sort(names.begin(), names.end());
                std::string line;
                for (const auto& n : names) {  // appended piece by piece: GCC 12's -O3 -Wrestrict
                    if (!line.empty()) line += ' ';
                    line += enc(n);
                }
                return line.empty() ? std::string("-") : line;
            });
        } else if (op == "fremovexattr") {
            ok_or_err(ospp::removexattr(f, dec(a[1])));
        } else if (op == "fchdir") {
            ok_or_err(ospp::fchdir(f));
        } else if (op == "getcwd") {
            show(ospp::getcwd(), [&](const std::string& cwd) { return relative(root_, cwd); });
        } else if (op == "fpathconf") {
            show(ospp::fpathconf(f, a[1]), [](std::optional<long> v) { return std::to_string(v.value_or(-1)); });
        } else {
            std::cerr << "unknown fdio op " << op << '\n';
            std::exit(2);
        }
    }

    static std::string hex(long v) {
        char h[32];
        std::snprintf(h, sizeof h, "%lx", v);
        return h;
    }

    // Each slot (the file it refers to by name, its offset, status and fd flags), then each name in
    // the directory with its content; closes the slots.
    void dump() {
        // the working directory's mode (an fchmod through a slot may have changed it), then
        // searchable again for the rest (by its full path: "." needs the search right); the
        // dump is made there, whatever fchdir did
        emit("root " + octal(ospp::stat(root_).value().st_mode));
        must(ospp::chmod(root_, 0755));
        must(ospp::chdir(root_));
        auto names = ospp::listdir(".").value();
        std::sort(names.begin(), names.end());
        for (int i = 0; i < slots; ++i) {
            const ospp::fd_ref f(FD0 + i);
            const auto fl = fc::get_status_flags(f);
            if (!fl) {
                emit("slot " + std::to_string(i) + " closed");
                continue;
            }
            const auto st = ospp::fstat(f).value();
            std::string who = ospp::s_ischr(st.st_mode) ? "null" : "other";
            for (const auto& n : names) {
                const auto l = ospp::lstat(n).value();
                if (l.st_dev == st.st_dev && l.st_ino == st.st_ino) who = enc(n);
            }
            const auto off = ospp::lseek(f, 0, ospp::whence::cur);
            emit("slot " + std::to_string(i) + " " + who + " off=" +
                 (off ? std::to_string(*off) : "E" + std::to_string(off.error().code())) +
                 " fl=" + hex(ospp::to_raw(*fl)) + " inheritable=" + boolean(ospp::get_inheritable(f).value()));
            (void)ospp::close(f);
        }
        for (const auto& n : names) {
            const auto st = ospp::lstat(n).value();
            std::string line = "file " + enc(n) + " " + octal(st.st_mode);
            if (ospp::s_isreg(st.st_mode)) {
                line += " size=" + std::to_string(st.st_size);
                auto data = ospp::open(n, open_flags::rdonly).and_then([](ospp::fd g) { return ospp::read_all(g); });
                line += " data=" + (data ? runs(*data) : "E" + std::to_string(data.error().code()));
            }
            emit(line);
        }
    }
};

}  // namespace

void run_fdio_script(std::istream& script, std::vector<std::string>& out) {
    fdio_driver d(out);
    apply_script(script, out, d);
    d.dump();
}

}  // namespace differential
