// src/signal_state.cpp — signal masks and dispositions.
#include "ospp/signal_state.hpp"

#include <pthread.h>

#include "sys.hpp"

namespace ospp {

result<signal_set> pthread_sigmask(sigmask_how how, const signal_set& set) noexcept {
    signal_set old;
    const int e = ::pthread_sigmask(to_raw(how), &set.native(), &old.native());
    if (e != 0) return sys::fail_with(e, "pthread_sigmask");
    return old;
}

result<signal_set> sigprocmask(sigmask_how how, const signal_set& set) noexcept {
    signal_set old;
    if (::sigprocmask(to_raw(how), &set.native(), &old.native()) < 0) return sys::fail("sigprocmask");
    return old;
}

result<signal_set> signal_mask() noexcept {
    signal_set current;
    const int e = ::pthread_sigmask(SIG_SETMASK, nullptr, &current.native());
    if (e != 0) return sys::fail_with(e, "pthread_sigmask");
    return current;
}

result<signal_set> set_signal_mask(const signal_set& set) noexcept {
    return pthread_sigmask(sigmask_how::setmask, set);
}

result<signal_set> sigpending() noexcept {
    signal_set pending;
    if (::sigpending(&pending.native()) < 0) return sys::fail("sigpending");
    return pending;
}

namespace {

int set_disposition(int n, sighandler_t handler) noexcept {
    struct sigaction sa {};
    sa.sa_handler = handler;
    ::sigemptyset(&sa.sa_mask);
    return ::sigaction(n, &sa, nullptr);
}

}  // namespace

result<void> reset_signal_handlers() noexcept {
    int first_error = 0;
    for (int n = 1; n <= SIGRTMAX; ++n) {
        if (n == SIGKILL || n == SIGSTOP) continue;
        // glibc refuses its reserved signals (32, 33) with EINVAL: nothing to reset there.
        if (set_disposition(n, SIG_DFL) < 0 && errno != EINVAL && first_error == 0) first_error = errno;
    }
    if (first_error != 0) return sys::fail_with(first_error, "sigaction");
    return {};
}

result<void> default_signal_handler(signum s) noexcept {
    if (set_disposition(to_raw(s), SIG_DFL) < 0) return sys::fail("signal");
    return {};
}

result<void> ignore_signal(signum s) noexcept {
    if (set_disposition(to_raw(s), SIG_IGN) < 0) return sys::fail("signal");
    return {};
}

}  // namespace ospp
