// Internal snapshots: the libvirt-qemu members of Connection that create, list, revert and
// delete them.
#include "connection.hpp"

#include <domain_record.hpp>

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <vector>

namespace paddock::lvq {

namespace {

SnapshotHandle findSnapshot(virDomainPtr dom, const char* snapshot) {
    SnapshotHandle snap(virDomainSnapshotLookupByName(dom, snapshot, 0));
    if (!snap) {
        if (lastErrorCode() != VIR_ERR_NO_DOMAIN_SNAPSHOT) throwLastError(std::string("snapshot '") + snapshot + "'");
        virResetLastError();
    }
    return snap;
}

std::vector<SnapshotHandle> listSnapshots(virDomainPtr dom, const char* domain) {
    virDomainSnapshotPtr* snaps = nullptr;
    const int n = virDomainListAllSnapshots(dom, &snaps, 0);
    if (n < 0) throwLastError(std::string("cannot list snapshots of domain '") + domain + "'");
    std::vector<SnapshotHandle> owned;
    owned.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) owned.emplace_back(snaps[i]);
    free(snaps);
    return owned;
}

}  // namespace

void Connection::snapshotCreate(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, PDK_SNAPSHOT_DISK_ONLY | PDK_SNAPSHOT_REPLACE);
    createSnapshot(domain, snapshot, {}, flags);
}

void Connection::snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, PDK_SNAPSHOT_DISK_ONLY | PDK_SNAPSHOT_REPLACE);
    const std::string name = requiredArg(spec.name, "snapshot name");
    createSnapshot(domain, name.c_str(), spec.description != nullptr ? spec.description : "", flags);
}

void Connection::createSnapshot(const char* domain, const char* snapshot, const std::string& description,
                                uint32_t flags) {
    const std::string xml = buildSnapshotXml(snapshot, description);
    DomainHandle dom = lookupDomain(domain);
    if (SnapshotHandle old = findSnapshot(dom.get(), snapshot)) {
        if (!(flags & PDK_SNAPSHOT_REPLACE)) {
            throw pdk::Error(PDK_ERR_ALREADY_EXISTS,
                             std::string("snapshot '") + snapshot + "' of domain '" + domain + "' already exists");
        }
        if (virDomainSnapshotDelete(old.get(), 0) < 0)
            throwLastError(std::string("cannot replace snapshot '") + snapshot + "'");
    }
    const unsigned int virFlags = (flags & PDK_SNAPSHOT_DISK_ONLY) ? VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY : 0;
    const std::string context = std::string("cannot create snapshot '") + snapshot + "' of domain '" + domain + "'";
    SnapshotHandle snap(virDomainSnapshotCreateXML(dom.get(), xml.c_str(), virFlags));
    if (snap) return;
    // libvirt 9.0 takes no internal snapshot of a domain that is off while it has checkpoints
    // ("cannot perform block operations while checkpoint exists"); they go, as for a revert.
    pdk::Error failed = takeLastError(context);
    if (failed.status() != PDK_ERR_UNSUPPORTED || isActive(dom.get())) throw failed;
    std::vector<CheckpointHandle> checkpoints = listCheckpoints(dom.get(), domain);
    if (checkpoints.empty()) throw failed;
    deleteCheckpoints(dom.get(), domain, checkpoints);
    snap.reset(virDomainSnapshotCreateXML(dom.get(), xml.c_str(), virFlags));
    if (!snap) throwLastError(context);
}

void Connection::snapshotList(const char* domain, uint32_t flags, pdk_name_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(domain);
    for (const SnapshotHandle& s : listSnapshots(dom.get(), domain)) sink(user, virDomainSnapshotGetName(s.get()));
}

void Connection::snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(domain);
    std::vector<std::pair<SnapshotFacts, bool>> found;
    for (const SnapshotHandle& s : listSnapshots(dom.get(), domain)) {
        const std::string xml = takeString(virDomainSnapshotGetXMLDesc(s.get(), 0));
        const int current = xml.empty() ? -1 : virDomainSnapshotIsCurrent(s.get(), 0);
        if (current < 0) {
            // Deleted since the listing: simply gone.
            if (lastErrorCode() == VIR_ERR_NO_DOMAIN_SNAPSHOT) {
                virResetLastError();
                continue;
            }
            throwLastError(std::string("cannot read snapshot '") + virDomainSnapshotGetName(s.get()) + "' of domain '" +
                           domain + "'");
        }
        found.emplace_back(parseSnapshotXml(xml), current == 1);
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first.createdAt, a.first.name) < std::tie(b.first.createdAt, b.first.name);
    });
    for (const auto& [facts, current] : found) emitSnapshot(facts, current, sink, user);
}

void Connection::snapshotRevert(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, PDK_REVERT_START | PDK_REVERT_STOPPED);
    if ((flags & PDK_REVERT_START) && (flags & PDK_REVERT_STOPPED))
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "PDK_REVERT_START and PDK_REVERT_STOPPED exclude each other");
    DomainHandle dom = lookupDomain(domain);
    SnapshotHandle snap(virDomainSnapshotLookupByName(dom.get(), snapshot, 0));
    if (!snap) throwLastError(std::string("snapshot '") + snapshot + "' of domain '" + domain + "'");
    const std::string xml = takeString(virDomainSnapshotGetXMLDesc(snap.get(), 0));
    if (xml.empty()) throwLastError(std::string("cannot read snapshot '") + snapshot + "' of domain '" + domain + "'");
    const SnapshotFacts facts = parseSnapshotXml(xml);

    // QEMU cannot load an internal snapshot over persistent dirty bitmaps ("Device has active
    // dirty bitmaps"), and libvirt leaves the domain shut off when it tries: the checkpoints go
    // first. The next incremental backup then finds its checkpoint gone (PDK_ERR_NOT_FOUND).
    deleteCheckpoints(dom.get(), domain, listCheckpoints(dom.get(), domain));

    unsigned int virFlags = 0;
    if (flags & PDK_REVERT_START) virFlags = VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING;
    // Loaded paused, then stopped: the guest never runs.
    if ((flags & PDK_REVERT_STOPPED) && facts.hasMemory) virFlags = VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED;
    if (virDomainRevertToSnapshot(snap.get(), virFlags) < 0)
        throwLastError(std::string("cannot revert domain '") + domain + "' to snapshot '" + snapshot + "'");
    // Some drivers (libvirt's test driver) ignore REVERT_RUNNING for a snapshot taken while off.
    if ((flags & PDK_REVERT_START) && !isActive(dom.get()) && virDomainCreate(dom.get()) < 0)
        throwLastError(std::string("reverted domain '") + domain + "' but cannot start it");
    if ((flags & PDK_REVERT_STOPPED) && isActive(dom.get()) && virDomainDestroy(dom.get()) < 0)
        throwLastError(std::string("reverted domain '") + domain + "' but cannot stop it");
    // libvirt keeps a managed save image across a revert; the next start would restore it and
    // undo the revert.
    const int saved = virDomainHasManagedSaveImage(dom.get(), 0);
    if (saved < 0 || (saved == 1 && virDomainManagedSaveRemove(dom.get(), 0) < 0))
        throwLastError(std::string("reverted domain '") + domain + "' but cannot remove its stale saved state");
}

void Connection::snapshotDelete(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(domain);
    SnapshotHandle snap(virDomainSnapshotLookupByName(dom.get(), snapshot, 0));
    if (!snap) throwLastError(std::string("snapshot '") + snapshot + "' of domain '" + domain + "'");
    if (virDomainSnapshotDelete(snap.get(), 0) < 0)
        throwLastError(std::string("cannot delete snapshot '") + snapshot + "' of domain '" + domain + "'");
}

}  // namespace paddock::lvq
