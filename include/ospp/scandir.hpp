// ospp/scandir.hpp — Python's os.scandir: a directory as an input range of dir_entry.
//
//   Python                                        C++
//   with os.scandir("d") as it:                   auto it = ospp::scandir("d");   // result<scandir_range>
//       for entry in it:                          for (const ospp::dir_entry& entry : *it) {
//           entry.name, entry.path                    entry.name(), entry.path()
//           entry.inode()                             entry.inode()
//           entry.is_dir()                            entry.is_dir()
//           entry.is_file(follow_symlinks=False)      entry.is_file({.follow_symlinks = false})
//           entry.is_symlink()                        entry.is_symlink()
//           entry.stat(follow_symlinks=False)         entry.stat({.follow_symlinks = false})
//                                                 }
//   (OSError raised while iterating)              if (it->error()) ... after the loop
//
// Keep the result in a variable: `for (auto& e : *ospp::scandir("d"))` iterates a range that dies
// with the temporary result before the loop body runs (C++20's range-for lifetime rule).
//
// Python's caching rules (PEP 471): is_dir/is_file/is_symlink answer from the directory entry's type
// without a system call, unless the filesystem reports DT_UNKNOWN or a symlink must be followed;
// stat() is called at most once per follow_symlinks value and then cached. "." and ".." are skipped.
// The directory is read with getdents64 into one buffer owned by the range, so iterating allocates
// nothing per entry. The directory fd is closed when the iteration ends (as Python's iterator
// closes when exhausted), by close(), or when the range is destroyed.
//
// Differences from Python, on purpose:
// - A dir_entry (and the string_view name() returns) is valid until the iteration advances: copy
//   what you keep (std::string(entry.name())). Python's DirEntry objects outlive the loop; a
//   dir_entry cannot be copied out of it (the compiler says its copy constructor is private).
// - An error while reading the directory ends the loop and is kept in error(), instead of raising.
// - is_dir()/is_file() return false when the stat they need fails for any reason (Python raises for
//   errors other than ENOENT); call stat() to see the error.
// - stat() is relative to the directory fd (fstatat), so it stays correct if the directory is renamed.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"
#include "ospp/stat.hpp"

namespace ospp {

// One entry of a directory: Python's os.DirEntry. The range lends it out by reference: its name
// lives in the range's buffer and its stat() uses the range's directory fd, both reused when the
// iteration advances, so a copy kept past that point could show another entry's name or stat a
// closed fd. Copying is therefore private, refused at compile time (`for (auto e : range)`,
// `std::vector<dir_entry>`): iterate with `const auto&` and copy the parts you keep.
class dir_entry {
public:
    // The entry's file name (never "." or ".."). Valid until the iteration advances.
    [[nodiscard]] std::string_view name() const noexcept { return name_; }
    // os.path.join(scandir_path, name); just the name for scandir(fd). Allocates.
    [[nodiscard]] std::string path() const;
    // The inode number from the directory entry (no system call).
    [[nodiscard]] ::ino_t inode() const noexcept { return ino_; }
    // A directory (or, following symlinks, a symlink to one)? False if the needed stat fails.
    [[nodiscard]] bool is_dir(const follow_options& options = {}) const noexcept;
    // A regular file (or, following symlinks, a symlink to one)? False if the needed stat fails.
    [[nodiscard]] bool is_file(const follow_options& options = {}) const noexcept;
    // A symbolic link? False if the needed lstat fails.
    [[nodiscard]] bool is_symlink() const noexcept;
    // The entry's stat_result, from the cache after the first call for each follow_symlinks value.
    // Errors: ENOENT (removed since, or a dangling symlink followed), EACCES, ELOOP.
    [[nodiscard]] result<stat_result> stat(const follow_options& options = {}) const noexcept;

private:
    friend class scandir_range;
    // Only the range makes, copies and moves entries (see above).
    dir_entry() noexcept = default;
    dir_entry(const dir_entry&) = default;
    dir_entry& operator=(const dir_entry&) = default;
    // d_type as the entry reports it, or the type from a stat once one was made.
    [[nodiscard]] unsigned char type() const noexcept;
    // Fills the cache for follow_symlinks; 0 or an errno.
    int fill(bool follow_symlinks) const noexcept;

    std::string_view name_;
    std::string_view dir_path_;  // empty for scandir(fd)
    int dir_fd_ = -1;
    ::ino_t ino_ = 0;
    unsigned char d_type_ = DT_UNKNOWN;
    mutable bool have_lstat_ = false;
    mutable bool have_stat_ = false;
    mutable stat_result lstat_;
    mutable stat_result stat_;
};

// The range os.scandir returns: iterate it once (an input range). Move-only; owns the directory fd.
class scandir_range {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = dir_entry;
        using difference_type = std::ptrdiff_t;
        using pointer = const dir_entry*;
        using reference = const dir_entry&;

        iterator() noexcept = default;
        reference operator*() const noexcept { return range_->entry_; }
        pointer operator->() const noexcept { return &range_->entry_; }
        iterator& operator++() noexcept {
            range_->advance();
            return *this;
        }
        void operator++(int) noexcept { range_->advance(); }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

    private:
        friend class scandir_range;
        explicit iterator(scandir_range* r) noexcept : range_(r) {}
        [[nodiscard]] bool at_end() const noexcept { return range_->done_; }
        scandir_range* range_ = nullptr;
    };

    scandir_range(scandir_range&&) noexcept = default;
    scandir_range& operator=(scandir_range&&) noexcept;
    scandir_range(const scandir_range&) = delete;
    scandir_range& operator=(const scandir_range&) = delete;
    ~scandir_range();

    // Starts the iteration (reads the first entry). Call once.
    iterator begin() noexcept;
    std::default_sentinel_t end() const noexcept { return {}; }

    // The error that ended the iteration early (getdents64 failed: EIO, EUCLEAN...), or nothing.
    // Check it after the loop. A directory removed while being read just ends: it was empty when
    // removed (glibc's readdir, and so Python, read it the same way).
    [[nodiscard]] const std::optional<errno_error>& error() const noexcept { return error_; }
    // The directory being read (Python's scandir has no such accessor; fwalk-like code wants it);
    // -1 once the iteration ended.
    [[nodiscard]] fd_ref dir_fd() const noexcept { return dir_; }
    // Python's ScandirIterator.close(): closes the directory now; the iteration ends.
    void close() noexcept;

private:
    friend result<scandir_range> scandir(path_ref path);
    friend result<scandir_range> scandir(fd_ref dir);
    scandir_range(fd dir, std::string path);
    void advance() noexcept;
    // Puts the caller's directory back at its position, when reading through its description.
    void restore_position() noexcept;

    fd dir_;
    std::string path_;  // the path scandir was given; empty for scandir(fd)
    std::unique_ptr<std::byte[]> buffer_;
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    bool done_ = false;
    std::optional<errno_error> error_;
    dir_entry entry_;
    // scandir(fd) of a directory that cannot be reopened reads through a duplicate of the caller's
    // descriptor, sharing its position: where to put that back. -1 otherwise.
    ::off_t restore_offset_ = -1;
};

// Python's os.scandir(path='.'). Errors (opening): ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG,
// EMFILE; EINVAL (NUL).
[[nodiscard]] result<scandir_range> scandir(path_ref path = ".");
// Python's os.scandir(fd): reads the directory `dir` refers to from its start, through a new open
// file description (openat(dir, "."), or /proc/self/fd/N where the directory may be read but not
// searched), so `dir`'s own position is untouched (Python's shares it, and rewinds it to 0 when
// done); `dir` stays open; entry paths are the bare names. Where neither reopening is allowed any
// more (the directory's mode changed since `dir` was opened, or the process changed its ids), or
// where the directory can no longer be looked up in (a /proc/PID directory whose process has
// exited: it lists nothing, as Python's; of /proc/PID/fd, Python's fails with ENOENT from the
// fstat in glibc's fdopendir), it reads through `dir`'s own description, as Python
// does, and puts its position back when the iteration ends (so do not read `dir` meanwhile).
// Errors: EBADF, ENOTDIR, EACCES (not readable), EMFILE, ENFILE (the new descriptor); ESRCH (a
// /proc/PID directory of an exited process, where reading through `dir` fails too).
[[nodiscard]] result<scandir_range> scandir(fd_ref dir);

}  // namespace ospp
