// What a caller may do. Ordered: a higher role may do everything a lower one may.
#pragma once

#include "paddock/core/enum_names.hpp"

namespace paddock {

enum class Role { Viewer = 0, Operator = 1, Admin = 2 };

template <>
struct EnumTable<Role> {
    static constexpr std::array<EnumSpelling<Role>, 3> values{
        {{"admin", Role::Admin}, {"operator", Role::Operator}, {"viewer", Role::Viewer}}};
};

constexpr std::string_view roleName(Role role) noexcept { return enumName(role); }
constexpr std::optional<Role> parseRole(std::string_view name) noexcept { return parseEnum<Role>(name); }

}  // namespace paddock
