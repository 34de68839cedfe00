// ospp/random.hpp — random bytes from the kernel.
//
//   Python                                   C++
//   os.urandom(16)                           ospp::urandom(16)                 // std::string of 16 bytes
//   (into a buffer)                          ospp::urandom(std::span<std::byte>(buf))
//   os.getrandom(16, os.GRND_NONBLOCK)       ospp::getrandom(16, ospp::random_flags::nonblock)
//
// urandom always fills the whole request (looping over short reads) and, like Python's, blocks only
// until the kernel's pool is first initialised at boot; where getrandom is missing (ENOSYS) or
// refused by a seccomp filter (EPERM) it reads /dev/urandom instead, as Python does. getrandom is
// the single raw call: it may return fewer bytes than asked, and reports those errors. Both retry
// on EINTR.
#pragma once

#include <sys/random.h>

#include <cstddef>
#include <span>
#include <string>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"

namespace ospp {

// getrandom(2) flags: Python's os.GRND_NONBLOCK, os.GRND_RANDOM.
enum class random_flags : unsigned int {
    none = 0,
    nonblock = GRND_NONBLOCK,  // EAGAIN instead of blocking while the pool is not initialised
    random = GRND_RANDOM,      // the legacy /dev/random pool (no benefit since Linux 5.6)
};
template <>
struct enable_bitmask<random_flags> : std::true_type {};

// Python's os.getrandom(size, flags) into a buffer: the number of bytes written (possibly fewer).
// Errors: EAGAIN (nonblock, pool not ready), EINVAL (bad flags), ENOSYS (kernel before 3.17),
// EPERM (refused by a seccomp filter).
[[nodiscard]] result<std::size_t> getrandom(std::span<std::byte> buffer,
                                            random_flags flags = random_flags::none) noexcept;
// Python's os.getrandom(size, flags): up to `size` bytes. Errors: those above; EINVAL for a size
// above SSIZE_MAX (Python's OverflowError).
[[nodiscard]] result<std::string> getrandom(std::size_t size, random_flags flags = random_flags::none);

// Python's os.urandom(size) into a buffer: fills all of it. Errors: only on the /dev/urandom
// fallback: those of opening it, naming '/dev/urandom' as Python does (ENOENT, EACCES, EMFILE,
// ENFILE), and of reading it (EIO if it ends).
[[nodiscard]] result<void> urandom(std::span<std::byte> buffer) noexcept;
// Python's os.urandom(size): exactly `size` random bytes. Errors: those above; EINVAL for a size
// above SSIZE_MAX (Python's OverflowError).
[[nodiscard]] result<std::string> urandom(std::size_t size);

}  // namespace ospp
