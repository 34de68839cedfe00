// src/path.cpp — path_ref's copy of a string_view into a NUL-terminated buffer.
#include "ospp/path.hpp"

namespace ospp {

path_ref::path_ref(std::string_view s)
    : c_str_(buf_), size_(s.size()), valid_(s.find('\0') == std::string_view::npos) {
    char* dst = buf_;
    if (s.size() >= inline_size) {
        heap_ = std::make_unique<char[]>(s.size() + 1);
        dst = heap_.get();
        c_str_ = dst;
    }
    if (!s.empty()) std::memcpy(dst, s.data(), s.size());
    dst[s.size()] = '\0';
}

}  // namespace ospp
