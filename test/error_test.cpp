// test/error_test.cpp — errno_error: codes, paths, Python-style messages, std::error_code.
#include "ospp/error.hpp"

#include "support.hpp"

TEST_CASE("errno_error without a path reads like Python's OSError") {
    const ospp::errno_error e(EBADF, "read");
    CHECK(e.code() == EBADF);
    CHECK(std::string(e.call()) == "read");
    CHECK_FALSE(e.has_path());
    CHECK(e.path().empty());
    CHECK(e.message() == "read: [Errno 9] Bad file descriptor");
    CHECK(e.name() == "EBADF");
}

TEST_CASE("errno_error with one and two paths") {
    const ospp::errno_error one(ENOENT, "open", "nope");
    CHECK(one.has_path());
    CHECK_FALSE(one.has_path2());
    CHECK(one.path() == "nope");
    CHECK(one.message() == "open: [Errno 2] No such file or directory: 'nope'");

    const ospp::errno_error two(ENOENT, "rename", "a", "b");
    CHECK(two.has_path2());
    CHECK(two.path2() == "b");
    CHECK(two.message() == "rename: [Errno 2] No such file or directory: 'a' -> 'b'");

    // An empty path is still a path: Python prints ''.
    const ospp::errno_error empty(ENOENT, "stat", "");
    CHECK(empty.message() == "stat: [Errno 2] No such file or directory: ''");
}

TEST_CASE("errno_error copies own their paths") {
    ospp::errno_error copy;
    {
        std::string path = "temporary/path";
        const ospp::errno_error original(EACCES, "mkdir", path);
        copy = original;
        path.assign("overwritten");
    }
    CHECK(copy.path() == "temporary/path");
    const ospp::errno_error moved = std::move(copy);
    CHECK(moved.message() == "mkdir: [Errno 13] Permission denied: 'temporary/path'");
}

TEST_CASE("errno_error converts to std::error_code and compares with std::errc") {
    const ospp::errno_error e(ENOENT, "stat", "x");
    CHECK(e == std::errc::no_such_file_or_directory);
    CHECK_FALSE(e == std::errc::permission_denied);
    const std::error_code ec = e.error_code();
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(ec.value() == ENOENT);
}

TEST_CASE("errno names and strerror for known and unknown codes") {
    CHECK(ospp::strerror(ENOENT) == "No such file or directory");
    CHECK(ospp::errno_error(4242, "x").name() == "E4242");
    CHECK(ospp::strerror(4242) == "Unknown error 4242");
}

TEST_CASE("quote_path follows Python's repr") {
    CHECK(ospp::quote_path("plain") == "'plain'");
    CHECK(ospp::quote_path("it's") == "\"it's\"");
    CHECK(ospp::quote_path("both ' and \"") == "'both \\' and \"'");
    CHECK(ospp::quote_path("new\nline\ttab") == "'new\\nline\\ttab'");
    CHECK(ospp::quote_path("back\\slash") == "'back\\\\slash'");
    CHECK(ospp::quote_path(std::string_view("bad\xff\0", 5)) == "'bad\\xff\\x00'");
}
