// test/differential/driver.cpp — the ospp side of the differential test (see run.py).
//
// Usage: ospp_differential WORKDIR SCRIPT...   For each script i it makes WORKDIR/i/root, applies the
// script's operations there with ospp, and prints one normalised line per operation, then a dump
// of the tree: the same lines driver.py prints with Python's os.
// ospp_differential --run RUNNER [ARGS...] runs `python3 RUNNER --driver <this program> ARGS...`,
// or exits 77 (meson's "skipped") when there is no python3.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/process.hpp"
#include "ospp/scandir.hpp"
#include "ospp/stat.hpp"
#include "ospp/walk.hpp"
#include "ospp/xattr.hpp"

#include "common.hpp"

namespace {

using namespace differential;
using ospp::open_flags;

std::string stat_line(const ospp::stat_result& st) {
    std::ostringstream o;
    o << "mode=" << octal(st.st_mode) << " size=" << (ospp::s_isdir(st.st_mode) ? 0 : st.st_size)
      << " nlink=" << st.st_nlink << " uid=" << st.st_uid << " gid=" << st.st_gid
      << " atime=" << st.st_atime_ns << " mtime=" << st.st_mtime_ns << " ctime=" << st.st_ctime_ns;
    return o.str();
}

// os.path.join(root, name) for a relative name.
std::string join(std::string_view root, std::string_view name) {
    std::string p(root);
    if (!p.empty() && p.back() != '/') p += '/';
    p += name;
    return p;
}

// The last component, trailing slashes dropped: how fwalk errors are compared (driver.py's base).
std::string base(std::string_view path) {
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    const auto slash = path.rfind('/');
    return enc(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

mode_t parse_mode(const std::string& s) { return static_cast<mode_t>(std::stoul(s, nullptr, 8)); }

struct step {
    std::string root;
    std::vector<std::string> dirs, files;
};

class driver {
public:
    explicit driver(std::vector<std::string>& out) : out_(out), root_(ospp::getcwd().value()) {}
    std::vector<std::string>& out_;
    std::optional<ospp::fd> dfd_;  // the directory opened by "opendir", for the dir_fd variants
    std::string root_;              // the script's directory (chdir may leave it)
    bool stopped_ = false;          // a failed rmtree ends the script

    void emit(std::string line) { out_.push_back(std::move(line)); }
    template <class T>
    bool failed(const ospp::result<T>& r) {
        if (r) return false;
        emit(err_line(r.error()));
        return true;
    }
    template <class T>
    void ok_or_err(const ospp::result<T>& r) {
        if (!failed(r)) emit("ok");
    }
    // "ok", then the names sorted as bytes (driver.py's words)
    void emit_names(ospp::result<std::vector<std::string>> names) {
        if (failed(names)) return;
        std::sort(names->begin(), names->end());
        std::string line = "ok";
        for (const auto& n : *names) line += " " + enc(n);
        emit(line);
    }
    ospp::fd_ref dir(bool at) const { return at ? ospp::fd_ref(*dfd_) : ospp::cwd_fd; }

    void walk_lines(std::vector<step> steps, std::vector<std::pair<int, std::string>> errors, bool topdown) {
        if (!topdown) {
            std::set<std::string> seen, done;
            for (const auto& s : steps) seen.insert(s.root);
            std::string order = "ok";
            for (const auto& s : steps) {
                for (const auto& d : s.dirs) {
                    const std::string child = join(s.root, d);
                    if (seen.contains(child) && !done.contains(child)) order = "bad";
                }
                done.insert(s.root);
            }
            std::stable_sort(steps.begin(), steps.end(), [](const step& a, const step& b) { return a.root < b.root; });
            emit("order " + order);
        }
        for (auto& s : steps) {
            std::sort(s.dirs.begin(), s.dirs.end());
            std::sort(s.files.begin(), s.files.end());
            // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict), wrongly, about
            // `" " + enc(d)` (a literal plus a temporary string) here.
            std::string line = "step " + enc(s.root) + " |";
            for (const auto& d : s.dirs) (line += ' ') += enc(d);
            line += " |";
            for (const auto& f : s.files) (line += ' ') += enc(f);
            emit(line);
        }
        std::sort(errors.begin(), errors.end());
        errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
        for (const auto& [code, path] : errors) emit("onerror " + std::to_string(code) + " " + path);
    }

    template <class Range>
    void collect(Range&& range, bool topdown, std::vector<step>& steps) {
        for (auto&& s : range) {
            if (topdown) std::sort(s.dirnames.begin(), s.dirnames.end());
            steps.push_back({std::string(s.dirpath), {s.dirnames.begin(), s.dirnames.end()},
                             {s.filenames.begin(), s.filenames.end()}});
        }
    }

    void walk(const std::string& top, bool topdown, bool follow) {
        std::vector<step> steps;
        std::vector<std::pair<int, std::string>> errors;
        auto onerror = [&](const ospp::errno_error& e) { errors.emplace_back(e.code(), enc(e.path())); };
        collect(ospp::walk(top, {.topdown = topdown, .onerror = onerror, .followlinks = follow}), topdown, steps);
        walk_lines(std::move(steps), std::move(errors), topdown);
    }

    void fwalk(const std::string& top, bool topdown, bool follow, bool at) {
        std::vector<step> steps;
        std::vector<std::pair<int, std::string>> errors;
        auto onerror = [&](const ospp::errno_error& e) { errors.emplace_back(e.code(), base(e.path())); };
        collect(ospp::fwalk(top, {.dir_fd = dir(at), .follow_symlinks = follow, .topdown = topdown, .onerror = onerror}),
                topdown, steps);
        walk_lines(std::move(steps), std::move(errors), topdown);
    }

    void run(std::vector<std::string> t) {
        bool at = false;
        if (t[0] == "at") {
            at = true;
            t.erase(t.begin());
            if (!dfd_) {
                emit("nodir");
                return;
            }
        }
        const std::string& op = t[0];
        const std::vector<std::string> a(t.begin() + 1, t.end());
        const std::string P = a.empty() ? std::string() : dec(a[0]);
        const auto flag = [&](std::size_t i) { return a.at(i) == "1"; };
        const ospp::fd_ref d = dir(at);
        if (op == "opendir") {
            dfd_.reset();
            auto f = ospp::open(P, open_flags::rdonly | open_flags::directory);
            if (failed(f)) return;
            dfd_ = std::move(*f);
            emit("ok");
        } else if (op == "mkdir") {
            ok_or_err(ospp::mkdir(P, parse_mode(a[1]), {.dir_fd = d}));
        } else if (op == "makedirs") {
            ok_or_err(ospp::makedirs(P, parse_mode(a[1]), {.exist_ok = flag(2)}));
        } else if (op == "mkfifo") {
            ok_or_err(ospp::mkfifo(P, parse_mode(a[1]), {.dir_fd = d}));
        } else if (op == "rename") {
            ok_or_err(ospp::rename(P, dec(a[1]), {.src_dir_fd = d, .dst_dir_fd = d}));
        } else if (op == "replace") {
            ok_or_err(ospp::replace(P, dec(a[1]), {.src_dir_fd = d, .dst_dir_fd = d}));
        } else if (op == "renames") {
            ok_or_err(ospp::renames(P, dec(a[1])));
        } else if (op == "link") {
            ok_or_err(ospp::link(P, dec(a[1]), {.src_dir_fd = d, .dst_dir_fd = d, .follow_symlinks = flag(2)}));
        } else if (op == "symlink") {
            ok_or_err(ospp::symlink(P, dec(a[1]), {.dir_fd = d}));
        } else if (op == "chdir") {
            auto r = at ? ospp::fchdir(d) : ospp::chdir(P);
            if (failed(r)) return;
            // A symlink to "../" leads one level above the root; a chdir there, and then through
            // another such link, would climb out of the work directory: back to the root then.
            // (A directory removed after a chdir into it has no path: getcwd fails, it stays.)
            if (const auto cwd = ospp::getcwd(); cwd && relative(root_, *cwd) == "outside") {
                must(ospp::chdir(root_));
                return emit("ok outside: back to the root");
            }
            emit("ok");
        } else if (op == "getcwd") {
            auto cwd = ospp::getcwd();
            if (!failed(cwd)) emit("ok " + relative(root_, *cwd));
        } else if (op == "statvfs") {
            auto st = at ? ospp::fstatvfs(d) : ospp::statvfs(P);
            if (failed(st)) return;
            // the fields that stay while the drivers run (not the free counts)
            char line[128];
            std::snprintf(line, sizeof line, "ok bsize=%lu frsize=%lu namemax=%lu flag=%lx", st->f_bsize, st->f_frsize,
                          st->f_namemax, static_cast<unsigned long>(ospp::to_raw(st->f_flag)));
            emit(line);
        } else if (op == "pathconf") {
            auto v = at ? ospp::fpathconf(d, a[1]) : ospp::pathconf(P, a[1]);
            if (!failed(v)) emit("ok " + std::to_string(v->value_or(-1)));
        } else if (op == "unlink") {
            ok_or_err(ospp::unlink(P, {.dir_fd = d}));
        } else if (op == "rmdir") {
            ok_or_err(ospp::rmdir(P, {.dir_fd = d}));
        } else if (op == "removedirs") {
            ok_or_err(ospp::removedirs(P));
        } else if (op == "chmod") {
            ok_or_err(ospp::chmod(P, parse_mode(a[1]), {.dir_fd = d, .follow_symlinks = flag(2)}));
        } else if (op == "chown") {
            ok_or_err(ospp::chown(P, static_cast<uid_t>(std::stol(a[1])), static_cast<gid_t>(std::stol(a[2])),
                                  {.dir_fd = d, .follow_symlinks = flag(3)}));
        } else if (op == "lchown") {
            ok_or_err(ospp::lchown(P, static_cast<uid_t>(std::stol(a[1])), static_cast<gid_t>(std::stol(a[2]))));
        } else if (op == "mknod") {
            ok_or_err(ospp::mknod(P, parse_mode(a[1]),
                                  ospp::make_device(static_cast<unsigned>(std::stoul(a[2])), static_cast<unsigned>(std::stoul(a[3]))),
                                  {.dir_fd = d}));
        } else if (op == "truncate") {
            ok_or_err(ospp::truncate(P, std::stoll(a[1])));
        } else if (op == "utime") {
            const ospp::file_time at_time{std::chrono::nanoseconds(std::stoll(a[1]))};
            const ospp::file_time mt_time{std::chrono::nanoseconds(std::stoll(a[2]))};
            ok_or_err(ospp::utime(P, at_time, mt_time, {.dir_fd = d, .follow_symlinks = flag(3)}));
        } else if (op == "utime_now") {
            ok_or_err(ospp::utime(P, {.dir_fd = d, .follow_symlinks = flag(1)}));
        } else if (op == "open") {
            // O_NONBLOCK: a FIFO would block the open for good
            const open_flags flags = open_flags::nonblock | parse_open_flags(a[1]);
            auto f = ospp::open(P, flags, parse_mode(a[2]), {.dir_fd = d});
            if (failed(f)) return;
            const std::size_t n = std::stoul(a[3]);
            std::size_t written = 0;
            if (n != 0) {
                auto w = ospp::write(*f, std::string(n, 'x'));
                if (failed(w)) return;
                written = *w;
            }
            emit("ok " + std::to_string(written));
        } else if (op == "listdir") {
            emit_names(at ? ospp::listdir(d) : ospp::listdir(P));
        } else if (op == "stat") {
            auto st = ospp::stat(P, {.dir_fd = d, .follow_symlinks = flag(1)});
            if (!failed(st)) emit("ok " + stat_line(*st));
        } else if (op == "lstat") {
            auto st = ospp::lstat(P, {.dir_fd = d});
            if (!failed(st)) emit("ok " + stat_line(*st));
        } else if (op == "readlink") {
            auto target = ospp::readlink(P, {.dir_fd = d});
            if (!failed(target)) emit("ok " + enc(*target));
        } else if (op == "access") {
            const auto r = ospp::access(P, static_cast<ospp::access_mode>(std::stoi(a[1])),
                                        {.dir_fd = d, .follow_symlinks = flag(2), .effective_ids = flag(3)});
            emit(r ? "ok True" : "ok False");
        } else if (op == "scandir") {
            scandir(at ? ospp::scandir(d) : ospp::scandir(P));
        } else if (op == "walk") {
            walk(P, flag(1), flag(2));
        } else if (op == "fwalk") {
            fwalk(P, flag(1), flag(2), at);
        } else if (op == "copyfile") {
            ok_or_err(ospp::copy_file(P, dec(a[1]), {.follow_symlinks = flag(2)}));
        } else if (op == "rmtree") {
            // Whether rmtree gets past its top (driver.py checks the same way)
            const bool top_opens = ospp::open(P, open_flags::rdonly | open_flags::directory | open_flags::nofollow).has_value();
            auto r = ospp::rmtree(P);
            if (r || !top_opens) {
                ok_or_err(r);
            } else {
                // Which entry fails first, and what was removed before, depends on the order of
                // removal, which neither documents: the errno, then the script stops (driver.py).
                emit("ERR " + std::to_string(r.error().code()) + " (rmtree: the script stops)");
                stopped_ = true;
            }
        } else if (op == "setxattr") {
            const auto flags = a[3] == "1" ? ospp::xattr_flags::create
                             : a[3] == "2" ? ospp::xattr_flags::replace : ospp::xattr_flags::none;
            ok_or_err(ospp::setxattr(P, dec(a[1]), dec(a[2]), flags, {.follow_symlinks = flag(4)}));
        } else if (op == "getxattr") {
            auto v = ospp::getxattr(P, dec(a[1]), {.follow_symlinks = flag(2)});
            if (!failed(v)) emit("ok " + enc(*v));
        } else if (op == "listxattr") {
            emit_names(ospp::listxattr(P, {.follow_symlinks = flag(1)}));
        } else if (op == "removexattr") {
            ok_or_err(ospp::removexattr(P, dec(a[1]), {.follow_symlinks = flag(2)}));
        } else {
            std::cerr << "unknown op " << op << '\n';
            std::exit(2);
        }
    }

    void scandir(ospp::result<ospp::scandir_range> it) {
        if (failed(it)) return;
        std::vector<std::pair<std::string, std::string>> lines;
        for (const ospp::dir_entry& e : *it) {
            auto st = e.stat();
            std::string line = "entry " + enc(e.name()) + " " + enc(e.path()) + " d" +
                               std::to_string(int(e.is_dir())) + std::to_string(int(e.is_dir({.follow_symlinks = false}))) +
                               " f" + std::to_string(int(e.is_file())) +
                               std::to_string(int(e.is_file({.follow_symlinks = false}))) + " l" +
                               std::to_string(int(e.is_symlink())) + " " +
                               (st ? "mode=" + octal(st->st_mode) : "E" + std::to_string(st.error().code()));
            lines.emplace_back(std::string(e.name()), std::move(line));
        }
        if (it->error()) {
            emit(err_line(*it->error()));
            return;
        }
        std::sort(lines.begin(), lines.end());
        emit("ok " + std::to_string(lines.size()));
        for (auto& l : lines) emit(std::move(l.second));
    }

    static const char* filetype(mode_t m) {
        if (ospp::s_isdir(m)) return "dir";
        if (ospp::s_isreg(m)) return "file";
        if (ospp::s_islnk(m)) return "link";
        if (ospp::s_isfifo(m)) return "fifo";
        if (ospp::s_ischr(m)) return "chr";
        return "other";
    }

    // The user.* attributes as name=value,...; "E<errno>" if one cannot be read (as driver.py).
    static std::string xattrs(const std::string& p) {
        auto xs = ospp::listxattr(p, {.follow_symlinks = false});
        if (!xs) return "E" + std::to_string(xs.error().code());
        std::sort(xs->begin(), xs->end());
        std::string list;
        for (const auto& x : *xs) {
            if (!x.starts_with("user.")) continue;
            auto v = ospp::getxattr(p, x, {.follow_symlinks = false});
            if (!v) return "E" + std::to_string(v.error().code());
            if (!list.empty()) list += ",";
            list += enc(x) + "=" + enc(*v);
        }
        return list;
    }

    void dump(const std::string& rel) {
        auto names = ospp::listdir(rel.empty() ? std::string(".") : rel);
        if (!names) {
            emit("dump " + enc(rel) + " " + std::to_string(names.error().code()));
            return;
        }
        std::sort(names->begin(), names->end());
        for (const auto& n : *names) {
            const std::string p = rel.empty() ? n : join(rel, n);
            const auto lst = ospp::lstat(p);
            if (!lst) {  // a directory that may be read but not searched
                emit("dump " + enc(p) + " E" + std::to_string(lst.error().code()));
                continue;
            }
            const auto& st = *lst;
            std::string line = "dump " + enc(p) + " " + filetype(st.st_mode) + " " + octal(ospp::s_imode(st.st_mode)) +
                               " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
            if (ospp::s_isreg(st.st_mode))
                line += " size=" + std::to_string(st.st_size) + " nlink=" + std::to_string(st.st_nlink);
            if (ospp::s_islnk(st.st_mode)) {
                line += " -> " + enc(ospp::readlink(p).value());
            } else if (ospp::s_isreg(st.st_mode) || ospp::s_isdir(st.st_mode)) {
                line += " xattr=" + xattrs(p);
            }
            emit(line);
            if (ospp::s_isdir(st.st_mode)) dump(p);
        }
    }
};

// --run: hand over to the Python runner, or skip (77) without python3.
int run_runner(int argc, char** argv) {
    std::vector<char*> args;
    std::string self = "/proc/self/exe";
    char python[] = "python3";
    char driver_flag[] = "--driver";
    args.push_back(python);
    args.push_back(argv[2]);
    args.push_back(driver_flag);
    std::string exe(4096, '\0');
    const ssize_t n = ::readlink(self.c_str(), exe.data(), exe.size() - 1);
    if (n <= 0) return 1;
    exe.resize(static_cast<std::size_t>(n));
    args.push_back(exe.data());
    for (int i = 3; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    ::execvp("python3", args.data());
    const int err = errno;
    std::fprintf(stderr, "python3: %s\n", std::strerror(err));
    return err == ENOENT ? 77 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::string_view(argv[1]) == "--run") return run_runner(argc, argv);
    // --domain fdio: descriptor operations (fdio.cpp); pipes: pipe ends and special descriptors
    // (pipes.cpp); proc: the process's own state (proc.cpp); locks: file locks (locks.cpp); spawn:
    // starting programs (spawn.cpp); tty: terminals and ptys (tty.cpp). The default is files.
    int first = 1;
    std::string_view domain = "files";
    if (argc >= 3 && std::string_view(argv[1]) == "--domain") {
        domain = argv[2];
        first = 3;
    }
    if (argc <= first || (domain != "files" && domain != "fdio" && domain != "pipes" && domain != "proc" &&
                          domain != "locks" && domain != "spawn" && domain != "tty")) {
        std::cerr << "usage: ospp_differential [--domain files|fdio|pipes|proc|locks|spawn|tty] WORKDIR SCRIPT... | --run RUNNER [ARGS...]\n";
        return 2;
    }
    argc -= first - 1;
    argv += first - 1;
    const std::string work = argv[1];
    ospp::umask(022);
    std::vector<std::string> out;
    for (int i = 2; i < argc; ++i) {
        const std::string sandbox = work + "/" + std::to_string(i - 2);
        must(ospp::mkdir(sandbox));
        must(ospp::mkdir(sandbox + "/root"));
        must(ospp::chdir(sandbox + "/root"));
        out.push_back("== " + std::to_string(i - 2));
        std::ifstream script(argv[i]);
        if (domain == "proc") {
            run_proc_script(script, out);
        } else if (domain == "fdio") {
            run_fdio_script(script, out);
        } else if (domain == "pipes") {
            run_pipes_script(script, out);
        } else if (domain == "locks") {
            run_locks_script(script, out);
        } else if (domain == "spawn") {
            // read whole and closed first: an ifstream's descriptor is not close-on-exec, and the
            // children would see it
            std::stringstream text;
            text << script.rdbuf();
            script.close();
            run_spawn_script(text, out);
        } else if (domain == "tty") {  // terminals and ptys (tty.cpp)
            run_tty_script(script, out);
        } else {
            driver d(out);
            apply_script(script, out, d);
            d.dfd_.reset();
            // a symlink to "../" lets a script chmod the sandbox itself (one level up, by design)
            must(ospp::chmod(sandbox, 0755));
            must(ospp::chdir(sandbox));
            if (!d.stopped_) d.dump("");
        }
        must(ospp::chdir(work));
    }
    std::string all;
    for (const auto& l : out) (all += l) += '\n';
    std::fwrite(all.data(), 1, all.size(), stdout);
    return 0;
}
