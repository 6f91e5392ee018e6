/* The ABI headers as a strict C11 compiler sees them (-std=c11 -pedantic -Werror). */
#include "abi_layout.h"

#include <paddock/pdk_backend.h>
#include <paddock/pdk_plugin.h>
#include <paddock/pdk_provisioner.h>
#include <paddock/pdk_recorder.h>
#include <paddock/pdk_struct.h>

#include <string.h>

/* Rule 3: every top-level struct starts with struct_size. */
#define PDK_TEST_STARTS_WITH_SIZE(type) \
    _Static_assert(offsetof(type, struct_size) == 0 && sizeof(((type*)0)->struct_size) == 4, #type);
PDK_TEST_STARTS_WITH_SIZE(pdk_error)
PDK_TEST_STARTS_WITH_SIZE(pdk_plugin_descriptor)
PDK_TEST_STARTS_WITH_SIZE(pdk_domain_info)
PDK_TEST_STARTS_WITH_SIZE(pdk_domain_spec)
PDK_TEST_STARTS_WITH_SIZE(pdk_volume_spec)
PDK_TEST_STARTS_WITH_SIZE(pdk_ssh_target)
PDK_TEST_STARTS_WITH_SIZE(pdk_host_info)
PDK_TEST_STARTS_WITH_SIZE(pdk_backend_vtable)
PDK_TEST_STARTS_WITH_SIZE(pdk_recording_info)
PDK_TEST_STARTS_WITH_SIZE(pdk_recorder_vtable)
PDK_TEST_STARTS_WITH_SIZE(pdk_host)
PDK_TEST_STARTS_WITH_SIZE(pdk_session_info)
PDK_TEST_STARTS_WITH_SIZE(pdk_snapshot_info)
PDK_TEST_STARTS_WITH_SIZE(pdk_snapshot_spec)
PDK_TEST_STARTS_WITH_SIZE(pdk_backup_spec)
PDK_TEST_STARTS_WITH_SIZE(pdk_backup_result)
PDK_TEST_STARTS_WITH_SIZE(pdk_restore_spec)
PDK_TEST_STARTS_WITH_SIZE(pdk_provision_request)
PDK_TEST_STARTS_WITH_SIZE(pdk_provision_result)
PDK_TEST_STARTS_WITH_SIZE(pdk_provisioner_vtable)
PDK_TEST_STARTS_WITH_SIZE(pdk_host_resources)
PDK_TEST_STARTS_WITH_SIZE(pdk_volume_info)

/* The version fields sit right after struct_size, where any future major can still put them. */
_Static_assert(offsetof(pdk_plugin_descriptor, abi_major) == 4, "abi_major");
_Static_assert(offsetof(pdk_plugin_descriptor, abi_minor) == 6, "abi_minor");
_Static_assert(PDK_ABI_VERSION_MAJOR == 1u && PDK_ABI_VERSION_MINOR == 8u, "ABI 1.8");

/* Enums cross the boundary as int-sized values with fixed numbers. */
_Static_assert(sizeof(pdk_status) == 4 && sizeof(pdk_plugin_kind) == 4, "enum size");
_Static_assert(sizeof(pdk_domain_state) == 4 && sizeof(pdk_lifecycle_event) == 4, "enum size");
_Static_assert(PDK_OK == 0 && PDK_ERR_BAD_FLAGS == 7 && PDK_ERR_INTERNAL == 10, "status numbers");
_Static_assert(PDK_ERR_FORBIDDEN == 11 && PDK_ERR_CANCELLED == 12, "status numbers (1.6)");
_Static_assert(PDK_DOMAIN_RUNNING == 1 && PDK_DOMAIN_SHUTOFF == 5 && PDK_DOMAIN_PMSUSPENDED == 7, "libvirt states");
_Static_assert(PDK_REVERT_START == 1u && PDK_REVERT_STOPPED == 2u && PDK_SNAPSHOT_REPLACE == 2u, "revert flags");
_Static_assert(PDK_PLUGIN_KIND_BACKEND == 1 && PDK_PLUGIN_KIND_PROVISIONER == 2 && PDK_PLUGIN_KIND_RECORDER == 3, "kinds");
_Static_assert(PDK_EVENT_CONNECTION_LOST == 100, "events");

_Static_assert(sizeof(pdk_error) == 8 + PDK_ERROR_MESSAGE_MAX, "pdk_error");
_Static_assert(sizeof(((pdk_ssh_target*)0)->host) == 256, "ssh host");
_Static_assert(sizeof(((pdk_host_info*)0)->hypervisor) == 64, "hypervisor");

/* The vtable is struct_size followed by nothing but function pointers, in declaration order. */
#define PDK_TEST_COUNT(type, field) +1
enum { kVtableEntries = 0 PDK_TEST_ABI_VTABLE_ENTRIES(PDK_TEST_COUNT) };
_Static_assert(kVtableEntries == 32, "vtable entries");
_Static_assert(sizeof(pdk_backend_vtable) ==
                   offsetof(pdk_backend_vtable, open) + kVtableEntries * sizeof(void (*)(void)),
               "vtable size");
_Static_assert(offsetof(pdk_backend_vtable, suspend_domain) ==
                   offsetof(pdk_backend_vtable, open) + (kVtableEntries - 1) * sizeof(void (*)(void)),
               "vtable order");

/* The recorder vtable: struct_size, then function pointers only; the fixed fields of
 * pdk_recording_info keep their places (the strings follow the 64-bit timestamp). */
enum { kRecorderEntries = 0 PDK_TEST_ABI_RECORDER_ENTRIES(PDK_TEST_COUNT) };
_Static_assert(kRecorderEntries == 7, "recorder vtable entries");
_Static_assert(sizeof(pdk_recorder_vtable) ==
                   offsetof(pdk_recorder_vtable, open_session) + kRecorderEntries * sizeof(void (*)(void)),
               "recorder vtable size");
_Static_assert(offsetof(pdk_recorder_vtable, flush) ==
                   offsetof(pdk_recorder_vtable, open_session) + 3 * sizeof(void (*)(void)),
               "recorder vtable order");
_Static_assert(offsetof(pdk_recording_info, width) == 4 && offsetof(pdk_recording_info, height) == 6 &&
                   offsetof(pdk_recording_info, start_timestamp) == 8 && offsetof(pdk_recording_info, directory) == 16,
               "recording info head");
_Static_assert(sizeof(((pdk_recording_info*)0)->start_timestamp) == 8, "64-bit timestamp");
_Static_assert(PDK_RECORDING_OUTPUT == 'o' && PDK_RECORDING_INPUT == 'i' && PDK_RECORDING_RESIZE == 'r' &&
                   PDK_RECORDING_MARKER == 'm',
               "asciicast event codes");
_Static_assert(PDK_RECORDING_REPLACE == 1u && PDK_RECORDING_EVENT_FLUSH == 1u && PDK_RECORDING_FLUSH_SYNC == 1u,
               "recorder flags");

/* The frozen layout (abi_golden.h): a moved, resized or reordered field stops the build. */
#if defined(__x86_64__)
#define PDK_TEST_GOLDEN_FIELD(t, f, offset, size) \
    _Static_assert(offsetof(t, f) == (offset) && sizeof(((t*)0)->f) == (size), #t "." #f " moved or resized");
PDK_TEST_ABI_FIELDS(PDK_TEST_GOLDEN_FIELD)
#undef PDK_TEST_GOLDEN_FIELD
#define PDK_TEST_GOLDEN_SIZE(t, size) _Static_assert(sizeof(t) == (size), "sizeof " #t " changed");
PDK_GOLDEN_SIZES(PDK_TEST_GOLDEN_SIZE)
#undef PDK_TEST_GOLDEN_SIZE
#define PDK_TEST_GOLDEN_MACRO(name, size) _Static_assert(name == (size), #name " changed");
PDK_GOLDEN_SIZE_MACROS(PDK_TEST_GOLDEN_MACRO)
#undef PDK_TEST_GOLDEN_MACRO
/* Appended fields start past their struct's 1.0 sizeof. */
#define PDK_TEST_SIZE_1_0(t, size) enum { pdk_test_size_1_0_##t = (size) };
PDK_GOLDEN_SIZES_1_0(PDK_TEST_SIZE_1_0)
#undef PDK_TEST_SIZE_1_0
#define PDK_TEST_APPENDED(t, f, offset, size) \
    _Static_assert((offset) >= pdk_test_size_1_0_##t, #t "." #f " lies inside the 1.0 struct");
PDK_GOLDEN_APPENDED_1_1(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_2(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_3(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_4(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_5(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_7(PDK_TEST_APPENDED)
PDK_GOLDEN_APPENDED_1_8(PDK_TEST_APPENDED)
#undef PDK_TEST_APPENDED
#endif
_Static_assert(PDK_ABI_VERSION_MAJOR == PDK_GOLDEN_VERSION_MAJOR && PDK_ABI_VERSION_MINOR == PDK_GOLDEN_VERSION_MINOR,
               "the golden layout describes another ABI version");

size_t pdk_test_c11_sizeof(const char* type) {
#define PDK_TEST_SIZEOF(t) \
    if (strcmp(type, #t) == 0) return sizeof(t);
    PDK_TEST_ABI_TYPES(PDK_TEST_SIZEOF)
#undef PDK_TEST_SIZEOF
    return (size_t)-1;
}

size_t pdk_test_c11_offsetof(const char* type, const char* field) {
#define PDK_TEST_OFFSETOF(t, f, offset, size) \
    if (strcmp(type, #t) == 0 && strcmp(field, #f) == 0) return offsetof(t, f);
    PDK_TEST_ABI_FIELDS(PDK_TEST_OFFSETOF)
#undef PDK_TEST_OFFSETOF
    return (size_t)-1;
}

int pdk_test_c11_vtable_has_list_domains(uint32_t struct_size) {
    pdk_backend_vtable v;
    memset(&v, 0, sizeof v);
    v.struct_size = struct_size;
    return PDK_STRUCT_HAS(&v, pdk_backend_vtable, list_domains) ? 1 : 0;
}
