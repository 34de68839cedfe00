// test/differential/common.hpp — what both domains' C++ drivers share (see run.py): the token
// encoding, the error line, and the script loop's small helpers. driver.py has the same for Python.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ospp/error.hpp"
#include "ospp/fd_ops.hpp"

namespace differential {

// Bytes as one token: percent-encoded, "~" for the empty string (as driver.py's enc).
inline std::string enc(std::string_view b) {
    if (b.empty()) return "~";
    static constexpr std::string_view safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-+";
    std::string out;
    for (const char c : b) {
        if (safe.find(c) != std::string_view::npos) {
            out += c;
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02x", static_cast<unsigned char>(c));
            out += hex;
        }
    }
    return out;
}

inline std::string dec(std::string_view token) {
    if (token == "~") return {};
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '%' && i + 2 < token.size()) {
            out += static_cast<char>(std::stoi(std::string(token.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += token[i];
        }
    }
    return out;
}

inline std::string err_line(const ospp::errno_error& e) {
    std::string msg = e.message();
    const std::string prefix = std::string(e.call()) + ": ";
    if (msg.starts_with(prefix)) msg.erase(0, prefix.size());
    return "ERR " + std::to_string(e.code()) + " " + (e.has_path() ? enc(e.path()) : "-") + " " +
           (e.has_path2() ? enc(e.path2()) : "-") + " " + msg;
}

inline std::string octal(unsigned long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lo", v);
    return buf;
}

// The open flags of a script's letters (driver.py's OPEN_FLAGS): r w R (access), c x t a d n
// (creat, excl, trunc, append, directory, nofollow), p T N (path, tmpfile, nonblock).
inline ospp::open_flags parse_open_flags(std::string_view letters) {
    using ospp::open_flags;
    open_flags flags{};
    for (const char c : letters) {
        switch (c) {
            case 'w': flags |= open_flags::wronly; break;
            case 'R': flags |= open_flags::rdwr; break;
            case 'c': flags |= open_flags::creat; break;
            case 'x': flags |= open_flags::excl; break;
            case 't': flags |= open_flags::trunc; break;
            case 'a': flags |= open_flags::append; break;
            case 'd': flags |= open_flags::directory; break;
            case 'n': flags |= open_flags::nofollow; break;
            case 'p': flags |= open_flags::path; break;
            case 'T': flags |= open_flags::tmpfile; break;
            case 'N': flags |= open_flags::nonblock; break;
            default: break;  // 'r': O_RDONLY is 0
        }
    }
    return flags;
}

// A working directory as the path below the script's directory `root` ("." for root itself),
// since the two drivers' directories differ; "outside" for any other.
inline std::string relative(const std::string& root, const std::string& cwd) {
    if (cwd == root) return ".";
    if (cwd.starts_with(root + "/")) return enc(std::string_view(cwd).substr(root.size() + 1));
    return "outside";
}

inline std::vector<std::string> split(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> tokens;
    for (std::string t; in >> t;) tokens.push_back(t);
    return tokens;
}

// The driver's own setup cannot fail: stop if it does.
inline void must(const ospp::result<void>& r) {
    if (r) return;
    std::cerr << r.error().message() << '\n';
    std::exit(2);
}

// Applies a script, one operation a line, with `d` (d.run(tokens)), each operation's lines after
// a "#n" marker; stops early once d.stopped_ is set.
template <class Driver>
void apply_script(std::istream& script, std::vector<std::string>& out, Driver& d) {
    int n = 0;
    for (std::string line; std::getline(script, line); ++n) {
        auto tokens = split(line);
        if (tokens.empty()) continue;
        if (d.stopped_) break;
        // Appended, not "#" + to_string(n): GCC 12 at -O3 takes that for an overlapping memcpy
        // (-Wrestrict).
        std::string marker = "#";
        marker += std::to_string(n);
        out.push_back(std::move(marker));
        d.run(std::move(tokens));
    }
}

// The fdio domain (fdio.cpp): applies one script's descriptor operations in the working
// directory and appends its lines to `out`.
void run_fdio_script(std::istream& script, std::vector<std::string>& out);
// The proc domain (proc.cpp): applies one script in a process of its own.
void run_proc_script(std::istream& script, std::vector<std::string>& out);

}  // namespace differential
