// src/fd_ops.cpp — Python's "File Descriptor Operations".
#include "ospp/fd_ops.hpp"

#include <unistd.h>

#include "sys.hpp"

namespace ospp {

result<fd> open(path_ref path, open_flags flags, ::mode_t mode, const open_options& options) noexcept {
    if (!path.valid()) return sys::bad_path("open", path);
    const int raw = sys::retry([&] {
        return ::openat(options.dir_fd.get(), path.c_str(), to_raw(flags) | O_CLOEXEC, mode);
    });
    if (raw < 0) return sys::fail("open", path);
    return fd(raw);
}

result<std::size_t> read(fd_ref f, std::span<std::byte> buffer) noexcept {
    const ssize_t n = sys::retry([&] { return ::read(f.get(), buffer.data(), buffer.size()); });
    if (n < 0) return sys::fail("read");
    return static_cast<std::size_t>(n);
}

result<std::string> read(fd_ref f, std::size_t n) {
    std::string out(n, '\0');
    auto got = read(f, std::as_writable_bytes(std::span(out)));
    if (!got) return tl::unexpected(std::move(got.error()));
    out.resize(*got);
    return out;
}

result<std::size_t> write(fd_ref f, std::span<const std::byte> data) noexcept {
    const ssize_t n = sys::retry([&] { return ::write(f.get(), data.data(), data.size()); });
    if (n < 0) return sys::fail("write");
    return static_cast<std::size_t>(n);
}

result<std::size_t> write(fd_ref f, std::string_view data) noexcept {
    return write(f, std::as_bytes(std::span(data)));
}

result<pipe_fds> pipe() noexcept { return pipe2(open_flags{}); }

result<pipe_fds> pipe2(open_flags flags) noexcept {
    int raw[2];
    if (::pipe2(raw, to_raw(flags) | O_CLOEXEC) < 0) return sys::fail("pipe2");
    return pipe_fds{fd(raw[0]), fd(raw[1])};
}

result<fd> dup(fd_ref f) noexcept {
    const int raw = ::fcntl(f.get(), F_DUPFD_CLOEXEC, 0);
    if (raw < 0) return sys::fail("dup");
    return fd(raw);
}

result<fd_ref> dup2(fd_ref f, fd_ref target, bool inheritable) noexcept {
    // dup2 always clears FD_CLOEXEC on the target; dup3 sets it. dup3 refuses f == target, where
    // dup2 succeeds and leaves the flags alone, so that case needs its own fcntl.
    int r;
    if (inheritable) {
        r = sys::retry([&] { return ::dup2(f.get(), target.get()); });
    } else if (f == target) {
        r = ::fcntl(f.get(), F_GETFD);
        if (r >= 0) r = ::fcntl(f.get(), F_SETFD, r | FD_CLOEXEC);
    } else {
        r = sys::retry([&] { return ::dup3(f.get(), target.get(), O_CLOEXEC); });
    }
    if (r < 0) return sys::fail("dup2");
    return target;
}

}  // namespace ospp
