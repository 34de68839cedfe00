// src/random.cpp — getrandom and urandom.
#include "ospp/random.hpp"

#include "sys.hpp"

namespace ospp {

result<std::size_t> getrandom(std::span<std::byte> buffer, random_flags flags) noexcept {
    const ssize_t n = sys::retry([&] { return ::getrandom(buffer.data(), buffer.size(), to_raw(flags)); });
    if (n < 0) return sys::fail("getrandom");
    return static_cast<std::size_t>(n);
}

result<std::string> getrandom(std::size_t size, random_flags flags) {
    std::string out(size, '\0');
    auto n = getrandom(std::as_writable_bytes(std::span(out)), flags);
    if (!n) return tl::unexpected(std::move(n.error()));
    out.resize(*n);
    return out;
}

result<void> urandom(std::span<std::byte> buffer) noexcept {
    while (!buffer.empty()) {
        const ssize_t n = sys::retry([&] { return ::getrandom(buffer.data(), buffer.size(), 0); });
        if (n < 0) return sys::fail("urandom");
        buffer = buffer.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

result<std::string> urandom(std::size_t size) {
    std::string out(size, '\0');
    if (auto r = urandom(std::as_writable_bytes(std::span(out))); !r) return tl::unexpected(std::move(r.error()));
    return out;
}

}  // namespace ospp
