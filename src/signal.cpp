// src/signal.cpp — signal names and sets.
#include "ospp/signal.hpp"

#include <charconv>
#include <cstring>

#include "sys.hpp"

namespace ospp {

namespace {

bool valid_signal(int n) noexcept { return n >= 1 && n <= SIGRTMAX; }

// Parses a decimal integer filling the whole of `text`.
bool parse_int(std::string_view text, int& out) noexcept {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
        if (up(a[i]) != up(b[i])) return false;
    }
    return true;
}

// "RTMIN+3" / "RTMAX-2" / "RTMIN" (already without SIG), or -1.
int parse_realtime(std::string_view name) noexcept {
    for (const auto& [prefix, base, sign] : {std::tuple{"RTMIN", SIGRTMIN, 1}, std::tuple{"RTMAX", SIGRTMAX, -1}}) {
        const std::string_view p = prefix;
        if (name.size() < p.size() || !iequals(name.substr(0, p.size()), p)) continue;
        std::string_view rest = name.substr(p.size());
        if (rest.empty()) return base;
        if (rest[0] != (sign > 0 ? '+' : '-')) return -1;
        int offset = 0;
        if (!parse_int(rest.substr(1), offset) || offset < 0) return -1;
        const int n = base + sign * offset;
        return n >= SIGRTMIN && n <= SIGRTMAX ? n : -1;
    }
    return -1;
}

}  // namespace

signum sigrt(int n) noexcept { return signum{SIGRTMIN + n}; }

int signal_max() noexcept { return SIGRTMAX; }

std::string signal_name(signum s) {
    const int n = to_raw(s);
    if (!valid_signal(n)) return {};
    if (n >= SIGRTMIN) {
        if (n == SIGRTMIN) return "RTMIN";
        if (n == SIGRTMAX) return "RTMAX";
        return "RTMIN+" + std::to_string(n - SIGRTMIN);
    }
    const char* abbrev = ::sigabbrev_np(n);
    return abbrev != nullptr ? abbrev : std::to_string(n);
}

result<signum> signal_from_name(std::string_view name) {
    int n = 0;
    if (parse_int(name, n)) {
        if (valid_signal(n)) return signum{n};
        return sys::fail_with(EINVAL, "signal_from_name");
    }
    if (name.size() > 3 && iequals(name.substr(0, 3), "SIG")) name.remove_prefix(3);
    if (const int rt = parse_realtime(name); rt > 0) return signum{rt};
    for (int i = 1; i < SIGRTMIN; ++i) {
        const char* abbrev = ::sigabbrev_np(i);
        if (abbrev != nullptr && iequals(name, abbrev)) return signum{i};
    }
    return sys::fail_with(EINVAL, "signal_from_name");
}

std::string strsignal(signum s) {
    const int n = to_raw(s);
    if (!valid_signal(n)) return "Unknown signal " + std::to_string(n);
    const char* d = ::sigdescr_np(n);
    if (d != nullptr) return d;
    return n >= SIGRTMIN ? "Real-time signal " + std::to_string(n - SIGRTMIN) : "Unknown signal " + std::to_string(n);
}

signal_set::signal_set(std::initializer_list<signum> signals) noexcept : signal_set() {
    for (signum s : signals) add(s);
}

signal_set signal_set::full() noexcept {
    signal_set s;
    ::sigfillset(&s.set_);
    return s;
}

signal_set& signal_set::add(signum s) noexcept {
    ::sigaddset(&set_, to_raw(s));
    return *this;
}

signal_set& signal_set::remove(signum s) noexcept {
    ::sigdelset(&set_, to_raw(s));
    return *this;
}

bool signal_set::contains(signum s) const noexcept { return ::sigismember(&set_, to_raw(s)) == 1; }

bool signal_set::empty() const noexcept { return ::sigisemptyset(&set_) == 1; }

}  // namespace ospp
