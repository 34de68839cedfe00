// src/error.cpp — errno_error: storage of the paths and Python-style messages.
#include "ospp/error.hpp"

#include <cstdio>
#include <cstring>

namespace ospp {

namespace {

constexpr std::size_t no_path2 = static_cast<std::size_t>(-1);

std::unique_ptr<char[]> copy_paths(std::string_view a, std::string_view b) {
    auto buf = std::make_unique<char[]>(a.size() + b.size() + 2);
    // An empty string_view may hold a null data(): memcpy(dst, nullptr, 0) is undefined behaviour.
    if (!a.empty()) std::memcpy(buf.get(), a.data(), a.size());
    buf[a.size()] = '\0';
    if (!b.empty()) std::memcpy(buf.get() + a.size() + 1, b.data(), b.size());
    buf[a.size() + 1 + b.size()] = '\0';
    return buf;
}

}  // namespace

errno_error::errno_error(int code, const char* call, std::string_view path)
    : code_(code), call_(call), paths_(copy_paths(path, {})), path_len_(path.size()) {}

errno_error::errno_error(int code, const char* call, std::string_view path, std::string_view path2)
    : code_(code),
      call_(call),
      paths_(copy_paths(path, path2)),
      path_len_(path.size()),
      path2_len_(path2.size()) {}

errno_error::errno_error(const errno_error& other)
    : code_(other.code_),
      call_(other.call_),
      paths_(other.paths_ ? copy_paths(other.path(), other.path2()) : nullptr),
      path_len_(other.path_len_),
      path2_len_(other.path2_len_) {}

errno_error& errno_error::operator=(const errno_error& other) {
    if (this != &other) *this = errno_error(other);
    return *this;
}

std::string_view errno_error::path() const noexcept {
    return paths_ ? std::string_view(paths_.get(), path_len_) : std::string_view();
}

bool errno_error::has_path2() const noexcept { return paths_ && path2_len_ != no_path2; }

std::string_view errno_error::path2() const noexcept {
    return has_path2() ? std::string_view(paths_.get() + path_len_ + 1, path2_len_)
                       : std::string_view();
}

std::string errno_error::name() const {
    if (const char* n = ::strerrorname_np(code_)) return n;
    return "E" + std::to_string(code_);
}

std::string errno_error::message() const {
    std::string m = call();
    if (!m.empty()) m += ": ";
    m += "[Errno " + std::to_string(code_) + "] " + strerror(code_);
    if (has_path()) m += ": " + quote_path(path());
    if (has_path2()) m += " -> " + quote_path(path2());
    return m;
}

std::string strerror(int code) {
    // strerror_r (GNU form) is thread-safe; it may or may not use the buffer.
    char buf[256];
    return ::strerror_r(code, buf, sizeof buf);
}

std::string quote_path(std::string_view path) {
    // Python's repr(): single quotes unless the text has a ' and no ".
    const bool has_single = path.find('\'') != std::string_view::npos;
    const char quote = has_single && path.find('"') == std::string_view::npos ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : path) {
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

}  // namespace ospp
