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

result<void> fd::close() noexcept { return ospp::close(fd_ref(release())); }

result<void> close(fd&& f) noexcept { return f.close(); }

result<void> close(fd_ref raw) noexcept {
    // Never retried on EINTR: Linux has released the number already, and a retry could close a
    // descriptor another thread has just been given.
    if (::close(raw.get()) < 0) return sys::fail("close");
    return {};
}

}  // namespace ospp
