// src/environ.cpp — the process environment.
#include "ospp/environ.hpp"

#include <cstdlib>
#include <cstring>

#include "sys.hpp"

namespace ospp {

environ_entry environ_view::iterator::operator*() const noexcept {
    const std::string_view entry(*p_);
    const std::size_t eq = entry.find('=');  // never npos: the iterator skips entries without '='
    return {entry.substr(0, eq), entry.substr(eq + 1)};
}

std::map<std::string, std::string> environ_map() {
    std::map<std::string, std::string> out;
    // The first definition of a key wins, as getenv(3) and Python's os.environ see it.
    for (auto [key, value] : environ()) out.emplace(key, value);
    return out;
}

cstring_array environ_array() {
    std::vector<std::string_view> entries;
    for (char** p = ::environ; p != nullptr && *p != nullptr; ++p) entries.emplace_back(*p);
    return cstring_array(entries);
}

namespace {

bool valid_key(std::string_view key) noexcept {
    return !key.empty() && key.find('=') == std::string_view::npos && key.find('\0') == std::string_view::npos;
}

// The value of `entry` if it is "key=value", else null; `key` is not empty. Like getenv(3): the
// first two characters decide most entries without a call; strncmp stops at a shorter entry's NUL.
inline const char* value_of(const char* entry, std::string_view key) noexcept {
    // entry[1] exists once entry[0] matched key[0], which is not NUL.
    if (entry[0] != key[0] || (key.size() > 1 && entry[1] != key[1])) return nullptr;
    if (key.size() > 2 && std::strncmp(entry + 2, key.data() + 2, key.size() - 2) != 0) return nullptr;
    return entry[key.size()] == '=' ? entry + key.size() + 1 : nullptr;
}

}  // namespace

std::optional<std::string> getenv(std::string_view key) {
    // Not getenv(3): glibc's never finds the empty key of an entry "=value", which environ_map()
    // and Python's os.getenv("") do. The first entry "key=..." wins, as there. A key with '=' or
    // NUL matches nothing, since every key ends at the first '='. Only the key's length of each
    // entry is compared, so long values (LS_COLORS) are not scanned.
    if (key.find('=') != std::string_view::npos || key.find('\0') != std::string_view::npos) return std::nullopt;
    char** const env = ::environ;
    if (env == nullptr) return std::nullopt;
    for (char** p = env; *p != nullptr; ++p) {
        const char* value = key.empty() ? ((*p)[0] == '=' ? *p + 1 : nullptr) : value_of(*p, key);
        if (value != nullptr) return std::string(value);
    }
    return std::nullopt;
}

result<void> putenv(std::string_view key, std::string_view value) {
    if (!valid_key(key) || value.find('\0') != std::string_view::npos) return sys::fail_with(EINVAL, "putenv", key);
    const std::string k(key);
    const std::string v(value);
    if (::setenv(k.c_str(), v.c_str(), 1) < 0) return sys::fail("putenv", k);
    return {};
}

result<void> unsetenv(std::string_view key) {
    if (!valid_key(key)) return sys::fail_with(EINVAL, "unsetenv", key);
    const std::string k(key);
    if (::unsetenv(k.c_str()) < 0) return sys::fail("unsetenv", k);
    return {};
}

namespace {

std::vector<std::string> split_path(const char* path) {
    std::string_view rest = path != nullptr ? path : "/bin:/usr/bin";
    std::vector<std::string> dirs;
    for (;;) {
        const std::size_t colon = rest.find(':');
        dirs.emplace_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) return dirs;
        rest.remove_prefix(colon + 1);
    }
}

}  // namespace

std::vector<std::string> get_exec_path() { return split_path(::getenv("PATH")); }

std::vector<std::string> get_exec_path(const cstring_array& env) {
    for (const char* entry : env) {
        if (std::strncmp(entry, "PATH=", 5) == 0) return split_path(entry + 5);
    }
    return split_path(nullptr);
}

}  // namespace ospp
