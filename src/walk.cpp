// src/walk.cpp — the fd-based walk engine behind walk, fwalk and rmtree.
#include "ospp/walk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "dirents.hpp"
#include "sys.hpp"

namespace ospp::detail {

// One directory being walked, kept per depth and reused, so its buffers keep their capacity.
struct walk_level {
    fd dir;
    ::dev_t dev = 0;  // known at the top, and with followlinks (cycle checks); 0 otherwise
    ::ino_t ino = 0;
    std::optional<::ino_t> dot_ino;  // d_ino of the directory's own "." entry, if it listed one
    std::string path;   // dirpath: top joined with the names down to here
    // The names of this directory, as records (see walker::append). A plain buffer, not a
    // std::string: resizing one zero-fills the bytes the record overwrites next.
    std::unique_ptr<char[]> arena;
    std::size_t arena_size = 0, arena_capacity = 0;
    std::vector<std::string_view> dirs, files;  // views into the arena
    std::vector<std::size_t> dir_records;       // arena offsets of the records in dirs, ascending
    std::size_t next = 0;  // the next index of `dirs` to descend into
    bool yielded = false;  // bottom-up: already handed to the caller
};

class walker {
public:
    // `call` names the walk in errors of its own ("walk", "fwalk", "rmtree").
    walker(const char* call, std::string_view top, fd_ref dir_fd, bool topdown, bool follow, bool follow_top,
           walk_error_handler onerror)
        : call_(call), top_(top), top_dir_fd_(dir_fd), topdown_(topdown), follow_(follow),
          follow_top_(follow_top), onerror_(std::move(onerror)) {}

    // Moves to the next directory to hand out; false when the walk is over.
    bool next();
    [[nodiscard]] bool done() const noexcept { return done_; }
    [[nodiscard]] walk_level& current() noexcept { return levels_[depth_ - 1]; }
    // Ends the walk after the current step (rmtree's first error).
    void stop() noexcept { stopped_ = true; }

    // The d_type recorded for a name of `level` (DT_LNK for a symlink to a directory in dirs), or
    // DT_UNKNOWN for a name the caller put there.
    static unsigned char type_of(const walk_level& level, std::string_view name) noexcept {
        const char* rec = record_of(level, name);
        return rec == nullptr ? static_cast<unsigned char>(DT_UNKNOWN) : static_cast<unsigned char>(rec[sizeof(::ino_t)]);
    }

private:
    // A record is: d_ino (8 bytes), d_type (1 byte), the name, NUL. Views point at the name.
    static constexpr std::size_t header_size = sizeof(::ino_t) + 1;

    // The record of a name in dirnames, or nullptr for a name the caller put there: also for a
    // view into the arena that is not a whole listed name (part of one, or spanning two).
    static const char* record_of(const walk_level& level, std::string_view name) noexcept {
        if (level.dir_records.empty()) return nullptr;  // no listed directory (the arena may be null)
        const char* begin = level.arena.get();
        const char* end = begin + level.arena_size;
        if (name.data() < begin + header_size || name.data() + name.size() >= end) return nullptr;
        const auto offset = static_cast<std::size_t>(name.data() - header_size - begin);
        if (!std::binary_search(level.dir_records.begin(), level.dir_records.end(), offset)) return nullptr;
        if (name.data()[name.size()] != '\0') return nullptr;  // a prefix of a listed name
        return name.data() - header_size;
    }
    walk_level& level_at(std::size_t depth) {
        while (levels_.size() <= depth) levels_.emplace_back();  // deque: earlier levels do not move
        return levels_[depth];
    }
    void report(const char* call, int code, std::string_view path) {
        if (onerror_) onerror_(errno_error(code, call, path));
    }
    bool open_top();
    bool descend(walk_level& parent, std::string_view name);
    bool is_listed_directory(const walk_level& parent, const walk_level& child, ::ino_t entry_ino);
    int fill(walk_level& level);
    void append(walk_level& level, const struct ::dirent64& d);
    static void grow_arena(walk_level& level, std::size_t needed);

    const char* call_;
    std::string top_;
    fd_ref top_dir_fd_;
    bool topdown_, follow_, follow_top_;
    walk_error_handler onerror_;
    std::deque<walk_level> levels_;
    std::size_t depth_ = 0;
    std::unique_ptr<std::byte[]> buffer_{new std::byte[sys::dirent_buffer_size]};
    std::string scratch_;  // NUL-terminates a name the caller put into dirnames
    bool started_ = false, done_ = false, stopped_ = false;
};

bool walker::next() {
    if (done_) return false;
    if (!started_) {
        started_ = true;
        if (open_top() && topdown_) return true;
    }
    while (depth_ > 0 && !stopped_) {
        walk_level& level = levels_[depth_ - 1];
        // Bottom-up, the subdirectories are those listed: a name the caller adds to dirnames once
        // the directory was handed out is not walked (Python fixes the list when it reads it).
        if (!level.yielded && level.next < level.dirs.size()) {
            const std::string_view name = level.dirs[level.next++];
            if (descend(level, name) && topdown_) return true;
            continue;
        }
        if (!topdown_ && !level.yielded) {
            level.yielded = true;
            return true;
        }
        level.dir.reset();
        --depth_;
    }
    // Close every level still open (after stop()).
    for (; depth_ > 0; --depth_) levels_[depth_ - 1].dir.reset();
    done_ = true;
    return false;
}

bool walker::open_top() {
    walk_level& level = level_at(0);
    level.path = top_;
    if (top_.find('\0') != std::string::npos) {  // Python: ValueError: embedded null byte
        report("scandir", EINVAL, top_);
        return false;
    }
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow_top_ ? 0 : O_NOFOLLOW);
    const int raw = sys::retry([&] { return ::openat(top_dir_fd_.get(), top_.c_str(), flags); });
    if (raw < 0) {
        report("scandir", errno, top_);
        return false;
    }
    level.dir.reset(raw);
    struct ::stat st {};
    if (::fstat(raw, &st) < 0) {
        report("scandir", errno, top_);
        level.dir.reset();
        return false;
    }
    level.dev = st.st_dev;
    level.ino = st.st_ino;
    if (const int err = fill(level); err != 0) {
        report("scandir", err, top_);
        level.dir.reset();
        return false;
    }
    depth_ = 1;
    return true;
}

bool walker::descend(walk_level& parent, std::string_view name) {
    const char* rec = record_of(parent, name);
    ::ino_t entry_ino = 0;
    if (rec != nullptr) {
        // Python walks into a symlink to a directory only with followlinks: skip it with no syscall.
        if (!follow_ && static_cast<unsigned char>(rec[sizeof(::ino_t)]) == DT_LNK) return false;
        std::memcpy(&entry_ino, rec, sizeof entry_ino);
    }
    const char* c_name = name.data();
    if (rec == nullptr) {
        scratch_.assign(name);
        c_name = scratch_.c_str();
    }
    walk_level& child = level_at(depth_);
    if (!name.empty() && name.front() == '/') {
        child.path.assign(name);  // openat ignores the parent for an absolute name; os.path.join too
    } else {
        child.path.assign(parent.path);
        if (child.path.empty() || child.path.back() != '/') child.path += '/';
        child.path += name;
    }
    // A name the caller put into dirnames with a NUL byte would open only what precedes the NUL
    // (Python's scandir raises ValueError: embedded null byte). Listed names never hold one.
    if (rec == nullptr && name.find('\0') != std::string_view::npos) {
        report("scandir", EINVAL, child.path);
        return false;
    }

    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow_ ? 0 : O_NOFOLLOW);
    const int raw = sys::retry([&] { return ::openat(parent.dir.get(), c_name, flags); });
    if (raw < 0) {
        const int err = errno;
        // Without followlinks a symlink is not walked into, silently (Python's islink() check):
        // O_NOFOLLOW | O_DIRECTORY fails on one with ENOTDIR (or ELOOP).
        struct ::stat lst {};
        const bool is_link = !follow_ && (err == ENOTDIR || err == ELOOP) &&
                             ::fstatat(parent.dir.get(), c_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                             S_ISLNK(lst.st_mode);
        if (!is_link) report("scandir", err, child.path);
        return false;
    }
    child.dir.reset(raw);
    if (follow_) {
        struct ::stat st {};
        if (::fstat(raw, &st) < 0) {
            report("scandir", errno, child.path);
            child.dir.reset();
            return false;
        }
        for (std::size_t i = 0; i < depth_; ++i) {
            if (levels_[i].dev == st.st_dev && levels_[i].ino == st.st_ino) {
                report(call_, ELOOP, child.path);  // a cycle: this directory is being walked already
                child.dir.reset();
                return false;
            }
        }
        child.dev = st.st_dev;
        child.ino = st.st_ino;
    }
    if (const int err = fill(child); err != 0) {
        report("scandir", err, child.path);
        child.dir.reset();
        return false;
    }
    if (!follow_ && rec != nullptr && !is_listed_directory(parent, child, entry_ino)) {
        child.dir.reset();
        return false;
    }
    ++depth_;
    return true;
}

// Whether `child`, just opened by the name of the entry of `parent` whose d_ino was `entry_ino`, is
// the directory that was listed, and not another one renamed into its place in between.
//  - The child's own "." entry usually answers, with no system call: readdir numbers "." and the
//    parent's entries alike, even where stat numbers differently (FUSE without use_ino).
//  - Otherwise statx: the same inode, or the root of a mount. A mount point's entry carries the
//    covered directory's inode, and the mount (a bind mount of the same file system too) is what
//    the name leads to now, so it is walked, as os.walk walks it.
bool walker::is_listed_directory(const walk_level& parent, const walk_level& child, ::ino_t entry_ino) {
    if (child.dot_ino == entry_ino) return true;
    struct ::statx x;
    if (sys::retry([&] { return ::statx(child.dir.get(), "", AT_EMPTY_PATH, STATX_INO, &x); }) == 0) {
        if (x.stx_ino == entry_ino) return true;
        if ((x.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) return (x.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    } else if (errno != ENOSYS && errno != EPERM) {  // EPERM: a container's seccomp filter
        report("scandir", errno, child.path);
        return false;
    }
    // Before Linux 5.8 (or without statx: a kernel before 4.11, or a seccomp filter that predates
    // it, as stat_at falls back) the kernel does not say: a change of device is a mount
    // point (a bind mount of the same file system is then taken for a swapped directory).
    struct ::stat c {}, p {};
    if (::fstat(child.dir.get(), &c) < 0 || ::fstat(parent.dir.get(), &p) < 0) {
        report("scandir", errno, child.path);
        return false;
    }
    return c.st_ino == entry_ino || c.st_dev != p.st_dev;
}

// Reads the whole directory into level's arena, split as Python splits it. 0 or an errno.
int walker::fill(walk_level& level) {
    level.arena_size = 0;
    level.dirs.clear();
    level.files.clear();
    level.dir_records.clear();
    level.next = 0;
    level.yielded = false;
    level.dot_ino.reset();
    for (;;) {
        const ssize_t n = sys::read_dirents(level.dir.get(), buffer_.get(), sys::dirent_buffer_size);
        if (n < 0) return errno;
        if (n == 0) break;
        for (std::size_t pos = 0; pos < static_cast<std::size_t>(n);) {
            const struct ::dirent64* d = sys::dirent_at(buffer_.get(), pos);
            pos += d->d_reclen;
            if (!sys::is_dot_or_dotdot(d->d_name)) {
                append(level, *d);
            } else if (d->d_name[1] == '\0') {
                level.dot_ino = d->d_ino;
            }
        }
    }
    return 0;
}

void walker::append(walk_level& level, const struct ::dirent64& d) {
    unsigned char type = d.d_type;
    bool is_dir = type == DT_DIR;
    struct ::stat st {};
    if (type == DT_UNKNOWN && ::fstatat(level.dir.get(), d.d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = static_cast<unsigned char>(IFTODT(st.st_mode));
        is_dir = type == DT_DIR;
    }
    // Python's entry.is_dir() follows symlinks: a symlink to a directory goes into dirnames.
    // A failed stat (dangling link, no permission) makes it a non-directory, as in Python.
    if (type == DT_LNK) is_dir = ::fstatat(level.dir.get(), d.d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);

    const std::size_t len = std::strlen(d.d_name);
    const std::size_t size = header_size + len + 1;
    if (level.arena_capacity - level.arena_size < size) grow_arena(level, size);
    char* rec = level.arena.get() + level.arena_size;
    level.arena_size += size;
    const ::ino_t ino = d.d_ino;
    std::memcpy(rec, &ino, sizeof ino);
    rec[sizeof ino] = static_cast<char>(type);
    std::memcpy(rec + header_size, d.d_name, len + 1);
    if (is_dir) {
        level.dir_records.push_back(static_cast<std::size_t>(rec - level.arena.get()));
        level.dirs.emplace_back(rec + header_size, len);
    } else {
        level.files.emplace_back(rec + header_size, len);
    }
}

// Makes room for `needed` more bytes in level's arena, moving the views already made. The arena
// keeps its capacity from one directory to the next at the same depth, so once a walk is under way
// this is rare.
void walker::grow_arena(walk_level& level, std::size_t needed) {
    const std::size_t capacity = std::max({level.arena_capacity * 2, level.arena_size + needed, std::size_t{4096}});
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (level.arena_size != 0) std::memcpy(bigger.get(), level.arena.get(), level.arena_size);
    for (auto* names : {&level.dirs, &level.files}) {
        for (std::string_view& name : *names) name = {bigger.get() + (name.data() - level.arena.get()), name.size()};
    }
    level.arena = std::move(bigger);
    level.arena_capacity = capacity;
}

}  // namespace ospp::detail

namespace ospp {

template <class Step>
basic_walk_range<Step>::basic_walk_range(std::unique_ptr<detail::walker> w) noexcept : walker_(std::move(w)) {}
template <class Step>
basic_walk_range<Step>::basic_walk_range(basic_walk_range&&) noexcept = default;
template <class Step>
basic_walk_range<Step>& basic_walk_range<Step>::operator=(basic_walk_range&&) noexcept = default;
template <class Step>
basic_walk_range<Step>::~basic_walk_range() = default;

template <class Step>
typename basic_walk_range<Step>::iterator basic_walk_range<Step>::begin() {
    walker_->next();
    return iterator(walker_.get());
}

template <class Step>
Step basic_walk_range<Step>::iterator::operator*() const noexcept {
    detail::walk_level& level = walker_->current();
    if constexpr (std::is_same_v<Step, fwalk_step>) {
        return Step{level.path, level.dirs, level.files, level.dir};
    } else {
        return Step{level.path, level.dirs, level.files};
    }
}

template <class Step>
typename basic_walk_range<Step>::iterator& basic_walk_range<Step>::iterator::operator++() {
    walker_->next();
    return *this;
}

template <class Step>
bool basic_walk_range<Step>::iterator::at_end() const noexcept {
    return walker_->done();
}

template class basic_walk_range<walk_step>;
template class basic_walk_range<fwalk_step>;

walk_range walk(path_ref top, walk_options options) {
    // Python's walk lists `top` with scandir, which follows a symlink top.
    return walk_range(std::make_unique<detail::walker>("walk", top.view(), cwd_fd, options.topdown,
                                                       options.followlinks, true, std::move(options.onerror)));
}

fwalk_range fwalk(path_ref top, fwalk_options options) {
    return fwalk_range(std::make_unique<detail::walker>("fwalk", top.view(), options.dir_fd, options.topdown,
                                                        options.follow_symlinks, options.follow_symlinks,
                                                        std::move(options.onerror)));
}

result<void> rmtree(path_ref path, const rmtree_options& options) {
    if (!path.valid()) return sys::bad_path("rmtree", path);
    std::optional<errno_error> first;
    detail::walker* running = nullptr;
    auto note = [&](errno_error e) {
        if (!first) first = std::move(e);
        if (!options.ignore_errors && running != nullptr) running->stop();
    };
    // Bottom-up: a directory is handed out after its subdirectories were emptied and removed.
    detail::walker w("rmtree", path.view(), options.dir_fd, false, false, false, note);
    running = &w;
    auto remove_entry = [&](detail::walk_level& level, std::string_view name, bool is_dir) {
        // Names from the walk are NUL-terminated in its arena.
        if (sys::retry([&] { return ::unlinkat(level.dir.get(), name.data(), is_dir ? AT_REMOVEDIR : 0); }) == 0) {
            return true;
        }
        const int err = errno;  // before building the path: a successful allocation may change errno
        std::string p = level.path;
        if (p.back() != '/') p += '/';
        p += name;
        note(errno_error(err, is_dir ? "rmdir" : "unlink", p));
        return options.ignore_errors;
    };
    while (w.next()) {
        detail::walk_level& level = w.current();
        bool go_on = true;
        for (const std::string_view name : level.files) {
            if (!(go_on = remove_entry(level, name, false))) break;
        }
        for (std::size_t i = 0; go_on && i < level.dirs.size(); ++i) {
            // A symlink to a directory is listed in dirs: unlink it, never follow it.
            const bool real_dir = detail::walker::type_of(level, level.dirs[i]) != DT_LNK;
            go_on = remove_entry(level, level.dirs[i], real_dir);
        }
    }
    if (first && !options.ignore_errors) return tl::unexpected(std::move(*first));
    if (sys::retry([&] { return ::unlinkat(options.dir_fd.get(), path.c_str(), AT_REMOVEDIR); }) < 0 &&
        !options.ignore_errors) {
        return sys::fail("rmtree", path);
    }
    return {};
}

}  // namespace ospp
