// ospp/name_table.hpp — Python's *_names dictionaries (os.sysconf_names, os.confstr_names,
// os.pathconf_names) as tables of {name, typed value}.
//
//   Python                                   C++
//   os.pathconf_names["PC_NAME_MAX"]         ospp::find_name(ospp::pathconf_names(), "PC_NAME_MAX")->value
//   for k, v in os.sysconf_names.items()     for (auto [k, v] : ospp::sysconf_names())
#pragma once

#include <algorithm>
#include <span>
#include <string_view>

namespace ospp {

// One entry of a *_names table: Python's key and the typed value it stands for.
template <class Name>
struct name_entry {
    std::string_view name;  // "SC_ARG_MAX", "PC_NAME_MAX", "CS_PATH"
    Name value;
};

// The entry called `name` (exact, case-sensitive, as Python's dict), or null when there is none.
template <class Name>
constexpr const name_entry<Name>* find_name(std::span<const name_entry<Name>> table, std::string_view name) noexcept {
    const auto it = std::find_if(table.begin(), table.end(), [&](const name_entry<Name>& e) { return e.name == name; });
    return it == table.end() ? nullptr : &*it;
}

}  // namespace ospp
