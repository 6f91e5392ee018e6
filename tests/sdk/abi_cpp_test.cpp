// The ABI headers as C++20 sees them, compared with the C11 and C++17 views of the same headers.
#include "abi_layout.h"

#include <paddock/pdk_backend.h>
#include <paddock/pdk_plugin.h>
#include <paddock/pdk_recorder.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <type_traits>

namespace {

size_t cpp20Sizeof(const std::string& type) {
#define PDK_TEST_SIZEOF(t) \
    if (type == #t) return sizeof(t);
    PDK_TEST_ABI_TYPES(PDK_TEST_SIZEOF)
#undef PDK_TEST_SIZEOF
    return static_cast<size_t>(-1);
}

}  // namespace

TEST_CASE("every ABI struct has the same size in C11, C++17 and C++20", "[sdk][abi]") {
#define PDK_TEST_SAME_SIZE(t)                          \
    SECTION(#t) {                                      \
        CHECK(pdk_test_c11_sizeof(#t) == sizeof(t));   \
        CHECK(pdk_test_cpp17_sizeof(#t) == sizeof(t)); \
        CHECK(cpp20Sizeof(#t) == sizeof(t));           \
    }
    PDK_TEST_ABI_TYPES(PDK_TEST_SAME_SIZE)
#undef PDK_TEST_SAME_SIZE
    CHECK(pdk_test_c11_sizeof("no_such_type") == static_cast<size_t>(-1));
}

TEST_CASE("every ABI field has the same offset in C11, C++17 and C++20", "[sdk][abi]") {
    int fields = 0;
#define PDK_TEST_SAME_OFFSET(t, f, offset, size)                  \
    {                                                             \
        INFO(#t "." #f);                                          \
        CHECK(pdk_test_c11_offsetof(#t, #f) == offsetof(t, f));   \
        CHECK(pdk_test_cpp17_offsetof(#t, #f) == offsetof(t, f)); \
        ++fields;                                                 \
    }
    PDK_TEST_ABI_FIELDS(PDK_TEST_SAME_OFFSET)
#undef PDK_TEST_SAME_OFFSET
    CHECK(fields > 60);
}

#if defined(__x86_64__)
TEST_CASE("every ABI field sits at its frozen x86-64 offset with its frozen size", "[sdk][abi][golden]") {
    int fields = 0;
#define PDK_TEST_GOLDEN_FIELD(t, f, offset, size) \
    {                                             \
        INFO(#t "." #f);                          \
        CHECK(offsetof(t, f) == (offset));        \
        CHECK(sizeof(t::f) == (size));            \
        ++fields;                                 \
    }
    PDK_TEST_ABI_FIELDS(PDK_TEST_GOLDEN_FIELD)
#undef PDK_TEST_GOLDEN_FIELD
    CHECK(fields >= 98);  // ABI 1.0 alone has 98

    int types = 0;
#define PDK_TEST_GOLDEN_SIZE(t, size) \
    {                                 \
        INFO("sizeof " #t);           \
        CHECK(sizeof(t) == (size));   \
        ++types;                      \
    }
    PDK_GOLDEN_SIZES(PDK_TEST_GOLDEN_SIZE)
#undef PDK_TEST_GOLDEN_SIZE
    // Every struct of the ABI has a frozen size.
#define PDK_TEST_COUNT_TYPE(t) +1
    CHECK(types == 0 PDK_TEST_ABI_TYPES(PDK_TEST_COUNT_TYPE));
#undef PDK_TEST_COUNT_TYPE
}

TEST_CASE("structs grow only past their 1.0 end, and name their frozen sizes", "[sdk][abi][golden]") {
    size_t size10 = 0;
#define PDK_TEST_SIZE_1_0(t, size) \
    if (std::string(#t) == type) size10 = (size);
#define PDK_TEST_APPENDED(t, f, offset, size)             \
    {                                                     \
        const std::string type = #t;                      \
        PDK_GOLDEN_SIZES_1_0(PDK_TEST_SIZE_1_0)           \
        INFO(#t "." #f " (1.0 sizeof " << size10 << ")"); \
        CHECK(offsetof(t, f) >= size10);                  \
    }
    PDK_GOLDEN_APPENDED_1_1(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_2(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_3(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_4(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_5(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_7(PDK_TEST_APPENDED)
    PDK_GOLDEN_APPENDED_1_8(PDK_TEST_APPENDED)
#undef PDK_TEST_APPENDED
#undef PDK_TEST_SIZE_1_0
#define PDK_TEST_MACRO(name, size) \
    {                              \
        INFO(#name);               \
        CHECK((name) == (size));   \
    }
    PDK_GOLDEN_SIZE_MACROS(PDK_TEST_MACRO)
#undef PDK_TEST_MACRO
    CHECK(PDK_ABI_VERSION_MAJOR == PDK_GOLDEN_VERSION_MAJOR);
    CHECK(PDK_ABI_VERSION_MINOR == PDK_GOLDEN_VERSION_MINOR);
}
#endif

TEST_CASE("ABI structs are plain C data in C++", "[sdk][abi]") {
#define PDK_TEST_PLAIN(t) STATIC_REQUIRE((std::is_standard_layout_v<t> && std::is_trivial_v<t>));
    PDK_TEST_ABI_TYPES(PDK_TEST_PLAIN)
#undef PDK_TEST_PLAIN
    STATIC_REQUIRE(std::is_same_v<pdk_plugin_entry_fn, const pdk_plugin_descriptor* (*)()>);
    CHECK(std::string(PDK_PLUGIN_ENTRY_SYMBOL) == "pdk_plugin_entry");
    CHECK(PDK_ABI_VERSION_MAJOR == 1u);
    CHECK(sizeof(pdk_error::message) == PDK_ERROR_MESSAGE_MAX);
}

TEST_CASE("PDK_STRUCT_HAS covers a field only when struct_size includes all of it", "[sdk][abi]") {
    pdk_backend_vtable v{};
    const auto start = static_cast<uint32_t>(offsetof(pdk_backend_vtable, list_domains));
    const auto end = static_cast<uint32_t>(start + sizeof(v.list_domains));

    v.struct_size = sizeof v;
    CHECK(PDK_STRUCT_HAS(&v, pdk_backend_vtable, subscribe_events));
    CHECK(PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains));

    v.struct_size = end;
    CHECK(PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains));
    CHECK_FALSE(PDK_STRUCT_HAS(&v, pdk_backend_vtable, get_domain));

    v.struct_size = end - 1;  // partly covered is not covered
    CHECK_FALSE(PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains));
    v.struct_size = start;
    CHECK_FALSE(PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains));
    v.struct_size = 0;
    CHECK_FALSE(PDK_STRUCT_HAS(&v, pdk_backend_vtable, open));

    // The C compiler agrees at every boundary.
    for (uint32_t size : {0u, start, end - 1, end, static_cast<uint32_t>(sizeof v)}) {
        v.struct_size = size;
        CHECK(pdk_test_c11_vtable_has_list_domains(size) ==
              (PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains) ? 1 : 0));
    }

    // A descriptor from an older, smaller minor version: fields beyond its size are absent.
    pdk_plugin_descriptor d{};
    d.struct_size = static_cast<uint32_t>(offsetof(pdk_plugin_descriptor, vtable));
    CHECK(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, capabilities));
    CHECK_FALSE(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, vtable));
    // A 1.0 descriptor has no init, deinit or next.
    d.struct_size = PDK_PLUGIN_DESCRIPTOR_SIZE_1_0;
    CHECK(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, vtable));
    CHECK_FALSE(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, init));
    CHECK_FALSE(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, next));
    d.struct_size = sizeof d;
    CHECK(PDK_STRUCT_HAS(&d, pdk_plugin_descriptor, next));
}
