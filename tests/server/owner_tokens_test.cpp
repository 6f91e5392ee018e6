// Owner-scoped tokens against the real paddockd: minted by admins (hashed, persisted, revocable,
// listed without the secret) or configured; each route an owner token may call shows and acts
// on its owner's objects only (another owner's are 404, as if absent), and every other route
// answers it 403.
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <regex>

using namespace paddock::test;
using namespace std::chrono_literals;

namespace {

const std::string kAdmin = "owner-tokens-admin-0123456789";
const std::string kOperator = "owner-tokens-operator-0123456789";
const std::string kCarol = "owner-tokens-carol-0123456789";

// A cast as the asciinema recorder writes it, for `vm` and `owner`.
std::string castOf(const std::string& vm, const std::string& owner) {
    return R"({"version": 2, "width": 80, "height": 24, "timestamp": 1714644000, "vm": ")" + vm + R"(", "owner": ")" +
           owner + "\"}\n[0.5, \"o\", \"$ \"]\n";
}

// The WebSocket handshake headers: routes answer 404 to them before upgrading.
std::vector<std::pair<std::string, std::string>> upgradeHeaders() {
    return {{"Connection", "Upgrade"},
            {"Upgrade", "websocket"},
            {"Sec-WebSocket-Version", "13"},
            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
}

class OwnerDaemon : public PaddockdFixture {
public:
    OwnerDaemon() : PaddockdFixture(options()) {}

    HttpReply as(const std::string& token, const std::string& method, const std::string& path,
                 std::optional<std::string> body = std::nullopt) const {
        return call(method, path, std::move(body), token);
    }
    std::string mint(const std::string& owner, const std::string& extra = {}) {
        auto reply = as(kAdmin, "POST", "/api/v1/tokens", R"({"owner":")" + owner + "\"" + extra + "}");
        INFO(reply.body);
        REQUIRE(reply.status == 201);
        return jsonString(reply.json()["token"]);
    }

private:
    static DaemonOptions options() {
        DaemonOptions options;
        options.tokens = {{"admin", kAdmin, "admin"},
                          {"lab-app", kOperator, "operator"},
                          {"carol-kiosk", kCarol, "operator", "carol"}};
        options.recording_directory = "casts";
        SiteOptions& site = options.sites.front();
        site.storage_pool = "default-pool";
        site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
        site.pools = {
            {.name = "lab",
             .template_name = "tiny",
             .mode = "running",
             .min_idle = 2,
             .max_total = 4,
             .max_per_owner = 0},
            {.name = "burst",
             .template_name = "tiny",
             .mode = "running",
             .min_idle = 0,
             .max_total = 2,
             .on_empty = "cold"},
        };
        return options;
    }
};

}  // namespace

TEST_CASE("owner tokens: minting is for admins, and hostile bodies are refused", "[owner-tokens][hostile]") {
    OwnerDaemon d;
    CHECK(d.as("", "POST", "/api/v1/tokens", R"({"owner":"alice"})").status == 401);
    CHECK(d.as(kOperator, "POST", "/api/v1/tokens", R"({"owner":"alice"})").status == 403);
    CHECK(d.as(kOperator, "GET", "/api/v1/tokens").status == 403);
    CHECK(d.as(kOperator, "DELETE", "/api/v1/tokens/tok-0000000000000000").status == 403);
    const std::map<std::string, int> bodies = {
        {"", 400},
        {"{}", 400},  // owner is required
        {R"({"owner":""})", 400},
        {R"({"owner":")" + std::string(900 * 1024, 'a') + "\"}", 400},
        {"{\"owner\":\"al\\u0085ice\"}", 400},  // a C1 control
        {R"({"owner":5})", 400},
        {R"({"owner":"alice","ttl_s":10})", 400},
        {R"({"owner":"alice","ttl_s":999999999})", 400},
        {R"({"owner":"alice","ttl_s":"60"})", 400},
        {R"({"owner":"alice","role":"admin"})", 400},
        {R"({"owner":"alice","owner":"bob"})", 400},  // duplicate key
        {R"({"owner":"alice","color":"red"})", 400},
        {"[" + std::string(100000, '[') + "]", 400},
        {R"({"owner":"alice")", 400},
    };
    for (const auto& [body, status] : bodies) {
        INFO(body.substr(0, 80));
        CHECK(d.as(kAdmin, "POST", "/api/v1/tokens", body).status == status);
    }
    CHECK(d.as(kAdmin, "GET", "/api/v1/tokens").json()["tokens"].Size() == 0);
    CHECK(d.as(kAdmin, "DELETE", "/api/v1/tokens/tok-0000000000000000").status == 404);
    CHECK(d.get("/healthz").status == 200);
}

TEST_CASE("an owner token reaches its owner's VMs, leases, operations and recordings only", "[owner-tokens]") {
    OwnerDaemon d;
    for (const auto& [vm, owner] : {std::pair{"alice-vm", "alice"}, std::pair{"bob-vm", "bob"}}) {
        auto created =
            d.as(kAdmin, "POST", "/api/v1/vms", R"({"name":")" + std::string(vm) + R"(","owner":")" + owner + R"("})");
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    const std::string alice = d.mint("alice", R"(,"ttl_s":600,"name":"alice's browser")");
    const std::string bob = d.mint("bob");

    // VMs: the listing, lookups and actions.
    auto listed = d.as(alice, "GET", "/api/v1/vms");
    REQUIRE(listed.status == 200);
    for (const auto& vm : listed.json()["vms"].GetArray()) CHECK(jsonString(vm["owner"]) == "alice");
    CHECK(listed.body.find("alice-vm") != std::string::npos);
    CHECK(listed.body.find("bob-vm") == std::string::npos);
    CHECK(d.as(alice, "GET", "/api/v1/vms/alice-vm").status == 200);
    const auto other = d.as(alice, "GET", "/api/v1/vms/bob-vm");
    CHECK(other.status == 404);
    // Word for word what an unknown VM gets: the answer does not confirm that bob-vm exists.
    std::string unknown = d.as(alice, "GET", "/api/v1/vms/nobody-vm").body;
    unknown.replace(unknown.find("nobody-vm"), 9, "bob-vm");
    CHECK(other.body == unknown);
    CHECK(d.as(alice, "GET", "/api/v1/vms?all=true").status == 403);
    for (const std::string action : {"start", "stop", "restart", "console"}) {
        INFO(action);
        CHECK(d.as(alice, "POST", "/api/v1/vms/bob-vm/" + action).status == 404);
    }
    CHECK(d.as(alice, "POST", "/api/v1/vms/alice-vm/stop?force=true").status == 200);
    CHECK(d.as(alice, "POST", "/api/v1/vms/alice-vm/start").status == 200);
    const auto console = d.as(alice, "POST", "/api/v1/vms/alice-vm/console");
    CHECK(console.status == 201);
    for (const std::string stream : {"terminal", "status"}) {
        INFO(stream);
        CHECK(
            d.call("GET", "/api/v1/vms/bob-vm/" + stream + "?access_token=" + alice, std::nullopt, "", upgradeHeaders())
                .status == 404);
        CHECK(d.call("GET", "/api/v1/vms/bob-vm/" + stream + "?access_token=" + bob, std::nullopt, "", upgradeHeaders())
                  .status != 404);
    }

    // Everything else is refused outright, whatever the object.
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"POST", "/api/v1/vms"},
        {"DELETE", "/api/v1/vms/alice-vm"},
        {"POST", "/api/v1/vms/alice-vm/adopt"},
        {"GET", "/api/v1/pools"},
        {"GET", "/api/v1/pools/lab"},
        {"GET", "/api/v1/sites"},
        {"GET", "/api/v1/plugins"},
        {"GET", "/api/v1/tokens"},
        {"POST", "/api/v1/tokens"},
        {"DELETE", "/api/v1/tokens/x"},
        {"GET", "/vms/list"},
        {"POST", "/vms/stop/alice-vm"},
        {"POST", "/vms/create"},
        {"DELETE", "/vms/delete/alice-vm"},
        {"POST", "/pool/allocate"},
        {"GET", "/pool/status"},
        {"GET", "/"},
    };
    for (const auto& [method, path] : refused) {
        INFO(method << " " << path);
        const auto reply =
            d.as(alice, method, path,
                 method == "GET" || method == "DELETE" ? std::nullopt : std::optional<std::string>("{}"));
        CHECK(reply.status == 403);
        // Admin routes refuse the role first; the rest name the binding.
        CHECK((reply.body.find("bound to owner 'alice'") != std::string::npos ||
               reply.body.find("this needs admin") != std::string::npos));
    }
    CHECK(d.call("GET", "/api/v1/events?access_token=" + alice, std::nullopt, "", upgradeHeaders()).status == 403);
    CHECK(d.as(alice, "GET", "/healthz").status == 200);  // public paths stay public

    // Leases: allocation is for the token's owner; others' leases are absent. The pool fills in
    // the background: two idle VMs for the two allocations below.
    REQUIRE(eventually([&] {
        const auto pool = d.as(kAdmin, "GET", "/api/v1/pools/lab");
        return pool.status == 200 && pool.json()["idle"].GetUint() >= 2;
    }));
    auto own = d.as(alice, "POST", "/api/v1/pools/lab/allocate", "{}");
    INFO(own.body);
    REQUIRE(own.status == 200);
    CHECK(jsonString(own.json()["owner"]) == "alice");
    const std::string aliceLease = jsonString(own.json()["id"]);
    CHECK(d.as(alice, "POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob"})").status == 403);
    auto bobs = d.as(kOperator, "POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob"})");
    REQUIRE(bobs.status == 200);
    const std::string bobLease = jsonString(bobs.json()["id"]);
    const std::string bobVm = jsonString(bobs.json()["vm"]);
    auto leases = d.as(alice, "GET", "/api/v1/leases").json();
    REQUIRE(leases["leases"].Size() == 1);
    CHECK(jsonString(leases["leases"][0]["id"]) == aliceLease);
    CHECK(d.as(alice, "GET", "/api/v1/leases?owner=bob").json()["leases"].Size() == 0);
    CHECK(d.as(alice, "GET", "/api/v1/leases/" + bobLease).status == 404);
    CHECK(d.as(alice, "POST", "/api/v1/leases/" + bobLease + "/extend", R"({"ttl_s":60})").status == 404);
    CHECK(d.as(alice, "DELETE", "/api/v1/leases/" + bobLease).status == 404);
    CHECK(d.as(alice, "GET", "/api/v1/vms/" + bobVm).status == 404);
    CHECK(d.as(bob, "GET", "/api/v1/leases/" + bobLease).status == 200);
    CHECK(d.as(alice, "GET", "/api/v1/leases/" + aliceLease).status == 200);
    CHECK(d.as(alice, "POST", "/api/v1/leases/" + aliceLease + "/extend", R"({"ttl_s":60})").status == 200);
    CHECK(d.as(alice, "GET", "/api/v1/vms/" + jsonString(own.json()["vm"])).status == 200);
    CHECK(d.as(alice, "DELETE", "/api/v1/leases/" + aliceLease).status == 200);

    // Operations of cold allocations.
    auto cold = d.as(kOperator, "POST", "/api/v1/pools/burst/allocate", R"({"owner":"bob"})");
    REQUIRE(cold.status == 202);
    const std::string op = jsonString(cold.json()["id"]);
    CHECK(d.as(alice, "GET", "/api/v1/operations/" + op).status == 404);
    CHECK(d.as(bob, "GET", "/api/v1/operations/" + op).status == 200);

    // Recordings.
    writeFile(d.recordingDir() + "/s-alice.cast", castOf("alice-vm", "alice"));
    writeFile(d.recordingDir() + "/s-bob.cast", castOf("bob-vm", "bob"));
    auto sessions = d.as(alice, "GET", "/api/v1/sessions").json();
    REQUIRE(sessions["sessions"].Size() == 1);
    CHECK(jsonString(sessions["sessions"][0]["id"]) == "s-alice");
    CHECK(d.as(alice, "GET", "/api/v1/sessions?owner=bob").json()["sessions"].Size() == 0);
    CHECK(d.as(alice, "GET", "/api/v1/sessions/s-alice/cast").status == 200);
    const auto others = d.as(alice, "GET", "/api/v1/sessions/s-bob/cast");
    CHECK(others.status == 404);
    // Another owner's recording answers as a missing one does, word for word.
    CHECK(others.body ==
          std::regex_replace(d.as(alice, "GET", "/api/v1/sessions/s-nope/cast").body, std::regex("s-nope"), "s-bob"));
    CHECK(d.as(bob, "GET", "/api/v1/sessions/s-bob/cast").status == 200);
    CHECK(d.as(kOperator, "GET", "/api/v1/sessions").json()["sessions"].Size() == 2);

    // A configured owner token is bound the same way.
    CHECK(d.as(kCarol, "GET", "/api/v1/vms").json()["vms"].Size() == 0);
    CHECK(d.as(kCarol, "GET", "/api/v1/vms/alice-vm").status == 404);
    CHECK(d.as(kCarol, "POST", "/api/v1/vms", R"({"name":"carol-vm"})").status == 403);
}

TEST_CASE("owner tokens are listed without their secret, survive a restart, stop at revocation, and never reach a log",
          "[owner-tokens][secrets]") {
    OwnerDaemon d;
    const std::string alice = d.mint("alice");
    auto minted = d.as(kAdmin, "POST", "/api/v1/tokens", R"({"owner":"bob","role":"viewer","ttl_s":120})");
    REQUIRE(minted.status == 201);
    CHECK(minted.headers["Cache-Control"] == "no-store");
    const auto bobDoc = minted.json();
    const std::string bob = jsonString(bobDoc["token"]);
    const std::string bobId = jsonString(bobDoc["id"]);
    CHECK(jsonString(bobDoc["role"]) == "viewer");
    CHECK(jsonString(bobDoc["created_by"]) == "admin");

    auto listing = d.as(kAdmin, "GET", "/api/v1/tokens");
    REQUIRE(listing.status == 200);
    CHECK(listing.json()["tokens"].Size() == 2);
    CHECK(listing.body.find(alice) == std::string::npos);
    CHECK(listing.body.find(bob) == std::string::npos);
    CHECK(d.as(kAdmin, "GET", "/api/v1/tokens?owner=bob").json()["tokens"].Size() == 1);

    // A viewer-bound token reads but does not act.
    CHECK(d.as(bob, "GET", "/api/v1/vms").status == 200);
    CHECK(d.as(bob, "POST", "/api/v1/pools/lab/allocate", "{}").status == 403);

    d.restart();
    CHECK(d.as(alice, "GET", "/api/v1/vms").status == 200);
    CHECK(d.as(bob, "GET", "/api/v1/vms").status == 200);

    auto revoked = d.as(kAdmin, "DELETE", "/api/v1/tokens/" + bobId);
    REQUIRE(revoked.status == 200);
    CHECK(d.as(bob, "GET", "/api/v1/vms").status == 401);
    CHECK(d.as(kAdmin, "DELETE", "/api/v1/tokens/" + bobId).status == 404);
    d.restart();
    CHECK(d.as(bob, "GET", "/api/v1/vms").status == 401);
    CHECK(d.as(alice, "GET", "/api/v1/vms").status == 200);

    // The secrets appear nowhere paddockd writes: its log, the audit log, the token file.
    const std::string log = d.log();
    const std::string audit = readFile(d.logDir() + "/audit.log");
    const std::string file = readFile(d.stateDir() + "/tokens.json");
    CHECK(audit.find("\"action\":\"token_mint\"") != std::string::npos);
    CHECK(audit.find("\"action\":\"token_revoke\"") != std::string::npos);
    for (const std::string& secret : {alice, bob}) {
        CHECK(log.find(secret) == std::string::npos);
        CHECK(audit.find(secret) == std::string::npos);
        CHECK(file.find(secret) == std::string::npos);
    }
}

TEST_CASE("GET /api/v1/whoami names the caller's token, role and owner, and nothing else", "[owner-tokens][whoami][hostile]") {
    DaemonOptions options;
    options.tokens = {{"admin", kAdmin, "admin"}, {"lab-app", kOperator, "operator"}, {"wall", "whoami-viewer-0123456789", "viewer"},
                      {"carol-kiosk", kCarol, "operator", "carol"}};
    PaddockdFixture d(options);
    const auto whoami = [&](const std::string& token) { return d.call("GET", "/api/v1/whoami", std::nullopt, token); };

    struct Expected {
        std::string token, name, role, owner;
    };
    for (const auto& e : std::vector<Expected>{{kAdmin, "admin", "admin", ""},
                                               {kOperator, "lab-app", "operator", ""},
                                               {"whoami-viewer-0123456789", "wall", "viewer", ""},
                                               {kCarol, "carol-kiosk", "operator", "carol"}}) {
        INFO(e.name);
        const auto reply = whoami(e.token);
        REQUIRE(reply.status == 200);
        CHECK(reply.header("Cache-Control") == "no-store");
        CHECK(reply.body.find(e.token) == std::string::npos);  // never the secret
        auto doc = reply.json();
        CHECK(doc.MemberCount() == 4);
        CHECK(jsonString(doc["name"]) == e.name);
        CHECK(jsonString(doc["role"]) == e.role);
        if (e.owner.empty())
            CHECK(doc["owner"].IsNull());
        else
            CHECK(jsonString(doc["owner"]) == e.owner);
        CHECK(doc["token"].GetBool());
    }

    // A minted owner token, until it is revoked.
    auto minted = d.call("POST", "/api/v1/tokens", R"({"owner":"dave","role":"viewer"})", kAdmin);
    REQUIRE(minted.status == 201);
    const std::string secret = jsonString(minted.json()["token"]);
    const std::string id = jsonString(minted.json()["id"]);
    auto dave = whoami(secret);
    REQUIRE(dave.status == 200);
    CHECK(jsonString(dave.json()["owner"]) == "dave");
    CHECK(jsonString(dave.json()["role"]) == "viewer");
    REQUIRE(d.call("DELETE", "/api/v1/tokens/" + id, std::nullopt, kAdmin).status == 200);
    CHECK(whoami(secret).status == 401);

    // No token, a wrong one, a wrong scheme, a huge one, one in the query (only WebSockets take
    // access_token): 401, and the answer never echoes what was sent.
    CHECK(whoami("").status == 401);
    for (const std::string& bad : {std::string("not-a-token"), kAdmin + "x", kAdmin.substr(1), std::string(4000, 'a'),
                                   std::string("\xff\xfe", 2) + kAdmin}) {
        INFO(bad.size());
        const auto reply = whoami(bad);
        CHECK(reply.status == 401);
        CHECK(reply.body.find(bad) == std::string::npos);
    }
    for (const std::string& header : {"Basic " + kAdmin, kAdmin, std::string("Bearer"), std::string("Bearer  ")}) {
        INFO(header);
        HttpOptions raw;
        raw.headers = {{"Authorization", header}};
        CHECK(d.request("GET", "/api/v1/whoami", raw).status == 401);
    }
    CHECK(d.call("GET", "/api/v1/whoami?access_token=" + kAdmin, std::nullopt, "").status == 401);
    // Only GET.
    CHECK(d.call("POST", "/api/v1/whoami", "{}", kAdmin).status == 405);
    CHECK(d.call("DELETE", "/api/v1/whoami", std::nullopt, kAdmin).status == 405);

    // Under auth.mode none everyone is the admin "anonymous", without a token.
    d.stop();
    DaemonOptions open;
    open.auth_mode = "none";
    PaddockdFixture none(open);
    const auto anonymous = none.call("GET", "/api/v1/whoami", std::nullopt, "");
    REQUIRE(anonymous.status == 200);
    auto doc = anonymous.json();
    CHECK(jsonString(doc["name"]) == "anonymous");
    CHECK(jsonString(doc["role"]) == "admin");
    CHECK_FALSE(doc["token"].GetBool());
}
