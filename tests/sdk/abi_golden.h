/* The frozen layout of the Paddock plugin ABI on x86-64 (LP64, System V): every field of every
 * public struct with its offset and size, grouped by the ABI minor version that introduced it,
 * and every struct's sizeof at each minor version. The numbers are literals on purpose: a
 * reordered, resized or inserted field changes an offset and fails the build (abi_c11.c) and
 * the sdk test (abi_cpp_test.cpp).
 *
 * Never edit a line of a released version; a new minor version only adds its own lists.
 * No includes: the 1.0-host compatibility test (compat/host_v1_0.c) checks its own frozen copies
 * of the 1.0 structs against these same numbers.
 *
 * X(type, field, offset, size) for fields; X(type, sizeof) for structs. */
#ifndef PADDOCK_TEST_ABI_GOLDEN_H
#define PADDOCK_TEST_ABI_GOLDEN_H

/* ---- ABI 1.0 ---------------------------------------------------------------------------- */

#define PDK_GOLDEN_FIELDS_1_0(X)                                                                                              \
    X(pdk_error, struct_size, 0, 4)                                                                                           \
    X(pdk_error, status, 4, 4)                                                                                                \
    X(pdk_error, message, 8, 1024) X(pdk_kv, key, 0, 8) X(pdk_kv, value, 8, 8) X(                                             \
        pdk_plugin_descriptor, struct_size, 0, 4) X(pdk_plugin_descriptor, abi_major, 4,                                      \
                                                    2) X(pdk_plugin_descriptor, abi_minor, 6,                                 \
                                                         2) X(pdk_plugin_descriptor, kind, 8,                                 \
                                                              4) X(pdk_plugin_descriptor, id, 16, 8)                          \
        X(pdk_plugin_descriptor, name, 24, 8) X(pdk_plugin_descriptor, version, 32, 8) X(                                     \
            pdk_plugin_descriptor,                                                                                            \
            description,                                                                                                      \
            40,                                                                                                               \
            8) X(pdk_plugin_descriptor, capabilities, 48,                                                                     \
                 8) X(pdk_plugin_descriptor, vtable, 56, 8)                                                                   \
            X(pdk_domain_info, struct_size, 0, 4) X(pdk_domain_info, name, 8, 8) X(pdk_domain_info, uuid, 16, 8) X(           \
                pdk_domain_info,                                                                                              \
                id,                                                                                                           \
                24,                                                                                                           \
                4) X(pdk_domain_info, state, 28,                                                                              \
                     4) X(pdk_domain_info, max_memory_kib, 32, 8)                                                             \
                X(pdk_domain_info, memory_kib, 40, 8) X(pdk_domain_info, vcpus, 48, 4) X(                                     \
                    pdk_domain_info,                                                                                          \
                    cpu_time_ns,                                                                                              \
                    56,                                                                                                       \
                    8) X(pdk_domain_info, has_managed_save, 64,                                                               \
                         4) X(pdk_domain_info, metadata, 72, 8)                                                               \
                    X(pdk_domain_info, metadata_count, 80, 8) X(pdk_domain_spec, struct_size, 0, 4) X(                        \
                        pdk_domain_spec,                                                                                      \
                        name,                                                                                                 \
                        8,                                                                                                    \
                        8) X(pdk_domain_spec, vcpus, 16,                                                                      \
                             4) X(pdk_domain_spec, memory_mib, 24, 8)                                                         \
                        X(pdk_domain_spec, domain_type, 32, 8) X(pdk_domain_spec, disk_path, 40, 8) X(                        \
                            pdk_domain_spec,                                                                                  \
                            disk_format,                                                                                      \
                            48,                                                                                               \
                            8) X(pdk_domain_spec, kernel_path, 56,                                                            \
                                 8) X(pdk_domain_spec, initrd_path, 64, 8)                                                    \
                            X(pdk_domain_spec, kernel_cmdline, 72, 8) X(pdk_domain_spec, network_mode, 80, 4) X(              \
                                pdk_domain_spec,                                                                              \
                                network_name,                                                                                 \
                                88,                                                                                           \
                                8) X(pdk_domain_spec, ssh_forward_port, 96,                                                   \
                                     2) X(pdk_domain_spec, metadata, 104, 8)                                                  \
                                X(pdk_domain_spec, metadata_count, 112, 8) X(pdk_volume_spec, struct_size, 0, 4) X(           \
                                    pdk_volume_spec,                                                                          \
                                    pool,                                                                                     \
                                    8,                                                                                        \
                                    8) X(pdk_volume_spec, name, 16,                                                           \
                                         8) X(pdk_volume_spec, backing_path, 24, 8)                                           \
                                    X(pdk_volume_spec, backing_format, 32, 8) X(pdk_volume_spec, capacity_bytes, 40, 8) X(    \
                                        pdk_ssh_target,                                                                       \
                                        struct_size,                                                                          \
                                        0, 4) X(pdk_ssh_target, host, 4, 256)                                                 \
                                        X(pdk_ssh_target, port, 260,                                                          \
                                          2) X(pdk_host_info, struct_size, 0,                                                 \
                                               4) X(pdk_host_info, hypervisor, 4, 64)                                         \
                                            X(pdk_host_info, auto_domain_type, 68, 16) X(pdk_host_info, hostname, 84, 256) X( \
                                                pdk_host_info,                                                                \
                                                library_version,                                                              \
                                                344, 8) X(pdk_backend_vtable, struct_size, 0, 4)                              \
                                                X(pdk_backend_vtable, open, 8, 8) X(pdk_backend_vtable, close, 16, 8) X(      \
                                                    pdk_backend_vtable,                                                       \
                                                    is_alive,                                                                 \
                                                    24,                                                                       \
                                                    8) X(pdk_backend_vtable, host_info, 32,                                   \
                                                         8) X(pdk_backend_vtable, list_domains, 40, 8)                        \
                                                    X(pdk_backend_vtable, get_domain, 48, 8) X(                               \
                                                        pdk_backend_vtable,                                                   \
                                                        define_domain,                                                        \
                                                        56,                                                                   \
                                                        8) X(pdk_backend_vtable, start_domain, 64,                            \
                                                             8) X(pdk_backend_vtable, shutdown_domain, 72, 8)                 \
                                                        X(pdk_backend_vtable, destroy_domain, 80, 8) X(                       \
                                                            pdk_backend_vtable,                                               \
                                                            undefine_domain,                                                  \
                                                            88,                                                               \
                                                            8) X(pdk_backend_vtable, get_metadata, 96,                        \
                                                                 8) X(pdk_backend_vtable, set_metadata, 104, 8)               \
                                                            X(pdk_backend_vtable, create_overlay, 112, 8) X(                  \
                                                                pdk_backend_vtable,                                           \
                                                                delete_volume,                                                \
                                                                120,                                                          \
                                                                8) X(pdk_backend_vtable, snapshot_create, 128,                \
                                                                     8) X(pdk_backend_vtable, snapshot_list, 136, 8)          \
                                                                X(pdk_backend_vtable, snapshot_revert, 144, 8) X(             \
                                                                    pdk_backend_vtable,                                       \
                                                                    snapshot_delete,                                          \
                                                                    152,                                                      \
                                                                    8) X(pdk_backend_vtable, save_domain, 160,                \
                                                                         8) X(pdk_backend_vtable, ssh_target, 168, 8)         \
                                                                    X(pdk_backend_vtable, subscribe_events, 176,              \
                                                                      8) X(pdk_recording_info, struct_size, 0,                \
                                                                           4) X(pdk_recording_info, width, 4, 2)              \
                                                                        X(pdk_recording_info, height, 6, 2) X(                \
                                                                            pdk_recording_info,                               \
                                                                            start_timestamp,                                  \
                                                                            8,                                                \
                                                                            8) X(pdk_recording_info, directory, 16, 8)        \
                                                                            X(pdk_recording_info, session_id, 24, 8) X(       \
                                                                                pdk_recording_info,                           \
                                                                                term,                                         \
                                                                                32,                                           \
                                                                                8) X(pdk_recording_info, shell, 40, 8)        \
                                                                                X(pdk_recording_info, title, 48, 8) X(        \
                                                                                    pdk_recording_info,                       \
                                                                                    site,                                     \
                                                                                    56,                                       \
                                                                                    8) X(pdk_recording_info, vm, 64,          \
                                                                                         8)                                   \
                                                                                    X(pdk_recording_info, owner, 72,          \
                                                                                      8) X(pdk_recording_info, lease,         \
                                                                                           80,                                \
                                                                                           8)                                 \
                                                                                        X(                                    \
                                                                                            pdk_recording_info,               \
                                                                                            record_input,                     \
                                                                                            88,                               \
                                                                                            4) X(pdk_recorder_vtable,         \
                                                                                                 struct_size, 0, 4)           \
                                                                                            X(pdk_recorder_vtable,            \
                                                                                              open_session, 8,                \
                                                                                              8) X(pdk_recorder_vtable,       \
                                                                                                   close_session, 16,         \
                                                                                                   8)                         \
                                                                                                X(pdk_recorder_vtable,        \
                                                                                                  write_event, 24, 8)         \
                                                                                                    X(pdk_recorder_vtable,    \
                                                                                                      flush, 32, 8)

#define PDK_GOLDEN_SIZES_1_0(X)                                                                           \
    X(pdk_error, 1032)                                                                                    \
    X(pdk_kv, 16)                                                                                         \
    X(pdk_plugin_descriptor, 64) X(pdk_domain_info, 88) X(pdk_domain_spec, 120) X(pdk_volume_spec, 48)    \
        X(pdk_ssh_target, 264) X(pdk_host_info, 352) X(pdk_backend_vtable, 184) X(pdk_recording_info, 96) \
            X(pdk_recorder_vtable, 40)

/* Each struct's ABI 1.0 size as the headers name it: the end of its last 1.0 field. */
#define PDK_GOLDEN_SIZE_MACROS_1_0(X)                                                                         \
    X(PDK_PLUGIN_DESCRIPTOR_SIZE_1_0, 64)                                                                     \
    X(PDK_DOMAIN_INFO_SIZE_1_0, 88)                                                                           \
    X(PDK_DOMAIN_SPEC_SIZE_1_0, 120) X(PDK_VOLUME_SPEC_SIZE_1_0, 48) X(PDK_SSH_TARGET_SIZE_1_0, 262)          \
        X(PDK_HOST_INFO_SIZE_1_0, 352) X(PDK_BACKEND_VTABLE_SIZE_1_0, 184) X(PDK_RECORDING_INFO_SIZE_1_0, 92) \
            X(PDK_RECORDER_VTABLE_SIZE_1_0, 40)

/* ---- ABI 1.1 ---------------------------------------------------------------------------- */

/* Fields appended to structs that exist since 1.0: each starts at or after its struct's 1.0
 * sizeof (not inside the 1.0 tail padding, which a 1.0 peer's struct_size already covers). */
#define PDK_GOLDEN_APPENDED_1_1(X)                                                     \
    X(pdk_plugin_descriptor, init, 64, 8)                                              \
    X(pdk_plugin_descriptor, deinit, 72, 8)                                            \
    X(pdk_plugin_descriptor, next, 80, 8) X(pdk_host_info, hypervisor_version, 352, 8) \
        X(pdk_recorder_vtable, list_sessions, 40, 8) X(pdk_recorder_vtable, read_session, 48, 8)

/* Structs new in 1.1. */
#define PDK_GOLDEN_NEW_1_1(X)                                                                                         \
    X(pdk_host, struct_size, 0, 4)                                                                                    \
    X(pdk_host, abi_major, 4, 2)                                                                                      \
    X(pdk_host, abi_minor, 6, 2) X(pdk_host, host_data, 8, 8) X(pdk_host, log, 16, 8)                                 \
        X(pdk_session_info, struct_size, 0, 4) X(pdk_session_info, session_id, 8, 8) X(pdk_session_info, site, 16, 8) \
            X(pdk_session_info, vm, 24, 8) X(pdk_session_info, owner, 32, 8) X(pdk_session_info, lease, 40, 8)        \
                X(pdk_session_info, start_timestamp, 48, 8) X(pdk_session_info, duration_seconds, 56, 8)              \
                    X(pdk_session_info, size_bytes, 64, 8) X(pdk_session_info, media_type, 72, 8)                     \
                        X(pdk_session_info, format, 80, 8) X(pdk_session_info, file_extension, 88, 8)                 \
                            X(pdk_session_info, location, 96, 8)

#define PDK_GOLDEN_SIZES_1_1(X)                                                                           \
    X(pdk_error, 1032)                                                                                    \
    X(pdk_kv, 16)                                                                                         \
    X(pdk_plugin_descriptor, 88) X(pdk_domain_info, 88) X(pdk_domain_spec, 120) X(pdk_volume_spec, 48)    \
        X(pdk_ssh_target, 264) X(pdk_host_info, 360) X(pdk_backend_vtable, 184) X(pdk_recording_info, 96) \
            X(pdk_recorder_vtable, 56) X(pdk_host, 24) X(pdk_session_info, 104)

#define PDK_GOLDEN_SIZE_MACROS_1_1(X)     \
    X(PDK_PLUGIN_DESCRIPTOR_SIZE_1_1, 88) \
    X(PDK_HOST_SIZE_1_1, 24) X(PDK_RECORDER_VTABLE_SIZE_1_1, 56) X(PDK_SESSION_INFO_SIZE_1_1, 104)

/* ---- ABI 1.2 ---------------------------------------------------------------------------- */

#define PDK_GOLDEN_APPENDED_1_2(X) X(pdk_backend_vtable, volume_path, 184, 8)

#define PDK_GOLDEN_SIZES_1_2(X)                                                                           \
    X(pdk_error, 1032)                                                                                    \
    X(pdk_kv, 16)                                                                                         \
    X(pdk_plugin_descriptor, 88) X(pdk_domain_info, 88) X(pdk_domain_spec, 120) X(pdk_volume_spec, 48)    \
        X(pdk_ssh_target, 264) X(pdk_host_info, 360) X(pdk_backend_vtable, 192) X(pdk_recording_info, 96) \
            X(pdk_recorder_vtable, 56) X(pdk_host, 24) X(pdk_session_info, 104)

#define PDK_GOLDEN_SIZE_MACROS_1_2(X) X(PDK_BACKEND_VTABLE_SIZE_1_2, 192)

/* ---- ABI 1.3 ---------------------------------------------------------------------------- */

#define PDK_GOLDEN_APPENDED_1_3(X) X(pdk_recorder_vtable, read_session_range, 56, 8)

#define PDK_GOLDEN_SIZES_1_3(X)                                                                           \
    X(pdk_error, 1032)                                                                                    \
    X(pdk_kv, 16)                                                                                         \
    X(pdk_plugin_descriptor, 88) X(pdk_domain_info, 88) X(pdk_domain_spec, 120) X(pdk_volume_spec, 48)    \
        X(pdk_ssh_target, 264) X(pdk_host_info, 360) X(pdk_backend_vtable, 192) X(pdk_recording_info, 96) \
            X(pdk_recorder_vtable, 64) X(pdk_host, 24) X(pdk_session_info, 104)

#define PDK_GOLDEN_SIZE_MACROS_1_3(X) X(PDK_RECORDER_VTABLE_SIZE_1_3, 64)

/* ---- ABI 1.4 ---------------------------------------------------------------------------- */

#define PDK_GOLDEN_APPENDED_1_4(X)                                                                   \
    X(pdk_backend_vtable, snapshot_list_info, 192, 8)                                                \
    X(pdk_backend_vtable, snapshot_create_spec, 200, 8)                                              \
    X(pdk_backend_vtable, backup_create, 208, 8)                                                     \
    X(pdk_backend_vtable, checkpoint_delete, 216, 8)                                                 \
    X(pdk_backend_vtable, restore_volume, 224, 8)

/* Structs new in 1.4. */
#define PDK_GOLDEN_NEW_1_4(X)                                                                        \
    X(pdk_snapshot_info, struct_size, 0, 4)                                                          \
    X(pdk_snapshot_info, name, 8, 8)                                                                 \
    X(pdk_snapshot_info, description, 16, 8)                                                         \
    X(pdk_snapshot_info, parent, 24, 8)                                                              \
    X(pdk_snapshot_info, created_at, 32, 8)                                                          \
    X(pdk_snapshot_info, state, 40, 4)                                                               \
    X(pdk_snapshot_info, has_memory, 44, 4)                                                          \
    X(pdk_snapshot_info, is_current, 48, 4)                                                          \
    X(pdk_snapshot_info, size_bytes, 56, 8)                                                          \
    X(pdk_snapshot_spec, struct_size, 0, 4)                                                          \
    X(pdk_snapshot_spec, name, 8, 8)                                                                 \
    X(pdk_snapshot_spec, description, 16, 8)                                                         \
    X(pdk_backup_spec, struct_size, 0, 4)                                                            \
    X(pdk_backup_spec, target_path, 8, 8)                                                            \
    X(pdk_backup_spec, checkpoint, 16, 8)                                                            \
    X(pdk_backup_spec, incremental_from, 24, 8)                                                      \
    X(pdk_backup_spec, backing_name, 32, 8)                                                          \
    X(pdk_backup_result, struct_size, 0, 4)                                                          \
    X(pdk_backup_result, bytes, 8, 8)                                                                \
    X(pdk_backup_result, offline, 16, 4)                                                             \
    X(pdk_restore_spec, struct_size, 0, 4)                                                           \
    X(pdk_restore_spec, pool, 8, 8)                                                                  \
    X(pdk_restore_spec, name, 16, 8)                                                                 \
    X(pdk_restore_spec, source_path, 24, 8)

#define PDK_GOLDEN_SIZES_1_4(X)                                                                      \
    X(pdk_error, 1032)                                                                               \
    X(pdk_kv, 16)                                                                                    \
    X(pdk_plugin_descriptor, 88)                                                                     \
    X(pdk_domain_info, 88)                                                                           \
    X(pdk_domain_spec, 120)                                                                          \
    X(pdk_volume_spec, 48)                                                                           \
    X(pdk_ssh_target, 264)                                                                           \
    X(pdk_host_info, 360)                                                                            \
    X(pdk_backend_vtable, 232)                                                                       \
    X(pdk_recording_info, 96)                                                                        \
    X(pdk_recorder_vtable, 64)                                                                       \
    X(pdk_host, 24)                                                                                  \
    X(pdk_session_info, 104)                                                                         \
    X(pdk_snapshot_info, 64)                                                                         \
    X(pdk_snapshot_spec, 24)                                                                         \
    X(pdk_backup_spec, 40)                                                                           \
    X(pdk_backup_result, 24)                                                                         \
    X(pdk_restore_spec, 32)

#define PDK_GOLDEN_SIZE_MACROS_1_4(X)                                                                \
    X(PDK_BACKEND_VTABLE_SIZE_1_4, 232)                                                              \
    X(PDK_SNAPSHOT_INFO_SIZE_1_4, 64)                                                                \
    X(PDK_SNAPSHOT_SPEC_SIZE_1_4, 24)                                                                \
    X(PDK_BACKUP_SPEC_SIZE_1_4, 40)                                                                  \
    X(PDK_BACKUP_RESULT_SIZE_1_4, 20)                                                                \
    X(PDK_RESTORE_SPEC_SIZE_1_4, 32)

/* ---- ABI 1.5 ---------------------------------------------------------------------------- */

#define PDK_GOLDEN_APPENDED_1_5(X) X(pdk_backend_vtable, guest_ping, 232, 8)

#define PDK_GOLDEN_SIZES_1_5(X)                                                                      \
    X(pdk_error, 1032)                                                                               \
    X(pdk_kv, 16)                                                                                    \
    X(pdk_plugin_descriptor, 88)                                                                     \
    X(pdk_domain_info, 88)                                                                           \
    X(pdk_domain_spec, 120)                                                                          \
    X(pdk_volume_spec, 48)                                                                           \
    X(pdk_ssh_target, 264)                                                                           \
    X(pdk_host_info, 360)                                                                            \
    X(pdk_backend_vtable, 240)                                                                       \
    X(pdk_recording_info, 96)                                                                        \
    X(pdk_recorder_vtable, 64)                                                                       \
    X(pdk_host, 24)                                                                                  \
    X(pdk_session_info, 104)                                                                         \
    X(pdk_snapshot_info, 64)                                                                         \
    X(pdk_snapshot_spec, 24)                                                                         \
    X(pdk_backup_spec, 40)                                                                           \
    X(pdk_backup_result, 24)                                                                         \
    X(pdk_restore_spec, 32)

#define PDK_GOLDEN_SIZE_MACROS_1_5(X) X(PDK_BACKEND_VTABLE_SIZE_1_5, 240)

/* ---- ABI 1.6: the provisioner kind ------------------------------------------------------- */

#define PDK_GOLDEN_NEW_1_6(X)                                                                    \
    X(pdk_provision_request, struct_size, 0, 4)                                                  \
    X(pdk_provision_request, site, 8, 8)                                                         \
    X(pdk_provision_request, vm, 16, 8)                                                          \
    X(pdk_provision_request, host, 24, 8)                                                        \
    X(pdk_provision_request, port, 32, 2)                                                        \
    X(pdk_provision_request, user, 40, 8)                                                        \
    X(pdk_provision_request, private_key_path, 48, 8)                                            \
    X(pdk_provision_request, known_hosts_line, 56, 8)                                            \
    X(pdk_provision_request, recipe, 64, 8)                                                      \
    X(pdk_provision_request, variables_json, 72, 8)                                              \
    X(pdk_provision_request, settings, 80, 8)                                                    \
    X(pdk_provision_request, setting_count, 88, 8)                                               \
    X(pdk_provision_request, become_secret, 96, 8)                                               \
    X(pdk_provision_request, become_secret_len, 104, 8)                                          \
    X(pdk_provision_request, timeout_ms, 112, 4)                                                 \
    X(pdk_provision_request, output, 120, 8)                                                     \
    X(pdk_provision_request, output_user, 128, 8)                                                \
    X(pdk_provision_request, is_cancelled, 136, 8)                                               \
    X(pdk_provision_request, cancel_user, 144, 8)                                                \
    X(pdk_provision_result, struct_size, 0, 4)                                                   \
    X(pdk_provision_result, exit_code, 4, 4)                                                     \
    X(pdk_provision_result, ok, 8, 4)                                                            \
    X(pdk_provision_result, changed, 12, 4)                                                      \
    X(pdk_provision_result, failed, 16, 4)                                                       \
    X(pdk_provision_result, unreachable, 20, 4)                                                  \
    X(pdk_provision_result, skipped, 24, 4)                                                      \
    X(pdk_provision_result, duration_seconds, 32, 8)                                             \
    X(pdk_provisioner_vtable, struct_size, 0, 4)                                                 \
    X(pdk_provisioner_vtable, run, 8, 8)                                                         \
    X(pdk_provisioner_vtable, check, 16, 8)

#define PDK_GOLDEN_SIZES_1_6(X)                                                                      \
    X(pdk_error, 1032)                                                                               \
    X(pdk_kv, 16)                                                                                    \
    X(pdk_plugin_descriptor, 88)                                                                     \
    X(pdk_domain_info, 88)                                                                           \
    X(pdk_domain_spec, 120)                                                                          \
    X(pdk_volume_spec, 48)                                                                           \
    X(pdk_ssh_target, 264)                                                                           \
    X(pdk_host_info, 360)                                                                            \
    X(pdk_backend_vtable, 240)                                                                       \
    X(pdk_recording_info, 96)                                                                        \
    X(pdk_recorder_vtable, 64)                                                                       \
    X(pdk_host, 24)                                                                                  \
    X(pdk_session_info, 104)                                                                         \
    X(pdk_snapshot_info, 64)                                                                         \
    X(pdk_snapshot_spec, 24)                                                                         \
    X(pdk_backup_spec, 40)                                                                           \
    X(pdk_backup_result, 24)                                                                         \
    X(pdk_restore_spec, 32)                                                                          \
    X(pdk_provision_request, 152)                                                                    \
    X(pdk_provision_result, 40)                                                                      \
    X(pdk_provisioner_vtable, 24)

#define PDK_GOLDEN_SIZE_MACROS_1_6(X)                                                                \
    X(PDK_PROVISION_REQUEST_SIZE_1_6, 152)                                                           \
    X(PDK_PROVISION_RESULT_SIZE_1_6, 40)                                                             \
    X(PDK_PROVISIONER_VTABLE_SIZE_1_6, 24)

/* ---- ABI 1.7: host resources, volume checks, the SSH forward's address ------------------------ */

#define PDK_GOLDEN_APPENDED_1_7(X)                                                                   \
    X(pdk_domain_spec, ssh_forward_address, 120, 8)                                                  \
    X(pdk_backend_vtable, host_resources, 240, 8)                                                    \
    X(pdk_backend_vtable, volume_info, 248, 8)

#define PDK_GOLDEN_NEW_1_7(X)                                                                        \
    X(pdk_host_resources, struct_size, 0, 4)                                                         \
    X(pdk_host_resources, cpus, 4, 4)                                                                \
    X(pdk_host_resources, memory_total_bytes, 8, 8)                                                  \
    X(pdk_host_resources, memory_free_bytes, 16, 8)                                                  \
    X(pdk_volume_info, struct_size, 0, 4)                                                            \
    X(pdk_volume_info, in_pool, 4, 4)                                                                \
    X(pdk_volume_info, capacity_bytes, 8, 8)                                                         \
    X(pdk_volume_info, format, 16, 16)                                                               \
    X(pdk_volume_info, pool, 32, 128)

#define PDK_GOLDEN_SIZES_1_7(X)                                                                      \
    X(pdk_error, 1032)                                                                               \
    X(pdk_kv, 16)                                                                                    \
    X(pdk_plugin_descriptor, 88)                                                                     \
    X(pdk_domain_info, 88)                                                                           \
    X(pdk_domain_spec, 128)                                                                          \
    X(pdk_volume_spec, 48)                                                                           \
    X(pdk_ssh_target, 264)                                                                           \
    X(pdk_host_info, 360)                                                                            \
    X(pdk_backend_vtable, 256)                                                                       \
    X(pdk_recording_info, 96)                                                                        \
    X(pdk_recorder_vtable, 64)                                                                       \
    X(pdk_host, 24)                                                                                  \
    X(pdk_session_info, 104)                                                                         \
    X(pdk_snapshot_info, 64)                                                                         \
    X(pdk_snapshot_spec, 24)                                                                         \
    X(pdk_backup_spec, 40)                                                                           \
    X(pdk_backup_result, 24)                                                                         \
    X(pdk_restore_spec, 32)                                                                          \
    X(pdk_provision_request, 152)                                                                    \
    X(pdk_provision_result, 40)                                                                      \
    X(pdk_provisioner_vtable, 24)                                                                    \
    X(pdk_host_resources, 24)                                                                        \
    X(pdk_volume_info, 160)

#define PDK_GOLDEN_SIZE_MACROS_1_7(X)                                                                \
    X(PDK_DOMAIN_SPEC_SIZE_1_7, 128)                                                                 \
    X(PDK_BACKEND_VTABLE_SIZE_1_7, 256)                                                              \
    X(PDK_HOST_RESOURCES_SIZE_1_7, 24)                                                               \
    X(PDK_VOLUME_INFO_SIZE_1_7, 160)

/* ---- ABI 1.8: pausing a domain (pools with mode: paused) ------------------------------------- */

#define PDK_GOLDEN_APPENDED_1_8(X) X(pdk_backend_vtable, suspend_domain, 256, 8)

#define PDK_GOLDEN_SIZES_1_8(X)                                                                      \
    X(pdk_error, 1032)                                                                               \
    X(pdk_kv, 16)                                                                                    \
    X(pdk_plugin_descriptor, 88)                                                                     \
    X(pdk_domain_info, 88)                                                                           \
    X(pdk_domain_spec, 128)                                                                          \
    X(pdk_volume_spec, 48)                                                                           \
    X(pdk_ssh_target, 264)                                                                           \
    X(pdk_host_info, 360)                                                                            \
    X(pdk_backend_vtable, 264)                                                                       \
    X(pdk_recording_info, 96)                                                                        \
    X(pdk_recorder_vtable, 64)                                                                       \
    X(pdk_host, 24)                                                                                  \
    X(pdk_session_info, 104)                                                                         \
    X(pdk_snapshot_info, 64)                                                                         \
    X(pdk_snapshot_spec, 24)                                                                         \
    X(pdk_backup_spec, 40)                                                                           \
    X(pdk_backup_result, 24)                                                                         \
    X(pdk_restore_spec, 32)                                                                          \
    X(pdk_provision_request, 152)                                                                    \
    X(pdk_provision_result, 40)                                                                      \
    X(pdk_provisioner_vtable, 24)                                                                    \
    X(pdk_host_resources, 24)                                                                        \
    X(pdk_volume_info, 160)

#define PDK_GOLDEN_SIZE_MACROS_1_8(X) X(PDK_BACKEND_VTABLE_SIZE_1_8, 264)

/* ---- The current version: what the headers must match exactly ------------------------------ */

#define PDK_GOLDEN_VERSION_MAJOR 1
#define PDK_GOLDEN_VERSION_MINOR 8
#define PDK_GOLDEN_FIELDS(X)                                                                                  \
    PDK_GOLDEN_FIELDS_1_0(X) PDK_GOLDEN_APPENDED_1_1(X) PDK_GOLDEN_NEW_1_1(X) PDK_GOLDEN_APPENDED_1_2(X) \
        PDK_GOLDEN_APPENDED_1_3(X) PDK_GOLDEN_APPENDED_1_4(X) PDK_GOLDEN_NEW_1_4(X) PDK_GOLDEN_APPENDED_1_5(X) \
        PDK_GOLDEN_NEW_1_6(X) PDK_GOLDEN_APPENDED_1_7(X) PDK_GOLDEN_NEW_1_7(X) PDK_GOLDEN_APPENDED_1_8(X)
#define PDK_GOLDEN_SIZES(X) PDK_GOLDEN_SIZES_1_8(X)
#define PDK_GOLDEN_SIZE_MACROS(X)                                                                 \
    PDK_GOLDEN_SIZE_MACROS_1_0(X) PDK_GOLDEN_SIZE_MACROS_1_1(X) PDK_GOLDEN_SIZE_MACROS_1_2(X) \
        PDK_GOLDEN_SIZE_MACROS_1_3(X) PDK_GOLDEN_SIZE_MACROS_1_4(X) PDK_GOLDEN_SIZE_MACROS_1_5(X) \
        PDK_GOLDEN_SIZE_MACROS_1_6(X) PDK_GOLDEN_SIZE_MACROS_1_7(X) PDK_GOLDEN_SIZE_MACROS_1_8(X)

#endif /* PADDOCK_TEST_ABI_GOLDEN_H */
