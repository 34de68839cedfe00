// test/systrees/systrees.cpp — ospp's side of the real-tree oracle (systrees.py is Python's side
// and the runner): for each path of a list, the reading calls of ospp on that path, one line per
// call, "<call> <path> [<what>] | <result>", the same lines systrees.py prints with Python's os.
//
// The list (written by systrees.py) has one path a line, "<flags> <encoded path>": p = the per-path
// calls (lstat, stat, readlink, access, statvfs, the xattrs, pathconf), l = listdir and scandir,
// w = walk top-down and bottom-up, f = fwalk, W and F the same following symlinks, r = read the file (systrees.py chooses which: the
// regular files of /etc that anyone may read, sysfs attributes, /proc/sys; never a device or FIFO).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/scandir.hpp"
#include "ospp/stat.hpp"
#include "ospp/walk.hpp"
#include "ospp/xattr.hpp"
#include "../differential/common.hpp"

namespace {

using differential::dec;
using differential::enc;

// "ERR <errno> <call> <message after 'call: '>": Python's side prints its function's name and
// str(OSError).
std::string err(const ospp::errno_error& e) {
    std::string msg = e.message();
    const std::string prefix = std::string(e.call()) + ": ";
    if (msg.starts_with(prefix)) msg.erase(0, prefix.size());
    return "ERR " + std::to_string(e.code()) + " " + e.call() + " " + msg;
}

// An error inside a line of fields: without its spaces.
std::string inner(const ospp::errno_error& e) { return enc(err(e)); }

std::string list(const auto& names) {
    std::string out = "[";
    for (const auto& n : names) {
        if (out.size() > 1) out += ',';
        out += enc(n);
    }
    return out + "]";
}

std::string stat_fields(const ospp::stat_result& s) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "mode=%o ino=%llu dev=%llu nlink=%llu uid=%u gid=%u size=%lld blocks=%lld blksize=%lld "
                  "rdev=%llu major=%u minor=%u dev_major=%u dev_minor=%u atime=%lld mtime=%lld ctime=%lld",
                  static_cast<unsigned>(s.st_mode), static_cast<unsigned long long>(s.st_ino),
                  static_cast<unsigned long long>(s.st_dev), static_cast<unsigned long long>(s.st_nlink),
                  s.st_uid, s.st_gid, static_cast<long long>(s.st_size), static_cast<long long>(s.st_blocks),
                  static_cast<long long>(s.st_blksize), static_cast<unsigned long long>(s.st_rdev),
                  ospp::device_major(s.st_rdev), ospp::device_minor(s.st_rdev), ospp::device_major(s.st_dev),
                  ospp::device_minor(s.st_dev), static_cast<long long>(s.st_atime_ns),
                  static_cast<long long>(s.st_mtime_ns), static_cast<long long>(s.st_ctime_ns));
    return buf;
}

std::string show(const ospp::result<ospp::stat_result>& r) { return r ? stat_fields(*r) : err(r.error()); }

std::string statvfs_fields(const ospp::statvfs_result& v) {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "bsize=%lu frsize=%lu blocks=%llu bfree=%llu bavail=%llu files=%llu ffree=%llu favail=%llu "
                  "flag=%lu namemax=%lu fsid=%lu",
                  v.f_bsize, v.f_frsize, static_cast<unsigned long long>(v.f_blocks),
                  static_cast<unsigned long long>(v.f_bfree), static_cast<unsigned long long>(v.f_bavail),
                  static_cast<unsigned long long>(v.f_files), static_cast<unsigned long long>(v.f_ffree),
                  static_cast<unsigned long long>(v.f_favail), static_cast<unsigned long>(v.f_flag),
                  v.f_namemax, v.f_fsid);
    return buf;
}

void line(const std::string& key, const std::string& value) { std::cout << key << " | " << value << '\n'; }

const char* boolean(bool b) { return b ? "True" : "False"; }

void per_path(const std::string& p) {
    const std::string e = enc(p);
    line("lstat " + e, show(ospp::lstat(p)));
    line("stat " + e, show(ospp::stat(p)));
    {
        const auto r = ospp::readlink(p);
        line("readlink " + e, r ? enc(*r) : err(r.error()));
    }
    using ospp::access_mode;
    static constexpr std::pair<const char*, access_mode> modes[] = {
        {"F", access_mode::f_ok}, {"R", access_mode::r_ok}, {"W", access_mode::w_ok}, {"X", access_mode::x_ok}};
    for (const auto& [name, mode] : modes) {
        line("access " + e + " " + name, boolean(ospp::access(p, mode).has_value()));
        line("access " + e + " " + name + " nofollow",
             boolean(ospp::access(p, mode, {.follow_symlinks = false}).has_value()));
        line("access " + e + " " + name + " effective",
             boolean(ospp::access(p, mode, {.effective_ids = true}).has_value()));
    }
    {
        const auto r = ospp::statvfs(p);
        line("statvfs " + e, r ? statvfs_fields(*r) : err(r.error()));
    }
    for (const bool follow : {true, false}) {
        const std::string how = follow ? "" : " nofollow";
        const auto names = ospp::listxattr(p, {.follow_symlinks = follow});
        line("listxattr " + e + how, names ? list(*names) : err(names.error()));
        if (!names) continue;
        for (const auto& n : *names) {
            const auto v = ospp::getxattr(p, n, {.follow_symlinks = follow});
            line("getxattr " + e + " " + enc(n) + how, v ? enc(*v) : err(v.error()));
        }
    }
    for (const auto& [name, value] : ospp::pathconf_names()) {
        const auto r = ospp::pathconf(p, value);
        line("pathconf " + e + " " + std::string(name), r ? std::to_string(r->value_or(-1)) : err(r.error()));
    }
}

// FNV-1a, 64 bits (systrees.py's fnv): the content is compared, not printed.
std::string fnv(std::string_view b) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : b) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return std::to_string(h);
}

// Python's open(p, "rb", buffering=0).read() (FileIO.readall).
void read_file(const std::string& p) {
    const auto f = ospp::open(p, ospp::open_flags::rdonly);
    if (!f) {
        line("read " + enc(p), err(f.error()));
        return;
    }
    const auto r = ospp::read_all(*f);
    line("read " + enc(p), r ? "len=" + std::to_string(r->size()) + " fnv=" + fnv(*r) : err(r.error()));
}

// The descriptor forms, on an O_PATH descriptor of the path itself (never opens a device):
// fstat, fstatvfs, fpathconf, listxattr(fd), and readlink("", dir_fd=fd) of a symlink.
void by_descriptor(const std::string& p) {
    using ospp::open_flags;
    const std::string e = enc(p);
    const auto f = ospp::open(p, open_flags::path | open_flags::nofollow);
    if (!f) {
        line("opath " + e, err(f.error()));
        return;
    }
    line("fstat " + e, show(ospp::fstat(*f)));
    {
        const auto r = ospp::fstatvfs(*f);
        line("fstatvfs " + e, r ? statvfs_fields(*r) : err(r.error()));
    }
    for (const auto& [name, value] : ospp::pathconf_names()) {
        const auto r = ospp::fpathconf(*f, value);
        line("fpathconf " + e + " " + std::string(name), r ? std::to_string(r->value_or(-1)) : err(r.error()));
    }
    {
        const auto names = ospp::listxattr(*f);
        line("flistxattr " + e, names ? list(*names) : err(names.error()));
    }
    const auto r = ospp::readlink("", {.dir_fd = *f});
    line("readlink_empty " + e, r ? enc(*r) : err(r.error()));
    line("stat_empty " + e, show(ospp::stat("", {.dir_fd = *f})));
}

// Each entry by its name relative to a descriptor of the directory (Python's dir_fd=).
void at_entries(const std::string& p) {
    using ospp::open_flags;
    const std::string e = enc(p);
    const auto dir = ospp::open(p, open_flags::rdonly | open_flags::directory);
    if (!dir) {
        line("opendir " + e, err(dir.error()));
        return;
    }
    {
        const auto attrs = ospp::listxattr(*dir);
        line("flistxattr_dir " + e, attrs ? list(*attrs) : err(attrs.error()));
        for (const auto& n : attrs.value_or(std::vector<std::string>{})) {
            const auto v = ospp::getxattr(*dir, n);
            line("fgetxattr_dir " + e + " " + enc(n), v ? enc(*v) : err(v.error()));
        }
    }
    const auto names = ospp::listdir(*dir);
    line("listdir_fd " + e, names ? list(*names) : err(names.error()));
    if (!names) return;
    for (const auto& n : *names) {
        const std::string k = e + " " + enc(n);
        line("lstat_at " + k, show(ospp::stat(n, {.dir_fd = *dir, .follow_symlinks = false})));
        line("stat_at " + k, show(ospp::stat(n, {.dir_fd = *dir})));
        const auto r = ospp::readlink(n, {.dir_fd = *dir});
        line("readlink_at " + k, r ? enc(*r) : err(r.error()));
        line("access_at " + k,
             boolean(ospp::access(n, ospp::access_mode::r_ok, {.dir_fd = *dir}).has_value()));
    }
    auto it = ospp::scandir(*dir);
    if (!it) {
        line("scandir_fd " + e, err(it.error()));
        return;
    }
    for (const ospp::dir_entry& d : *it) {
        const auto st = d.stat({.follow_symlinks = false});
        line("scandir_fd " + e + " " + enc(d.name()),
             "path=" + enc(d.path()) + " is_dir=" + boolean(d.is_dir()) +
                 " lstat_ino=" + (st ? std::to_string(st->st_ino) : inner(st.error())));
    }
    line("scandir_fd " + e, it->error() ? err(*it->error()) : "ok");
}

void per_dir(const std::string& p) {
    const std::string e = enc(p);
    {
        const auto r = ospp::listdir(p);
        line("listdir " + e, r ? list(*r) : err(r.error()));
    }
    auto it = ospp::scandir(p);
    if (!it) {
        line("scandir " + e, err(it.error()));
        return;
    }
    std::vector<std::string> names;
    for (const ospp::dir_entry& d : *it) {
        names.emplace_back(d.name());
        const auto st = d.stat();
        const auto lst = d.stat({.follow_symlinks = false});
        line("scandir " + e + " " + enc(d.name()),
             "path=" + enc(d.path()) + " ino=" + std::to_string(d.inode()) + " is_dir=" + boolean(d.is_dir()) +
                 " is_dir_nofollow=" + boolean(d.is_dir({.follow_symlinks = false})) +
                 " is_file=" + boolean(d.is_file()) +
                 " is_file_nofollow=" + boolean(d.is_file({.follow_symlinks = false})) +
                 " is_symlink=" + boolean(d.is_symlink()) +
                 " stat_ino=" + (st ? std::to_string(st->st_ino) : inner(st.error())) +
                 " lstat_ino=" + (lst ? std::to_string(lst->st_ino) : inner(lst.error())));
    }
    line("scandir " + e, it->error() ? err(*it->error()) : list(names));
}

template <class Range>
void walk_lines(const std::string& what, const std::string& top, Range&& range,
                const std::vector<std::string>& errors) {
    std::string previous = "-";
    for (auto&& step : range) {
        std::string extra;
        if constexpr (requires { step.dirfd; }) {
            const auto st = ospp::fstat(step.dirfd);
            extra = " dirfd_ino=" + (st ? std::to_string(st->st_ino) : inner(st.error()));
        }
        const std::string d = enc(step.dirpath);
        line(what + " " + enc(top) + " " + d,
             "after=" + previous + " dirs=" + list(step.dirnames) + " files=" + list(step.filenames) + extra);
        previous = d;
    }
    for (std::size_t i = 0; i < errors.size(); ++i) line(what + " " + enc(top) + " onerror" + std::to_string(i), errors[i]);
}

void walks(const std::string& top, bool plain, bool f) {
    if (plain) {
        for (const bool topdown : {true, false}) {
            std::vector<std::string> errors;
            auto onerror = [&](const ospp::errno_error& x) { errors.push_back(err(x)); };
            auto range = ospp::walk(top, {.topdown = topdown, .onerror = onerror});
            walk_lines(topdown ? "walk" : "walkup", top, range, errors);
        }
    }
    if (f) {
        std::vector<std::string> errors;
        auto range = ospp::fwalk(top, {.onerror = [&](const ospp::errno_error& x) { errors.push_back(err(x)); }});
        walk_lines("fwalk", top, range, errors);
    }
}

// Following symlinks to directories (trees without cycles: /etc, /usr/include).
void walks_following(const std::string& top, bool plain, bool f) {
    std::vector<std::string> errors;
    auto onerror = [&](const ospp::errno_error& x) { errors.push_back(err(x)); };
    if (plain) walk_lines("walk_follow", top, ospp::walk(top, {.onerror = onerror, .followlinks = true}), errors);
    errors.clear();
    if (f) {
        walk_lines("fwalk_follow", top, ospp::fwalk(top, {.follow_symlinks = true, .onerror = onerror}), errors);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: ospp_systrees PATH_LIST  (written by systrees.py; run systrees.py instead)\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "ospp_systrees: cannot read " << argv[1] << '\n';
        return 2;
    }
    for (std::string l; std::getline(in, l);) {
        const auto space = l.find(' ');
        if (space == std::string::npos) continue;
        const std::string flags = l.substr(0, space);
        const std::string p = dec(std::string_view(l).substr(space + 1));
        if (flags.find('p') != std::string::npos) {
            per_path(p);
            by_descriptor(p);
        }
        if (flags.find('l') != std::string::npos) {
            per_dir(p);
            at_entries(p);
        }
        if (flags.find('r') != std::string::npos) read_file(p);
        const bool w = flags.find('w') != std::string::npos, f = flags.find('f') != std::string::npos;
        if (w || f) walks(p, w, f);
        const bool wl = flags.find('W') != std::string::npos, fl = flags.find('F') != std::string::npos;
        if (wl || fl) walks_following(p, wl, fl);
    }
    return 0;
}
