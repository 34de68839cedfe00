// examples/du.cpp — a small `du -s` (and `du -d N`: a total per directory), built from ospp::fwalk.
//
//   Python                                           C++ (below)
//   for root, dirs, files, rootfd in os.fwalk(top,   for (auto [root, dirs, files, rootfd] :
//                                  topdown=False):         ospp::fwalk(top, {.topdown = false}))
//       for name in dirs + files:                        for (std::string_view name : ...)
//           st = os.stat(name, dir_fd=rootfd,                auto st = ospp::stat(name.data(), {.dir_fd = rootfd,
//                        follow_symlinks=False)                                  .follow_symlinks = false});
//
// fwalk hands out each directory's fd, so every lstat is relative to it: no path is built or
// resolved per file. Bottom-up order gives each directory after its subdirectories, so their totals
// are known when the parent is printed. Hard links are counted once, as du does.
//
// Usage: du [-d DEPTH] [DIR]   prints "KiB<TAB>path" for directories up to DEPTH levels (default 0),
//                              as `du -d DEPTH DIR` does. DIR must be a directory: fwalk does not
//                              follow a symlink DIR (ENOTDIR, exit 1) where du prints the link's own
//                              size; write DIR/ to walk the directory it names.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "ospp/stat.hpp"
#include "ospp/walk.hpp"

int main(int argc, char** argv) {
    int max_depth = 0;
    std::string top = ".";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            max_depth = std::atoi(argv[++i]);
        } else {
            top = argv[i];
        }
    }
    std::map<std::string, long long, std::less<>> subtotal;  // a directory's subdirectories' blocks
    std::set<std::pair<dev_t, ino_t>> seen_links;             // hard-linked files already counted
    int status = 0;
    auto onerror = [&](const ospp::errno_error& e) {
        std::fprintf(stderr, "du: %s\n", e.message().c_str());
        status = 1;
    };
    for (auto [root, dirs, files, rootfd] : ospp::fwalk(top, {.topdown = false, .onerror = onerror})) {
        long long blocks = 0;
        // The directory itself.
        if (auto st = ospp::fstat(rootfd)) blocks += st->st_blocks;
        for (std::string_view name : files) {
            // The walk's names are NUL-terminated, so name.data() is a valid C string.
            auto st = ospp::stat(name.data(), {.dir_fd = rootfd, .follow_symlinks = false});
            if (!st) continue;  // removed since the listing
            if (st->st_nlink > 1 && !seen_links.insert({st->st_dev, st->st_ino}).second) continue;
            blocks += st->st_blocks;
        }
        for (std::string_view name : dirs) {
            std::string child(root);
            if (child.back() != '/') child += '/';  // joined as the walk joins
            child += name;
            if (auto it = subtotal.find(child); it != subtotal.end()) {
                blocks += it->second;  // a real subdirectory, walked before us (bottom-up)
                subtotal.erase(it);
            } else if (auto st = ospp::stat(name.data(), {.dir_fd = rootfd, .follow_symlinks = false})) {
                blocks += st->st_blocks;  // a symlink to a directory: the link itself
            }
        }
        subtotal[std::string(root)] = blocks;
        // Depth below top: the names after it ("/a/b" below "top", "a/b" below "top/" or "/").
        int depth = 0;
        bool in_name = false;
        for (char c : root.substr(top.size())) {
            if (c != '/' && !in_name) ++depth;
            in_name = c != '/';
        }
        if (depth <= max_depth) std::printf("%lld\t%.*s\n", (blocks + 1) / 2, static_cast<int>(root.size()), root.data());
    }
    return status;
}
