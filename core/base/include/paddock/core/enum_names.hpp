// Enums that are spelt as words in configuration and JSON. Each such enum has exactly one
// table of spellings (a specialisation of EnumTable); parsing, printing and "one of: ..."
// messages all read that table.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace paddock {

template <class E>
struct EnumSpelling {
    std::string_view name;
    E value;
};

// Specialise with `static constexpr std::array<EnumSpelling<E>, N> values`.
template <class E>
struct EnumTable;

template <class E>
constexpr std::string_view enumName(E value) noexcept {
    for (const auto& s : EnumTable<E>::values)
        if (s.value == value) return s.name;
    return "unknown";
}

template <class E>
constexpr std::optional<E> parseEnum(std::string_view text) noexcept {
    for (const auto& s : EnumTable<E>::values)
        if (s.name == text) return s.value;
    return std::nullopt;
}

// "a, b, c": the accepted spellings, for error messages.
template <class E>
std::string enumChoices() {
    std::string out;
    for (const auto& s : EnumTable<E>::values) out += (out.empty() ? "" : ", ") + std::string(s.name);
    return out;
}

}  // namespace paddock
