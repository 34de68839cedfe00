// examples/ls_l.cpp — a small `ls -l`, built from ospp::scandir and stat_result.
//
//   Python                                           C++ (below)
//   for e in sorted(os.scandir(d), key=...):         for (const ospp::dir_entry& e : *entries)
//       st = e.stat(follow_symlinks=False)               auto st = e.stat({.follow_symlinks = false});
//       stat.filemode(st.st_mode)                        ospp::filemode(st->st_mode)
//       os.readlink(e.path) if e.is_symlink()            ospp::readlink(e.path())
//
// Usage: ls_l [DIR]   (default: the current directory)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "ospp/files.hpp"
#include "ospp/scandir.hpp"
#include "ospp/stat.hpp"

namespace {

struct row {
    std::string name;
    ospp::stat_result st;
    std::string target;  // for symlinks
};

std::string format_time(const ospp::file_time& t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%b %e %H:%M", &tm);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ".";
    auto entries = ospp::scandir(dir);
    if (!entries) {
        std::fprintf(stderr, "ls_l: %s\n", entries.error().message().c_str());
        return 1;
    }
    std::vector<row> rows;
    for (const ospp::dir_entry& e : *entries) {
        // A dir_entry lives until the loop advances: keep copies of what we print later.
        auto st = e.stat({.follow_symlinks = false});
        if (!st) {
            std::fprintf(stderr, "ls_l: %s\n", st.error().message().c_str());
            continue;
        }
        row r{std::string(e.name()), *st, {}};
        if (e.is_symlink()) r.target = ospp::readlink(e.path()).value_or("?");
        rows.push_back(std::move(r));
    }
    if (entries->error()) std::fprintf(stderr, "ls_l: %s\n", entries->error()->message().c_str());
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.name < b.name; });

    long long blocks = 0;
    for (const row& r : rows) blocks += r.st.st_blocks;
    std::printf("total %lld\n", blocks / 2);  // ls counts 1 KiB blocks
    for (const row& r : rows) {
        std::string size;
        if (ospp::s_ischr(r.st.st_mode) || ospp::s_isblk(r.st.st_mode)) {
            size = std::to_string(ospp::device_major(r.st.st_rdev)) + ", " +
                   std::to_string(ospp::device_minor(r.st.st_rdev));
        } else {
            size = std::to_string(r.st.st_size);
        }
        std::printf("%s %3lu %5u %5u %8s %s %s%s%s\n", ospp::filemode(r.st.st_mode).c_str(),
                    static_cast<unsigned long>(r.st.st_nlink), r.st.st_uid, r.st.st_gid, size.c_str(),
                    format_time(r.st.mtime()).c_str(), r.name.c_str(), r.target.empty() ? "" : " -> ",
                    r.target.c_str());
    }
    return 0;
}
