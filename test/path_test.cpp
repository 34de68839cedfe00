// test/path_test.cpp — path_ref accepts every string type, without copying where it can.
#include "ospp/path.hpp"

#include <filesystem>

#include "support.hpp"

namespace {
const char* pass_through(ospp::path_ref p) { return p.c_str(); }
std::string view_of(ospp::path_ref p) { return std::string(p.view()); }
bool valid(ospp::path_ref p) { return p.valid(); }
}  // namespace

TEST_CASE("path_ref borrows NUL-terminated strings without a copy") {
    const char* literal = "some/path";
    CHECK(pass_through(literal) == literal);
    const std::string s = "a/b/c";
    CHECK(pass_through(s) == s.c_str());
    const std::filesystem::path p = "/x/y";
    CHECK(pass_through(p) == p.c_str());
    CHECK(view_of(literal) == "some/path");
    CHECK(view_of(p) == "/x/y");
}

TEST_CASE("path_ref copies a string_view and NUL-terminates it") {
    const std::string_view whole = "dir/file.txt-and-more";
    const std::string_view part = whole.substr(0, 12);
    CHECK(std::string(pass_through(part)) == "dir/file.txt");
    CHECK(view_of(part) == "dir/file.txt");

    const std::string long_path(1000, 'x');
    CHECK(std::string(pass_through(std::string_view(long_path))) == long_path);
    CHECK(view_of(std::string_view()) == "");
    // Around the inline buffer's 256 bytes: a view of exactly 256 needs 257 with its NUL, so it
    // goes to the heap (under ASan, an inline copy writes past the object).
    for (const std::size_t n : {255, 256, 257}) {
        CAPTURE(n);
        std::string longer(n + 1, 'y');
        longer[n] = 'z';  // not part of the view: must not appear in the copy
        const ospp::path_ref p(std::string_view(longer).substr(0, n));
        CHECK(std::string(p.c_str()) == std::string(n, 'y'));
    }
}

TEST_CASE("path_ref refuses an embedded NUL byte") {
    const std::string with_nul("a\0b", 3);
    CHECK_FALSE(valid(with_nul));
    CHECK_FALSE(valid(std::string_view(with_nul)));
    CHECK(view_of(std::string_view(with_nul)).size() == 3);
    CHECK(valid("plain"));
    CHECK(valid(std::string()));
}
