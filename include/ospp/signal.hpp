// ospp/signal.hpp — signals as a typed value with names, and signal sets.
//
//   Python                                   C++
//   signal.SIGTERM                           ospp::signum::term
//   signal.Signals["SIGTERM"]                ospp::signal_from_name("SIGTERM")   // also "TERM", "15"
//   signal.Signals(15).name                  ospp::signal_name(ospp::signum::term)  // "TERM" (Python: "SIGTERM")
//   signal.strsignal(15)                     ospp::strsignal(ospp::signum::term)    // "Terminated"
//
// Real-time signals have no enumerator: ospp::sigrt(3) is SIGRTMIN+3, named "RTMIN+3".
#pragma once

#include <signal.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "ospp/error.hpp"

namespace ospp {

// A signal number. Enumerators for the standard Linux signals; any other valid number is
// expressible as signum{n}.
enum class signum : int {
    hup = SIGHUP,
    intr = SIGINT,  // SIGINT: `int` is a keyword
    quit = SIGQUIT,
    ill = SIGILL,
    trap = SIGTRAP,
    abrt = SIGABRT,
    bus = SIGBUS,
    fpe = SIGFPE,
    kill = SIGKILL,
    usr1 = SIGUSR1,
    segv = SIGSEGV,
    usr2 = SIGUSR2,
    pipe = SIGPIPE,
    alrm = SIGALRM,
    term = SIGTERM,
    stkflt = SIGSTKFLT,
    chld = SIGCHLD,
    cont = SIGCONT,
    stop = SIGSTOP,
    tstp = SIGTSTP,
    ttin = SIGTTIN,
    ttou = SIGTTOU,
    urg = SIGURG,
    xcpu = SIGXCPU,
    xfsz = SIGXFSZ,
    vtalrm = SIGVTALRM,
    prof = SIGPROF,
    winch = SIGWINCH,
    io = SIGIO,
    pwr = SIGPWR,
    sys = SIGSYS,
};

// The raw number, for the system call.
constexpr int to_raw(signum s) noexcept { return static_cast<int>(s); }

// SIGRTMIN + n (glibc reserves the first few real-time signals; SIGRTMIN is the first free one).
// An n outside 0 .. SIGRTMAX - SIGRTMIN gives signum{-1}, which every call refuses with EINVAL
// (not 0, which kill() takes as "does the process exist").
signum sigrt(int n) noexcept;

// Python's signal.Signals(n).name without "SIG", as kill -l and `ospp-daemonize --signal=TERM`
// spell it (write "SIG" + signal_name(s) for Python's "SIGTERM"): "TERM", "IO" for 29 (glibc's
// sigabbrev_np says "POLL"), "RTMIN", "RTMAX". Real-time signals that Python leaves nameless are
// "RTMIN+3"; 32 and 33 (reserved by glibc, nameless in Python) are their number; "" for a number
// that is not a signal.
std::string signal_name(signum s);

// Parses "TERM", "SIGTERM", "term", "15", "RTMIN+3", "SIGRTMAX-1": every name and alias of
// Python's signal.Signals ("SIGIOT" 6, "SIGCLD" 17, "SIGPOLL" 29), with or without SIG, any case.
// Errors: EINVAL when the text names no signal.
[[nodiscard]] result<signum> signal_from_name(std::string_view name) noexcept;

// The description, like Python's signal.strsignal(): "Terminated", "Real-time signal 3" for
// SIGRTMIN+3. Where Python gives None (32, 33) or raises ValueError (out of range), the text is
// "Unknown signal N".
std::string strsignal(signum s);

// The highest signal number, SIGRTMAX (64 on Linux): the signals are 1 .. signal_max().
int signal_max() noexcept;

// A set of signals (sigset_t), empty when constructed.
class signal_set {
public:
    signal_set() noexcept { ::sigemptyset(&set_); }
    signal_set(std::initializer_list<signum> signals) noexcept;
    // Every signal but the two glibc reserves for itself (32, 33): Python's signal.valid_signals().
    static signal_set full() noexcept;

    // Adds / removes one signal. A number that is no signal (0, > SIGRTMAX) or one glibc reserves
    // (32, 33) is left out silently: Python's pthread_sigmask raises ValueError for the first
    // kind and only warns for the second.
    signal_set& add(signum s) noexcept;
    signal_set& remove(signum s) noexcept;
    // Whether s is in the set; false for a number that is no signal.
    [[nodiscard]] bool contains(signum s) const noexcept;
    // True when the set holds no signal (1 .. SIGRTMAX), like `not mask` in Python.
    [[nodiscard]] bool empty() const noexcept;

    [[nodiscard]] const sigset_t& native() const noexcept { return set_; }
    [[nodiscard]] sigset_t& native() noexcept { return set_; }

private:
    sigset_t set_;
};

}  // namespace ospp
