// A program outside the ospp tree that uses an installed ospp: proves the headers, the library
// and ospp.pc are enough for a consumer.
#include <ospp/ospp.hpp>

#include <cstdio>

int main() {
    auto p = ospp::pipe();
    if (!p) {
        std::puts(p.error().message().c_str());
        return 1;
    }
    if (!ospp::write(p->write_end, "consumed")) return 1;
    auto got = ospp::read(p->read_end, 64);
    auto missing = ospp::open("/nonexistent/ospp-consumer", ospp::open_flags::rdonly);
    if (!got || *got != "consumed" || missing || missing.error().code() != ENOENT) return 1;
    std::printf("consumer ok: %s\n", missing.error().message().c_str());
    return 0;
}
