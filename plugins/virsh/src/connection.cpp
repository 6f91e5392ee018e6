// Opening, host facts, domain listing, lifecycle, metadata and reachability members of Connection.
#include "connection.hpp"

#include <paddock/cpp/backend.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace paddock::virsh {

namespace {

using lx::DomainRecord;
using lx::emitDomain;
using std::chrono::milliseconds;

constexpr auto kAliveInterval = std::chrono::seconds(5);

void copyTo(char* dst, size_t capacity, const std::string& src) { std::snprintf(dst, capacity, "%s", src.c_str()); }

std::string domainWord(const std::string& name) { return "domain '" + name + "'"; }

void fillFromDominfo(const DomInfo& d, DomainRecord& r) {
    if (r.uuid.empty()) r.uuid = d.uuid;
    r.id = d.id;
    r.state = d.state;
    r.maxMemoryKib = d.maxMemoryKib;
    r.memoryKib = d.memoryKib;
    r.vcpus = d.vcpus;
    r.cpuTimeNs = d.cpuTimeNs;
    r.managedSave = d.managedSave;
}

uint64_t statU64(const std::map<std::string, std::string>& values, const char* key) {
    const auto it = values.find(key);
    return it == values.end() ? 0 : parseUnsigned(it->second).value_or(0);
}

}  // namespace

std::unique_ptr<Connection> Connection::open(const char* uri, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string u = uri != nullptr ? uri : "";
    if (!u.empty()) checkArg(u, "URI", kMaxPathBytes);
    VirshRunner runner(VirshSettings::fromEnvironment(), u);
    std::unique_ptr<Connection> c(new Connection(std::move(runner)));
    const ChildResult r = c->runner_.tryRun({"version"});
    if (r.exitCode != 0) {
        pdk::Error e = VirshRunner::failure(r, "cannot connect to '" + u + "'");
        // Whatever keeps virsh from connecting, the connection is not there.
        throw pdk::Error(e.status() == PDK_ERR_INTERNAL ? PDK_ERR_UNAVAILABLE : e.status(), e.what());
    }
    const VersionInfo v = parseVersion(r.out);
    c->driver_ = v.driver;
    c->isTestDriver_ = v.driver == "TEST" || v.driver == "Test";
    c->isLocal_ = lx::uriIsLocal(u);
    return c;
}

Connection::Connection(VirshRunner runner) : runner_(std::move(runner)) {}

bool Connection::isAlive() {
    std::unique_lock check(aliveMutex_, std::try_to_lock);
    {
        std::lock_guard lock(aliveStateMutex_);
        const auto now = std::chrono::steady_clock::now();
        // Another thread is checking right now, or a check is fresh: its answer stands.
        if (!check.owns_lock() || (lastAliveCheck_ && now - *lastAliveCheck_ < kAliveInterval)) return lastAlive_;
    }
    bool alive = false;
    try {
        alive = runner_.tryRun({"uri"}, std::nullopt, runner_.settings().aliveTimeout).exitCode == 0;
    } catch (const pdk::Error&) {
        alive = false;
    }
    std::lock_guard lock(aliveStateMutex_);
    lastAlive_ = alive;
    lastAliveCheck_ = std::chrono::steady_clock::now();
    return alive;
}

std::string Connection::autoDomainType() {
    std::lock_guard lock(autoTypeMutex_);
    if (autoType_) return *autoType_;
    std::string type = "qemu";
    if (!isTestDriver_) {
        type = lx::autoQemuDomainType(runner_.run({"capabilities"}, "cannot read host capabilities"), isLocal_);
    }
    autoType_ = type;
    return type;
}

void Connection::hostInfo(uint32_t flags, pdk_host_info& out) {
    pdk::checkFlags(flags, 0);
    const VersionInfo v = parseVersion(runner_.run({"version"}, "cannot read the versions"));
    std::string host;
    if (const auto lines = nonEmptyLines(runner_.run({"hostname"}, "cannot read the hostname")); !lines.empty())
        host = lines.front();
    if (host.empty()) throw pdk::Error(PDK_ERR_INTERNAL, "virsh hostname printed no hostname");
    copyTo(out.hypervisor, sizeof out.hypervisor, v.driver.empty() ? driver_ : v.driver);
    copyTo(out.auto_domain_type, sizeof out.auto_domain_type, autoDomainType());
    copyTo(out.hostname, sizeof out.hostname, host);
    out.library_version = v.libraryVersion;
    out.hypervisor_version = v.hypervisorVersion;
}

void Connection::hostResources(uint32_t flags, pdk_host_resources& out) {
    pdk::checkFlags(flags, 0);
    const auto field = [](const std::string& text, const char* label) -> std::optional<uint64_t> {
        for (const std::string& line : nonEmptyLines(text)) {
            if (line.rfind(label, 0) != 0) continue;
            std::string value = line.substr(std::strlen(label));
            value.erase(0, value.find_first_not_of(" :"));
            return parseUnsigned(value.substr(0, value.find(' ')));
        }
        return std::nullopt;
    };
    const std::string node = runner_.run({"nodeinfo"}, "cannot read the host's CPUs and memory");
    const auto cpus = field(node, "CPU(s):");
    const auto totalKib = field(node, "Memory size:");
    if (!cpus || !totalKib) throw pdk::Error(PDK_ERR_INTERNAL, "virsh nodeinfo printed no CPU(s) or Memory size");
    out.cpus = static_cast<uint32_t>(*cpus);
    out.memory_total_bytes = *totalKib * 1024;
    if (isTestDriver_) {
        out.memory_free_bytes = out.memory_total_bytes;
        return;
    }
    // free + buffers + cached, as the libvirt backend counts; `freecell` where the driver has no stats.
    const ChildResult stats = runner_.tryRun({"nodememstats"});
    if (stats.exitCode == 0) {
        const auto freeKib = field(stats.out, "free");
        if (freeKib) {
            const uint64_t kib = *freeKib + field(stats.out, "buffers").value_or(0) + field(stats.out, "cached").value_or(0);
            out.memory_free_bytes = std::min<uint64_t>(kib * 1024, out.memory_total_bytes);
            return;
        }
    }
    const auto freeKib = field(runner_.run({"freecell"}, "cannot read the host's free memory"), "Total:");
    if (!freeKib) throw pdk::Error(PDK_ERR_INTERNAL, "virsh freecell printed no Total");
    out.memory_free_bytes = *freeKib * 1024;
}

std::string Connection::domainArg(const std::string& name) const {
    checkArg(name, "domain name");
    if (!nameVirshMayMisread(name)) return name;
    const std::string listed = runner_.run({"list", "--all", "--uuid", "--id", "--name"}, "cannot list domains");
    for (const ListedDomain& d : parseUuidIdNameList(listed)) {
        if (d.name == name) return d.uuid;
    }
    throw pdk::Error(PDK_ERR_NOT_FOUND, domainWord(name) + ": no such domain");
}

DomainState Connection::domainState(const std::string& domainArg, const std::string& name) const {
    return parseDomstate(runner_.run({"domstate", "--domain", domainArg, "--reason"}, domainWord(name)));
}

lx::KeyValues Connection::readMetadata(const std::string& domainArg, const std::string& name) const {
    const ChildResult r = runner_.tryRun({"metadata", "--domain", domainArg, "--uri", lx::kMetadataUri});
    if (r.exitCode != 0) {
        pdk::Error e = VirshRunner::failure(r, "cannot read the metadata of " + domainWord(name));
        // No Paddock element stored: no pairs. A missing domain stays an error.
        if (std::string(e.what()).find("metadata not found") != std::string::npos) return {};
        throw e;
    }
    if (nonEmptyLines(r.out).empty()) return {};
    return lx::parseMetadataElement(r.out);
}

void Connection::listDomains(uint32_t flags, pdk_domain_sink sink, void* user) {
    pdk::checkFlags(flags, PDK_LIST_WITH_METADATA);
    std::vector<DomainStats> stats;
    {
        const ChildResult r = runner_.tryRun({"domstats", "--state", "--cpu-total", "--balloon", "--vcpu"});
        if (r.exitCode == 0) {
            stats = parseDomstats(r.out);
        } else if (pdk::Error e = VirshRunner::failure(r, "cannot list domains"); e.status() != PDK_ERR_UNSUPPORTED) {
            throw e;
        }
        // A driver without domain stats: dominfo per domain below.
    }
    const auto listed =
        parseUuidIdNameList(runner_.run({"list", "--all", "--uuid", "--id", "--name"}, "cannot list domains"));
    std::set<std::string> saved;
    for (std::string& n : nonEmptyLines(runner_.run({"list", "--all", "--name", "--with-managed-save"},
                                                    "cannot list domains with a managed save")))
        saved.insert(std::move(n));
    std::map<std::string, const DomainStats*> statsByName;
    for (const DomainStats& s : stats) statsByName[s.name] = &s;

    for (const ListedDomain& d : listed) {
        DomainRecord r;
        r.name = d.name;
        r.uuid = d.uuid;
        r.id = d.id;
        r.managedSave = saved.count(d.name) != 0;
        const auto it = statsByName.find(d.name);
        const bool hasBalloon = it != statsByName.end() && it->second->values.count("balloon.maximum") != 0;
        try {
            const std::string arg = nameVirshMayMisread(d.name) ? d.uuid : d.name;
            if (it != statsByName.end() && hasBalloon) {
                const auto& v = it->second->values;
                r.state = static_cast<pdk_domain_state>(statU64(v, "state.state"));
                if (r.state > PDK_DOMAIN_PMSUSPENDED) r.state = PDK_DOMAIN_NOSTATE;
                r.cpuTimeNs = statU64(v, "cpu.time");
                r.maxMemoryKib = statU64(v, "balloon.maximum");
                r.memoryKib = statU64(v, "balloon.current");
                r.vcpus = static_cast<uint32_t>(statU64(v, "vcpu.current"));
            } else {
                // Drivers without balloon stats (the test driver): one dominfo for this domain.
                fillFromDominfo(parseDominfo(runner_.run({"dominfo", "--domain", arg}, domainWord(d.name))), r);
            }
            if (flags & PDK_LIST_WITH_METADATA) r.metadata = readMetadata(arg, d.name);
        } catch (const pdk::Error& e) {
            // A domain undefined between the listing and this call is simply gone.
            if (e.status() == PDK_ERR_NOT_FOUND) continue;
            throw;
        }
        emitDomain(r, sink, user);
    }
}

void Connection::getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    const DomInfo info = parseDominfo(runner_.run({"dominfo", "--domain", arg}, domainWord(name)));
    DomainRecord r;
    r.name = name;
    fillFromDominfo(info, r);
    r.metadata = readMetadata(arg, name);
    emitDomain(r, sink, user);
}

lx::DomainXmlOptions Connection::xmlOptionsFor(const pdk_domain_spec& spec) {
    const std::string requested = spec.domain_type != nullptr ? spec.domain_type : "auto";
    if (requested != "auto" && requested != "kvm" && requested != "qemu")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain_type must be auto, kvm or qemu, not '" + requested + "'");
    lx::DomainXmlOptions options;
    if (isTestDriver_) {
        // The test driver knows only <domain type='test'> and has no machine types.
        options.domainType = "test";
        options.arch.clear();
        options.machine.clear();
        return options;
    }
    options.domainType = requested == "auto" ? autoDomainType() : requested;
    return options;
}

void Connection::defineDomain(const pdk_domain_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    if (spec.name == nullptr) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain name is required");
    const std::string name = spec.name;
    checkArg(name, "domain name");
    const std::string xml = lx::buildDomainXml(spec, xmlOptionsFor(spec));
    // Checked first because libvirt reports a taken name as a generic "operation failed".
    {
        const ChildResult r = runner_.tryRun({"domuuid", "--domain", domainArg(name)});
        if (r.exitCode == 0) throw pdk::Error(PDK_ERR_ALREADY_EXISTS, domainWord(name) + " already exists");
        if (pdk::Error e = VirshRunner::failure(r, domainWord(name)); e.status() != PDK_ERR_NOT_FOUND) throw e;
    }
    const std::string context = "cannot define " + domainWord(name);
    const ChildResult r = runner_.tryRun({"define", "--file", "/dev/stdin", "--validate"}, xml);
    if (r.exitCode == 0) return;
    pdk::Error e = VirshRunner::failure(r, context);
    if (e.status() != PDK_ERR_UNSUPPORTED) throw e;
    // A driver that cannot validate takes the definition without it.
    runner_.run({"define", "--file", "/dev/stdin"}, context, xml);
}

void Connection::startDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    const DomainState s = domainState(arg, name);
    if (s.state == PDK_DOMAIN_PAUSED) {
        runner_.run({"resume", "--domain", arg}, "cannot resume " + domainWord(name));
        return;
    }
    if (s.state == PDK_DOMAIN_PMSUSPENDED) {
        runner_.run({"dompmwakeup", "--domain", arg}, "cannot wake up " + domainWord(name));
        return;
    }
    if (isActiveState(s.state)) throw pdk::Error(PDK_ERR_CONFLICT, domainWord(name) + " is already running");
    runner_.run({"start", "--domain", arg}, "cannot start " + domainWord(name));
}

void Connection::shutdownDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    // "domain is not running" maps to PDK_ERR_CONFLICT: no separate state check needed.
    runner_.run({"shutdown", "--domain", domainArg(name)}, "cannot shut down " + domainWord(name));
}

void Connection::destroyDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    runner_.run({"destroy", "--domain", domainArg(name)}, "cannot destroy " + domainWord(name));
}

void Connection::saveDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    if (!isActiveState(domainState(arg, name).state))
        throw pdk::Error(PDK_ERR_CONFLICT, domainWord(name) + " is not running");
    runner_.run({"managedsave", "--domain", arg}, "cannot save " + domainWord(name));
}

void Connection::suspendDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    const DomainState s = domainState(arg, name);
    if (s.state == PDK_DOMAIN_PAUSED) return;
    if (!isActiveState(s.state) || s.state == PDK_DOMAIN_PMSUSPENDED)
        throw pdk::Error(PDK_ERR_CONFLICT, domainWord(name) + " is not running");
    runner_.run({"suspend", "--domain", arg}, "cannot suspend " + domainWord(name));
}

void Connection::undefineDomain(const char* name, uint32_t flags) {
    pdk::checkFlags(flags, PDK_UNDEFINE_REMOVE_STORAGE);
    const std::string arg = domainArg(name);
    if (isActiveState(domainState(arg, name).state))
        throw pdk::Error(PDK_ERR_CONFLICT, domainWord(name) + " is running");

    // Resolve every disk to a storage volume before undefining, so a disk that cannot be
    // deleted never leaves a half-removed VM behind.
    std::vector<std::string> volumes;
    if (flags & PDK_UNDEFINE_REMOVE_STORAGE) {
        const std::string xml = runner_.run({"dumpxml", "--domain", arg, "--inactive"},
                                            "cannot read the definition of " + domainWord(name));
        for (const std::string& path : lx::parseDiskPaths(xml)) {
            checkPath(path, "disk path");
            const ChildResult r = runner_.tryRun({"vol-key", "--vol", path});
            if (r.exitCode != 0) {
                pdk::Error e = VirshRunner::failure(r, "volume " + path);
                if (e.status() != PDK_ERR_NOT_FOUND) throw e;
                throw pdk::Error(PDK_ERR_UNSUPPORTED, "cannot remove storage of " + domainWord(name) + ": " + path +
                                                          " is not a libvirt storage volume (nothing was removed)");
            }
            volumes.push_back(path);
        }
    }

    // Drivers without some of these options refuse them ("unsupported flags"); retry with fewer.
    const std::vector<std::vector<std::string>> attempts = {
        {"--managed-save", "--snapshots-metadata", "--nvram", "--checkpoints-metadata"},
        {"--managed-save", "--snapshots-metadata"},
        {}};
    const std::string context = "cannot undefine " + domainWord(name);
    for (size_t i = 0; i < attempts.size(); ++i) {
        std::vector<std::string> args{"undefine", "--domain", arg};
        args.insert(args.end(), attempts[i].begin(), attempts[i].end());
        const ChildResult r = runner_.tryRun(args);
        if (r.exitCode == 0) break;
        pdk::Error e = VirshRunner::failure(r, context);
        if (e.status() != PDK_ERR_UNSUPPORTED || i + 1 == attempts.size()) throw e;
    }
    for (const std::string& path : volumes) {
        runner_.run({"vol-delete", "--vol", path},
                    domainWord(name) + " was undefined but deleting volume " + path + " failed");
    }
}

void Connection::getMetadata(const char* name, uint32_t flags, pdk_kv_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    for (const auto& [k, v] : readMetadata(domainArg(name), name)) sink(user, k.c_str(), v.c_str());
}

void Connection::setMetadata(const char* name, const pdk_kv* pairs, size_t count, uint32_t flags) {
    pdk::checkFlags(flags, PDK_METADATA_LIVE);
    lx::KeyValues kv;
    for (size_t i = 0; i < count; ++i) {
        if (pairs[i].key == nullptr) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata key is NULL");
        kv.emplace_back(pairs[i].key, pairs[i].value != nullptr ? pairs[i].value : "");
    }
    const std::string xml = lx::buildMetadataElement(kv);
    // One argv entry: the kernel refuses a longer one (MAX_ARG_STRLEN).
    if (xml.size() > 120 * 1024) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata is larger than 120 KiB");
    const std::string arg = domainArg(name);
    std::vector<std::string> args{"metadata", "--domain", arg, "--uri", lx::kMetadataUri,
                                  "--key", lx::kMetadataPrefix, "--set", xml, "--config"};
    if ((flags & PDK_METADATA_LIVE) && isActiveState(domainState(arg, name).state)) args.push_back("--live");
    runner_.run(args, "cannot set the metadata of " + domainWord(name));
}

void Connection::sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    for (const auto& [k, v] : readMetadata(arg, name)) {
        if (k != lx::kSshPortKey) continue;
        const auto port = parseUnsigned(v);
        if (!port || *port == 0 || *port > 65535 || v.find(' ') != std::string::npos)
            throw pdk::Error(PDK_ERR_INTERNAL, domainWord(name) + " has a bad ssh_port '" + v + "'");
        copyTo(out.host, sizeof out.host, "127.0.0.1");
        out.port = static_cast<uint16_t>(*port);
        return;
    }
    if (!isActiveState(domainState(arg, name).state))
        throw pdk::Error(PDK_ERR_CONFLICT, domainWord(name) + " is not running");
    // Only the libvirt network's DHCP lease for the domain's own MAC: never the guest agent,
    // whose answers the guest controls (it could steer Paddock's key to another machine).
    const ChildResult r = runner_.tryRun({"domifaddr", "--domain", arg, "--source", "lease"});
    if (r.exitCode == 0) {
        if (const auto ip = parseFirstIpv4(r.out)) {
            copyTo(out.host, sizeof out.host, *ip);
            out.port = 22;
            return;
        }
    } else if (pdk::Error e = VirshRunner::failure(r, domainWord(name)); e.status() == PDK_ERR_UNAVAILABLE) {
        throw e;
    }
    throw pdk::Error(PDK_ERR_NOT_FOUND, "no IPv4 address known yet for " + domainWord(name) +
                                            " (the libvirt network has no DHCP lease for it)");
}

void Connection::guestPing(const char* name, uint32_t timeoutMs, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string arg = domainArg(name);
    const uint32_t seconds = std::max<uint32_t>(1, timeoutMs / 1000 + (timeoutMs % 1000 != 0 ? 1 : 0));
    const ChildResult r = runner_.tryRun(
        {"qemu-agent-command", "--domain", arg, "--timeout", std::to_string(seconds), R"({"execute":"guest-ping"})"},
        std::nullopt, milliseconds(static_cast<int64_t>(seconds) * 1000 + 10000));
    if (r.exitCode == 0) return;
    pdk::Error e = VirshRunner::failure(r, "the guest agent of " + domainWord(name));
    // The agent's silence, however libvirt words it, is "not answering".
    if (e.status() == PDK_ERR_TIMEOUT) throw pdk::Error(PDK_ERR_UNAVAILABLE, e.what());
    throw e;
}

}  // namespace paddock::virsh
