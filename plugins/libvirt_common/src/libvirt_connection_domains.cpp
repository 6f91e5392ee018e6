// Domain listing, lifecycle and metadata members of LibvirtConnection.
#include "libvirt_connection.hpp"

#include "domain_record.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

namespace paddock::lvq {

namespace {

DomainRecord baseRecord(virDomainPtr dom) {
    DomainRecord r;
    const char* name = virDomainGetName(dom);
    r.name = name != nullptr ? name : "";
    char uuid[VIR_UUID_STRING_BUFLEN] = {};
    if (virDomainGetUUIDString(dom, uuid) == 0) r.uuid = uuid;
    const unsigned int id = virDomainGetID(dom);
    r.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int32_t>(id);
    return r;
}

void fillFromInfo(virDomainPtr dom, DomainRecord& r) {
    virDomainInfo info{};
    if (virDomainGetInfo(dom, &info) < 0) throwLastError("domain '" + r.name + "'");
    r.state = pdkState(info.state);
    r.maxMemoryKib = info.maxMem;
    r.memoryKib = info.memory;
    r.vcpus = info.nrVirtCpu;
    r.cpuTimeNs = info.cpuTime;
}

int domainState(virDomainPtr dom) {
    int state = VIR_DOMAIN_NOSTATE;
    int reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0) throwLastError("cannot read the domain state");
    return state;
}

// Frees an array of domains from virConnectListAllDomains / virConnectGetAllDomainStats.
struct DomainList {
    virDomainPtr* doms = nullptr;
    int count = 0;
    ~DomainList() {
        for (int i = 0; i < count; ++i) virDomainFree(doms[i]);
        free(doms);
    }
};

// The managed-save filter answers for all domains in one round trip instead of one per domain.
std::set<std::string> managedSaveUuids(virConnectPtr conn) {
    DomainList list;
    list.count = virConnectListAllDomains(conn, &list.doms, VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE);
    if (list.count < 0) {
        list.count = 0;
        // A driver without the filter has no managed save either.
        if (lastErrorIsUnsupported()) {
            virResetLastError();
            return {};
        }
        throwLastError("cannot list domains with a managed save");
    }
    std::set<std::string> uuids;
    for (int i = 0; i < list.count; ++i) uuids.insert(baseRecord(list.doms[i]).uuid);
    return uuids;
}

}  // namespace

KeyValues LibvirtConnection::readMetadata(virDomainPtr dom) {
    if (!metadataSupported_) return {};
    char* xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, kMetadataUri, VIR_DOMAIN_AFFECT_CURRENT);
    if (xml == nullptr) {
        if (lastErrorCode() == VIR_ERR_NO_DOMAIN_METADATA) {
            virResetLastError();
            return {};
        }
        // Drivers without the metadata API (libxl) still keep <metadata> in the definition.
        if (lastErrorCode() == VIR_ERR_NO_SUPPORT) {
            virResetLastError();
            const std::string domainXml = takeString(virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE));
            if (domainXml.empty())
                throwLastError("cannot read the definition of domain '" + std::string(virDomainGetName(dom)) + "'");
            return parseDomainMetadata(domainXml);
        }
        throwLastError("cannot read the metadata of domain '" + std::string(virDomainGetName(dom)) + "'");
    }
    return parseMetadataElement(takeString(xml));
}

bool LibvirtConnection::listWithStats(uint32_t flags, pdk_domain_sink sink, void* user) {
    if (statsUnsupported_) return false;
    virDomainStatsRecordPtr* records = nullptr;
    const unsigned int stats =
        VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU;
    const int n = virConnectGetAllDomainStats(conn_, stats, &records, VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS);
    if (n < 0) {
        if (!lastErrorIsUnsupported()) throwLastError("cannot list domains");
        virResetLastError();
        statsUnsupported_ = true;
        return false;
    }
    std::unique_ptr<virDomainStatsRecordPtr, void (*)(virDomainStatsRecordPtr*)> guard(records,
                                                                                       &virDomainStatsRecordListFree);
    const std::set<std::string> saved = managedSaveUuids(conn_);
    for (int i = 0; i < n; ++i) {
        const virDomainStatsRecordPtr rec = records[i];
        DomainRecord r = baseRecord(rec->dom);
        int state = VIR_DOMAIN_NOSTATE;
        unsigned long long ull = 0;
        unsigned int ui = 0;
        if (virTypedParamsGetInt(rec->params, rec->nparams, "state.state", &state) == 1) r.state = pdkState(state);
        if (virTypedParamsGetULLong(rec->params, rec->nparams, "cpu.time", &ull) == 1) r.cpuTimeNs = ull;
        if (virTypedParamsGetULLong(rec->params, rec->nparams, "balloon.maximum", &ull) == 1) r.maxMemoryKib = ull;
        if (virTypedParamsGetULLong(rec->params, rec->nparams, "balloon.current", &ull) == 1) r.memoryKib = ull;
        if (virTypedParamsGetUInt(rec->params, rec->nparams, "vcpu.current", &ui) == 1) r.vcpus = ui;
        r.managedSave = saved.count(r.uuid) != 0;
        if (flags & PDK_LIST_WITH_METADATA) r.metadata = readMetadata(rec->dom);
        emitDomain(r, sink, user);
    }
    return true;
}

void LibvirtConnection::listWithInfo(uint32_t flags, pdk_domain_sink sink, void* user) {
    DomainList list;
    list.count = virConnectListAllDomains(conn_, &list.doms, 0);
    if (list.count < 0) {
        list.count = 0;
        throwLastError("cannot list domains");
    }
    const std::set<std::string> saved = managedSaveUuids(conn_);
    for (int i = 0; i < list.count; ++i) {
        DomainRecord r = baseRecord(list.doms[i]);
        try {
            fillFromInfo(list.doms[i], r);
        } catch (const pdk::Error& e) {
            // A domain undefined between the listing and this call is simply gone.
            if (e.status() == PDK_ERR_NOT_FOUND) continue;
            throw;
        }
        r.managedSave = saved.count(r.uuid) != 0;
        if (flags & PDK_LIST_WITH_METADATA) r.metadata = readMetadata(list.doms[i]);
        emitDomain(r, sink, user);
    }
}

void LibvirtConnection::listDomains(uint32_t flags, pdk_domain_sink sink, void* user) {
    pdk::checkFlags(flags, PDK_LIST_WITH_METADATA);
    if (!listWithStats(flags, sink, user)) listWithInfo(flags, sink, user);
}

void LibvirtConnection::getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    DomainRecord r = baseRecord(dom.get());
    fillFromInfo(dom.get(), r);
    int saved = virDomainHasManagedSaveImage(dom.get(), 0);
    if (saved < 0 && lastErrorIsUnsupported()) {
        virResetLastError();
        saved = 0;
    }
    if (saved < 0) throwLastError("domain '" + r.name + "'");
    r.managedSave = saved == 1;
    r.metadata = readMetadata(dom.get());
    emitDomain(r, sink, user);
}


void LibvirtConnection::defineXml(const char* name, const std::string& xml) {
    // Checked first because libvirt reports a taken name as a generic "operation failed".
    if (DomainHandle existing{virDomainLookupByName(conn_, name)}) {
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, std::string("domain '") + name + "' already exists");
    }
    virResetLastError();
    // Without VIR_DOMAIN_DEFINE_VALIDATE: checking the document against libvirt's RelaxNG schema
    // took ~25 of the ~30 ms a define costs on qemu:///system, for XML that domain_xml.cpp
    // writes from a fixed shape with every value escaped, and that the tests check with
    // virt-xml-validate (golden files per backend). libvirt still parses and checks every value.
    DomainHandle dom(virDomainDefineXML(conn_, xml.c_str()));
    if (!dom) throwLastError(std::string("cannot define domain '") + name + "'");
}

void LibvirtConnection::startDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    const int state = domainState(dom.get());
    if (state == VIR_DOMAIN_PAUSED) {
        if (virDomainResume(dom.get()) < 0) throwLastError(std::string("cannot resume domain '") + name + "'");
        return;
    }
    if (state == VIR_DOMAIN_PMSUSPENDED) {
        if (virDomainPMWakeup(dom.get(), 0) < 0) throwLastError(std::string("cannot wake up domain '") + name + "'");
        return;
    }
    if (isActive(dom.get()))
        throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is already running");
    if (virDomainCreate(dom.get()) < 0) throwLastError(std::string("cannot start domain '") + name + "'");
}

void LibvirtConnection::shutdownDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    if (!isActive(dom.get())) throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is not running");
    if (virDomainShutdown(dom.get()) < 0) throwLastError(std::string("cannot shut down domain '") + name + "'");
}

void LibvirtConnection::destroyDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    if (!isActive(dom.get())) throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is not running");
    if (virDomainDestroy(dom.get()) < 0) throwLastError(std::string("cannot destroy domain '") + name + "'");
}

void LibvirtConnection::saveDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    if (!isActive(dom.get())) throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is not running");
    if (virDomainManagedSave(dom.get(), 0) < 0) throwLastError(std::string("cannot save domain '") + name + "'");
}

void LibvirtConnection::suspendDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    const int state = domainState(dom.get());
    if (state == VIR_DOMAIN_PAUSED) return;  // paused already: the contract says nothing changes
    // A guest-suspended (S3) domain is not running either: resuming it would be a wakeup.
    if (!isActive(dom.get()) || state == VIR_DOMAIN_PMSUSPENDED)
        throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is not running");
    if (virDomainSuspend(dom.get()) < 0) throwLastError(std::string("cannot suspend domain '") + name + "'");
}


void LibvirtConnection::undefineDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, PDK_UNDEFINE_REMOVE_STORAGE);
    DomainHandle dom = lookupDomain(name);
    if (isActive(dom.get())) throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is running");

    // Resolve every disk to a storage volume before undefining, so a disk we could not delete
    // never leaves a half-removed VM behind.
    std::vector<VolHandle> volumes;
    if (flags & PDK_UNDEFINE_REMOVE_STORAGE) {
        const std::string xml = takeString(virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_INACTIVE));
        if (xml.empty()) throwLastError(std::string("cannot read the definition of domain '") + name + "'");
        for (const std::string& path : parseDiskPaths(xml)) {
            VolHandle vol(virStorageVolLookupByPath(conn_, path.c_str()));
            if (!vol) {
                virResetLastError();
                throw pdk::Error(PDK_ERR_UNSUPPORTED, "cannot remove storage of domain '" + std::string(name) +
                                                          "': " + path +
                                                          " is not a libvirt storage volume (nothing was removed)");
            }
            volumes.push_back(std::move(vol));
        }
    }

    // Drivers without some of these flags reject them; retry with fewer.
    const unsigned int attempts[] = {VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                         VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
                                     VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, 0};
    int rc = -1;
    for (const unsigned int f : attempts) {
        rc = virDomainUndefineFlags(dom.get(), f);
        if (rc == 0 || !lastErrorIsUnsupported()) break;
        virResetLastError();
    }
    if (rc < 0) throwLastError(std::string("cannot undefine domain '") + name + "'");

    for (const VolHandle& vol : volumes) {
        if (virStorageVolDelete(vol.get(), 0) < 0) {
            throwLastError(std::string("domain '") + name + "' was undefined but deleting volume " +
                           takeString(virStorageVolGetPath(vol.get())) + " failed");
        }
    }
}

void LibvirtConnection::getMetadata(const char* name, uint32_t flags, pdk_kv_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    for (const auto& [k, v] : readMetadata(dom.get())) sink(user, k.c_str(), v.c_str());
}

void LibvirtConnection::setMetadata(const char* name, const pdk_kv* pairs, size_t count, uint32_t flags) {
    pdk::checkFlags(flags, PDK_METADATA_LIVE);
    KeyValues kv;
    for (size_t i = 0; i < count; ++i) {
        if (pairs[i].key == nullptr) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata key is NULL");
        kv.emplace_back(pairs[i].key, pairs[i].value != nullptr ? pairs[i].value : "");
    }
    const std::string xml = buildMetadataElement(kv);
    DomainHandle dom = lookupDomain(name);
    unsigned int affect = VIR_DOMAIN_AFFECT_CONFIG;
    if ((flags & PDK_METADATA_LIVE) && isActive(dom.get())) affect |= VIR_DOMAIN_AFFECT_LIVE;
    if (virDomainSetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, xml.c_str(), kMetadataPrefix, kMetadataUri,
                             affect) == 0)
        return;
    if (lastErrorCode() != VIR_ERR_NO_SUPPORT)
        throwLastError(std::string("cannot set the metadata of domain '") + name + "'");
    // Drivers without the metadata API (libxl): the persistent definition with the new element,
    // defined again (a running domain sees it from its next start; readMetadata reads the
    // persistent definition on these drivers).
    virResetLastError();
    const std::string domainXml =
        takeString(virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE));
    if (domainXml.empty()) throwLastError(std::string("cannot read the definition of domain '") + name + "'");
    const std::string updated = replaceDomainMetadata(domainXml, kv);
    DomainHandle redefined(virDomainDefineXML(conn_, updated.c_str()));
    if (!redefined) throwLastError(std::string("cannot set the metadata of domain '") + name + "'");
}

void LibvirtConnection::sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(name);
    for (const auto& [k, v] : readMetadata(dom.get())) {
        if (k != kSshPortKey) continue;
        char* end = nullptr;
        const unsigned long port = std::strtoul(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || port == 0 || port > 65535)
            throw pdk::Error(PDK_ERR_INTERNAL, "domain '" + std::string(name) + "' has a bad ssh_port '" + v + "'");
        std::snprintf(out.host, sizeof out.host, "%s", "127.0.0.1");
        out.port = static_cast<uint16_t>(port);
        return;
    }
    if (!isActive(dom.get())) throw pdk::Error(PDK_ERR_CONFLICT, std::string("domain '") + name + "' is not running");
    // Only the libvirt network's DHCP lease for the domain's own MAC: never the guest agent,
    // whose answers the guest controls (it could steer Paddock's key to another machine).
    {
        virDomainInterfacePtr* ifaces = nullptr;
        const int n = virDomainInterfaceAddresses(dom.get(), &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
        if (n < 0) {
            virResetLastError();
            throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("no DHCP lease is known for domain '") + name + "' yet");
        }
        std::string found;
        for (int i = 0; i < n; ++i) {
            for (unsigned int a = 0; a < ifaces[i]->naddrs && found.empty(); ++a) {
                const virDomainIPAddress& addr = ifaces[i]->addrs[a];
                if (addr.type == VIR_IP_ADDR_TYPE_IPV4 && addr.addr != nullptr &&
                    std::string(addr.addr).rfind("127.", 0) != 0)
                    found = addr.addr;
            }
            virDomainInterfaceFree(ifaces[i]);
        }
        free(ifaces);
        if (!found.empty()) {
            std::snprintf(out.host, sizeof out.host, "%s", found.c_str());
            out.port = 22;
            return;
        }
    }
    throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("no IPv4 address known yet for domain '") + name +
                                            "' (the libvirt network has no DHCP lease for it)");
}

}  // namespace paddock::lvq
