// src/scandir.cpp — os.scandir over getdents64, with PEP 471's caching rules.
#include "ospp/scandir.hpp"

#include <fcntl.h>

#include <array>
#include <charconv>
#include <memory>
#include <new>
#include <string_view>

#include "dirents.hpp"
#include "stat_at.hpp"
#include "sys.hpp"

namespace ospp {

namespace {

unsigned char dtype_of(::mode_t mode) noexcept { return static_cast<unsigned char>(IFTODT(mode)); }

}  // namespace

// ---- dir_entry ----

std::string dir_entry::path() const {
    std::string p(dir_path_);
    if (!p.empty() && p.back() != '/') p += '/';
    p += name_;
    return p;
}

int dir_entry::fill(bool follow_symlinks) const noexcept {
    // A non-symlink's stat is its lstat: one system call serves both caches (as in CPython).
    const bool follow = follow_symlinks && type() == DT_LNK;
    bool& have = follow ? have_stat_ : have_lstat_;
    if (have) return 0;
    stat_result& st = follow ? stat_ : lstat_;
    // name_ points into the getdents buffer, where every name is NUL-terminated.
    if (sys::stat_at(dir_fd_, name_.data(), follow ? 0 : AT_SYMLINK_NOFOLLOW, st) < 0) return errno;
    have = true;
    return 0;
}

unsigned char dir_entry::type() const noexcept {
    if (d_type_ != DT_UNKNOWN) return d_type_;
    if (!have_lstat_ && fill(false) != 0) return DT_UNKNOWN;
    return dtype_of(lstat_.st_mode);
}

bool dir_entry::is_dir(const follow_options& options) const noexcept {
    const unsigned char t = type();
    if (t == DT_LNK && options.follow_symlinks) return fill(true) == 0 && s_isdir(stat_.st_mode);
    return t == DT_DIR;
}

bool dir_entry::is_file(const follow_options& options) const noexcept {
    const unsigned char t = type();
    if (t == DT_LNK && options.follow_symlinks) return fill(true) == 0 && s_isreg(stat_.st_mode);
    return t == DT_REG;
}

bool dir_entry::is_symlink() const noexcept { return type() == DT_LNK; }

result<stat_result> dir_entry::stat(const follow_options& options) const noexcept {
    const int err = fill(options.follow_symlinks);
    if (err != 0) {
        // The error names the entry as Python's does: its path (built only on this failure path,
        // after the errno is kept: a successful allocation may change errno). Without memory for
        // it, the name alone: this function is noexcept, and an error is never to throw.
        try {
            return sys::fail_with(err, "stat", path());
        } catch (const std::bad_alloc&) {
            return sys::fail_with(err, "stat", name());
        }
    }
    return options.follow_symlinks && type() == DT_LNK ? stat_ : lstat_;
}

// ---- scandir_range ----

scandir_range::scandir_range(fd dir, std::string path)
    : dir_(std::move(dir)), path_(std::move(path)), buffer_(new std::byte[sys::dirent_buffer_size]) {}

scandir_range::iterator scandir_range::begin() noexcept {
    advance();
    return iterator(this);
}

scandir_range& scandir_range::operator=(scandir_range&& other) noexcept {
    if (this != &other) {
        // The defaulted assignment, after the position this range borrowed is given back.
        std::destroy_at(this);
        std::construct_at(this, std::move(other));
    }
    return *this;
}

scandir_range::~scandir_range() { restore_position(); }

void scandir_range::restore_position() noexcept {
    if (restore_offset_ >= 0 && dir_.get() >= 0) ::lseek(dir_.get(), restore_offset_, SEEK_SET);
    restore_offset_ = -1;
}

void scandir_range::close() noexcept {
    restore_position();
    dir_.reset();
    done_ = true;
}

void scandir_range::advance() noexcept {
    while (!done_) {
        if (pos_ >= len_) {
            const ssize_t n = sys::read_dirents(dir_.get(), buffer_.get(), sys::dirent_buffer_size);
            if (n <= 0) {
                if (n < 0) {
                    error_ = path_.empty() ? errno_error(errno, "scandir") : errno_error(errno, "scandir", path_);
                }
                close();
                return;
            }
            pos_ = 0;
            len_ = static_cast<std::size_t>(n);
        }
        const struct ::dirent64* d = sys::dirent_at(buffer_.get(), pos_);
        pos_ += d->d_reclen;
        if (sys::is_dot_or_dotdot(d->d_name)) continue;
        entry_.have_lstat_ = entry_.have_stat_ = false;
        entry_.name_ = d->d_name;
        entry_.dir_path_ = path_;
        entry_.dir_fd_ = dir_.get();
        entry_.ino_ = d->d_ino;
        entry_.d_type_ = d->d_type;
        return;
    }
}

result<scandir_range> scandir(path_ref path) {
    if (!path.valid()) return sys::bad_path("scandir", path);
    const int raw =
        sys::retry([&] { return ::openat(AT_FDCWD, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (raw < 0) return sys::fail("scandir", path);
    return scandir_range(fd(raw), std::string(path.view()));
}

result<scandir_range> scandir(fd_ref dir) {
    // A new open file description, so that reading leaves dir's own position alone. openat(dir,
    // ".") needs search permission on the directory, which listing it (Python's dup + fdopendir)
    // does not: where it is refused, /proc/self/fd reopens the very directory with read permission
    // alone.
    // AT_FDCWD is no descriptor: openat would list the working directory (Python: EBADF).
    if (dir.get() < 0) return sys::fail_with(EBADF, "scandir");
    constexpr int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    int raw = sys::retry([&] { return ::openat(dir.get(), ".", flags); });
    if (raw < 0 && errno == EACCES) {
        constexpr std::string_view prefix = "/proc/self/fd/";
        std::array<char, 32> proc_path{};  // zeroed: the number is followed by a NUL
        prefix.copy(proc_path.data(), prefix.size());
        std::to_chars(proc_path.data() + prefix.size(), proc_path.data() + proc_path.size() - 1, dir.get());
        raw = sys::retry([&] { return ::open(proc_path.data(), flags); });
        if (raw < 0 && errno == ENOENT) errno = EACCES;  // no /proc here: the refusal stands
    }
    ::off_t restore_offset = -1;
    // ESRCH: a /proc directory whose process has exited cannot be looked up in any more, but
    // reads (empty), as Python's os.listdir(fd) does.
    if (raw < 0 && (errno == EACCES || errno == ESRCH)) {
        // The directory may not be read now, but `dir` was opened when it could be (its mode
        // changed since, or the process's ids): read through dir's own open file description, as
        // Python does, from the start, and put its position back when done.
        const int refused = errno;
        restore_offset = ::lseek(dir.get(), 0, SEEK_CUR);
        raw = restore_offset < 0 ? -1 : ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
        if (raw >= 0 && ::lseek(raw, 0, SEEK_SET) < 0) {
            const int err = errno;
            ::close(raw);
            errno = err;
            raw = -1;
        }
        if (raw < 0 && errno != EMFILE && errno != ENFILE) errno = refused;
    }
    if (raw < 0) return sys::fail("scandir");
    scandir_range range{fd(raw), std::string()};
    range.restore_offset_ = restore_offset;
    return range;
}

}  // namespace ospp
