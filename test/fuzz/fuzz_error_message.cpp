// libFuzzer target: errno_error messages and path quoting on arbitrary paths.
// Invariants: a quoted path is valid UTF-8 between matching quotes, holds no code point Python's
// str.isprintable() rejects (so no raw newline, line separator or bidi control: no file name can
// forge a log line), and unescapes back to the very bytes of the path (os.fsencode of the text
// Python's repr shows); the message ends with the quoted path(s); path_ref refuses exactly the
// inputs with a NUL byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ospp/error.hpp"
#include "ospp/path.hpp"
#include "printable_table.hpp"

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

bool non_printable(char32_t cp) {
    const auto& t = ospp::detail::non_printable_ranges;
    return std::any_of(t.begin(), t.end(), [&](const auto& r) { return cp >= r.first && cp <= r.last; });
}

// Decodes one code point of strictly valid UTF-8 at s[i] (written from the Unicode standard's
// table 3-7, independently of src/error.cpp), advancing i; traps on anything else.
char32_t next_code_point(const std::string& s, std::size_t& i) {
    const auto byte = [&](std::size_t k) -> unsigned {
        return k < s.size() ? static_cast<unsigned char>(s[k]) : 0x100;
    };
    const unsigned c = byte(i);
    if (c < 0x80) return static_cast<char32_t>(s[i++]);
    const std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (c < 0xc2 || c > 0xf4) fail();
    char32_t cp = c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) fail();  // also past the end: 0x100
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    const char32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail();
    i += n;
    return cp;
}

void put_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Checks the quoted form and returns the bytes it stands for: escapes undone, \udc80..\udcff
// back to the byte surrogateescape took them from.
std::string check_and_unquote(const std::string& q) {
    if (q.size() < 2 || q.front() != q.back() || (q.front() != '\'' && q.front() != '"')) fail();
    std::string bytes;
    std::size_t i = 1;
    while (i < q.size() - 1) {
        const char32_t cp = next_code_point(q, i);
        if (cp == '\n' || cp == '\r' || non_printable(cp)) fail();
        if (cp == static_cast<char32_t>(q.front())) fail();  // an unescaped quote would end the text
        if (cp != '\\') {
            put_utf8(bytes, cp);
            continue;
        }
        if (i >= q.size() - 1) fail();
        const char e = q[i++];
        if (e == '\\' || e == '\'' || e == '"') {
            bytes += e;
            continue;
        }
        if (e == 'n' || e == 't' || e == 'r') {
            bytes += e == 'n' ? '\n' : e == 't' ? '\t' : '\r';
            continue;
        }
        const std::size_t width = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (width == 0 || i + width > q.size() - 1) fail();
        char32_t v = 0;
        for (std::size_t k = 0; k < width; ++k) {
            const char h = q[i + k];
            const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
            if (d < 0) fail();  // Python's hex digits are lowercase
            v = (v << 4) | static_cast<char32_t>(d);
        }
        i += width;
        // Only what Python would not print is escaped, in its shortest form.
        if (!non_printable(v) || v == '\n' || v == '\t' || v == '\r') fail();
        if (width != (v < 0x100 ? 2U : v < 0x10000 ? 4U : 8U)) fail();
        if (v >= 0xdc80 && v <= 0xdcff) {
            bytes += static_cast<char>(v - 0xdc00);
        } else if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) {
            fail();  // no other surrogate can come out of os.fsdecode
        } else {
            put_utf8(bytes, v);
        }
    }
    return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t cut = all.find('\x01');
    const std::string_view a = all.substr(0, cut);
    const std::string_view b = cut == std::string_view::npos ? std::string_view() : all.substr(cut + 1);

    if (check_and_unquote(ospp::quote_path(a)) != a) fail();
    const ospp::errno_error e(ENOENT, "rename", a, b);
    const std::string expected_tail = ospp::quote_path(a) + " -> " + ospp::quote_path(b);
    const std::string m = e.message();
    if (m.size() < expected_tail.size() || m.compare(m.size() - expected_tail.size(), expected_tail.size(), expected_tail) != 0)
        fail();
    if (e.path() != a || e.path2() != b) fail();
    const ospp::errno_error copy = e;
    if (copy.message() != m) fail();

    const ospp::path_ref p(a);
    if (p.valid() != (a.find('\0') == std::string_view::npos)) fail();
    if (p.view() != a || p.c_str()[a.size()] != '\0') fail();
    return 0;
}
