// test/counting_new.hpp — a counting global operator new, to prove a success path allocates
// nothing (or nothing per entry), which can also place one allocation on a page of the test's and
// fail big allocations. It replaces operator new for the whole executable, so include
// it in exactly one file of a test executable.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>

namespace ospp_test {

inline std::atomic<bool> counting_allocations{false};
inline std::atomic<long> allocation_count{0};
// Nonzero: operator new sets errno to this when it succeeds, as POSIX lets a successful malloc do,
// to prove that an error path reads errno before it allocates (a path for the message).
inline std::atomic<int> errno_set_by_new{0};
// Non-null: the next operator new of at most 4096 bytes returns this address (a page the test
// owns, which must never be deleted) instead of malloc's, and this goes back to null: to put one
// object the library allocates on a page of its own, which the test can then protect.
inline std::atomic<void*> next_allocation_at{nullptr};
// Nonzero: operator new of at least this many bytes throws std::bad_alloc, as when memory runs
// out, while smaller ones still succeed: to reach the path where a big allocation fails.
inline std::atomic<std::size_t> fail_allocations_from{0};

// How many times `f` called operator new.
template <class F>
long allocations_during(F&& f) {
    allocation_count = 0;
    counting_allocations = true;
    f();
    counting_allocations = false;
    return allocation_count.load();
}

}  // namespace ospp_test

void* operator new(std::size_t n) {
    if (const std::size_t limit = ospp_test::fail_allocations_from.load(std::memory_order_relaxed); limit != 0 && n >= limit)
        throw std::bad_alloc();
    if (ospp_test::counting_allocations.load(std::memory_order_relaxed))
        ospp_test::allocation_count.fetch_add(1, std::memory_order_relaxed);
    if (n <= 4096 && ospp_test::next_allocation_at.load(std::memory_order_relaxed) != nullptr) {
        if (void* at = ospp_test::next_allocation_at.exchange(nullptr)) return at;
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        if (const int e = ospp_test::errno_set_by_new.load(std::memory_order_relaxed)) errno = e;
        return p;
    }
    throw std::bad_alloc();
}
// GCC 12 at -O3 inlines these into callers and, seeing `operator new` paired with `free`, warns
// of a mismatch: this operator new is malloc, so free is its match.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
