// src/signal.cpp — signal names and sets.
#include "ospp/signal.hpp"

#include <charconv>
#include <cstring>
#include <string_view>
#include <tuple>

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
        // Digits only: from_chars takes a '-' too, and "RTMIN+-0" is no signal name.
        if (rest.size() < 2 || rest[1] < '0' || rest[1] > '9') return -1;
        int offset = 0;
        // The range check comes before the sum, which could overflow int ("RTMIN+2147483647").
        if (!parse_int(rest.substr(1), offset) || offset < 0 || offset > SIGRTMAX - SIGRTMIN) return -1;
        return base + sign * offset;
    }
    return -1;
}

// Python's signal.Signals names without "SIG": the canonical name of each number first (the one
// Signals(n).name gives), then the aliases Python also accepts (Signals["SIGIOT"] is 6). glibc's
// sigabbrev_np differs: it calls 29 "POLL" and knows no IOT or CLD.
struct signal_entry {
    int number;
    std::string_view name;
};
constexpr signal_entry python_names[] = {
    {SIGHUP, "HUP"},       {SIGINT, "INT"},       {SIGQUIT, "QUIT"},     {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"},     {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},       {SIGFPE, "FPE"},
    {SIGKILL, "KILL"},     {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"},     {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},     {SIGALRM, "ALRM"},     {SIGTERM, "TERM"},     {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"},     {SIGCONT, "CONT"},     {SIGSTOP, "STOP"},     {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"},     {SIGTTOU, "TTOU"},     {SIGURG, "URG"},       {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"},     {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},     {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},         {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
    // the aliases
    {SIGIOT, "IOT"}, {SIGCLD, "CLD"}, {SIGPOLL, "POLL"},
};

}  // namespace

signum sigrt(int n) noexcept {
    // Outside the real-time range, -1: no signal, and no int overflow on the way.
    return n >= 0 && n <= SIGRTMAX - SIGRTMIN ? signum{SIGRTMIN + n} : signum{-1};
}

int signal_max() noexcept { return SIGRTMAX; }

std::string signal_name(signum s) {
    const int n = to_raw(s);
    if (!valid_signal(n)) return {};
    if (n >= SIGRTMIN) {
        if (n == SIGRTMIN) return "RTMIN";
        if (n == SIGRTMAX) return "RTMAX";
        return "RTMIN+" + std::to_string(n - SIGRTMIN);
    }
    for (const auto& [number, name] : python_names) {
        if (number == n) return std::string(name);  // the first entry is the canonical name
    }
    return std::to_string(n);  // 32, 33: reserved by glibc, nameless in Python too
}

result<signum> signal_from_name(std::string_view name) noexcept {
    int n = 0;
    if (parse_int(name, n)) {
        if (valid_signal(n)) return signum{n};
        return sys::fail_with(EINVAL, "signal_from_name");
    }
    if (name.size() > 3 && iequals(name.substr(0, 3), "SIG")) name.remove_prefix(3);
    if (const int rt = parse_realtime(name); rt > 0) return signum{rt};
    for (const auto& [number, known] : python_names) {
        if (iequals(name, known)) return signum{number};
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

bool signal_set::empty() const noexcept {
    // Not sigisemptyset: glibc 2.36 reads the set's first word through an int there, so a set of
    // only signals 33..64 (the real-time ones) passes for empty.
    const int last = SIGRTMAX;
    for (int n = 1; n <= last; ++n) {
        if (::sigismember(&set_, n) == 1) return false;
    }
    return true;
}

}  // namespace ospp
