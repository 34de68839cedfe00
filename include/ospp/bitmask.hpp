// ospp/bitmask.hpp — typed flag sets: scoped enums that combine with | & ^ ~.
//
//   Python                                   C++
//   os.O_WRONLY | os.O_CREAT                 ospp::open_flags::wronly | ospp::open_flags::creat
//
// Each flag family is its own scoped enum, so open flags cannot be passed where splice flags are
// expected. A value ospp does not name yet is still expressible: `ospp::open_flags{O_LARGEFILE}`
// (brace-initialising a scoped enum from its underlying integer is standard C++17).
// A header opts an enum in with `template <> struct enable_bitmask<E> : std::true_type {};`.
#pragma once

#include <type_traits>

namespace ospp {

template <class E>
struct enable_bitmask : std::false_type {};

template <class E>
concept bitmask = std::is_enum_v<E> && enable_bitmask<E>::value;

// The raw integer behind a flag set, for the system call.
template <class E>
    requires std::is_enum_v<E>
constexpr std::underlying_type_t<E> to_raw(E e) noexcept {
    return static_cast<std::underlying_type_t<E>>(e);
}

template <bitmask E>
constexpr E operator|(E a, E b) noexcept { return E(to_raw(a) | to_raw(b)); }
template <bitmask E>
constexpr E operator&(E a, E b) noexcept { return E(to_raw(a) & to_raw(b)); }
template <bitmask E>
constexpr E operator^(E a, E b) noexcept { return E(to_raw(a) ^ to_raw(b)); }
template <bitmask E>
constexpr E operator~(E a) noexcept { return E(~to_raw(a)); }
template <bitmask E>
constexpr E& operator|=(E& a, E b) noexcept { return a = a | b; }
template <bitmask E>
constexpr E& operator&=(E& a, E b) noexcept { return a = a & b; }
template <bitmask E>
constexpr E& operator^=(E& a, E b) noexcept { return a = a ^ b; }

// True when every bit of `flag` is set in `set` (a zero flag is always "set").
template <bitmask E>
constexpr bool has(E set, E flag) noexcept { return (to_raw(set) & to_raw(flag)) == to_raw(flag); }

}  // namespace ospp

// A namespace nested in ospp that declares bitmask enums (ospp::fcntl, ospp::resource, ...) must
// bring the operators in, because argument-dependent lookup only searches the enum's own namespace.
#define OSPP_BITMASK_OPERATORS      \
    using ::ospp::operator|;        \
    using ::ospp::operator&;        \
    using ::ospp::operator^;        \
    using ::ospp::operator~;        \
    using ::ospp::operator|=;       \
    using ::ospp::operator&=;       \
    using ::ospp::operator^=;       \
    using ::ospp::has
