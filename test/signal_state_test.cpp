// test/signal_state_test.cpp — signal masks and handlers, read back from the kernel.
#include "ospp/signal_state.hpp"

#include <signal.h>

#include <fstream>
#include <string>

#include "child.hpp"
#include "support.hpp"

using ospp::signum;
using ospp::sigmask_how;

namespace {

// A /proc/self/status field such as "SigBlk" as the hex mask the kernel prints.
unsigned long long status_mask(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string key;
    std::string value;
    while (in >> key >> value) {
        if (key == std::string(field) + ":") return std::stoull(value, nullptr, 16);
    }
    return ~0ULL;
}

unsigned long long bit(int n) { return 1ULL << (n - 1); }

sighandler_t handler_of(int n) {
    struct sigaction sa {};
    ::sigaction(n, nullptr, &sa);
    return sa.sa_handler;
}

void on_signal(int) {}

}  // namespace

TEST_CASE("pthread_sigmask blocks, returns the old mask, and a raised signal waits as pending") {
    const int code = ospp_test::exit_code_of([] {
        auto old = ospp::pthread_sigmask(sigmask_how::block, {signum::usr1});
        if (!old || old->contains(signum::usr1)) return 1;
        auto now = ospp::signal_mask();
        if (!now || !now->contains(signum::usr1)) return 2;
        if ((status_mask("SigBlk") & bit(SIGUSR1)) == 0) return 3;
        ::raise(SIGUSR1);  // blocked: stays pending instead of killing the child
        auto pending = ospp::sigpending();
        if (!pending || !pending->contains(signum::usr1)) return 4;
        auto before = ospp::pthread_sigmask(sigmask_how::unblock, {signum::usr2});
        if (!before || !before->contains(signum::usr1)) return 5;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("sigprocmask and set_signal_mask replace the mask; set_signal_mask({}) clears it") {
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::sigprocmask(sigmask_how::setmask, {signum::term, signum::hup})) return 1;
        if (status_mask("SigBlk") != (bit(SIGTERM) | bit(SIGHUP))) return 2;
        auto old = ospp::set_signal_mask({});
        if (!old || !old->contains(signum::term) || !old->contains(signum::hup)) return 3;
        if (status_mask("SigBlk") != 0) return 4;
        // SIGKILL and SIGSTOP can never be blocked: the full set blocks everything else.
        if (!ospp::set_signal_mask(ospp::signal_set::full())) return 5;
        if ((status_mask("SigBlk") & (bit(SIGKILL) | bit(SIGSTOP))) != 0) return 6;
        if ((status_mask("SigBlk") & bit(SIGTERM)) == 0) return 7;
        return 0;
    });
    CHECK(code == 0);
}

// Python: old = pthread_sigmask(SIG_SETMASK, valid_signals()); ...; pthread_sigmask(SIG_SETMASK, old).
TEST_CASE("a saved mask restores exactly, and a pending real-time signal makes sigpending non-empty") {
    const int code = ospp_test::exit_code_of([] {
        const ospp::signal_set mine{signum::usr1, ospp::sigrt(5), signum{SIGRTMAX}};
        if (!ospp::set_signal_mask(mine)) return 1;
        const unsigned long long before = status_mask("SigBlk");
        if (before != (bit(SIGUSR1) | bit(SIGRTMIN + 5) | bit(SIGRTMAX))) return 2;
        auto old = ospp::set_signal_mask(ospp::signal_set::full());
        if (!old || status_mask("SigBlk") == before) return 3;
        auto pending = ospp::sigpending();
        if (!pending || !pending->empty()) return 4;
        ::raise(SIGRTMAX);  // blocked: stays pending
        pending = ospp::sigpending();
        if (!pending || pending->empty() || !pending->contains(signum{SIGRTMAX})) return 5;
        if (!ospp::set_signal_mask(*old)) return 6;  // SIGRTMAX still blocked: still pending
        if (status_mask("SigBlk") != before) return 7;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("pthread_sigmask and sigprocmask refuse a bad how") {
    CHECK_ERRNO(ospp::pthread_sigmask(sigmask_how{12345}, {}), EINVAL, "pthread_sigmask: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::sigprocmask(sigmask_how{12345}, {}), EINVAL, "sigprocmask: [Errno 22] Invalid argument");
}
// no error test for ospp::signal_mask: pthread_sigmask with a fixed valid how fails only with EFAULT
// no error test for ospp::set_signal_mask: as signal_mask (SIG_SETMASK, ospp's own sets)
// no error test for ospp::sigpending: sigpending(2) fails only with EFAULT
// no error test for ospp::reset_signal_handlers: sigaction's only other error, EFAULT, cannot happen

TEST_CASE("reset_signal_handlers puts every handler back to SIG_DFL, including ignored ones") {
    const int code = ospp_test::exit_code_of([] {
        ::signal(SIGUSR1, on_signal);
        ::signal(SIGPIPE, SIG_IGN);
        ::signal(SIGCHLD, SIG_IGN);
        ::signal(SIGRTMAX, SIG_IGN);
        if (status_mask("SigIgn") == 0) return 1;
        if (!ospp::reset_signal_handlers()) return 2;
        for (int n = 1; n <= SIGRTMAX; ++n) {
            if (n == SIGKILL || n == SIGSTOP) continue;
            if (handler_of(n) != SIG_DFL) return 3;
        }
        if (status_mask("SigIgn") != 0 || status_mask("SigCgt") != 0) return 4;
        return 0;
    });
    CHECK(code == 0);
}

TEST_CASE("ignore_signal and default_signal_handler set one disposition") {
    const int code = ospp_test::exit_code_of([] {
        if (!ospp::ignore_signal(signum::usr2)) return 1;
        if (handler_of(SIGUSR2) != SIG_IGN) return 2;
        ::raise(SIGUSR2);  // ignored: the child lives on
        if (!ospp::default_signal_handler(signum::usr2)) return 3;
        if (handler_of(SIGUSR2) != SIG_DFL) return 4;
        return 0;
    });
    CHECK(code == 0);
    CHECK_ERRNO(ospp::ignore_signal(signum::kill), EINVAL, "signal: [Errno 22] Invalid argument");
    CHECK_ERRNO(ospp::default_signal_handler(signum{0}), EINVAL, "signal: [Errno 22] Invalid argument");
}
