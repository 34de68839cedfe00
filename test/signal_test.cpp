// test/signal_test.cpp — signal names both ways, and signal sets.
#include "ospp/signal.hpp"

#include "support.hpp"

using ospp::signum;

TEST_CASE("signal names match Python's signal.Signals without the SIG prefix") {
    CHECK(ospp::signal_name(signum::term) == "TERM");
    CHECK(ospp::signal_name(signum::intr) == "INT");
    CHECK(ospp::signal_name(signum::kill) == "KILL");
    CHECK(ospp::signal_name(ospp::sigrt(0)) == "RTMIN");
    CHECK(ospp::signal_name(ospp::sigrt(3)) == "RTMIN+3");
    CHECK(ospp::signal_name(signum{SIGRTMAX}) == "RTMAX");
    CHECK(ospp::signal_name(signum{0}).empty());
    CHECK(ospp::signal_name(signum{SIGRTMAX + 1}).empty());
}

TEST_CASE("signal_from_name accepts names, SIG-names, any case and numbers") {
    CHECK(ospp::signal_from_name("TERM").value() == signum::term);
    CHECK(ospp::signal_from_name("SIGTERM").value() == signum::term);
    CHECK(ospp::signal_from_name("sighup").value() == signum::hup);
    CHECK(ospp::signal_from_name("9").value() == signum::kill);
    CHECK(ospp::signal_from_name("RTMIN+2").value() == ospp::sigrt(2));
    CHECK(ospp::signal_from_name("SIGRTMAX-1").value() == signum{SIGRTMAX - 1});
    CHECK(ospp::signal_from_name("USR1").value() == signum::usr1);
}

TEST_CASE("signal_from_name refuses what names no signal") {
    for (const char* bad : {"", "SIG", "NOPE", "0", "-1", "65", "RTMIN+99", "RTMIN-1", "TERM ", "1x"}) {
        CAPTURE(bad);
        CHECK_ERRNO(ospp::signal_from_name(bad), EINVAL, "signal_from_name: [Errno 22] Invalid argument");
    }
}

TEST_CASE("strsignal describes a signal like Python's signal.strsignal") {
    CHECK(ospp::strsignal(signum::term) == "Terminated");
    CHECK(ospp::strsignal(signum::kill) == "Killed");
    CHECK(ospp::strsignal(signum{0}) == "Unknown signal 0");
}

TEST_CASE("signal_set adds, removes and tests membership") {
    ospp::signal_set s{signum::term, signum::hup};
    CHECK(s.contains(signum::term));
    CHECK(s.contains(signum::hup));
    CHECK_FALSE(s.contains(signum::intr));
    s.remove(signum::term).add(signum::usr1);
    CHECK_FALSE(s.contains(signum::term));
    CHECK(s.contains(signum::usr1));
    CHECK_FALSE(s.empty());
    CHECK(ospp::signal_set().empty());
    CHECK(ospp::signal_set::full().contains(signum::kill));
    CHECK(ospp::signal_set::full().contains(ospp::sigrt(1)));
}
