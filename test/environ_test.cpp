// test/environ_test.cpp — the environment, read back through libc and from a child.
#include "ospp/environ.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support.hpp"

TEST_CASE("putenv, getenv and unsetenv change what libc and environ() see") {
    REQUIRE(ospp::putenv("OSPP_TEST_VAR", "a value=with equals").has_value());
    CHECK(std::string(::getenv("OSPP_TEST_VAR")) == "a value=with equals");
    CHECK(ospp::getenv("OSPP_TEST_VAR") == "a value=with equals");
    bool seen = false;
    for (auto [key, value] : ospp::environ()) {
        if (key == "OSPP_TEST_VAR") seen = value == "a value=with equals";
    }
    CHECK(seen);
    CHECK(ospp::environ_map().at("OSPP_TEST_VAR") == "a value=with equals");
    bool in_array = false;
    for (const char* entry : ospp::environ_array()) in_array |= std::string(entry) == "OSPP_TEST_VAR=a value=with equals";
    CHECK(in_array);

    REQUIRE(ospp::putenv("OSPP_TEST_VAR", "").has_value());
    CHECK(ospp::getenv("OSPP_TEST_VAR") == "");
    REQUIRE(ospp::unsetenv("OSPP_TEST_VAR").has_value());
    CHECK(::getenv("OSPP_TEST_VAR") == nullptr);
    CHECK_FALSE(ospp::getenv("OSPP_TEST_VAR").has_value());
    CHECK(ospp::environ_map().count("OSPP_TEST_VAR") == 0);
    CHECK(ospp::unsetenv("OSPP_TEST_VAR").has_value());  // already gone: fine

    // A key is matched whole: neither a prefix nor an extension of another key finds it.
    REQUIRE(ospp::putenv("OSPP_TEST_VARX", std::string(5000, 'v')).has_value());
    CHECK(ospp::getenv("OSPP_TEST_VARX") == std::string(5000, 'v'));
    CHECK_FALSE(ospp::getenv("OSPP_TEST_VAR").has_value());
    CHECK_FALSE(ospp::getenv("OSPP_TEST_VARXY").has_value());
    CHECK_FALSE(ospp::getenv("OSPP_TEST_VARX=v").has_value());
    REQUIRE(ospp::unsetenv("OSPP_TEST_VARX").has_value());
}

// The test binary runs this case again, exec'd with a crafted envp (execve passes any string):
// the second run sees OSPP_CRAFTED_ENV, checks what environ() and environ_map() give, and exits.
TEST_CASE("environ() and environ_map() skip entries without '=' as Python's os.environ does") {
    if (ospp::getenv("OSPP_CRAFTED_ENV")) {
        std::string seen;
        for (auto [key, value] : ospp::environ()) seen += std::string(key) + "->" + std::string(value) + ";";
        const std::map<std::string, std::string> want{{"", "empty"}, {"A", "1"}, {"B", ""}, {"OSPP_CRAFTED_ENV", "1"}};
        // getenv agrees with environ_map: Python's os.getenv("") is "empty" here (glibc's is NULL).
        const bool got = ospp::getenv("") == "empty" && ospp::getenv("A") == "1" && !ospp::getenv("A=1") &&
                         !ospp::getenv("NOEQ");
        const bool ok = seen == "OSPP_CRAFTED_ENV->1;A->1;->empty;B->;A->2;" && ospp::environ_map() == want && got;
        if (!got) std::fprintf(stderr, "getenv(\"\") gave %s\n", ospp::getenv("").value_or("nullopt").c_str());
        if (!ok) std::fprintf(stderr, "environ() gave %s\n", seen.c_str());
        std::fflush(stderr);
        ::_exit(ok ? 0 : 1);
    }
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(n > 0);
    self[n] = '\0';
    const ospp::cstring_array argv{self, "--test-case=environ() and environ_map() skip entries without*"};
    const ospp::cstring_array envp{"NOEQ", "OSPP_CRAFTED_ENV=1", "A=1", "", "=empty", "NOEQ", "B=", "A=2", "NOEQ"};
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::execve(self, argv.data(), envp.data());
        ::_exit(127);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("putenv and unsetenv refuse keys that cannot be in an environment") {
    CHECK_ERRNO(ospp::putenv("A=B", "x"), EINVAL, "putenv: [Errno 22] Invalid argument: 'A=B'");
    CHECK_ERRNO(ospp::putenv("", "x"), EINVAL, "putenv: [Errno 22] Invalid argument: ''");
    CHECK_ERRNO(ospp::putenv("OSPP_K", std::string("a\0b", 3)), EINVAL, "putenv: [Errno 22] Invalid argument: 'OSPP_K'");
    CHECK_ERRNO(ospp::unsetenv("A=B"), EINVAL, "unsetenv: [Errno 22] Invalid argument: 'A=B'");
    CHECK_FALSE(ospp::getenv("A=B").has_value());
    CHECK_FALSE(ospp::getenv(std::string_view("PATH\0", 5)).has_value());
}

TEST_CASE("get_exec_path splits PATH like Python, with os.defpath when unset") {
    CHECK(ospp::get_exec_path(ospp::cstring_array{"X=1", "PATH=a::b:"}) == std::vector<std::string>{"a", "", "b", ""});
    CHECK(ospp::get_exec_path(ospp::cstring_array{"X=1"}) == std::vector<std::string>{"/bin", "/usr/bin"});
    const std::string saved = ::getenv("PATH") != nullptr ? ::getenv("PATH") : "";
    REQUIRE(ospp::putenv("PATH", "/one:/two").has_value());
    CHECK(ospp::get_exec_path() == std::vector<std::string>{"/one", "/two"});
    REQUIRE(ospp::putenv("PATH", saved).has_value());
}

TEST_CASE("cstring_array builds one NULL-terminated block from strings or a mapping") {
    const std::vector<std::string> v{"a", "bc", ""};
    const ospp::cstring_array arr = v;
    REQUIRE(arr.size() == 3);
    CHECK(std::string(arr[1]) == "bc");
    CHECK(std::string(arr[2]).empty());
    CHECK(arr.data()[3] == nullptr);
    CHECK_FALSE(arr.has_embedded_nul());
    const ospp::cstring_array empty;
    CHECK(empty.empty());
    CHECK(empty.data()[0] == nullptr);
    const std::map<std::string, std::string> m{{"K", "v"}};
    const auto env = ospp::cstring_array::from_env(m);
    CHECK(std::string(env[0]) == "K=v");
    const ospp::cstring_array nul{std::string_view("a\0b", 3)};
    CHECK(nul.has_embedded_nul());
    CHECK_FALSE(nul.valid());
    CHECK(env.valid());
    // Python's "illegal environment variable name": empty, or '=' after the first character.
    for (const char* key : {"A=B", "", "A="}) {
        CAPTURE(key);
        const auto bad = ospp::cstring_array::from_env(std::map<std::string, std::string>{{key, "1"}});
        CHECK(bad.has_illegal_env_name());
        CHECK_FALSE(bad.has_embedded_nul());
        CHECK_FALSE(bad.valid());
    }
    CHECK(ospp::cstring_array::from_env(std::map<std::string, std::string>{{"=A", "1"}}).valid());
    const std::vector<std::pair<std::string, std::string>> twice{{"A", "1"}, {"A", "2"}};
    const auto dup = ospp::cstring_array::from_env(twice);
    REQUIRE(dup.size() == 2);
    CHECK(std::string(dup[0]) == "A=1");
    CHECK(std::string(dup[1]) == "A=2");
    CHECK(ospp::get_exec_path(ospp::cstring_array::from_env(
              std::vector<std::pair<std::string, std::string>>{{"PATH", "/a"}, {"PATH", "/b"}})) ==
          std::vector<std::string>{"/a"});
}

// A default-constructed string_view has a null data(): copying it must not hand memchr/memcpy a
// null pointer (undefined even with size 0; UBSan aborts on it).
TEST_CASE("cstring_array takes empty string_views with a null data()") {
    const std::vector<std::string_view> v{std::string_view(), "a", std::string_view()};
    const ospp::cstring_array arr = v;
    REQUIRE(arr.size() == 3);
    CHECK(std::string(arr[0]).empty());
    CHECK(std::string(arr[1]) == "a");
    CHECK(std::string(arr[2]).empty());
    CHECK(arr.valid());
    const std::map<std::string_view, std::string_view> m{{"K", std::string_view()}};
    const auto env = ospp::cstring_array::from_env(m);
    CHECK(std::string(env[0]) == "K=");
    CHECK(env.valid());
}

// A moved-from array said size() 2 with a null data(): iterating it, or exec'ing with it, read
// through a null pointer. It is now an empty, valid array, as a moved-from std::vector is.
TEST_CASE("cstring_array: a moved-from array is empty and still NULL-terminated") {
    ospp::cstring_array a{"x", std::string_view("y\0", 2)};
    ospp::cstring_array b = std::move(a);
    CHECK(b.size() == 2);
    CHECK(std::string(b[0]) == "x");
    CHECK_FALSE(b.valid());
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
    CHECK(a.size() == 0);
    REQUIRE(a.data() != nullptr);
    CHECK(a.data()[0] == nullptr);
    CHECK(a.begin() == a.end());
    CHECK(a.valid());
    ospp::cstring_array c{"z"};
    c = std::move(b);
    CHECK(c.size() == 2);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(b.data()[0] == nullptr);
    a = std::move(c);
    CHECK(std::string(a[0]) == "x");
    CHECK(c.empty());  // NOLINT(bugprone-use-after-move)
}
