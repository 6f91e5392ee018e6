// Two real sites on one machine (issue 16): "a" is qemu:///system, "b" a second hypervisor host
// reached as Paddock reaches a remote one, through libvirt's SSH transport (qemu+libssh2://) to a
// private sshd on 127.0.0.1 as another local user, whose own libvirt session daemon runs the
// guests (RemoteHostFixture), with its own storage pools and user-mode forwards on that host.
// Creates without a site spread over both; the real guest (PADDOCK_GUEST_* from run_e2e.sh)
// boots on b, becomes SSH-ready and its browser terminal runs a command. Then b's sshd goes away
// with its connections: a keeps answering (listing, creates, placement skips b), b is reported
// unavailable and its routes answer 503; sshd comes back and paddockd reconnects by itself, b's
// VMs in its listing again. Last, b's libvirt daemon is killed: paddockd reconnects (the SSH
// side starts a new daemon) and the guest, which ran on, is there. VMs that are not the point are
// kernel-only and never started. Deadlines are generous and only bound waits (no timed checks).
// Two more cases: the libssh transport connects too, and a host whose key differs from the pinned
// one or is not in the known_hosts file at all is refused (never taken on trust), also with
// qemu+ssh:// (ssh(1) and the known_hosts of paddockd's user); a pool of real guests spanning both
// sites keeps its lease on b through b's loss (unavailable meanwhile, refilled on a) and has it
// back with b.
#include "paddockd_site.hpp"
#include "remote_host_fixture.hpp"
#include "terminal_client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint16_t kPortsA = 24500;  // site a's SSH forwards: kPortsA..kPortsA+99
constexpr uint16_t kPortsB = 24600;  // site b's: kPortsB..kPortsB+99
constexpr auto kSiteDeadline = std::chrono::seconds(120);

// Site a on qemu:///system and site b on `remote`, both with user-mode networking and templates
// "tiny" (kernel only, 64 MiB: for VMs that are never started) and "debian" (the real guest; on b
// its files are volumes of the remote host's base pool, as a real remote host holds them).
DaemonOptions twoSites(RemoteHostFixture& remote) {
    const TemplateOptions debianA{.name = "debian",
                                  .base_image = guestEnv("PADDOCK_GUEST_IMAGE"),
                                  .kernel = guestEnv("PADDOCK_GUEST_KERNEL"),
                                  .initrd = guestEnv("PADDOCK_GUEST_INITRD"),
                                  .cmdline = guestEnv("PADDOCK_GUEST_CMDLINE"),
                                  .memory_mb = 512};
    TemplateOptions debianB = debianA;
    debianB.base_image = remote.provide(debianA.base_image);
    debianB.kernel = remote.provide(debianA.kernel);
    debianB.initrd = remote.provide(debianA.initrd);

    auto options = systemOptions();
    SiteOptions& a = options.sites.front();
    a.name = "a";
    a.network_mode = "user";
    a.ssh_port_min = kPortsA;
    a.ssh_port_max = kPortsA + 99;
    a.stop_timeout_s = 10;
    a.ready_timeout_s = 300;
    a.templates = {{.name = "tiny", .kernel = debianA.kernel, .memory_mb = 64}, debianA};
    SiteOptions b;
    b.name = "b";
    // Paddock's key for the host and the host's pinned key: paddockd adds them to the URI
    // (keyfile=, known_hosts=, sshauth=privkey). The guests' forwards listen on that host's
    // loopback, which is this machine's.
    b.uri = remote.uri("libssh2");
    b.extra_yaml = "    ssh_key: \"" + remote.sshKey() + "\"\n    known_hosts: \"" + remote.knownHosts() +
                   "\"\n    guest_ssh_host: 127.0.0.1\n    ssh_forward_address: 127.0.0.1\n";
    b.storage_pool = remote.overlayPool();
    b.network_mode = "user";
    b.ssh_port_min = kPortsB;
    b.ssh_port_max = kPortsB + 99;
    b.stop_timeout_s = 10;
    b.ready_timeout_s = 300;
    b.templates = {{.name = "tiny", .kernel = debianB.kernel, .memory_mb = 64}, debianB};
    options.sites.push_back(b);
    return options;
}

// The state of site `name` in GET /api/v1/sites ("" when not listed or not answered).
std::string siteState(const PaddockdFixture& paddockd, const std::string& name) {
    const auto reply = paddockd.call("GET", "/api/v1/sites");
    if (reply.status != 200) return {};
    const auto doc = reply.json();
    for (const auto& site : doc["sites"].GetArray())
        if (jsonString(site["name"]) == name) return jsonString(site["state"]);
    return {};
}

// Names of the VMs GET /api/v1/vms?site=<site> lists (REQUIREs 200).
std::vector<std::string> vmsOn(const PaddockdFixture& paddockd, const std::string& site) {
    const auto reply = paddockd.call("GET", "/api/v1/vms?site=" + site);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    std::vector<std::string> names;
    const auto doc = reply.json();
    for (const auto& vm : doc["vms"].GetArray()) names.push_back(jsonString(vm["name"]));
    return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// An answer about site b while its host is lost: 503 `unavailable`, naming the site.
void checkUnavailableOnB(const HttpReply& reply) {
    INFO(reply.status << " " << reply.body);
    CHECK(reply.status == 503);
    CHECK(reply.errorCode() == "unavailable");
    CHECK_THAT(reply.body, Catch::Contains("site 'b'"));
}

// Opens the VM's browser terminal (one-time ticket, the native WebSocket) and runs a command
// whose output differs from its typed echo.
void checkTerminal(const PaddockdFixture& paddockd, const std::string& vm) {
    const auto console = paddockd.call("POST", "/api/v1/vms/" + vm + "/console");
    INFO(console.body);
    REQUIRE(console.status == 201);
    TerminalClient term(
        paddockd.openWebSocket("/api/v1/vms/" + vm + "/terminal?ticket=" + jsonString(console.json()["ticket"])));
    const auto opened = term.nextControl(std::chrono::seconds(60));
    REQUIRE(opened.has_value());
    CHECK_THAT(*opened, Catch::Contains("\"session\""));
    term.type("echo remote-$(id -un) | tr a-z A-Z\n");
    CHECK(term.waitFor("REMOTE-STUDENT", std::chrono::seconds(60)));
    term.type("exit\n");
    CHECK(term.waitClosed(std::chrono::seconds(30)));
}

}  // namespace

TEST_CASE(
    "a remote site over libvirt's SSH transport: placement, a real guest and its terminal, the host lost and back",
    "[e2e][sites][remote]") {
    requireLibvirt("qemu:///system");
    const auto total = Clock::now();
    const std::string prefix = "pdk-rs-" + std::to_string(::getpid()) + "-";
    DomainSweeper sweeper{prefix};     // site a's leftovers, after paddockd stopped
    RemoteHostFixture remote(prefix);  // site b's, likewise
    REQUIRE(remote.virsh("uri") == "qemu:///session\n");

    PaddockdFixture paddockd(twoSites(remote));

    // Both sites connected; b is the remote QEMU.
    {
        const auto doc = paddockd.getJson("/api/v1/sites");
        REQUIRE(doc["sites"].Size() == 2);
        const auto& siteB = doc["sites"][1];
        CHECK(jsonString(doc["sites"][0]["state"]) == "connected");
        CHECK(jsonString(siteB["name"]) == "b");
        CHECK(jsonString(siteB["state"]) == "connected");
        CHECK(jsonString(siteB["hypervisor"]["type"]) == "QEMU");
        CHECK_THAT(jsonString(siteB["uri"]), Catch::StartsWith("qemu+libssh2://"));
    }

    // Creates without a site spread over both (policy spread, the default: the site with fewer
    // VMs). Other tests' VMs on qemu:///system count for a too: enough creates to even them out
    // and then land on each site.
    const auto onA = vmsOn(paddockd, "a").size();
    const auto onB = vmsOn(paddockd, "b").size();
    const size_t creates = 2 + (onA > onB ? onA - onB : onB - onA);
    std::map<std::string, std::vector<std::string>> placed;
    for (size_t i = 0; i < creates; ++i) {
        const std::string name = prefix + "spread-" + std::to_string(i);
        const auto created =
            paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","template":"tiny","start":false})");
        INFO(created.body);
        REQUIRE(created.status == 201);
        const auto doc = created.json();
        CHECK(jsonString(doc["placement"]["policy"]) == "spread");
        placed[jsonString(doc["placement"]["site"])].push_back(name);
    }
    INFO(onA << " VMs on a and " << onB << " on b before");
    CHECK(placed["a"].size() >= 1);
    CHECK(placed["b"].size() >= 1);
    // Those on b live in the other user's session daemon, reached over SSH.
    for (const auto& name : placed["b"]) CHECK(contains(remote.domains(), name));

    // A real guest on b: its overlay in b's pool, SSH-ready, the browser terminal works.
    const std::string guest = prefix + "guest";
    auto t0 = Clock::now();
    const auto created =
        paddockd.call("POST", "/api/v1/vms", R"({"name":")" + guest + R"(","template":"debian","site":"b"})");
    {
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    CHECK(jsonString(created.json()["vm"]["disk"]) == remote.home() + "/pool/" + guest + ".qcow2");
    const auto ready = waitReady(paddockd, guest, 300);
    const double createToReady = secondsSince(t0);
    CHECK(jsonString(ready["vm"]["ssh"]["host"]) == "127.0.0.1");
    CHECK(ready["vm"]["ssh"]["port"].GetUint() >= kPortsB);
    CHECK(ready["vm"]["ssh"]["port"].GetUint() <= kPortsB + 99u);
    CHECK_THAT(remote.virsh("domstate " + guest), Catch::StartsWith("running"));
    t0 = Clock::now();
    checkTerminal(paddockd, guest);
    const double terminal = secondsSince(t0);

    // b's host is lost: sshd and its sessions end (the host's libvirt and the guest live on).
    remote.stopSshd();
    t0 = Clock::now();
    REQUIRE(eventually([&] { return siteState(paddockd, "b") == "unavailable"; }, kSiteDeadline,
                       std::chrono::milliseconds(100)));
    const double lost = secondsSince(t0);
    {
        CHECK(siteState(paddockd, "a") == "connected");
        for (const auto& name : placed["a"]) CHECK(contains(vmsOn(paddockd, "a"), name));
        const auto createdOnA =
            paddockd.call("POST", "/api/v1/vms", R"({"name":")" + prefix + R"(during","site":"a","start":false})");
        CHECK(createdOnA.status == 201);
        // Placement skips the lost site.
        const auto placedNow = paddockd.call("POST", "/api/v1/vms",
                                             R"({"name":")" + prefix + R"(placed","template":"tiny","start":false})");
        INFO(placedNow.body);
        REQUIRE(placedNow.status == 201);
        CHECK(jsonString(placedNow.json()["placement"]["site"]) == "a");
        checkUnavailableOnB(paddockd.call("GET", "/api/v1/vms?site=b"));
        checkUnavailableOnB(paddockd.call("GET", "/api/v1/vms/" + guest + "?site=b"));
        checkUnavailableOnB(paddockd.call("POST", "/api/v1/vms/" + guest + "/stop?site=b"));
        checkUnavailableOnB(
            paddockd.call("POST", "/api/v1/vms", R"({"name":")" + prefix + R"(on-b","site":"b","start":false})"));
        CHECK_THAT(remote.virsh("domstate " + guest), Catch::StartsWith("running"));
    }

    // sshd is back: paddockd reconnects by itself (backoff at most 30 s) and lists b's VMs again.
    remote.startSshd();
    t0 = Clock::now();
    REQUIRE(eventually([&] { return siteState(paddockd, "b") == "connected"; }, kSiteDeadline,
                       std::chrono::milliseconds(100)));
    const double back = secondsSince(t0);
    {
        const auto onB = vmsOn(paddockd, "b");
        CHECK(contains(onB, guest));
        for (const auto& name : placed["b"]) CHECK(contains(onB, name));
        const auto merged = paddockd.call("GET", "/api/v1/vms");
        CHECK(merged.status == 200);
        const auto vm = paddockd.getJson("/api/v1/vms/" + guest);
        CHECK(jsonString(vm["vm"]["site"]) == "b");
        CHECK(jsonString(vm["vm"]["state"]) == "running");
    }

    // b's libvirt daemon dies: the SSH side starts a new one at paddockd's reconnect, which takes
    // the running guest back.
    const pid_t daemon = remote.daemonPid();
    REQUIRE(daemon > 0);
    remote.killDaemon();
    t0 = Clock::now();
    REQUIRE(eventually(
        [&] {
            const pid_t now = remote.daemonPid();
            if (now <= 0 || now == daemon || siteState(paddockd, "b") != "connected") return false;
            const auto vm = paddockd.call("GET", "/api/v1/vms/" + guest + "?site=b");
            return vm.status == 200 && jsonString(vm.json()["vm"]["state"]) == "running";
        },
        kSiteDeadline, std::chrono::milliseconds(100)));
    const double newDaemon = secondsSince(t0);
    checkTerminal(paddockd, guest);

    // Deleting through paddockd removes b's domains and overlays on the remote host.
    for (const auto& name : vmsOn(paddockd, "b")) {
        if (name.rfind(prefix, 0) != 0) continue;
        const auto deleted = paddockd.call("DELETE", "/api/v1/vms/" + name + "?site=b");
        INFO(name << ": " << deleted.body);
        CHECK(deleted.status == 200);
    }
    CHECK(remote.domains().empty());
    CHECK(remote.volumes().empty());

    std::printf(
        "remote_site: b create->ready %.1f s, terminal %.1f s, b lost after %.1f s, back %.1f s after sshd, "
        "%.1f s after its libvirtd was killed; test wall time %.1f s\n",
        createToReady, terminal, lost, back, newDaemon, secondsSince(total));
    std::fflush(stdout);
}

TEST_CASE("a remote site: the libssh transport too, and a host whose key is not the pinned one is refused",
          "[e2e][sites][remote]") {
    requireLibvirt("qemu:///system");
    const std::string prefix = "pdk-rs-keys-" + std::to_string(::getpid()) + "-";
    RemoteHostFixture remote(prefix);
    TempDir dir;
    // Another key for the same "[127.0.0.1]:<port>" (a man in the middle's), and a file that
    // names another host only (paddockd refuses an empty one at startup).
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + dir.file("other") + " >/dev/null").c_str()) == 0);
    const std::string otherPub = readFile(dir.file("other.pub"));
    const std::string otherKey = otherPub.substr(0, otherPub.find(' ', otherPub.find(' ') + 1));  // "type base64"
    writeFile(dir.file("wrong"), "[127.0.0.1]:" + std::to_string(remote.sshPort()) + " " + otherKey + "\n");
    const std::string elsewhere = "[192.0.2.1]:22 " + otherKey + "\n";
    writeFile(dir.file("elsewhere"), elsewhere);
    const auto site = [&](const std::string& name, const std::string& transport, const std::string& knownHosts) {
        SiteOptions s;
        s.name = name;
        s.uri = remote.uri(transport);
        s.storage_pool = remote.overlayPool();
        s.extra_yaml = "    ssh_key: \"" + remote.sshKey() + "\"\n";
        if (!knownHosts.empty()) s.extra_yaml += "    known_hosts: \"" + knownHosts + "\"\n";
        return s;
    };
    DaemonOptions options;
    options.tokens = {{"e2e", "integration-token-0123456789", "admin"}};
    options.sites = {site("libssh", "libssh", remote.knownHosts()), site("wrong", "libssh2", dir.file("wrong")),
                     site("unknown", "libssh2", dir.file("elsewhere")),
                     site("unknown-libssh", "libssh", dir.file("elsewhere")),
                     // ssh(1) checks the known_hosts of paddockd's user, where this host is not.
                     site("openssh", "ssh", "")};
    PaddockdFixture paddockd(options);

    std::map<std::string, std::pair<std::string, std::string>> states;  // name -> state, reason
    REQUIRE(eventually(
        [&] {
            const auto doc = paddockd.getJson("/api/v1/sites");
            states.clear();
            for (const auto& s : doc["sites"].GetArray())
                states[jsonString(s["name"])] = {jsonString(s["state"]),
                                                 s["reason"].IsString() ? jsonString(s["reason"]) : ""};
            // Every refused site has had its first attempt (its reason names libvirt's answer).
            return states["libssh"].first == "connected" &&
                   states["wrong"].second.find("cannot connect") != std::string::npos &&
                   states["unknown"].second.find("cannot connect") != std::string::npos &&
                   states["unknown-libssh"].second.find("cannot connect") != std::string::npos &&
                   states["openssh"].second.find("cannot connect") != std::string::npos;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(200)));
    std::string seen;
    for (const auto& [name, state] : states) seen += name + ": " + state.first + " " + state.second + "\n";
    INFO(seen);
    CHECK(states["libssh"].first == "connected");
    CHECK(states["wrong"].first == "unavailable");
    CHECK_THAT(states["wrong"].second, Catch::Contains("HOST KEY VERIFICATION FAILED"));
    // A host that is not in the file is not taken on trust, and the file stays as it was.
    CHECK(states["unknown"].first == "unavailable");
    CHECK_THAT(states["unknown"].second, Catch::Contains("verify the session host key"));
    CHECK(states["unknown-libssh"].first == "unavailable");
    CHECK_THAT(states["unknown-libssh"].second, Catch::Contains("verify the session host key"));
    CHECK(states["openssh"].first == "unavailable");
    CHECK_THAT(states["openssh"].second, Catch::Contains("Host key verification failed"));
    CHECK(readFile(dir.file("elsewhere")) == elsewhere);
    CHECK(commandOutput("ssh-keygen -F '[127.0.0.1]:" + std::to_string(remote.sshPort()) + "' 2>/dev/null")
              .empty());  // nor learnt by ssh(1)
    CHECK(paddockd.getJson("/api/v1/vms?site=libssh")["vms"].IsArray());
}

TEST_CASE("a pool of real guests spanning the local and the remote site: b lost, leases there kept, refilled on a",
          "[e2e][sites][remote][pool]") {
    requireLibvirt("qemu:///system");
    const auto total = Clock::now();
    const std::string prefix = "pdk-rs-" + std::to_string(::getpid()) + "-span";
    DomainSweeper sweeper{prefix};
    RemoteHostFixture remote(prefix);
    auto options = twoSites(remote);
    options.extra_yaml = "pools:\n  - {name: " + prefix +
                         ", template: debian, sites: [a, b], mode: running, min_idle: 2, max_total: 4}\n";
    PaddockdFixture paddockd(options);
    const std::string poolPath = "/api/v1/pools/" + prefix;

    // The pool's idle VMs per site, once none boots ({} while the pool is not recovered).
    const auto idleAt = [&] {
        std::map<std::string, unsigned> idle;
        const auto doc = paddockd.getJson(poolPath);
        if (!doc["recovered"].GetBool() || doc["booting"].GetUint() != 0) return idle;
        for (const auto& m : doc["members"].GetArray())
            if (m["connected"].GetBool()) idle[jsonString(m["site"])] = m["idle"].GetUint();
        return idle;
    };
    const auto settles = [&](const std::function<bool()>& condition) {
        const bool settled = eventually(condition, std::chrono::seconds(300), std::chrono::milliseconds(250));
        if (!settled) UNSCOPED_INFO("pool: " << paddockd.get(poolPath).body);
        return settled;
    };
    const auto leaseState = [&](const std::string& id) {
        return jsonString(paddockd.getJson("/api/v1/leases/" + id)["state"]);
    };

    // spread: one idle guest on each site.
    auto t0 = Clock::now();
    REQUIRE(settles([&] {
        auto idle = idleAt();
        return idle["a"] == 1 && idle["b"] == 1;
    }));
    const double fill = secondsSince(t0);

    // Two allocations at once: spread hands out the site with more idle VMs, on a tie the one with
    // fewer handed out, then the first; so the first takes a's guest and the second b's.
    std::map<std::string, std::string> leaseAt;  // site -> lease id
    for (int i = 0; i < 2; ++i) {
        const auto reply =
            paddockd.call("POST", poolPath + "/allocate", R"({"owner":"student-)" + std::to_string(i) + R"("})");
        INFO(reply.body);
        REQUIRE(reply.status == 200);
        const auto lease = reply.json();
        leaseAt[jsonString(lease["site"])] = jsonString(lease["id"]);
    }
    REQUIRE(leaseAt.count("b") == 1);
    const std::string onB = leaseAt["b"];
    // Both refilled (a pool's refills start once its allocations are done).
    REQUIRE(settles([&] {
        auto idle = idleAt();
        return idle["a"] == 1 && idle["b"] == 1;
    }));

    // b lost: its lease is kept and reported unavailable, a refills the pool to min_idle alone.
    remote.stopSshd();
    REQUIRE(eventually([&] { return siteState(paddockd, "b") == "unavailable"; }, kSiteDeadline,
                       std::chrono::milliseconds(100)));
    CHECK(leaseState(onB) == "unavailable");
    t0 = Clock::now();
    REQUIRE(settles([&] {
        auto idle = idleAt();
        return idle.count("b") == 0 && idle["a"] == 2;
    }));
    const double refillOnA = secondsSince(t0);
    CHECK(remote.domains().size() >= 2);  // b's guests run on meanwhile: its lease's and its idle one

    // b back: reconnected by itself, the lease active again and its guest's terminal works.
    remote.startSshd();
    REQUIRE(eventually([&] { return siteState(paddockd, "b") == "connected"; }, kSiteDeadline,
                       std::chrono::milliseconds(100)));
    REQUIRE(eventually([&] { return leaseState(onB) == "active"; }, std::chrono::seconds(60)));
    checkTerminal(paddockd, jsonString(paddockd.getJson("/api/v1/leases/" + onB)["vm"]));
    // The surplus over min_idle is taken back: 2 idle in all.
    REQUIRE(settles([&] {
        auto idle = idleAt();
        return idle.count("b") == 1 && idle["a"] + idle["b"] == 2;
    }));

    for (const auto& [site, id] : leaseAt) {
        INFO(site << " " << id);
        CHECK(paddockd.call("DELETE", "/api/v1/leases/" + id).status == 200);
    }
    std::printf(
        "remote_site pool: 1 idle guest on each site in %.1f s, refilled on a after b was lost in %.1f s; "
        "test wall time %.1f s\n",
        fill, refillOnA, secondsSince(total));
    std::fflush(stdout);
}
