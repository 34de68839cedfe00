// ospp/walk.hpp — os.walk and os.fwalk on one fd-based engine, and shutil.rmtree on the same.
//
//   Python                                             C++
//   for dirpath, dirnames, filenames in os.walk(top):  for (auto [dirpath, dirnames, filenames] : ospp::walk(top)) {
//       if ".git" in dirnames:                             std::erase(dirnames, ".git");   // prune (topdown)
//           dirnames.remove(".git")                        ...
//   os.walk(top, topdown=False, onerror=f,             ospp::walk(top, {.topdown = false, .onerror = f,
//           followlinks=True)                                       .followlinks = true})
//   for root, dirs, files, rootfd in os.fwalk(top):    for (auto [root, dirs, files, rootfd] : ospp::fwalk(top)) {
//       os.stat(name, dir_fd=rootfd,                       ospp::stat(name, {.dir_fd = rootfd,
//               follow_symlinks=False)                                   .follow_symlinks = false});
//   shutil.rmtree(path)                                ospp::rmtree(path)
//
// The engine opens each directory with openat(2) relative to its parent's fd — O_NOFOLLOW unless
// links are followed — and checks the opened directory's inode against the entry it came from
// (its own "." entry answers, so the check costs no system call), so a directory swapped for a
// symlink or another directory mid-walk is never entered, and no path is resolved again from the
// root. Mount points are walked into, bind mounts of the same file system too, as os.walk does. Directories are read with getdents64 into one reusable buffer, and
// names are kept in a per-depth arena whose memory is reused: no heap allocation per entry.
//
// As in Python: dirnames holds the subdirectories, *including symlinks to directories* (is_dir()
// follows links), filenames everything else (dangling symlinks too); with topdown, the caller may
// remove names from dirnames (or reorder or add them) and only those left are visited (bottom-up,
// the directories listed are walked whatever becomes of dirnames); errors opening or
// reading a directory go to onerror (ignored by default) and that directory is skipped. Beyond
// Python: with followlinks, a symlink back to a directory being walked is not entered again (an
// ELOOP error goes to onerror), so cycles end. fwalk's errors carry the directory's full path
// (Python's fwalk gives the bare name it opened relative to the parent fd). Without following
// links, a symlink in dirnames is skipped silently by fwalk as by walk (Python's fwalk opens it,
// following it, before deciding not to walk it, and passes that open's EACCES to onerror).
//
// The names are string_views valid until the iteration advances; a view you put into dirnames
// yourself must stay valid until then too (one with a NUL byte is an EINVAL to onerror, where
// Python raises ValueError). One fd per level of depth is open during the walk.
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

#include "ospp/error.hpp"
#include "ospp/fd.hpp"
#include "ospp/path.hpp"

namespace ospp {

namespace detail {
class walker;
}

// Receives the errors os.walk would pass to onerror: the call name is "scandir" and the path the
// directory that could not be opened or listed (EACCES, ENOENT, ENOTDIR, EMFILE past the fd limit:
// one fd per level); with links followed, a cycle is an ELOOP named "walk" or "fwalk".
using walk_error_handler = std::function<void(const errno_error&)>;

// Python's keyword arguments of os.walk.
struct walk_options {
    bool topdown = true;           // yield a directory before (true) or after (false) its subdirectories
    walk_error_handler onerror{};  // empty: errors are ignored, as in Python
    bool followlinks = false;      // descend into symlinks to directories
};

// Python's keyword arguments of os.fwalk.
struct fwalk_options {
    fd_ref dir_fd = cwd_fd;        // `top` is relative to this directory
    bool follow_symlinks = false;  // descend into symlinks to directories (and accept a symlink top)
    bool topdown = true;
    walk_error_handler onerror{};
};

// What walk yields for each directory: Python's (dirpath, dirnames, filenames) tuple. Its members
// view the walker's per-depth buffers, which the next step reuses, so a step cannot be copied:
// kept in a `std::vector<walk_step>` (Python's list(os.walk(top))), every step of one depth would
// show that depth's last directory. Bind it (`auto [dirpath, dirnames, filenames]`) and copy the
// names you keep.
struct walk_step {
    std::string_view dirpath;
    std::vector<std::string_view>& dirnames;  // edit to prune (topdown only)
    const std::vector<std::string_view>& filenames;

    walk_step(std::string_view path, std::vector<std::string_view>& dirs,
              const std::vector<std::string_view>& files) noexcept
        : dirpath(path), dirnames(dirs), filenames(files) {}
    walk_step(const walk_step&) = delete;
    walk_step& operator=(const walk_step&) = delete;
};
// What fwalk yields: (dirpath, dirnames, filenames, dirfd). dirfd is valid until the walk advances;
// like walk_step, it cannot be copied.
struct fwalk_step {
    std::string_view dirpath;
    std::vector<std::string_view>& dirnames;
    const std::vector<std::string_view>& filenames;
    fd_ref dirfd;

    fwalk_step(std::string_view path, std::vector<std::string_view>& dirs,
               const std::vector<std::string_view>& files, fd_ref dir) noexcept
        : dirpath(path), dirnames(dirs), filenames(files), dirfd(dir) {}
    fwalk_step(const fwalk_step&) = delete;
    fwalk_step& operator=(const fwalk_step&) = delete;
};

// The input range walk and fwalk return. Move-only; iterate once.
template <class Step>
class basic_walk_range {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Step;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;
        Step operator*() const noexcept;
        iterator& operator++();
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

    private:
        friend class basic_walk_range;
        explicit iterator(detail::walker* w) noexcept : walker_(w) {}
        [[nodiscard]] bool at_end() const noexcept;
        detail::walker* walker_ = nullptr;
    };

    explicit basic_walk_range(std::unique_ptr<detail::walker> w) noexcept;
    basic_walk_range(basic_walk_range&&) noexcept;
    basic_walk_range& operator=(basic_walk_range&&) noexcept;
    ~basic_walk_range();

    // Opens `top` and yields its first directory. Call once.
    iterator begin();
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    std::unique_ptr<detail::walker> walker_;
};

using walk_range = basic_walk_range<walk_step>;
using fwalk_range = basic_walk_range<fwalk_step>;

extern template class basic_walk_range<walk_step>;
extern template class basic_walk_range<fwalk_step>;

// Python's os.walk(top, topdown=True, onerror=None, followlinks=False). `top` is followed if it
// is a symlink. Nothing is opened until begin(). A `top` with a NUL byte is an EINVAL to onerror
// (Python's ValueError), and nothing is walked.
walk_range walk(path_ref top, walk_options options = {});
// Python's os.fwalk(top='.', topdown=True, onerror=None, *, follow_symlinks=False, dir_fd=None).
// Without follow_symlinks a symlink `top` is not walked (onerror gets ENOTDIR, from O_NOFOLLOW |
// O_DIRECTORY), nor any `top` that is no directory: ENOTDIR (Python 3.11's fwalk opens it with a
// bare O_RDONLY: EACCES for an unreadable file, and a FIFO blocks it for good). A `top` that
// cannot be walked goes to onerror as in walk: Python's fwalk yields nothing, silently, for a
// symlink or a file, and raises for a missing one.
fwalk_range fwalk(path_ref top = ".", fwalk_options options = {});

// Python's keyword arguments of shutil.rmtree.
struct rmtree_options {
    fd_ref dir_fd = cwd_fd;
    bool ignore_errors = false;  // carry on past errors, removing all that can be removed
};

// shutil.rmtree(path, ignore_errors=False, *, dir_fd=None): removes a directory tree, race-safely
// (Python's fd-based variant): every directory is opened relative to its parent with O_NOFOLLOW and
// checked, every entry removed with unlinkat relative to its directory, so a symlink swapped in
// during the removal is unlinked, never followed. A symlink `path` is refused (ENOTDIR, from
// O_NOFOLLOW | O_DIRECTORY), like Python's "Cannot call rmtree on a symbolic link"; a dangling one
// too (Python's open follows it: ENOENT). Stops at the first error unless ignore_errors.
// Like shutil.rmtree and rm -r, it empties a file system mounted inside the tree, then stops with
// EBUSY on the mount point.
// Errors: ENOENT, ENOTDIR, EACCES, EPERM, EROFS, EBUSY, ENOTEMPTY (a concurrent creator), EMFILE
// (a tree deeper than the fd limit: one fd per level), EINVAL (a NUL byte; `path` "." once emptied,
// as rmdir). The call name is the failing step ("scandir", "unlink", "rmdir") and the path the
// entry's full path (shutil's error names the bare name it passed with dir_fd); "rmtree" for the
// removal of `path` itself. Entries are removed bottom-up, a directory's files after its
// subdirectories, so what an error leaves behind differs from shutil's (in listing order).
[[nodiscard]] result<void> rmtree(path_ref path, const rmtree_options& options = {});

}  // namespace ospp
