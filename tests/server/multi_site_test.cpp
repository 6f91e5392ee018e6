// Two sites over HTTP: paddockd with sites "a" and "b", each an independent test hypervisor
// (libvirt's test driver on data/site_a.xml and data/site_b.xml: domains "only-a" / "only-b",
// and "twin" on both, 1 vCPU on a and 2 on b). Routes that name a VM without ?site= find it on
// whichever site has it; a name that exists on both sites is the first configured site's.
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace paddock::test;

namespace {

SiteOptions testHost(const std::string& name) {
    SiteOptions site;
    site.name = name;
    site.uri = "test://" + sourceDir() + "/tests/server/data/site_" + name + ".xml";
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    return site;
}

DaemonOptions twoSites() {
    DaemonOptions options;
    options.tokens = {{"ops", "multi-site-token-0123456789", "admin"}};
    options.sites = {testHost("a"), testHost("b")};
    return options;
}

// GET /api/v1/vms[?site=...] as "name@site" -> state.
std::map<std::string, std::string> listing(const PaddockdFixture& d, const std::string& query = {}) {
    const auto doc = d.getJson("/api/v1/vms" + query);
    std::map<std::string, std::string> vms;
    for (const auto& vm : doc["vms"].GetArray()) {
        const std::string key = jsonString(vm["name"]) + "@" + jsonString(vm["site"]);
        INFO(key);
        CHECK(vms.emplace(key, jsonString(vm["state"])).second);  // each VM once
    }
    return vms;
}

// The site that answered GET /api/v1/vms/{name}[?site=...].
std::string siteOf(const PaddockdFixture& d, const std::string& name, const std::string& query = {}) {
    return jsonString(d.getJson("/api/v1/vms/" + name + query)["vm"]["site"]);
}

}  // namespace

TEST_CASE("two sites: /api/v1/sites and /healthz show both", "[server][integration][sites]") {
    PaddockdFixture d(twoSites());
    const auto sites = d.getJson("/api/v1/sites");
    REQUIRE(sites["sites"].Size() == 2);
    CHECK(jsonString(sites["sites"][0]["name"]) == "a");
    CHECK(jsonString(sites["sites"][1]["name"]) == "b");
    CHECK(jsonString(sites["sites"][0]["uri"]) == testHost("a").uri);
    CHECK(jsonString(sites["sites"][1]["uri"]) == testHost("b").uri);
    for (const auto& site : sites["sites"].GetArray()) {
        INFO(jsonString(site["name"]));
        CHECK(site["reachable"].GetBool());
        CHECK(site["host"].IsObject());
    }
    const auto health = d.getJson("/healthz");
    CHECK(jsonString(health["status"]) == "ok");
    REQUIRE(health["sites"].Size() == 2);
    CHECK(jsonString(health["sites"][0]["name"]) == "a");
    CHECK(jsonString(health["sites"][1]["name"]) == "b");
}

TEST_CASE("two sites: listings merge both, ?site= filters", "[server][integration][sites]") {
    PaddockdFixture d(twoSites());
    using Vms = std::map<std::string, std::string>;
    CHECK(listing(d) ==
          Vms{{"only-a@a", "running"}, {"twin@a", "running"}, {"only-b@b", "running"}, {"twin@b", "running"}});
    CHECK(listing(d, "?site=a") == Vms{{"only-a@a", "running"}, {"twin@a", "running"}});
    CHECK(listing(d, "?site=b") == Vms{{"only-b@b", "running"}, {"twin@b", "running"}});
    const auto unknown = d.get("/api/v1/vms?site=c");
    CHECK(unknown.status == 404);
    CHECK(unknown.errorCode() == "not_found");
}

TEST_CASE("two sites: a VM created on site b is found there by name alone", "[server][integration][sites]") {
    PaddockdFixture d(twoSites());
    const auto created = d.post("/api/v1/vms", R"({"name":"made-on-b","site":"b","start":false})");
    INFO(created.body);
    REQUIRE(created.status == 201);
    CHECK(jsonString(created.json()["vm"]["site"]) == "b");
    CHECK(d.post("/api/v1/vms", R"({"name":"made-on-c","site":"c","start":false})").status == 404);

    // Only site b has it.
    CHECK(siteOf(d, "made-on-b") == "b");
    CHECK(siteOf(d, "made-on-b", "?site=b") == "b");
    const auto elsewhere = d.get("/api/v1/vms/made-on-b?site=a");
    CHECK(elsewhere.status == 404);
    CHECK(elsewhere.errorCode() == "not_found");
    CHECK(listing(d, "?site=a").count("made-on-b@a") == 0);
    CHECK(listing(d, "?site=b").at("made-on-b@b") == "shut off");

    // start, stop and delete without ?site= act on site b; with ?site=a they find nothing.
    CHECK(d.post("/api/v1/vms/made-on-b/start?site=a").status == 404);
    const auto started = d.post("/api/v1/vms/made-on-b/start");
    REQUIRE(started.status == 200);
    CHECK(jsonString(started.json()["vm"]["site"]) == "b");
    CHECK(jsonString(started.json()["vm"]["state"]) == "running");
    CHECK(listing(d).at("made-on-b@b") == "running");

    CHECK(d.post("/api/v1/vms/made-on-b/stop?site=a&force=true").status == 404);
    const auto stopped = d.post("/api/v1/vms/made-on-b/stop?force=true");
    REQUIRE(stopped.status == 200);
    CHECK(jsonString(stopped.json()["vm"]["site"]) == "b");
    CHECK(jsonString(stopped.json()["outcome"]) == "forced");
    CHECK(listing(d).at("made-on-b@b") == "shut off");

    CHECK(d.del("/api/v1/vms/made-on-b?site=a").status == 404);
    CHECK(siteOf(d, "made-on-b") == "b");  // still there
    const auto deleted = d.del("/api/v1/vms/made-on-b");
    REQUIRE(deleted.status == 200);
    CHECK(d.get("/api/v1/vms/made-on-b").status == 404);
    CHECK(d.get("/api/v1/vms/made-on-b?site=b").status == 404);
    // Site a was never touched.
    CHECK(listing(d, "?site=a") == std::map<std::string, std::string>{{"only-a@a", "running"}, {"twin@a", "running"}});
}

TEST_CASE("two sites: a name on both sites means the first configured site's VM unless ?site= says",
          "[server][integration][sites]") {
    PaddockdFixture d(twoSites());
    // Lookup goes through the sites in config order: "a" answers for "twin".
    const auto onA = d.getJson("/api/v1/vms/twin");
    CHECK(jsonString(onA["vm"]["site"]) == "a");
    CHECK(onA["vm"]["vcpus"].GetInt() == 1);
    const auto onB = d.getJson("/api/v1/vms/twin?site=b");
    CHECK(jsonString(onB["vm"]["site"]) == "b");
    CHECK(onB["vm"]["vcpus"].GetInt() == 2);
    CHECK(siteOf(d, "only-b") == "b");  // a name only b has is still found

    // Acting by name alone acts on a's twin and leaves b's alone.
    const auto stopped = d.post("/api/v1/vms/twin/stop?force=true");
    REQUIRE(stopped.status == 200);
    CHECK(jsonString(stopped.json()["vm"]["site"]) == "a");
    CHECK(listing(d).at("twin@a") == "shut off");
    CHECK(listing(d).at("twin@b") == "running");

    // Once a's twin is gone, the name means b's.
    REQUIRE(d.del("/api/v1/vms/twin").status == 200);
    CHECK(d.get("/api/v1/vms/twin?site=a").status == 404);
    CHECK(siteOf(d, "twin") == "b");
    CHECK(listing(d).at("twin@b") == "running");
}

TEST_CASE("sites whose hypervisor driver is missing are unavailable with the reason; the others work",
          "[server][integration][sites]") {
    // Debian's libvirt has no Hyper-V driver and this host runs no Xen: both sites fail to open
    // with the plugin's reason, and site "a" keeps working.
    DaemonOptions options = twoSites();
    SiteOptions xen;
    xen.name = "xen";
    xen.backend = "org.paddock.libvirt-xen";
    xen.uri = "xen:///system";
    xen.extra_yaml = "    domain_type: xen\n";
    SiteOptions hyperv;
    hyperv.name = "hv";
    hyperv.backend = "org.paddock.libvirt-hyperv";
    hyperv.uri = "hyperv://localhost/?transport=http";
    hyperv.extra_yaml = "    domain_type: hyperv\n    poll_interval_s: 2.5\n";
    options.sites = {testHost("a"), xen, hyperv};
    PaddockdFixture d(options);

    const auto doc = d.getJson("/api/v1/sites");
    REQUIRE(doc["sites"].Size() == 3);
    const auto& a = doc["sites"][0];
    CHECK(jsonString(a["state"]) == "connected");
    CHECK(a["reason"].IsNull());
    CHECK(jsonString(a["events"]) == "push");
    CHECK(jsonString(a["hypervisor"]["type"]) == "TEST");
    CHECK(a["capabilities"].IsArray());
    CHECK(a["capabilities"].Size() > 0);
    const std::pair<int, const char*> unavailable[] = {{1, "libvirt on this host has no xen driver"},
                                                       {2, "libvirt on this host has no hyperv driver"}};
    for (const auto& [index, reason] : unavailable) {
        const auto& site = doc["sites"][index];
        INFO(jsonString(site["name"]));
        CHECK(jsonString(site["state"]) == "unavailable");
        CHECK_FALSE(site["reachable"].GetBool());
        CHECK_THAT(jsonString(site["reason"]), Catch::Contains(reason));
        CHECK(site["hypervisor"].IsNull());
        CHECK(site["events"].IsNull());
        CHECK(site["capabilities"].IsArray());  // the plugin's, even while its site is down
    }
    CHECK(jsonString(doc["sites"][1]["backend"]) == "org.paddock.libvirt-xen");
    CHECK(jsonString(doc["sites"][1]["domain_type"]) == "xen");
    CHECK(doc["sites"][2]["poll_interval_s"].GetDouble() == 2.5);

    // The hyperv plugin has no snapshots: its descriptor says so wherever the site is.
    bool hypervSnapshots = false;
    for (const auto& op : doc["sites"][2]["operations"].GetArray())
        hypervSnapshots = hypervSnapshots || jsonString(op).rfind("snapshot", 0) == 0;
    CHECK_FALSE(hypervSnapshots);

    // Site a: listing and a create work; the down sites answer 503 with the reason.
    CHECK(d.get("/api/v1/vms?site=a").status == 200);
    const auto created = d.post("/api/v1/vms", R"({"name":"beside-down","site":"a","start":false})");
    CHECK(created.status == 201);
    const auto onXen = d.post("/api/v1/vms", R"({"name":"on-xen","site":"xen","start":false})");
    CHECK(onXen.status == 503);
    CHECK_THAT(onXen.body, Catch::Contains("no xen driver"));
    const auto onHyperv = d.get("/api/v1/vms?site=hv");
    CHECK(onHyperv.status == 503);
    const auto health = d.getJson("/healthz", 503);
    CHECK(jsonString(health["status"]) == "degraded");

    // Every loaded plugin of every kind is listed.
    const auto plugins = d.getJson("/api/v1/plugins");
    std::map<std::string, std::string> kinds;
    for (const auto& p : plugins["plugins"].GetArray()) kinds[jsonString(p["id"])] = jsonString(p["kind"]);
    CHECK(kinds["org.paddock.libvirt-qemu"] == "backend");
    CHECK(kinds["org.paddock.libvirt-xen"] == "backend");
    CHECK(kinds["org.paddock.libvirt-hyperv"] == "backend");
    CHECK(kinds["org.paddock.virsh"] == "backend");
    CHECK(kinds["org.paddock.asciinema"] == "recorder");
    CHECK(kinds["org.paddock.ansible"] == "provisioner");

    // The startup log says what the hyperv site cannot do although it is configured.
    CHECK_THAT(d.log(), Catch::Contains("site 'hv': backend org.paddock.libvirt-hyperv keeps no metadata"));
}

TEST_CASE("a configuration asking a backend for what it lacks stops startup, naming the key",
          "[server][integration][sites]") {
    // Each feature needs vtable entries: a base image overlays (create_overlay), a watch reverts
    // (snapshot_revert), snapshot_on_stop snapshots, a saved pool saves. libvirt-hyperv has none
    // of them and libvirt-xen no snapshots; both are refused before anything is opened.
    struct Case {
        std::string backend, uri, domainType;
        TemplateOptions tmpl;
        std::string pools;
        std::string expected;
    };
    TemplateOptions disk{.name = "disk", .base_image = "/srv/images/base.vhdx"};
    TemplateOptions watched{.name = "exhibit", .watch = "{}"};
    TemplateOptions stopSnap{.name = "lab", .snapshot_on_stop = true};
    TemplateOptions plain{.name = "plain"};
    const Case cases[] = {
        {"org.paddock.libvirt-hyperv", "hyperv://localhost/", "hyperv", disk, "",
         "sites[1].templates[0].base_image: backend org.paddock.libvirt-hyperv has no create_overlay"},
        {"org.paddock.libvirt-xen", "xen:///system", "xen", watched, "",
         "sites[1].templates[0].watch: backend org.paddock.libvirt-xen has no snapshot_revert"},
        {"org.paddock.libvirt-xen", "xen:///system", "xen", stopSnap, "",
         "sites[1].templates[0].snapshot_on_stop: backend org.paddock.libvirt-xen has no snapshot_create"},
        {"org.paddock.libvirt-hyperv", "hyperv://localhost/", "hyperv", plain,
         "    pools:\n      - {name: hv-pool, template: plain, mode: saved}\n",
         "sites[1].pools[0].mode: backend org.paddock.libvirt-hyperv has no save_domain"},
    };
    for (const Case& c : cases) {
        INFO(c.expected);
        DaemonOptions options = twoSites();
        SiteOptions other;
        other.name = "other";
        other.backend = c.backend;
        other.uri = c.uri;
        other.templates = {c.tmpl};
        other.extra_yaml = "    domain_type: " + c.domainType + "\n" + c.pools;
        options.sites = {testHost("a"), other};
        options.start = false;
        PaddockdFixture d(options);
        std::string output;
        CHECK(d.runOnce(output) != 0);
        CHECK_THAT(output, Catch::Contains(c.expected));
    }
}
