// The capability table: what the plugin says it can do, entry by entry.
#include "groups.hpp"

#include <cstddef>
#include <cstring>

namespace paddock::conformance {

namespace {

struct Entry {
    const char* name;
    size_t offset;
};

#define PDK_ENTRY(field) \
    Entry { #field, offsetof(pdk_backend_vtable, field) }
constexpr Entry kEntries[] = {
    PDK_ENTRY(open),
    PDK_ENTRY(close),
    PDK_ENTRY(is_alive),
    PDK_ENTRY(host_info),
    PDK_ENTRY(list_domains),
    PDK_ENTRY(get_domain),
    PDK_ENTRY(define_domain),
    PDK_ENTRY(start_domain),
    PDK_ENTRY(shutdown_domain),
    PDK_ENTRY(destroy_domain),
    PDK_ENTRY(undefine_domain),
    PDK_ENTRY(get_metadata),
    PDK_ENTRY(set_metadata),
    PDK_ENTRY(create_overlay),
    PDK_ENTRY(delete_volume),
    PDK_ENTRY(snapshot_create),
    PDK_ENTRY(snapshot_list),
    PDK_ENTRY(snapshot_revert),
    PDK_ENTRY(snapshot_delete),
    PDK_ENTRY(save_domain),
    PDK_ENTRY(ssh_target),
    PDK_ENTRY(subscribe_events),
    PDK_ENTRY(volume_path),
    PDK_ENTRY(snapshot_list_info),
    PDK_ENTRY(snapshot_create_spec),
    PDK_ENTRY(backup_create),
    PDK_ENTRY(checkpoint_delete),
    PDK_ENTRY(restore_volume),
    PDK_ENTRY(guest_ping),
    PDK_ENTRY(host_resources),
    PDK_ENTRY(volume_info),
    PDK_ENTRY(suspend_domain),
};
#undef PDK_ENTRY

std::string padded(const char* text, size_t width) {
    std::string s(text);
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

}  // namespace

void printCapabilityTable(Report& report, const DescriptorView& view) {
    const auto& d = view.copy;
    const auto vt = copyVtable(d.vtable);
    const auto* raw = static_cast<const pdk_backend_vtable*>(d.vtable);
    report.note(std::string("capability table of ") + d.id + " (" + (d.name != nullptr ? d.name : "") + " " +
                (d.version != nullptr ? d.version : "") + ", ABI " + std::to_string(d.abi_major) + "." +
                std::to_string(d.abi_minor) + ", vtable struct_size " + std::to_string(raw->struct_size) + "):");
    int present = 0;
    for (const Entry& e : kEntries) {
        const char* bytes = reinterpret_cast<const char*>(&vt) + e.offset;
        void* fn = nullptr;
        std::memcpy(&fn, bytes, sizeof fn);
        present += fn != nullptr ? 1 : 0;
        report.note("  " + padded(e.name, 22) + (fn != nullptr ? "present" : "NULL"));
    }
    report.note("  " + std::to_string(present) + " of " + std::to_string(std::size(kEntries)) + " entries present");
    std::string caps;
    for (const char* const* c = d.capabilities; c != nullptr && *c != nullptr; ++c) caps += std::string(" ") + *c;
    report.note("  descriptor capabilities:" + (caps.empty() ? std::string(" (none)") : caps));
}

}  // namespace paddock::conformance
