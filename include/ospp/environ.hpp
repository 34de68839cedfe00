// ospp/environ.hpp — the environment: read it, change it, search PATH.
//
//   Python                                   C++
//   os.environ                               ospp::environ()          // a view: for (auto [k, v] : ospp::environ())
//   dict(os.environ)                         ospp::environ_map()      // a copy
//   os.getenv("HOME")                        ospp::getenv("HOME")     // std::optional<std::string>
//   os.getenv("X", "dflt")                   ospp::getenv("X").value_or("dflt")
//   os.putenv("X", "1")  (os.environ["X"]="1")  ospp::putenv("X", "1")
//   os.unsetenv("X")                         ospp::unsetenv("X")
//   os.get_exec_path()                       ospp::get_exec_path()
//
// Thread safety: the C environment is one global array. getenv, environ() and environ_map() only
// read it; putenv and unsetenv change it, and glibc may move the array when it grows. Reading
// while another thread writes is a data race in every C library, so change the environment only
// before starting threads (or pass an env to exec/spawn instead, which touches nothing).
// getenv returns a copy so that the value cannot be freed under the caller by a later putenv.
// Unlike Python's os.environ, nothing is cached: putenv is seen by the next environ() at once.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ospp/argv.hpp"
#include "ospp/error.hpp"

namespace ospp {

// One "KEY=VALUE" entry of the environment, split at the first '='.
struct environ_entry {
    std::string_view key;
    std::string_view value;
};

// A view of the process environment (the C `environ` array) at the time of iteration; the
// string_views are valid until the environment is next changed. Entries without '=' are skipped,
// as Python's os.environ skips them.
class environ_view {
public:
    class iterator {
    public:
        using value_type = environ_entry;
        using difference_type = std::ptrdiff_t;
        iterator() noexcept = default;
        explicit iterator(char** p) noexcept : p_(p) { skip_entries_without_value(); }
        environ_entry operator*() const noexcept;
        iterator& operator++() noexcept {
            ++p_;
            skip_entries_without_value();
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            // The end iterator is the one that points at the terminating null pointer.
            return a.at_end() ? b.at_end() : a.p_ == b.p_;
        }

    private:
        [[nodiscard]] bool at_end() const noexcept { return p_ == nullptr || *p_ == nullptr; }
        // An entry without '=' (execve accepts any string) is no variable: Python's os.environ
        // skips it, and so does getenv(3).
        void skip_entries_without_value() noexcept {
            while (!at_end() && std::strchr(*p_, '=') == nullptr) ++p_;
        }
        char** p_ = nullptr;
    };

    [[nodiscard]] iterator begin() const noexcept { return iterator(::environ); }
    [[nodiscard]] iterator end() const noexcept { return iterator(); }
};

// Python's os.environ as a live view: for (auto [key, value] : ospp::environ()).
inline environ_view environ() noexcept { return {}; }
// Python's dict(os.environ): a copy, sorted by key; entries without '=' are skipped and the first
// of two entries with one key wins, as there.
std::map<std::string, std::string> environ_map();
// The environment as a "KEY=VALUE" block for exec/spawn (a copy).
cstring_array environ_array();

// Python's os.getenv(key): the value, or nullopt when unset; the first entry wins, as in environ_map().
// A key with '=' or NUL is never set; the empty key is, by an entry "=value" (glibc's getenv(3)
// ignores it, Python's os.getenv("") does not).
std::optional<std::string> getenv(std::string_view key);
// Python's os.putenv(key, value) (setenv(3) with overwrite). Errors: EINVAL for an empty key,
// a key with '=' or a NUL byte in either (Python's ValueError); ENOMEM.
[[nodiscard]] result<void> putenv(std::string_view key, std::string_view value);
// Python's os.unsetenv(key). Unsetting a missing key succeeds. Errors: EINVAL as for putenv.
[[nodiscard]] result<void> unsetenv(std::string_view key);

// Python's os.get_exec_path(env=None): the directories PATH names, in order; "/bin:/usr/bin"
// (Python's os.defpath) when PATH is unset. An empty entry stays "" (the current directory).
std::vector<std::string> get_exec_path();
// The same for PATH taken from `env` ("KEY=VALUE" strings, as passed to execve).
std::vector<std::string> get_exec_path(const cstring_array& env);

}  // namespace ospp
