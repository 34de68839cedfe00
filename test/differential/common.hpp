// test/differential/common.hpp — what both domains' C++ drivers share (see run.py): the token
// encoding, the error line, and the script loop's small helpers. driver.py has the same for Python.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <span>
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

// A comma-separated list of tokens; "-" is the empty list (fdio, pipes).
inline std::vector<std::string> list(const std::string& t) {
    std::vector<std::string> out;
    if (t == "-") return out;
    std::size_t start = 0;
    for (;;) {
        const auto comma = t.find(',', start);
        out.push_back(t.substr(start, comma - start));
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

// An offset argument: "-" is Python's None (fdio, pipes).
inline std::optional<::off_t> opt(const std::string& t) {
    if (t == "-") return std::nullopt;
    return std::stoll(t);
}

// The driver's own setup cannot fail: stop if it does.
inline void must(const ospp::result<void>& r) {
    if (r) return;
    std::cerr << r.error().message() << '\n';
    std::exit(2);
}

// What the descriptor domains' drivers (fdio, pipes) share: one line per operation, "ok [what]"
// or the error line; `stopped_` is apply_script's protocol (no operation of theirs ends a script).
struct line_driver {
    explicit line_driver(std::vector<std::string>& out) : out_(out) {}
    std::vector<std::string>& out_;
    bool stopped_ = false;

    void emit(std::string line) { out_.push_back(std::move(line)); }
    template <class T>
    void ok_or_err(const ospp::result<T>& r) {
        emit(r ? std::string("ok") : err_line(r.error()));
    }
    template <class T, class Show>
    void show(const ospp::result<T>& r, Show s) {
        emit(r ? "ok " + s(*r) : err_line(r.error()));
    }
    static std::string boolean(bool b) { return b ? "True" : "False"; }
};

// readv/preadv: buffers of the listed sizes, filled by `call` (given the spans); the bytes
// they got, in order (their size is the call's total).
template <class Call>
ospp::result<std::string> read_buffers(const std::string& sizes, Call call) {
    std::vector<std::string> bufs;
    for (const auto& n : list(sizes)) bufs.emplace_back(std::stoul(n), '\0');
    std::vector<std::span<std::byte>> spans;
    for (auto& b : bufs) spans.push_back(std::as_writable_bytes(std::span(b)));
    auto r = call(std::span<const std::span<std::byte>>(spans));
    if (!r) return tl::unexpected(std::move(r.error()));
    std::string got;
    for (const auto& b : bufs) got += b;
    got.resize(*r);
    return got;
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
// The pipes domain (pipes.cpp): pipe ends, eventfd, memfd.
void run_pipes_script(std::istream& script, std::vector<std::string>& out);
// The locks domain (locks.cpp): file locks of this process and a child of it.
void run_locks_script(std::istream& script, std::vector<std::string>& out);
// The spawn domain (spawn.cpp): posix_spawn, spawn*, exec* and the PATH search.
void run_spawn_script(std::istream& script, std::vector<std::string>& out);
// The proc domain (proc.cpp): applies one script in a process of its own.
void run_proc_script(std::istream& script, std::vector<std::string>& out);
// The tty domain (tty.cpp): terminals and ptys, in a process that leads a session of its own.
void run_tty_script(std::istream& script, std::vector<std::string>& out);

}  // namespace differential
