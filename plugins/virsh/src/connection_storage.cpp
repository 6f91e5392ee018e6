// Overlay volumes and snapshots: the members of Connection that create or remove state.
#include "connection.hpp"

#include <host_facts.hpp>
#include <xml_reader.hpp>

#include <paddock/cpp/backend.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>

namespace paddock::virsh {

namespace {

std::string required(const char* s, const char* what) {
    if (s == nullptr || *s == '\0') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is required");
    return s;
}

std::string snapshotWord(const std::string& domain, const std::string& snapshot) {
    return "snapshot '" + snapshot + "' of domain '" + domain + "'";
}

}  // namespace

bool Connection::volumeExists(const std::string& pool, const std::string& name) const {
    const ChildResult r = runner_.tryRun({"vol-path", "--pool", pool, "--vol", name});
    if (r.exitCode == 0) return true;
    pdk::Error e = VirshRunner::failure(r, "volume '" + name + "' in pool '" + pool + "'");
    // "failed to get vol" and "failed to get pool" both read as not found: tell them apart.
    if (e.status() == PDK_ERR_NOT_FOUND && std::string(e.what()).find("failed to get pool") == std::string::npos &&
        std::string(e.what()).find("Storage pool not found") == std::string::npos)
        return false;
    throw e;
}

std::string Connection::createOverlay(const pdk_volume_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string pool = required(spec.pool, "pool");
    const std::string name = required(spec.name, "volume name");
    const std::string backingPath = required(spec.backing_path, "backing_path");
    const std::string backingFormat = required(spec.backing_format, "backing_format");
    checkArg(pool, "pool");
    checkVolumeName(name, "volume name");
    checkPath(backingPath, "backing_path");
    checkArg(backingFormat, "backing_format");
    if (volumeExists(pool, name))
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "volume '" + name + "' already exists in pool '" + pool + "'");
    const std::string xml = lx::buildOverlayVolumeXml(name, spec.capacity_bytes, backingPath, backingFormat);
    const std::string context = "cannot create volume '" + name + "' in pool '" + pool + "'";
    runner_.run({"vol-create", "--pool", pool, "--file", "/dev/stdin"}, context, xml);
    const auto lines = nonEmptyLines(runner_.run({"vol-path", "--pool", pool, "--vol", name},
                                                 "cannot read the path of volume '" + name + "'"));
    if (lines.empty()) throw pdk::Error(PDK_ERR_INTERNAL, "virsh vol-path printed no path for '" + name + "'");
    return lines.front();
}

void Connection::deleteVolume(const char* path, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    checkPath(path, "volume path");
    runner_.run({"vol-delete", "--vol", path}, std::string("cannot delete volume ") + path);
}

std::string Connection::volumePath(const char* pool, const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string poolName = required(pool, "pool");
    const std::string volume = required(name, "volume name");
    checkArg(poolName, "pool");
    checkVolumeName(volume, "volume name");
    const std::string xml =
        runner_.run({"pool-dumpxml", "--pool", poolName}, "cannot read the definition of storage pool '" + poolName + "'");
    if (volumeExists(poolName, volume))
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "volume '" + volume + "' already exists in pool '" + poolName + "'");
    return lx::volumePathInPool(xml, poolName, volume);
}

std::vector<std::string> Connection::snapshotNames(const std::string& domainArg, const std::string& domain) const {
    return nonEmptyLines(runner_.run({"snapshot-list", "--domain", domainArg, "--name"},
                                     "cannot list snapshots of domain '" + domain + "'"));
}

void Connection::snapshotCreate(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, PDK_SNAPSHOT_DISK_ONLY | PDK_SNAPSHOT_REPLACE);
    createSnapshot(domain, snapshot, {}, flags);
}

void Connection::snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, PDK_SNAPSHOT_DISK_ONLY | PDK_SNAPSHOT_REPLACE);
    createSnapshot(domain, required(spec.name, "snapshot name"), spec.description != nullptr ? spec.description : "",
                   flags);
}

void Connection::createSnapshot(const std::string& domain, const std::string& snapshot, const std::string& description,
                                uint32_t flags) {
    checkArg(snapshot, "snapshot name");
    const std::string xml = lx::buildSnapshotXml(snapshot, description);
    const std::string arg = domainArg(domain);
    const auto names = snapshotNames(arg, domain);
    if (std::find(names.begin(), names.end(), snapshot) != names.end()) {
        if (!(flags & PDK_SNAPSHOT_REPLACE))
            throw pdk::Error(PDK_ERR_ALREADY_EXISTS, snapshotWord(domain, snapshot) + " already exists");
        runner_.run({"snapshot-delete", "--domain", arg, "--snapshotname", snapshot},
                    "cannot replace " + snapshotWord(domain, snapshot));
    }
    std::vector<std::string> args{"snapshot-create", "--domain", arg, "--xmlfile", "/dev/stdin"};
    if (flags & PDK_SNAPSHOT_DISK_ONLY) args.push_back("--disk-only");
    runner_.run(args, "cannot create " + snapshotWord(domain, snapshot), xml);
}

void Connection::snapshotList(const char* domain, uint32_t flags, pdk_name_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    for (const std::string& n : snapshotNames(domainArg(domain), domain)) sink(user, n.c_str());
}

void Connection::snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(domain);
    const auto names = snapshotNames(arg, domain);
    std::string current;
    if (!names.empty()) {
        const ChildResult r = runner_.tryRun({"snapshot-current", "--domain", arg, "--name"});
        // "has no current snapshot" is a plain answer, not a failure.
        if (r.exitCode == 0 && !nonEmptyLines(r.out).empty()) current = nonEmptyLines(r.out).front();
    }
    std::vector<lx::SnapshotFacts> found;
    for (const std::string& n : names) {
        const ChildResult r = runner_.tryRun({"snapshot-dumpxml", "--domain", arg, "--snapshotname", n});
        if (r.exitCode != 0) {
            pdk::Error e = VirshRunner::failure(r, "cannot read " + snapshotWord(domain, n));
            if (e.status() == PDK_ERR_NOT_FOUND) continue;  // deleted since the listing
            throw e;
        }
        found.push_back(lx::parseSnapshotXml(r.out));
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return std::tie(a.createdAt, a.name) < std::tie(b.createdAt, b.name); });
    for (const lx::SnapshotFacts& f : found) lx::emitSnapshot(f, f.name == current, sink, user);
}

void Connection::snapshotRevert(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, PDK_REVERT_START | PDK_REVERT_STOPPED);
    if ((flags & PDK_REVERT_START) && (flags & PDK_REVERT_STOPPED))
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "PDK_REVERT_START and PDK_REVERT_STOPPED exclude each other");
    checkArg(snapshot, "snapshot name");
    const std::string arg = domainArg(domain);
    const std::string what = snapshotWord(domain, snapshot);
    const lx::SnapshotFacts facts = lx::parseSnapshotXml(
        runner_.run({"snapshot-dumpxml", "--domain", arg, "--snapshotname", snapshot}, what));
    std::vector<std::string> args{"snapshot-revert", "--domain", arg, "--snapshotname", snapshot};
    if (flags & PDK_REVERT_START) args.push_back("--running");
    // Loaded paused, then stopped: the guest never runs.
    if ((flags & PDK_REVERT_STOPPED) && facts.hasMemory) args.push_back("--paused");
    runner_.run(args, "cannot revert domain '" + std::string(domain) + "' to snapshot '" + snapshot + "'");
    if (flags & (PDK_REVERT_START | PDK_REVERT_STOPPED)) {
        const bool active = isActiveState(domainState(arg, domain).state);
        // Some drivers (libvirt's test driver) ignore --running for a snapshot taken while off.
        if ((flags & PDK_REVERT_START) && !active)
            runner_.run({"start", "--domain", arg}, "reverted domain '" + std::string(domain) + "' but cannot start it");
        if ((flags & PDK_REVERT_STOPPED) && active)
            runner_.run({"destroy", "--domain", arg}, "reverted domain '" + std::string(domain) + "' but cannot stop it");
    }
    // libvirt keeps a managed save image across a revert; the next start would restore it and
    // undo the revert.
    const DomInfo info = parseDominfo(runner_.run({"dominfo", "--domain", arg}, "domain '" + std::string(domain) + "'"));
    if (info.managedSave) {
        runner_.run({"managedsave-remove", "--domain", arg},
                    "reverted domain '" + std::string(domain) + "' but cannot remove its stale saved state");
    }
}

void Connection::snapshotDelete(const char* domain, const char* snapshot, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    checkArg(snapshot, "snapshot name");
    runner_.run({"snapshot-delete", "--domain", domainArg(domain), "--snapshotname", snapshot},
                "cannot delete " + snapshotWord(domain, snapshot));
}

void Connection::volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out) {
    pdk::checkFlags(flags, 0);
    const std::string file = required(path, "path");
    checkPath(file, "path");
    const ChildResult info = runner_.tryRun({"vol-info", "--bytes", "--vol", file});
    if (info.exitCode != 0) {
        pdk::Error e = VirshRunner::failure(info, "volume " + file);
        if (e.status() != PDK_ERR_NOT_FOUND) throw e;
        lvq::describeUnpooledFile(file, isLocal_, out);
        return;
    }
    out.in_pool = 1;
    for (const std::string& line : nonEmptyLines(info.out)) {
        if (line.rfind("Capacity:", 0) != 0) continue;
        std::string value = line.substr(std::strlen("Capacity:"));
        value.erase(0, value.find_first_not_of(' '));
        value = value.substr(0, value.find(' '));
        out.capacity_bytes = parseUnsigned(value).value_or(0);
    }
    if (const auto pool = nonEmptyLines(runner_.run({"vol-pool", "--vol", file}, "the pool of volume " + file));
        !pool.empty())
        std::snprintf(out.pool, sizeof out.pool, "%s", pool.front().c_str());
    const std::string xml = runner_.run({"vol-dumpxml", "--vol", file}, "the definition of volume " + file);
    std::snprintf(out.format, sizeof out.format, "%s", lx::volumeFormatOf(xml).c_str());
}

}  // namespace paddock::virsh
