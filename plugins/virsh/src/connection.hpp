// The virsh backend's connection: no libvirt in this process, every operation is one or a few
// `virsh -c <uri> --quiet ...` runs (VirshRunner), their output parsed in the C locale
// (virsh_output.hpp). Domain, metadata, snapshot and volume XML come from the same writer and
// reader the libvirt-qemu backend uses (paddock::libvirt_xml), so a VM defined by one backend
// is read by the other. Exposed to the host through pdk::makeBackendVtable<Connection>().
//
// Every name (domain, snapshot, pool, volume) and path passes checkArg/checkPath before any
// virsh runs, and goes to virsh as its own argv entry after an explicit option (--domain NAME).
// A domain name virsh's lookup would read as an id or UUID first ("7", a UUID-shaped name) is
// resolved to its UUID from `list` first, so it can never act on another domain.
//
// Threading: every member may be called from several threads at once; each call runs its own
// virsh processes. Shared state is the runner (immutable), the driver facts learnt at open
// (immutable), the auto domain type (computed once, guarded by autoTypeMutex_) and is_alive's
// cached answer (guarded by aliveMutex_).
// Errors: members throw pdk::Error; unknown flag bits are rejected before anything else.
#pragma once

#include "virsh_output.hpp"
#include "virsh_runner.hpp"

#include <domain_record.hpp>
#include <host_facts.hpp>
#include <domain_xml.hpp>

#include <paddock/pdk_backend.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace paddock::virsh {

// The shared libvirt XML units (plugins/libvirt_common).
namespace lx = paddock::lvq;

class Connection {
public:
    // Reads the settings (virsh_runner.hpp), checks the URI and runs `virsh version` once: an
    // unreachable URI answers PDK_ERR_UNAVAILABLE here, a missing virsh "virsh not found".
    static std::unique_ptr<Connection> open(const char* uri, uint32_t flags);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // `virsh uri` within min(5 s, the call timeout), at most once per 5 s: between checks, and
    // while another thread checks, the last answer is returned.
    bool isAlive();
    // `version`, `hostname`, and (once) `capabilities` for the auto domain type.
    void hostInfo(uint32_t flags, pdk_host_info& out);
    // `domstats` (state, and memory, vcpus and CPU time where the driver has them), `list --all
    // --uuid --id --name` and `list --all --name --with-managed-save`: three runs for any number
    // of domains; `dominfo` for a domain whose driver reports no balloon stats; with
    // PDK_LIST_WITH_METADATA one `metadata` run per domain.
    void listDomains(uint32_t flags, pdk_domain_sink sink, void* user);
    // `dominfo` and `metadata`.
    void getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user);
    // The libvirt-qemu backend's domain XML through `define --file /dev/stdin --validate`.
    void defineDomain(const pdk_domain_spec& spec, uint32_t flags);
    // Resumes a paused domain, wakes a suspended one, else `start` (which restores a managed save).
    void startDomain(const char* name, uint32_t flags);
    void shutdownDomain(const char* name, uint32_t flags);
    void destroyDomain(const char* name, uint32_t flags);
    // Every disk is resolved to a storage volume before anything is removed (else
    // PDK_ERR_UNSUPPORTED and nothing changes); then `undefine` with managed save, snapshot,
    // NVRAM and checkpoint metadata (fewer options when the driver refuses them), then
    // `vol-delete` of each disk.
    void undefineDomain(const char* name, uint32_t flags);
    // `managedsave`.
    void saveDomain(const char* name, uint32_t flags);
    // `suspend` (ABI 1.8); a paused domain is left as it is, one not running is a conflict.
    void suspendDomain(const char* name, uint32_t flags);
    // `metadata --domain D --uri <Paddock's namespace>`; none stored reads as no pairs.
    void getMetadata(const char* name, uint32_t flags, pdk_kv_sink sink, void* user);
    // `metadata ... --key paddock --set <element> --config` (and --live with PDK_METADATA_LIVE
    // on a running domain): the layout the libvirt-qemu backend writes.
    void setMetadata(const char* name, const pdk_kv* pairs, size_t count, uint32_t flags);
    // The libvirt-qemu backend's overlay volume XML (qcow2, compat 1.1, backing store with its
    // explicit format) through `vol-create --file /dev/stdin`. Capacity 0 is written as 0: the
    // storage driver then leaves the size to qemu-img, which takes the backing image's, on the
    // host libvirtd runs on.
    std::string createOverlay(const pdk_volume_spec& spec, uint32_t flags);
    // `vol-delete --vol PATH`.
    void deleteVolume(const char* path, uint32_t flags);
    // <target path>/<name> for file-based pools (dir, fs, netfs) read from `pool-dumpxml`.
    std::string volumePath(const char* pool, const char* name, uint32_t flags);
    void snapshotCreate(const char* domain, const char* snapshot, uint32_t flags);
    void snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags);
    void snapshotList(const char* domain, uint32_t flags, pdk_name_sink sink, void* user);
    // One `snapshot-dumpxml` per snapshot; sorted by creation time, then name; size_bytes -1.
    void snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user);
    // Removes a managed save image after the revert (it would undo the revert at the next start).
    void snapshotRevert(const char* domain, const char* snapshot, uint32_t flags);
    void snapshotDelete(const char* domain, const char* snapshot, uint32_t flags);
    // User-mode networking: 127.0.0.1 and the "ssh_port" metadata entry; otherwise the first
    // IPv4 address of `domifaddr --source lease` (the libvirt network's DHCP lease, never the
    // guest agent), port 22.
    void sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out);
    // `qemu-agent-command ... {"execute":"guest-ping"} --timeout S`, S = timeoutMs rounded up
    // to whole seconds (at least 1); the run itself gets S + 10 s (libvirt's own agent sync).
    void guestPing(const char* name, uint32_t timeoutMs, uint32_t flags);
    // `nodeinfo` (CPUs, memory size) and `nodememstats` (free + buffers + cached), or `freecell`
    // (virNodeGetFreeMemory's total) where the driver has no stats (ABI 1.7).
    // libvirt's test driver reports a free figure in the wrong unit (3 MiB of its 3 GiB): on a
    // test:/// URI free is the total.
    void hostResources(uint32_t flags, pdk_host_resources& out);
    // `vol-info --bytes --vol PATH`, `vol-pool` and `vol-dumpxml` for a storage volume (ABI 1.7);
    // a path no pool holds: on a local URI a stat() of the file (in_pool 0, no size or format),
    // on a remote one PDK_ERR_NOT_FOUND saying no storage pool there holds it.
    void volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out);

private:
    explicit Connection(VirshRunner runner);

    // The argument virsh's --domain should get for `name`: the name itself, or its UUID when
    // virsh might read the name as an id or UUID (PDK_ERR_NOT_FOUND when there is no such name).
    std::string domainArg(const std::string& name) const;
    DomainState domainState(const std::string& domainArg, const std::string& name) const;
    lx::KeyValues readMetadata(const std::string& domainArg, const std::string& name) const;
    std::string autoDomainType();
    lx::DomainXmlOptions xmlOptionsFor(const pdk_domain_spec& spec);
    bool volumeExists(const std::string& pool, const std::string& name) const;
    std::vector<std::string> snapshotNames(const std::string& domainArg, const std::string& domain) const;
    void createSnapshot(const std::string& domain, const std::string& snapshot, const std::string& description,
                        uint32_t flags);

    VirshRunner runner_;
    std::string driver_;  // "QEMU", "TEST", ... from `virsh version` at open
    bool isTestDriver_ = false;
    bool isLocal_ = false;  // the URI names no remote host

    std::mutex autoTypeMutex_;
    std::optional<std::string> autoType_;

    std::mutex aliveMutex_;  // held by the one thread running the check
    std::mutex aliveStateMutex_;
    bool lastAlive_ = true;
    std::optional<std::chrono::steady_clock::time_point> lastAliveCheck_;
};

}  // namespace paddock::virsh
