// test/random_test.cpp — getrandom and urandom.
#include "ospp/random.hpp"

#include <array>
#include <set>
#include <vector>

#include "support.hpp"

TEST_CASE("urandom fills exactly what was asked, with varied bytes") {
    auto a = ospp::urandom(32);
    auto b = ospp::urandom(32);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->size() == 32);
    CHECK(*a != *b);
    CHECK(ospp::urandom(0).value().empty());

    std::vector<std::byte> big(1 << 20);
    REQUIRE(ospp::urandom(big).has_value());
    std::set<std::byte> seen(big.begin(), big.begin() + 4096);
    CHECK(seen.size() > 200);  // 4096 random bytes miss more than 56 values with negligible chance
}

TEST_CASE("getrandom returns up to size bytes and takes typed flags") {
    auto r = ospp::getrandom(16, ospp::random_flags::nonblock);
    REQUIRE(r.has_value());  // the pool is initialised long after boot
    CHECK(r->size() == 16);
    std::array<std::byte, 64> buf{};
    auto n = ospp::getrandom(buf);
    REQUIRE(n.has_value());
    CHECK(*n == buf.size());
    CHECK_ERRNO(ospp::getrandom(16, ospp::random_flags{0x1000}), EINVAL, "getrandom: [Errno 22] Invalid argument");
}
