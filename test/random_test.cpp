// test/random_test.cpp — getrandom and urandom.
#include "ospp/random.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <set>
#include <vector>

#include "child.hpp"
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

TEST_CASE("a size above SSIZE_MAX is EINVAL, like Python's OverflowError, not an exception") {
    const std::size_t over = static_cast<std::size_t>(SSIZE_MAX) + 1;
    CHECK_ERRNO(ospp::urandom(over), EINVAL, "urandom: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::urandom(SIZE_MAX), EINVAL, "urandom: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::getrandom(over), EINVAL, "getrandom: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::getrandom(SIZE_MAX), EINVAL, "getrandom: [Errno 22] Invalid argument");
}

// Python's os.urandom reads /dev/urandom when getrandom is missing or refused; only os.getrandom
// reports the error.
TEST_CASE("urandom falls back to /dev/urandom when getrandom fails with ENOSYS or EPERM") {
    for (const int err : {ENOSYS, EPERM}) {
        CAPTURE(err);
        const std::string report = ospp_test::in_child([err]() -> std::string {
            if (!ospp_test::refuse_syscall(SYS_getrandom, err)) return "cannot install the seccomp filter";
            auto raw = ospp::getrandom(16);
            if (raw || raw.error().code() != err) return "getrandom did not fail with the filter's errno";
            auto a = ospp::urandom(64);
            if (!a) return a.error().message();
            if (a->size() != 64) return "short urandom";
            std::vector<std::byte> b(64);
            if (auto r = ospp::urandom(b); !r) return r.error().message();
            if (std::memcmp(a->data(), b.data(), 64) == 0) return "the same bytes twice";
            return "";
        });
        CHECK(report == "");
    }
}

// Only the fallback can fail; its open names the device, as Python's os.urandom does
// ("[Errno 24] Too many open files: '/dev/urandom'" with getrandom refused and no fd left).
TEST_CASE("urandom reports the fallback's error with the device's name") {
    const std::string report = ospp_test::in_child([]() -> std::string {
        if (!ospp_test::refuse_syscall(SYS_getrandom, EPERM)) return "cannot install the seccomp filter";
        const ::rlimit none{0, 0};
        if (::setrlimit(RLIMIT_NOFILE, &none) != 0) return "setrlimit failed";
        const auto r = ospp::urandom(16);
        if (r) return "urandom succeeded without a descriptor";
        if (r.error().code() != EMFILE) return "errno " + std::to_string(r.error().code());
        return r.error().message() == "urandom: [Errno 24] Too many open files: '/dev/urandom'" ? ""
                                                                                                : r.error().message();
    });
    CHECK(report == "");
}
