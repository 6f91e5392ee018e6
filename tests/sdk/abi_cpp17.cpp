// The ABI headers compiled as C++17 (rule 1: they compile as C11 and C++17).
#include "abi_layout.h"

#include <paddock/pdk_backend.h>
#include <paddock/pdk_plugin.h>
#include <paddock/pdk_recorder.h>
#include <paddock/pdk_struct.h>

#include <cstring>
#include <type_traits>

#define PDK_TEST_TRIVIAL(t) \
    static_assert(std::is_standard_layout_v<t> && std::is_trivially_copyable_v<t>, #t " crosses a C boundary");
PDK_TEST_ABI_TYPES(PDK_TEST_TRIVIAL)
#undef PDK_TEST_TRIVIAL

static_assert(std::is_same_v<pdk_plugin_entry_fn, const pdk_plugin_descriptor* (*)()>);

extern "C" size_t pdk_test_cpp17_sizeof(const char* type) {
#define PDK_TEST_SIZEOF(t) \
    if (std::strcmp(type, #t) == 0) return sizeof(t);
    PDK_TEST_ABI_TYPES(PDK_TEST_SIZEOF)
#undef PDK_TEST_SIZEOF
    return static_cast<size_t>(-1);
}

extern "C" size_t pdk_test_cpp17_offsetof(const char* type, const char* field) {
#define PDK_TEST_OFFSETOF(t, f, offset, size) \
    if (std::strcmp(type, #t) == 0 && std::strcmp(field, #f) == 0) return offsetof(t, f);
    PDK_TEST_ABI_FIELDS(PDK_TEST_OFFSETOF)
#undef PDK_TEST_OFFSETOF
    return static_cast<size_t>(-1);
}
