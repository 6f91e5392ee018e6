// Header-only C++ helpers for the ABI's struct rules, used by the trampolines of cpp/backend.hpp
// and cpp/recorder.hpp so that plugin code never reads a struct_size: a struct the host hands
// in is copied into a zeroed local of the plugin's size (fields the host does not know read as
// zero), and a struct the plugin fills for the host is filled full size, then copied back only
// as far as the host's struct_size goes. Not part of the ABI: it compiles into the plugin.
#pragma once

#include <paddock/pdk_backend.h>
#include <paddock/pdk_recorder.h>
#include <paddock/pdk_struct.h>
#include <paddock/cpp/error.hpp>

#include <string>

namespace pdk {

// What a host struct must hold at least (its size in the ABI version that introduced it,
// frozen), that version (`since`, "1.0" when a specialisation leaves it out) and its name for
// messages. Specialised for every struct a host hands to a plugin.
template <class T>
struct StructRule;

#define PDK_STRUCT_RULE(type, min, version)           \
    template <>                                       \
    struct StructRule<type> {                         \
        static constexpr const char* name = #type;    \
        static constexpr size_t minSize = min;        \
        static constexpr const char* since = version; \
    };
PDK_STRUCT_RULE(pdk_domain_spec, PDK_DOMAIN_SPEC_SIZE_1_0, "1.0")
PDK_STRUCT_RULE(pdk_volume_spec, PDK_VOLUME_SPEC_SIZE_1_0, "1.0")
PDK_STRUCT_RULE(pdk_ssh_target, PDK_SSH_TARGET_SIZE_1_0, "1.0")
PDK_STRUCT_RULE(pdk_host_info, PDK_HOST_INFO_SIZE_1_0, "1.0")
PDK_STRUCT_RULE(pdk_recording_info, PDK_RECORDING_INFO_SIZE_1_0, "1.0")
PDK_STRUCT_RULE(pdk_snapshot_spec, PDK_SNAPSHOT_SPEC_SIZE_1_4, "1.4")
PDK_STRUCT_RULE(pdk_backup_spec, PDK_BACKUP_SPEC_SIZE_1_4, "1.4")
PDK_STRUCT_RULE(pdk_backup_result, PDK_BACKUP_RESULT_SIZE_1_4, "1.4")
PDK_STRUCT_RULE(pdk_restore_spec, PDK_RESTORE_SPEC_SIZE_1_4, "1.4")
PDK_STRUCT_RULE(pdk_host_resources, PDK_HOST_RESOURCES_SIZE_1_7, "1.7")
PDK_STRUCT_RULE(pdk_volume_info, PDK_VOLUME_INFO_SIZE_1_7, "1.7")
#undef PDK_STRUCT_RULE

namespace detail {

template <class T>
constexpr const char* structSince() {
    if constexpr (requires { StructRule<T>::since; })
        return StructRule<T>::since;
    else
        return "1.0";
}

template <class T>
void requireHostStruct(const T* theirs, const char* what) {
    if (theirs == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
    const uint32_t size = pdk_struct_size_of(theirs);
    if (size < StructRule<T>::minSize) {
        throw Error(PDK_ERR_INVALID_ARGUMENT, std::string(StructRule<T>::name) + " struct_size " +
                                                  std::to_string(size) + " is smaller than its " +
                                                  std::to_string(StructRule<T>::minSize) + " bytes in ABI " +
                                                  structSince<T>());
    }
}

}  // namespace detail

// A host input struct as this plugin sees it (struct_size = sizeof(T)). Throws
// PDK_ERR_INVALID_ARGUMENT for NULL or a struct_size below its first version's size.
template <class T>
T copyIn(const T* theirs, const char* what) {
    detail::requireHostStruct(theirs, what);
    T ours;
    pdk_copy_in(&ours, sizeof ours, theirs, StructRule<T>::minSize);
    return ours;
}

// A zeroed output struct of this plugin's size for plugin code to fill, once the host's has
// been checked like copyIn's; hand the result to copyOut.
template <class T>
T outputFor(const T* theirs, const char* what) {
    detail::requireHostStruct(theirs, what);
    T ours{};
    ours.struct_size = sizeof ours;
    return ours;
}

// Copies a filled output back into the host's struct, up to its struct_size, keeping it.
template <class T>
void copyOut(T* theirs, const T& ours) noexcept {
    pdk_copy_out(theirs, &ours, sizeof ours, StructRule<T>::minSize);
}

}  // namespace pdk
