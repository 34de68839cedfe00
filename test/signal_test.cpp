// test/signal_test.cpp — signal names both ways, and signal sets.
#include "ospp/signal.hpp"

#include <limits>
#include <sstream>
#include <string>

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
    const std::string span = std::to_string(SIGRTMAX - SIGRTMIN);  // the ends of the range: inclusive
    CHECK(ospp::signal_from_name("RTMIN+" + span).value() == signum{SIGRTMAX});
    CHECK(ospp::signal_from_name("RTMAX-" + span).value() == signum{SIGRTMIN});
    CHECK_ERRNO(ospp::signal_from_name("RTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN + 1)), EINVAL,
                "signal_from_name: [Errno 22] Invalid argument");
    CHECK(ospp::signal_from_name("USR1").value() == signum::usr1);
}

TEST_CASE("signal_from_name refuses what names no signal") {
    for (const char* bad : {"", "SIG", "NOPE", "0", "-1", "65", "RTMIN+99", "RTMIN-1", "TERM ", "1x",
                            "RTMIN+2147483647", "SIGRTMIN+2147483614", "RTMAX-2147483647", "RTMIN+99999999999",
                            "RTMIN+-0", "RTMAX--0", "RTMIN+-1"}) {
        CAPTURE(bad);
        CHECK_ERRNO(ospp::signal_from_name(bad), EINVAL, "signal_from_name: [Errno 22] Invalid argument");
    }
}

// The oracle: python3 prints "n NAME" for every number 1..64 that signal.Signals names (its
// canonical name), then "alias NAME n" for every member name Signals[...] accepts.
TEST_CASE("signal_name and signal_from_name agree with python3's signal.Signals on every number and alias") {
    const auto out = ospp_test::command_output(
        "python3 -c '\n"
        "import signal\n"
        "for n in range(1, 65):\n"
        "    if n in signal.Signals._value2member_map_: print(n, signal.Signals(n).name)\n"
        "for name, member in signal.Signals.__members__.items(): print(\"alias\", name, int(member))\n"
        "' 2>/dev/null");
    if (!out) OSPP_SKIP("needs python3");
    std::istringstream lines(*out);
    std::string first;
    std::string name;
    int named = 0;
    int aliases = 0;
    while (lines >> first >> name) {
        REQUIRE(name.rfind("SIG", 0) == 0);
        if (first == "alias") {
            int n = 0;
            const bool read = static_cast<bool>(lines >> n);
            REQUIRE(read);
            CAPTURE(name);
            CHECK(ospp::signal_from_name(name) == signum{n});
            CHECK(ospp::signal_from_name(name.substr(3)) == signum{n});
            ++aliases;
        } else {
            const int n = std::stoi(first);
            CAPTURE(n);
            CHECK("SIG" + ospp::signal_name(signum{n}) == name);
            ++named;
        }
    }
    CHECK(named >= 31);
    CHECK(aliases > named);  // SIGIOT, SIGCLD, SIGPOLL at least
}

TEST_CASE("signal_name: IO for 29 as Python says, not glibc's POLL; Python's aliases parse") {
    CHECK(ospp::signal_name(signum::io) == "IO");
    CHECK(ospp::signal_name(signum::abrt) == "ABRT");
    CHECK(ospp::signal_name(signum::chld) == "CHLD");
    CHECK(ospp::signal_from_name("SIGIO") == signum::io);
    CHECK(ospp::signal_from_name("IO") == signum::io);
    CHECK(ospp::signal_from_name("SIGPOLL") == signum::io);
    CHECK(ospp::signal_from_name("SIGIOT") == signum::abrt);
    CHECK(ospp::signal_from_name("cld") == signum::chld);
    // Nameless in Python: real-time signals keep ospp's RTMIN+n, 32 and 33 their number.
    CHECK(ospp::signal_name(ospp::sigrt(1)) == "RTMIN+1");
    CHECK(ospp::signal_name(signum{32}) == "32");
}

// sigrt(n) past the last real-time signal is no signal; it must not overflow int on the way.
TEST_CASE("sigrt beyond SIGRTMAX gives a number that is no signal") {
    for (int n : {SIGRTMAX - SIGRTMIN + 1, 1000, std::numeric_limits<int>::max(), -1000, std::numeric_limits<int>::min()}) {
        CAPTURE(n);
        CHECK(ospp::signal_name(ospp::sigrt(n)).empty());
        CHECK(ospp::sigrt(n) != signum{0});  // kill() would take 0 as "does it exist?"
    }
    CHECK(ospp::sigrt(SIGRTMAX - SIGRTMIN) == signum{SIGRTMAX});
}

TEST_CASE("strsignal describes a signal like Python's signal.strsignal") {
    CHECK(ospp::strsignal(signum::term) == "Terminated");
    CHECK(ospp::strsignal(signum::kill) == "Killed");
    CHECK(ospp::strsignal(signum{0}) == "Unknown signal 0");
}

// The oracle: python3 prints "n text" for 1..64, with "None" where strsignal gives None.
TEST_CASE("strsignal agrees with python3's signal.strsignal on every number") {
    const auto out = ospp_test::command_output(
        "python3 -c 'import signal\nfor n in range(1, 65): print(n, signal.strsignal(n))' 2>/dev/null");
    if (!out) OSPP_SKIP("needs python3");
    std::istringstream lines(*out);
    int n = 0;
    int seen = 0;
    std::string text;
    while (lines >> n && std::getline(lines >> std::ws, text)) {
        CAPTURE(n);
        CHECK(ospp::strsignal(signum{n}) == (text == "None" ? "Unknown signal " + std::to_string(n) : text));
        ++seen;
    }
    CHECK(seen == 64);
    CHECK(ospp::strsignal(signum{SIGRTMAX + 1}) == "Unknown signal " + std::to_string(SIGRTMAX + 1));
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

// glibc 2.36's sigisemptyset reads the first word of the set through an int, so a set holding only
// signals 33..64 (every real-time signal) passed for empty. Python: `not {signal.SIGRTMIN}` is False.
TEST_CASE("signal_set::empty sees every signal, real-time ones included") {
    for (int n = 1; n <= ospp::signal_max(); ++n) {
        ospp::signal_set s;
        s.add(signum{n});
        if (!s.contains(signum{n})) continue;  // 32 and 33: reserved by glibc, never added
        CAPTURE(n);
        CHECK_FALSE(s.empty());
        s.remove(signum{n});
        CHECK(s.empty());
    }
    CHECK_FALSE(ospp::signal_set{ospp::sigrt(0)}.empty());
    CHECK_FALSE(ospp::signal_set{signum{SIGRTMAX}}.empty());
}

TEST_CASE("signal_set::full is Python's signal.valid_signals(); numbers that are no signal stay out") {
    const auto out = ospp_test::command_output(
        "python3 -c 'import signal; print(*sorted(signal.valid_signals()))' 2>/dev/null");
    if (!out) OSPP_SKIP("needs python3");
    std::istringstream numbers(*out);
    std::string want;
    for (int n = 0; numbers >> n;) want += std::to_string(n) + " ";
    std::string got;
    const auto full = ospp::signal_set::full();
    for (int n = 1; n <= ospp::signal_max(); ++n) {
        if (full.contains(signum{n})) got += std::to_string(n) + " ";
    }
    CHECK(got == want);
    for (int n : {-1, 0, 32, 33, SIGRTMAX + 1}) {
        CAPTURE(n);
        ospp::signal_set s;
        s.add(signum{n});
        CHECK(s.empty());
        CHECK_FALSE(s.contains(signum{n}));
        CHECK_FALSE(full.contains(signum{n}));
    }
}
