/* Every ABI struct and field, listed once, so that the C11, C++17 and C++20 views of the
 * headers can be compared field by field (abi_c11.c, abi_cpp17.cpp, abi_cpp_test.cpp), and with
 * the frozen layout in abi_golden.h. */
#ifndef PADDOCK_TEST_ABI_LAYOUT_H
#define PADDOCK_TEST_ABI_LAYOUT_H

#include <paddock/pdk_backend.h>
#include <paddock/pdk_provisioner.h>
#include <paddock/pdk_recorder.h>

#include "abi_golden.h"

#define PDK_TEST_ABI_TYPES(X)                                                                           \
    X(pdk_error)                                                                                        \
    X(pdk_kv)                                                                                           \
    X(pdk_plugin_descriptor) X(pdk_domain_info) X(pdk_domain_spec) X(pdk_volume_spec) X(pdk_ssh_target) \
        X(pdk_host_info) X(pdk_backend_vtable) X(pdk_recording_info) X(pdk_recorder_vtable) X(pdk_host) \
            X(pdk_session_info) X(pdk_snapshot_info) X(pdk_snapshot_spec) X(pdk_backup_spec)            \
                X(pdk_backup_result) X(pdk_restore_spec) X(pdk_provision_request) X(pdk_provision_result)       \
                    X(pdk_provisioner_vtable) X(pdk_host_resources) X(pdk_volume_info)

/* Every field of every ABI struct, with its frozen x86-64 offset and size: X(type, field, offset, size). */
#define PDK_TEST_ABI_FIELDS(X) PDK_GOLDEN_FIELDS(X)

/* In declaration order: the order is the ABI. */
#define PDK_TEST_ABI_VTABLE_ENTRIES(X)                                                                             \
    X(pdk_backend_vtable, open)                                                                                    \
    X(pdk_backend_vtable, close)                                                                                   \
    X(pdk_backend_vtable, is_alive) X(pdk_backend_vtable, host_info) X(pdk_backend_vtable, list_domains)           \
        X(pdk_backend_vtable, get_domain) X(pdk_backend_vtable, define_domain) X(pdk_backend_vtable, start_domain) \
            X(pdk_backend_vtable, shutdown_domain) X(pdk_backend_vtable, destroy_domain)                           \
                X(pdk_backend_vtable, undefine_domain) X(pdk_backend_vtable, get_metadata)                         \
                    X(pdk_backend_vtable, set_metadata) X(pdk_backend_vtable, create_overlay)                      \
                        X(pdk_backend_vtable, delete_volume) X(pdk_backend_vtable, snapshot_create)                \
                            X(pdk_backend_vtable, snapshot_list) X(pdk_backend_vtable, snapshot_revert)            \
                                X(pdk_backend_vtable, snapshot_delete) X(pdk_backend_vtable, save_domain)          \
                                    X(pdk_backend_vtable, ssh_target) X(pdk_backend_vtable, subscribe_events)      \
                                        X(pdk_backend_vtable, volume_path)                                 \
                                            X(pdk_backend_vtable, snapshot_list_info)                      \
                                                X(pdk_backend_vtable, snapshot_create_spec)                \
                                                    X(pdk_backend_vtable, backup_create)                   \
                                                        X(pdk_backend_vtable, checkpoint_delete)           \
                                                            X(pdk_backend_vtable, restore_volume)          \
                                                                X(pdk_backend_vtable, guest_ping)              \
                                                                    X(pdk_backend_vtable, host_resources)      \
                                                                        X(pdk_backend_vtable, volume_info)  \
                                                                            X(pdk_backend_vtable, suspend_domain)

/* In declaration order: mandatory entries first, so one struct_size check covers them. */
#define PDK_TEST_ABI_RECORDER_ENTRIES(X)                                                                    \
    X(pdk_recorder_vtable, open_session)                                                                    \
    X(pdk_recorder_vtable, close_session)                                                                   \
    X(pdk_recorder_vtable, write_event) X(pdk_recorder_vtable, flush) X(pdk_recorder_vtable, list_sessions) \
        X(pdk_recorder_vtable, read_session) X(pdk_recorder_vtable, read_session_range)

#ifdef __cplusplus
extern "C" {
#endif

/* Unknown names give (size_t)-1. */
size_t pdk_test_c11_sizeof(const char* type);
size_t pdk_test_c11_offsetof(const char* type, const char* field);
/* PDK_STRUCT_HAS(vtable with this struct_size, pdk_backend_vtable, list_domains), evaluated in C. */
int pdk_test_c11_vtable_has_list_domains(uint32_t struct_size);
/* The same, from a translation unit compiled as C++17. */
size_t pdk_test_cpp17_sizeof(const char* type);
size_t pdk_test_cpp17_offsetof(const char* type, const char* field);

#ifdef __cplusplus
}
#endif

#endif /* PADDOCK_TEST_ABI_LAYOUT_H */
