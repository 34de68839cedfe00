// src/random.cpp — getrandom and urandom.
#include "ospp/random.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "ospp/fd.hpp"
#include "sys.hpp"

namespace ospp {

result<std::size_t> getrandom(std::span<std::byte> buffer, random_flags flags) noexcept {
    const ssize_t n = sys::retry([&] { return ::getrandom(buffer.data(), buffer.size(), to_raw(flags)); });
    if (n < 0) return sys::fail("getrandom");
    return static_cast<std::size_t>(n);
}

result<std::string> getrandom(std::size_t size, random_flags flags) {
    if (sys::count_too_large(size)) return sys::fail_with(EINVAL, "getrandom");
    std::string out(size, '\0');
    auto n = getrandom(std::as_writable_bytes(std::span(out)), flags);
    if (!n) return tl::unexpected(std::move(n.error()));
    out.resize(*n);
    return out;
}

namespace {

// Python's os.urandom when getrandom is missing or refused: reads /dev/urandom to the end.
result<void> read_dev_urandom(std::span<std::byte> buffer) noexcept {
    const int raw = sys::retry([] { return ::open("/dev/urandom", O_RDONLY | O_CLOEXEC); });
    if (raw < 0) return sys::fail("urandom", "/dev/urandom");  // Python names the device, as its open does
    const fd f(raw);
    while (!buffer.empty()) {
        const ssize_t n = sys::retry([&] { return ::read(f.get(), buffer.data(), buffer.size()); });
        if (n < 0) return sys::fail("urandom");
        if (n == 0) return sys::fail_with(EIO, "urandom");  // a character device never ends
        buffer = buffer.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

result<void> urandom(std::span<std::byte> buffer) noexcept {
    while (!buffer.empty()) {
        const ssize_t n = sys::retry([&] { return ::getrandom(buffer.data(), buffer.size(), 0); });
        // ENOSYS: a kernel before 3.17; EPERM: a seccomp filter that predates the call (older
        // container runtimes). Python falls back to /dev/urandom for both, and so does this.
        if (n < 0 && (errno == ENOSYS || errno == EPERM)) return read_dev_urandom(buffer);
        if (n < 0) return sys::fail("urandom");
        buffer = buffer.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

result<std::string> urandom(std::size_t size) {
    if (sys::count_too_large(size)) return sys::fail_with(EINVAL, "urandom");
    std::string out(size, '\0');
    if (auto r = urandom(std::as_writable_bytes(std::span(out))); !r) return tl::unexpected(std::move(r.error()));
    return out;
}

}  // namespace ospp
