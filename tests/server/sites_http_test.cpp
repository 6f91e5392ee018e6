// GET /api/v1/sites/{name}: one site's status with its host's resources, its capacity, labels,
// templates (usable there or why not) and pools; placement passes over a site whose template's
// base image is missing there. Two test hypervisors from node XMLs in the test's temp dir; the
// base image is a file on this machine for site "a" and a path that does not exist for "b".
#include "paddockd_fixture.hpp"
#include "test_hosts.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace paddock::test;
using Catch::Matchers::Contains;

namespace {


const std::string kAdmin = "sites-http-admin-0123456789";
const std::string kViewer = "sites-http-viewer-0123456789";
const std::string kKiosk = "sites-http-kiosk-0123456789";

// The head of a qcow2 image of 1 GiB: magic, version 3, the virtual size at offset 24 (all the
// test driver's overlay and Paddock's file check read).
std::string qcow2Head() {
    std::string head("QFI\xfb\0\0\0\x03", 8);
    head.resize(24, '\0');
    const uint64_t size = 1ull << 30;
    for (int shift = 56; shift >= 0; shift -= 8) head.push_back(static_cast<char>((size >> shift) & 0xff));
    head.resize(512, '\0');
    return head;
}

DaemonOptions twoSites(const TempDir& dir) {
    writeFile(dir.file("base.qcow2"), qcow2Head());
    DaemonOptions options;
    options.tokens = {{"ops", kAdmin, "admin"}, {"look", kViewer, "viewer"}, {"kiosk", kKiosk, "operator", "carol"}};
    options.sites.clear();
    for (const std::string name : {"a", "b"}) {
        SiteOptions site;
        site.name = name;
        site.uri = emptyTestHost(dir, name);
        site.storage_pool = "default-pool";
        site.stop_timeout_s = 5;
        site.templates = {{.name = "t",
                           .base_image = name == "a" ? dir.file("base.qcow2") : dir.file("missing/base.qcow2"),
                           .memory_mb = 256}};
        site.extra_yaml = name == "a" ? "    max_vms: 10\n    labels:\n      room: r101\n" : "";
        options.sites.push_back(site);
    }
    options.extra_yaml = "placement:\n  policy: spread\n";
    return options;
}

}  // namespace

TEST_CASE("sites: one site's resources, capacity and templates; placement skips a missing base image",
          "[server][integration][sites]") {
    TempDir dir;
    PaddockdFixture d(twoSites(dir));

    const auto a = d.getJson("/api/v1/sites/a");
    CHECK(jsonString(a["name"]) == "a");
    CHECK(jsonString(a["state"]) == "connected");
    // libvirt's test driver: 16 CPUs and 3 GiB, all of it free (its own free figure is in the wrong unit).
    REQUIRE(a["resources"].IsObject());
    CHECK(a["resources"]["cpus"].GetInt() == 16);
    CHECK(a["resources"]["memory_total_mb"].GetInt() == 3072);
    CHECK(a["resources"]["memory_free_mb"].GetInt() == 3072);
    CHECK_THAT(jsonString(a["resources"]["checked_at"]), Contains("T"));
    REQUIRE(a["templates"].Size() == 1);
    CHECK(jsonString(a["templates"][0]["name"]) == "t");
    CHECK(a["templates"][0]["usable"].GetBool());
    CHECK(a["templates"][0]["reason"].IsNull());
    CHECK(jsonString(a["templates"][0]["base_image"]) == dir.file("base.qcow2"));
    CHECK(a["templates"][0]["memory_mb"].GetInt() == 256);
    CHECK(a["templates"][0]["vcpus"].GetInt() == 1);
    CHECK(jsonString(a["labels"]["room"]) == "r101");
    CHECK(a["capacity"]["max_vms"].GetInt() == 10);
    CHECK(a["capacity"]["max_memory_mb"].IsNull());
    CHECK(a["capacity"]["vms"].GetInt() == 0);
    CHECK(a["pools"].IsArray());

    const auto b = d.getJson("/api/v1/sites/b");
    REQUIRE(b["templates"].Size() == 1);
    CHECK_FALSE(b["templates"][0]["usable"].GetBool());
    const std::string why = jsonString(b["templates"][0]["reason"]);
    CHECK_THAT(why, Contains("base image " + dir.file("missing/base.qcow2")) && Contains("no storage pool holds it"));
    CHECK(b["labels"].ObjectEmpty());
    CHECK(b["capacity"]["max_vms"].IsNull());

    // The listing carries the resources too (the names of the templates only, as before).
    const auto listing = d.getJson("/api/v1/sites");
    REQUIRE(listing["sites"].Size() == 2);
    CHECK(listing["sites"][0]["resources"]["memory_free_mb"].GetInt() == 3072);
    CHECK(jsonString(listing["sites"][1]["templates"][0]) == "t");

    // Spread would alternate; "b" cannot make the template, so every create lands on "a".
    for (int i = 0; i < 3; ++i) {
        const auto reply = d.post("/api/v1/vms", R"({"name":"s)" + std::to_string(i) + R"(","template":"t","start":false})");
        INFO(reply.body);
        REQUIRE(reply.status == 201);
        const auto doc = reply.json();
        CHECK(jsonString(doc["vm"]["site"]) == "a");
        CHECK_THAT(jsonString(doc["placement"]["reason"]), Contains("skipped b: template 't' unusable here"));
    }
    CHECK(d.getJson("/api/v1/sites/a")["capacity"]["vms"].GetInt() == 3);
    CHECK(d.getJson("/api/v1/sites/a")["capacity"]["memory_mb"].GetInt() == 768);
    // Named, the site is the client's choice and is not checked for files: the create goes to the
    // hypervisor (libvirt's test driver takes imaginary base images; a real one refuses them).
    const auto named = d.post("/api/v1/vms", R"({"name":"on-b","template":"t","site":"b","start":false})");
    INFO(named.body);
    CHECK(named.status == 201);
}

TEST_CASE("sites: GET /api/v1/sites/{name} refuses hostile names and other roles as the listing does",
          "[server][integration][sites]") {
    TempDir dir;
    PaddockdFixture d(twoSites(dir));
    const auto as = [&](const std::string& token, const std::string& method, const std::string& path) {
        return d.call(method, path, std::nullopt, token);
    };
    const auto unknown = as(kAdmin, "GET", "/api/v1/sites/nope");
    CHECK(unknown.status == 404);
    CHECK(unknown.errorCode() == "not_found");
    CHECK_THAT(unknown.body, Contains("nope"));
    CHECK(as(kAdmin, "GET", "/api/v1/sites/" + std::string(300, 'a')).status == 404);
    CHECK(as(kAdmin, "GET", "/api/v1/sites/" + std::string(5000, 'a')).status >= 400);
    // Percent-encoding names the same site or none; never another one, never a crash.
    const auto encoded = as(kAdmin, "GET", "/api/v1/sites/%61");
    CHECK((encoded.status == 404 || (encoded.status == 200 && jsonString(encoded.json()["name"]) == "a")));
    for (const std::string hostile : {"a%00", "%00", "a%2Fb", "..%2Fa", "%ZZ", "a%0Ab"}) {
        INFO(hostile);
        const auto reply = as(kAdmin, "GET", "/api/v1/sites/" + hostile);
        CHECK(reply.status >= 400);
        CHECK(reply.status < 500);
    }
    // A trailing slash is the listing (the router ignores it), never a site named "".
    const auto slash = as(kAdmin, "GET", "/api/v1/sites/");
    CHECK((slash.status == 404 || (slash.status == 200 && slash.json().HasMember("sites"))));
    CHECK(as(kAdmin, "GET", "/api/v1/sites/a/extra").status == 404);

    CHECK(as("", "GET", "/api/v1/sites/a").status == 401);
    CHECK(as("wrong-token-0123456789", "GET", "/api/v1/sites/a").status == 401);
    CHECK(as(kViewer, "GET", "/api/v1/sites/a").status == as(kViewer, "GET", "/api/v1/sites").status);
    CHECK(as(kViewer, "GET", "/api/v1/sites/a").status == 403);
    CHECK(as(kKiosk, "GET", "/api/v1/sites/a").status == 403);
    // An unknown site answers a forbidden caller 403 too: the route never says which sites exist.
    CHECK(as(kKiosk, "GET", "/api/v1/sites/nope").status == 403);
    CHECK(as(kAdmin, "POST", "/api/v1/sites/a").status == 405);
    CHECK(as(kAdmin, "DELETE", "/api/v1/sites/a").status == 405);
}

TEST_CASE("sites: placement passes over a host whose free memory cannot hold the VM", "[server][integration][sites]") {
    TempDir dir;
    DaemonOptions options;
    options.tokens = {{"ops", kAdmin, "admin"}};
    options.sites.clear();
    // libvirt's test driver: 3 GiB unless the node XML says otherwise; here "big" has 8 GiB.
    for (const std::string name : {"small", "big"}) {
        std::string node = kEmptyTestHost;
        if (name == "big") node.replace(node.find("</node>"), 7, "  <memory>8388608</memory>\n</node>");
        writeFile(dir.file("host-" + name + ".xml"), node);
        SiteOptions site;
        site.name = name;
        site.uri = "test://" + dir.file("host-" + name + ".xml");
        site.storage_pool = "default-pool";
        site.templates = {{.name = "large", .memory_mb = 4096}};
        options.sites.push_back(site);
    }
    options.extra_yaml = "placement:\n  policy: spread\n";
    PaddockdFixture d(options);

    CHECK(d.getJson("/api/v1/sites/small")["resources"]["memory_free_mb"].GetInt() == 3072);
    CHECK(d.getJson("/api/v1/sites/big")["resources"]["memory_total_mb"].GetInt() == 8192);
    for (int i = 0; i < 2; ++i) {
        const auto reply = d.post("/api/v1/vms", R"({"name":"m)" + std::to_string(i) + R"(","template":"large","start":false})");
        INFO(reply.body);
        REQUIRE(reply.status == 201);
        const auto doc = reply.json();
        CHECK(jsonString(doc["vm"]["site"]) == "big");
        CHECK_THAT(jsonString(doc["placement"]["reason"]),
                   Contains("skipped small: free memory 3072 MiB < 4096 MiB requested"));
    }
    // A smaller VM fits both again: spread takes the emptier one.
    const auto small = d.post("/api/v1/vms", R"({"name":"m-small","template":"large","memory_mb":512,"start":false})");
    INFO(small.body);
    REQUIRE(small.status == 201);
    CHECK(jsonString(small.json()["vm"]["site"]) == "small");
}
