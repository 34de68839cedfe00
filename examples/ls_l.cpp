// examples/ls_l.cpp — a small `ls -l`, built from ospp::scandir and stat_result.
//
//   Python                                           C++ (below)
//   for e in sorted(os.scandir(d), key=...):         for (const ospp::dir_entry& e : *entries)
//       if e.name.startswith("."): continue              if (e.name().starts_with('.')) continue;
//       st = e.stat(follow_symlinks=False)               auto st = e.stat({.follow_symlinks = false});
//       stat.filemode(st.st_mode)                        ospp::filemode(st->st_mode)
//       os.readlink(e.path) if e.is_symlink()            ospp::readlink(e.path())
//
// Usage: ls_l [DIR]   (default: the current directory). The output is `LC_ALL=C ls -ln DIR`'s, but
// for one mark: ls writes '+' after the mode of a file with an ACL ('.' for an SELinux context) and
// widens that column by one for every row; this reads no extended attributes, so it writes neither.
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

// As ls: month, day and time for the last six months, month, day and year for anything older or
// in the future (a date without its year would be wrong by a year or more).
std::string format_time(const ospp::file_time& t, const ospp::file_time& now) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
    const auto six_months = std::chrono::seconds(31'556'952 / 2);  // half a Gregorian year, as GNU ls
    const bool recent = t <= now && now - t < six_months;
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, recent ? "%b %e %H:%M" : "%b %e  %Y", &tm);
    return buf;
}

// The width of the widest value in a column, as ls pads every column to it.
int width(const std::vector<std::string>& column) {
    std::size_t w = 0;
    for (const std::string& s : column) w = std::max(w, s.size());
    return static_cast<int>(w);
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
        if (e.name().starts_with('.')) continue;  // hidden, as ls without -a
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
    std::printf("total %lld\n", (blocks + 1) / 2);  // ls counts 1 KiB blocks, rounded up

    // The numeric columns as strings first, so that each can be padded to its widest value. A
    // device's "major, minor" takes the size's place, each number padded on its own, as ls does.
    std::vector<std::string> links, uids, gids, sizes, majors, minors;
    for (const row& r : rows) {
        links.push_back(std::to_string(r.st.st_nlink));
        uids.push_back(std::to_string(r.st.st_uid));
        gids.push_back(std::to_string(r.st.st_gid));
        const bool device = ospp::s_ischr(r.st.st_mode) || ospp::s_isblk(r.st.st_mode);
        sizes.push_back(device ? "" : std::to_string(r.st.st_size));
        majors.push_back(device ? std::to_string(ospp::device_major(r.st.st_rdev)) : "");
        minors.push_back(device ? std::to_string(ospp::device_minor(r.st.st_rdev)) : "");
    }
    const int major_width = width(majors);
    const int minor_width = width(minors);
    const int size_width = std::max(width(sizes), major_width > 0 ? major_width + 2 + minor_width : 0);
    const auto now = std::chrono::time_point_cast<ospp::file_time::duration>(std::chrono::system_clock::now());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const row& r = rows[i];
        std::string size = sizes[i];
        if (!majors[i].empty()) {
            size = std::string(static_cast<std::size_t>(major_width) - majors[i].size(), ' ') + majors[i] + ", " +
                   std::string(static_cast<std::size_t>(minor_width) - minors[i].size(), ' ') + minors[i];
        }
        std::printf("%s %*s %*s %*s %*s %s %s%s%s\n", ospp::filemode(r.st.st_mode).c_str(), width(links),
                    links[i].c_str(), width(uids), uids[i].c_str(), width(gids), gids[i].c_str(), size_width,
                    size.c_str(), format_time(r.st.mtime(), now).c_str(), r.name.c_str(),
                    r.target.empty() ? "" : " -> ", r.target.c_str());
    }
    return 0;
}
