// The facts Paddock keeps about a VM in the domain's libvirt metadata (Paddock's own XML
// namespace), so that a restarted paddockd, or another one, reads them back from libvirt
// alone. Every key Paddock writes is named here, once.
#pragma once

#include "paddock/core/backend.hpp"

#include <string>

namespace paddock {

namespace meta {
// Every Paddock VM.
inline constexpr const char* kOwner = "owner";
inline constexpr const char* kTemplate = "template";
inline constexpr const char* kImage = "image";  // base image the overlay stands on
inline constexpr const char* kDisk = "disk";    // the VM's own overlay
inline constexpr const char* kCreatedAt = "created_at";
inline constexpr const char* kCreatedBy = "created_by";
inline constexpr const char* kSshPort = "ssh_port";      // user-mode forward 127.0.0.1:PORT -> guest 22
inline constexpr const char* kHostKey = "host_key";      // "SHA256:..." pinned at the first terminal login
inline constexpr const char* kAdoptedAt = "adopted_at";  // a domain Paddock did not make, adopted by an admin
inline constexpr const char* kRestoredFrom = "restored_from";  // "<vm>/<backup id>" for a VM made by a restore
// Watching (watch_service.hpp): "watch" holds the VM's own watch settings as JSON, set through
// POST/DELETE /api/v1/vms/{name}/watch ({"enabled": false} when watching was switched off; absent:
// the template's watch settings, if any); "watch_stopped" is "api" while the VM stays off because
// it was stopped through the API (so a restarted paddockd leaves it alone).
inline constexpr const char* kWatch = "watch";
inline constexpr const char* kWatchStopped = "watch_stopped";
// Provisioning (provision_service.hpp): the state of the VM's last run (pending, running,
// succeeded, failed), its error when it failed, and the operation that ran it.
inline constexpr const char* kProvisioning = "provisioning";
inline constexpr const char* kProvisioningError = "provisioning_error";
inline constexpr const char* kProvisioningOperation = "provisioning_operation";
// VmService's intent record (vm_service.hpp): present only while a create or a delete is under
// way, so that a VM that still carries it after a crash is known to be half made or half removed.
inline constexpr const char* kIntent = "intent";       // creating | deleting
inline constexpr const char* kIntentBy = "intent_by";  // the paddockd instance that wrote it
inline constexpr const char* kIntentAt = "intent_at";  // ISO 8601 UTC, when
// Pool VMs (pool_manager.hpp).
inline constexpr const char* kPool = "pool";
inline constexpr const char* kPoolState = "pool_state";  // filling | idle | allocated | releasing
inline constexpr const char* kLeaseId = "lease_id";
inline constexpr const char* kLeaseOwner = "lease_owner";
inline constexpr const char* kLeaseCreatedAt = "lease_created_at";  // ISO 8601 UTC
inline constexpr const char* kLeaseExpiresAt = "lease_expires_at";  // ISO 8601 UTC, or "never"
inline constexpr const char* kLeaseIdempotencyKey = "lease_idempotency_key";
}  // namespace meta

// The value of `key`, or "" when the VM has none.
inline std::string metaValue(const Metadata& metadata, const char* key) {
    const auto it = metadata.find(key);
    return it == metadata.end() ? std::string() : it->second;
}

// Whether Paddock manages the domain: it made it, or an admin adopted it (both record
// created_at). Other domains on the host are foreign: listed only to admins on request, never
// acted on.
inline bool isManaged(const Metadata& metadata) { return metadata.count(meta::kCreatedAt) != 0; }

// Applies `changes` to `metadata`: a key with an empty value is erased, others are set.
inline void mergeMetadata(Metadata& metadata, const Metadata& changes) {
    for (const auto& [key, value] : changes) {
        if (value.empty())
            metadata.erase(key);
        else
            metadata[key] = value;
    }
}

}  // namespace paddock
