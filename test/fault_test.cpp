// test/fault_test.cpp — every ospp wrapper under injected failures of the libc calls it makes.
//
// Run with LD_PRELOAD=libospp_fault.so (meson test does; see test/fault/fault_inject.c). For each
// wrapper the table names the libc symbols it calls; each symbol is made to fail with every errno
// class, and the wrapper must return exactly that errno under its own call name — or, for EINTR,
// retry and succeed (PEP 475), except close, which must report EINTR and never retry.
// The test main checks that no case leaks a descriptor or a child.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "ospp/ospp.hpp"
#include "support.hpp"

namespace {

struct fault_api {
    void (*arm)(const char*, int, long, long) = nullptr;
    void (*disarm)() = nullptr;
    long (*injected)(const char*) = nullptr;
};

fault_api load_api() {
    fault_api api;
    *reinterpret_cast<void**>(&api.arm) = ::dlsym(RTLD_DEFAULT, "ospp_fault_arm");
    *reinterpret_cast<void**>(&api.disarm) = ::dlsym(RTLD_DEFAULT, "ospp_fault_disarm");
    *reinterpret_cast<void**>(&api.injected) = ::dlsym(RTLD_DEFAULT, "ospp_fault_injected");
    return api;
}

// What a wrapper must do when its system call fails with EINTR.
enum class on_eintr {
    retry,          // PEP 475: call again, and succeed
    report,         // close: the descriptor is gone already, so report and never retry
    cannot_happen,  // the call never sleeps (pipe2, fcntl(F_DUPFD)...): not injected
};

// One wrapper, the libc symbols it calls, and how to run it once with valid arguments.
struct fault_case {
    const char* call_name;              // the name in errno_error::call()
    std::vector<const char*> symbols;   // the libc functions to fail
    std::function<ospp::result<void>()> run;
    on_eintr eintr = on_eintr::retry;
};

// Keeps only success or failure of a result: result<T> -> result<void>.
template <class T>
ospp::result<void> drop_value(const ospp::result<T>& r) {
    if (!r) return tl::unexpected(r.error());
    return {};
}

std::vector<fault_case> foundation_cases(const std::string& dir) {
    const std::string file = dir + "/f";
    ospp_test::write_file(file, "content");
    return {
        {"open", {"openat"}, [file] { return drop_value(ospp::open(file, ospp::open_flags::rdonly)); }},
        {"read", {"read"}, [file] {
             auto f = ospp::open(file, ospp::open_flags::rdonly);
             return f ? drop_value(ospp::read(*f, 4)) : drop_value(f);
         }},
        {"write", {"write"}, [] {
             auto p = ospp::pipe();
             return p ? drop_value(ospp::write(p->write_end, "x")) : drop_value(p);
         }},
        {"pipe2", {"pipe2"}, [] { return drop_value(ospp::pipe()); }, on_eintr::cannot_happen},
        {"dup", {"fcntl"}, [] { return drop_value(ospp::dup(ospp::stdin_fd)); }, on_eintr::cannot_happen},
        {"dup2", {"dup3"}, [] {
             auto p = ospp::pipe();
             return p ? drop_value(ospp::dup2(p->read_end, p->write_end, false)) : drop_value(p);
         }},
        {"dup2", {"dup2"}, [] {
             auto p = ospp::pipe();
             return p ? drop_value(ospp::dup2(p->read_end, p->write_end)) : drop_value(p);
         }},
        {"close", {"close"}, [] {
             auto p = ospp::pipe();
             return p ? p->read_end.close() : drop_value(p);
         }, on_eintr::report},
    };
}

const int errno_classes[] = {EIO, ENOSPC, ENOMEM, EMFILE, EACCES, EAGAIN};

// With OSPP_FAULT_REPORT set, each exercised (call name, symbol) pair is appended to that file,
// for test/fault/coverage.py.
void report(const char* call_name, const char* symbol) {
    const char* path = std::getenv("OSPP_FAULT_REPORT");
    if (path == nullptr) return;
    if (FILE* f = std::fopen(path, "ae")) {
        std::fprintf(f, "%s\t%s\n", call_name, symbol);
        std::fclose(f);
    }
}

void run_cases(const fault_api& api, const std::vector<fault_case>& cases) {
    int exercised = 0;
    for (const fault_case& c : cases) {
        for (const char* symbol : c.symbols) {
            CAPTURE(c.call_name);
            CAPTURE(symbol);
            REQUIRE(c.run().has_value());  // the case works without a fault
            report(c.call_name, symbol);
            for (int e : errno_classes) {
                CAPTURE(e);
                api.arm(symbol, e, 1, 1);
                auto r = c.run();
                const long hits = api.injected(symbol);
                api.disarm();
                REQUIRE(hits == 1);
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code() == e);
                CHECK(std::string(r.error().call()) == c.call_name);
                ++exercised;
            }
            // EINTR three times in a row: retried to success, or reported where retrying is wrong.
            if (c.eintr == on_eintr::cannot_happen) continue;
            api.arm(symbol, EINTR, 1, 3);
            auto r = c.run();
            api.disarm();
            if (c.eintr == on_eintr::retry) {
                CHECK(r.has_value());
            } else {
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code() == EINTR);
            }
            ++exercised;
        }
    }
    MESSAGE("fault injections exercised: " << exercised);
}

}  // namespace

TEST_CASE("foundation wrappers return the injected errno under their own name") {
    const fault_api api = load_api();
    if (api.arm == nullptr) OSPP_SKIP("needs LD_PRELOAD=libospp_fault.so (meson test sets it)");
    ospp_test::temp_dir dir;
    run_cases(api, foundation_cases(dir.path()));
}

TEST_CASE("a failed close still releases the owned descriptor") {
    const fault_api api = load_api();
    if (api.arm == nullptr) OSPP_SKIP("needs LD_PRELOAD=libospp_fault.so (meson test sets it)");
    auto p = ospp::pipe().value();
    const int raw = p.read_end.get();
    api.arm("close", EINTR, 1, 1);
    auto r = p.read_end.close();
    api.disarm();
    CHECK_FAILS_WITH(r, EINTR);
    CHECK_FALSE(p.read_end.valid());
    CHECK(::fcntl(raw, F_GETFD) == -1);
}
