// src/error.cpp — errno_error: storage of the paths and Python-style messages.
#include "ospp/error.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <new>

#include "printable_table.hpp"

namespace ospp {

namespace {

constexpr std::size_t no_path2 = static_cast<std::size_t>(-1);

// "a\0b\0" with a non-throwing new: null when memory runs out. A failed call must still report its
// errno then (the error names no path), which lets the wrappers be noexcept.
std::unique_ptr<char[]> copy_paths(std::string_view a, std::string_view b) noexcept {
    std::unique_ptr<char[]> buf(new (std::nothrow) char[a.size() + b.size() + 2]);
    if (!buf) return buf;
    char* end = std::copy(a.begin(), a.end(), buf.get());
    *end++ = '\0';
    *std::copy(b.begin(), b.end(), end) = '\0';
    return buf;
}

// The length of the valid UTF-8 sequence at the start of s, or 0 if s starts with a byte that
// Python's strict UTF-8 decoder rejects: a stray continuation byte, a lead byte that can only
// start an overlong form (C0, C1, E0 80..9F, F0 80..8F), an encoded surrogate (ED A0..BF), a
// code point above U+10FFFF (F4 90.., F5..FF), or a sequence cut short. Python then escapes the
// bytes of the bad sequence one by one; every byte after the first is a continuation byte, which
// is itself invalid, so rejecting one byte at a time gives the same text.
std::size_t utf8_sequence_length(std::string_view s) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
        return k < s.size() && at(k) >= lo && at(k) <= hi;
    };
    const unsigned char c = at(0);
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        const unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
        const unsigned char hi = c == 0xed ? 0x9f : 0xbf;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        const unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

// The code point of a sequence utf8_sequence_length() accepted.
char32_t decode_utf8(std::string_view s) noexcept {
    const auto c = static_cast<unsigned char>(s[0]);
    char32_t cp = s.size() == 2 ? c & 0x1fu : s.size() == 3 ? c & 0x0fu : c & 0x07u;
    for (std::size_t k = 1; k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3fu);
    return cp;
}

// Python's str.isprintable() for one code point, by binary search in the generated table.
bool is_printable(char32_t cp) noexcept {
    const auto& table = detail::non_printable_ranges;
    const auto it = std::upper_bound(table.begin(), table.end(), cp,
                                     [](char32_t v, const detail::code_point_range& r) { return v < r.first; });
    return it == table.begin() || cp > std::prev(it)->last;
}

// repr()'s escape of a non-printable code point: \t \n \r, else \xNN, \uNNNN or \UNNNNNNNN by size.
void append_escape(std::string& out, char32_t cp) {
    switch (cp) {
        case '\t': out += "\\t"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        default: break;
    }
    const int digits = cp < 0x100 ? 2 : cp < 0x10000 ? 4 : 8;
    out += '\\';
    out += digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
    constexpr const char* hex = "0123456789abcdef";
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 0xf];
}

}  // namespace

errno_error::errno_error(int code, const char* call, std::string_view path) noexcept
    : code_(code), call_(call), paths_(copy_paths(path, {})), path_len_(paths_ ? path.size() : 0) {}

errno_error::errno_error(int code, const char* call, std::string_view path, std::string_view path2) noexcept
    : code_(code),
      call_(call),
      paths_(copy_paths(path, path2)),
      path_len_(paths_ ? path.size() : 0),
      path2_len_(paths_ ? path2.size() : no_path2) {}

errno_error::errno_error(const errno_error& other)
    : code_(other.code_),
      call_(other.call_),
      paths_(other.paths_ ? copy_paths(other.path(), other.path2()) : nullptr),
      path_len_(other.path_len_),
      path2_len_(other.path2_len_) {
    if (other.paths_ && !paths_) throw std::bad_alloc();  // a copy is whole or fails, like std::string's
}

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
    // glibc names 0 "0"; it is no errno, so it takes the unknown form "E0".
    if (const char* n = code_ != 0 ? ::strerrorname_np(code_) : nullptr) return n;
    std::string unknown = "E";  // built in two steps: `"E" + std::to_string()` trips a GCC 12 -Wrestrict false positive at -O3
    unknown += std::to_string(code_);
    return unknown;
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
    std::string out;
    out.reserve(path.size() + 2);
    out += quote;
    std::size_t i = 0;
    while (i < path.size()) {
        const auto c = static_cast<unsigned char>(path[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != static_cast<unsigned char>(quote)) {
            // Fast path: a run of printable ASCII is copied in one append.
            std::size_t j = i + 1;
            while (j < path.size()) {
                const auto d = static_cast<unsigned char>(path[j]);
                if (d < 0x20 || d >= 0x7f || d == '\\' || d == static_cast<unsigned char>(quote)) break;
                ++j;
            }
            out.append(path.data() + i, j - i);
            i = j;
            continue;
        }
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            append_escape(out, c);
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence_length(path.substr(i));
        if (n == 0) {
            // os.fsdecode's surrogateescape: an undecodable byte b becomes U+DC00+b, which
            // repr() escapes (surrogates are not printable).
            append_escape(out, 0xdc00 + c);
            ++i;
            continue;
        }
        const char32_t cp = decode_utf8(path.substr(i, n));
        if (is_printable(cp)) {
            out.append(path.data() + i, n);
        } else {
            append_escape(out, cp);
        }
        i += n;
    }
    out += quote;
    return out;
}

}  // namespace ospp
