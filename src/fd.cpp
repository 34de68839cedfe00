// src/fd.cpp — closing owned and borrowed descriptors.
#include "ospp/fd.hpp"

#include <unistd.h>

#include "sys.hpp"

namespace ospp {

void fd::reset(int raw) noexcept {
    if (fd_ >= 0 && fd_ != raw) {
        const int saved = errno;
        ::close(fd_);  // errors ignored: a destructor has nobody to tell
        errno = saved;
    }
    fd_ = raw;
}

result<void> fd::close() noexcept {
    const int raw = release();
    // An empty owner (closed before, moved from, never given one) owns nothing to close: calling
    // close(-1) would only report an EBADF for a double close that did not happen.
    if (raw < 0) return {};
    return ospp::close(fd_ref(raw));
}

result<void> close(fd&& f) noexcept { return f.close(); }

result<void> close(fd_ref raw) noexcept {
    // Never retried on EINTR: Linux has released the number already, and a retry could close a
    // descriptor another thread has just been given.
    if (::close(raw.get()) < 0) return sys::fail("close");
    return {};
}

}  // namespace ospp
