/* Every ABI struct and field, listed once, so that the C11, C++17 and C++20 views of the
 * headers can be compared field by field (abi_c11.c, abi_cpp17.cpp, abi_cpp_test.cpp). */
#ifndef PADDOCK_TEST_ABI_LAYOUT_H
#define PADDOCK_TEST_ABI_LAYOUT_H

#include <paddock/pdk_backend.h>
#include <paddock/pdk_recorder.h>

#define PDK_TEST_ABI_TYPES(X) \
    X(pdk_error) X(pdk_kv) X(pdk_plugin_descriptor) X(pdk_domain_info) X(pdk_domain_spec) \
    X(pdk_volume_spec) X(pdk_ssh_target) X(pdk_host_info) X(pdk_backend_vtable) \
    X(pdk_recording_info) X(pdk_recorder_vtable)

#define PDK_TEST_ABI_FIELDS(X)                                                                     \
    X(pdk_error, struct_size) X(pdk_error, status) X(pdk_error, message)                           \
    X(pdk_kv, key) X(pdk_kv, value)                                                                \
    X(pdk_plugin_descriptor, struct_size) X(pdk_plugin_descriptor, abi_major)                      \
    X(pdk_plugin_descriptor, abi_minor) X(pdk_plugin_descriptor, kind) X(pdk_plugin_descriptor, id) \
    X(pdk_plugin_descriptor, name) X(pdk_plugin_descriptor, version)                               \
    X(pdk_plugin_descriptor, description) X(pdk_plugin_descriptor, capabilities)                   \
    X(pdk_plugin_descriptor, vtable)                                                               \
    X(pdk_domain_info, struct_size) X(pdk_domain_info, name) X(pdk_domain_info, uuid)              \
    X(pdk_domain_info, id) X(pdk_domain_info, state) X(pdk_domain_info, max_memory_kib)            \
    X(pdk_domain_info, memory_kib) X(pdk_domain_info, vcpus) X(pdk_domain_info, cpu_time_ns)       \
    X(pdk_domain_info, has_managed_save) X(pdk_domain_info, metadata)                              \
    X(pdk_domain_info, metadata_count)                                                             \
    X(pdk_domain_spec, struct_size) X(pdk_domain_spec, name) X(pdk_domain_spec, vcpus)             \
    X(pdk_domain_spec, memory_mib) X(pdk_domain_spec, domain_type) X(pdk_domain_spec, disk_path)   \
    X(pdk_domain_spec, disk_format) X(pdk_domain_spec, kernel_path) X(pdk_domain_spec, initrd_path) \
    X(pdk_domain_spec, kernel_cmdline) X(pdk_domain_spec, network_mode)                            \
    X(pdk_domain_spec, network_name) X(pdk_domain_spec, ssh_forward_port)                          \
    X(pdk_domain_spec, metadata) X(pdk_domain_spec, metadata_count)                                \
    X(pdk_volume_spec, struct_size) X(pdk_volume_spec, pool) X(pdk_volume_spec, name)              \
    X(pdk_volume_spec, backing_path) X(pdk_volume_spec, backing_format)                            \
    X(pdk_volume_spec, capacity_bytes)                                                             \
    X(pdk_ssh_target, struct_size) X(pdk_ssh_target, host) X(pdk_ssh_target, port)                 \
    X(pdk_host_info, struct_size) X(pdk_host_info, hypervisor) X(pdk_host_info, auto_domain_type)  \
    X(pdk_host_info, hostname) X(pdk_host_info, library_version)                                   \
    X(pdk_recording_info, struct_size) X(pdk_recording_info, width) X(pdk_recording_info, height)  \
    X(pdk_recording_info, start_timestamp) X(pdk_recording_info, directory)                        \
    X(pdk_recording_info, session_id) X(pdk_recording_info, term) X(pdk_recording_info, shell)     \
    X(pdk_recording_info, title) X(pdk_recording_info, site) X(pdk_recording_info, vm)             \
    X(pdk_recording_info, owner) X(pdk_recording_info, lease) X(pdk_recording_info, record_input)  \
    PDK_TEST_ABI_VTABLE_ENTRIES(X) PDK_TEST_ABI_RECORDER_ENTRIES(X)

/* In declaration order: the order is the ABI. */
#define PDK_TEST_ABI_VTABLE_ENTRIES(X)                                                             \
    X(pdk_backend_vtable, open) X(pdk_backend_vtable, close) X(pdk_backend_vtable, is_alive)       \
    X(pdk_backend_vtable, host_info) X(pdk_backend_vtable, list_domains)                           \
    X(pdk_backend_vtable, get_domain) X(pdk_backend_vtable, define_domain)                         \
    X(pdk_backend_vtable, start_domain) X(pdk_backend_vtable, shutdown_domain)                     \
    X(pdk_backend_vtable, destroy_domain) X(pdk_backend_vtable, undefine_domain)                   \
    X(pdk_backend_vtable, get_metadata) X(pdk_backend_vtable, set_metadata)                        \
    X(pdk_backend_vtable, create_overlay) X(pdk_backend_vtable, delete_volume)                     \
    X(pdk_backend_vtable, snapshot_create) X(pdk_backend_vtable, snapshot_list)                    \
    X(pdk_backend_vtable, snapshot_revert) X(pdk_backend_vtable, snapshot_delete)                  \
    X(pdk_backend_vtable, save_domain) X(pdk_backend_vtable, ssh_target)                           \
    X(pdk_backend_vtable, subscribe_events)

/* In declaration order: mandatory entries first, so one struct_size check covers them. */
#define PDK_TEST_ABI_RECORDER_ENTRIES(X)                                                           \
    X(pdk_recorder_vtable, open_session) X(pdk_recorder_vtable, close_session)                     \
    X(pdk_recorder_vtable, write_event) X(pdk_recorder_vtable, flush)

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
