// ospp/argv.hpp — cstring_array: an argv or envp block built once, before fork.
//
//   Python                                   C++
//   os.execv(path, ["ls", "-l"])             ospp::execv(path, {"ls", "-l"})
//   os.execve(path, args, {"A": "1"})        ospp::execve(path, args, ospp::cstring_array::from_env(env_map))
//   args = [...]; os.posix_spawn(p, args, e) ospp::cstring_array argv = args;  ospp::posix_spawn(p, argv, e)
//
// exec and spawn need a NULL-terminated `char* const[]` of NUL-terminated strings. Building one
// allocates, and allocating between fork and exec is not async-signal-safe (another thread may
// hold the malloc lock at the fork). So build the cstring_array in the parent, before fork, and
// hand it to the exec call in the child: exec on a cstring_array does not allocate.
// The whole block is one allocation: the pointer array followed by the strings.
#pragma once

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <ranges>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ospp {

class cstring_array {
public:
    // An empty array (just the terminating null pointer).
    cstring_array() : cstring_array(std::initializer_list<std::string_view>{}) {}
    // From string literals / views: {"ls", "-l"}.
    cstring_array(std::initializer_list<std::string_view> strings) { build(strings); }
    // From any range of things that convert to std::string_view (std::string, const char*, ...).
    // A forward range: it is read twice, to size the block and then to fill it, so a range that can
    // be read only once (a generator) is refused at compile time rather than read short.
    template <std::ranges::forward_range R>
        requires std::is_convertible_v<std::ranges::range_reference_t<R>, std::string_view>
    cstring_array(const R& strings) {  // NOLINT(google-explicit-constructor): an argv is its strings
        build(strings);
    }
    // An environment block "KEY=VALUE" from a range of key/value pairs (a std::map, a vector of
    // pairs), as Python's env mapping. A key Python refuses makes the array invalid (see valid()).
    // A key given twice (a vector of pairs allows it) is passed twice, in order: the child's
    // getenv(3) and os.environ see the first, where a Python dict built from the pairs keeps the last.
    template <std::ranges::forward_range R>
    static cstring_array from_env(const R& mapping) {
        std::size_t count = 0;
        std::size_t bytes = 0;
        for (const auto& [key, value] : mapping) {
            ++count;
            bytes += std::string_view(key).size() + 1 + std::string_view(value).size() + 1;
        }
        cstring_array out(count, bytes);
        for (const auto& [key, value] : mapping) {
            const std::string_view k(key);
            // The child would split {"A=B": "1"} at the first '=' into A with the value "B=1".
            // Python's os.execve looks for '=' from index 1, so a key "=A" passes, as there.
            if (k.empty() || k.find('=', 1) != std::string_view::npos) out.illegal_env_name_ = true;
            out.append({k, "=", std::string_view(value)});
        }
        return out;
    }

    // Moving leaves an empty array behind, as a moved-from std::vector: size() 0, data() {nullptr}.
    cstring_array(cstring_array&& other) noexcept { take(other); }
    cstring_array& operator=(cstring_array&& other) noexcept {
        if (this != &other) take(other);
        return *this;
    }
    ~cstring_array() = default;

    // The NULL-terminated array for exec/spawn.
    [[nodiscard]] char* const* data() const noexcept { return block_ ? pointers() : no_strings; }
    // The number of strings (not counting the terminating null pointer).
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    // The i-th string.
    [[nodiscard]] const char* operator[](std::size_t i) const noexcept { return data()[i]; }
    // True when some string held a NUL byte (which would silently cut it short): exec and spawn
    // refuse such an array with EINVAL, like Python's "embedded null byte" ValueError.
    [[nodiscard]] bool has_embedded_nul() const noexcept { return embedded_nul_; }
    // True when from_env was given a key that Python's os.execve refuses with ValueError("illegal
    // environment variable name"): an empty key, or one with '=' after its first character.
    [[nodiscard]] bool has_illegal_env_name() const noexcept { return illegal_env_name_; }
    // Neither of the above. exec and spawn refuse an array that is not valid with EINVAL, before
    // calling the kernel (Python's ValueError).
    [[nodiscard]] bool valid() const noexcept { return !embedded_nul_ && !illegal_env_name_; }

    [[nodiscard]] const char* const* begin() const noexcept { return data(); }
    [[nodiscard]] const char* const* end() const noexcept { return data() + size_; }

private:
    cstring_array(std::size_t count, std::size_t bytes) { allocate(count, bytes); }

    template <class R>
    void build(const R& strings) {
        std::size_t count = 0;
        std::size_t bytes = 0;
        for (const auto& s : strings) {
            ++count;
            bytes += std::string_view(s).size() + 1;
        }
        allocate(count, bytes);
        for (const auto& s : strings) append({std::string_view(s)});
    }

    void allocate(std::size_t count, std::size_t bytes) {
        block_ = std::make_unique<char[]>((count + 1) * sizeof(char*) + bytes);
        pointers()[0] = nullptr;
        next_ = block_.get() + (count + 1) * sizeof(char*);
    }

    // Appends the concatenation of `parts` as the next string.
    void append(std::initializer_list<std::string_view> parts) noexcept {
        char* start = next_;
        for (std::string_view p : parts) {
            if (p.empty()) continue;  // a default string_view's data() is null: no memchr/memcpy on it
            if (std::memchr(p.data(), 0, p.size()) != nullptr) embedded_nul_ = true;
            std::memcpy(next_, p.data(), p.size());
            next_ += p.size();
        }
        *next_++ = '\0';
        pointers()[size_++] = start;
        pointers()[size_] = nullptr;
    }

    [[nodiscard]] char** pointers() const noexcept { return reinterpret_cast<char**>(block_.get()); }

    void take(cstring_array& other) noexcept {
        block_ = std::move(other.block_);
        next_ = std::exchange(other.next_, nullptr);
        size_ = std::exchange(other.size_, 0);
        embedded_nul_ = std::exchange(other.embedded_nul_, false);
        illegal_env_name_ = std::exchange(other.illegal_env_name_, false);
    }

    // What a moved-from array (which has no block) holds: no string, just the terminating null.
    static constexpr char* const no_strings[1] = {nullptr};

    std::unique_ptr<char[]> block_;
    char* next_ = nullptr;
    std::size_t size_ = 0;
    bool embedded_nul_ = false;
    bool illegal_env_name_ = false;
};

}  // namespace ospp
