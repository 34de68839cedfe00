// ospp/signal_state.hpp — what a process holds about signals: the blocked mask and the handlers.
//
//   Python                                              C++
//   old = signal.pthread_sigmask(signal.SIG_BLOCK, {S})  auto old = ospp::pthread_sigmask(ospp::sigmask_how::block, {S});
//   signal.pthread_sigmask(signal.SIG_SETMASK, set())    ospp::set_signal_mask({});   // unblock everything
//   signal.sigpending()                                  ospp::sigpending()
//   for s in signal.valid_signals():                     ospp::reset_signal_handlers();
//       signal.signal(s, signal.SIG_DFL)   (roughly)
//
// Both the mask and the handlers are inherited across fork, and the mask and ignored signals
// survive exec as well, so a daemon or a child must reset them (daemon(7), steps 2 and 3).
// Every function here is async-signal-safe: it may be called between fork and exec.
#pragma once

#include <signal.h>

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/signal.hpp"

namespace ospp {

// How pthread_sigmask changes the mask: Python's signal.SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK.
enum class sigmask_how : int {
    block = SIG_BLOCK,      // add the given signals to the mask
    unblock = SIG_UNBLOCK,  // remove them
    setmask = SIG_SETMASK,  // the mask becomes exactly the given set
};

// Python's signal.pthread_sigmask(how, mask): changes the calling thread's mask, returns the old one.
// Errors: EINVAL (bad how). SIGKILL and SIGSTOP are silently never blocked (the kernel's rule).
[[nodiscard]] result<signal_set> pthread_sigmask(sigmask_how how, const signal_set& set) noexcept;

// sigprocmask(2): the same for the whole process; only meaningful in a single-threaded program
// (in a threaded one it acts on the calling thread, like pthread_sigmask). Errors: EINVAL.
[[nodiscard]] result<signal_set> sigprocmask(sigmask_how how, const signal_set& set) noexcept;

// The calling thread's current mask (pthread_sigmask with no change). Errors: none in practice.
[[nodiscard]] result<signal_set> signal_mask() noexcept;

// Makes `set` the calling thread's whole mask and returns the old one; set_signal_mask({}) clears
// it (daemon(7), step 3). Errors: none in practice (EINVAL cannot happen).
[[nodiscard]] result<signal_set> set_signal_mask(const signal_set& set) noexcept;

// Python's signal.sigpending(): the signals raised while blocked, waiting for delivery.
// Errors: none in practice (EFAULT cannot happen).
[[nodiscard]] result<signal_set> sigpending() noexcept;

// Sets the disposition of every signal (1 .. SIGRTMAX, except the unchangeable SIGKILL and
// SIGSTOP and the ones the C library reserves for itself) to SIG_DFL, with an empty handler mask
// and no flags (daemon(7), step 2). Signals ignored by the parent stay ignored across exec, which
// surprises programs that expect SIGPIPE or SIGCHLD to behave normally; this undoes that.
// Async-signal-safe and allocation-free. Errors: the first sigaction(2) error other than EINVAL
// (which means "reserved or invalid number" and is skipped); the other signals are still reset.
[[nodiscard]] result<void> reset_signal_handlers() noexcept;

// Python's signal.signal(s, signal.SIG_DFL) / signal.signal(s, signal.SIG_IGN) for one signal.
// Errors: EINVAL (SIGKILL, SIGSTOP, or not a signal).
[[nodiscard]] result<void> default_signal_handler(signum s) noexcept;
[[nodiscard]] result<void> ignore_signal(signum s) noexcept;

}  // namespace ospp
