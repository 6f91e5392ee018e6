// Provisioning over HTTP through the real paddockd and the real org.paddock.ansible plugin running
// real ansible-playbook. The "VM" is a test:///default domain whose SSH forward port is a private
// sshd on loopback (tests/support/sshd_fixture) accepting Paddock's key, as in the terminal tests;
// one playbook (data/provision/switch.yml) does what <control>/mode says. Covered: the operation's
// life (queued, running, succeeded, failed, cancelled), its output (polled and followed), the
// listing and its filters, the VM's provisioning state, the become password (set, never shown,
// redacted from output, on no command line or environment, in no log or state file), timeouts,
// refusals, the compatibility routes, and the operations' records across a restart.
#include "paddockd_fixture.hpp"
#include "secret_scan.hpp"
#include "sshd_fixture.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

using namespace paddock::test;

namespace {

const std::string kAdmin = "prov-admin-token-0123456789";
const std::string kOperator = "prov-operator-token-0123456789";
const std::string kViewer = "prov-viewer-token-0123456789";
const std::string kAlice = "prov-alice-token-0123456789";
const std::string kBob = "prov-bob-token-0123456789";

std::string playbook() { return sourceDir() + "/tests/server/data/provision/switch.yml"; }

// A provisioned template, its variables pointing at the test's control directory.
TemplateOptions provisioned(const std::string& name, const std::string& control, unsigned timeoutS,
                            bool onCreate = false) {
    TemplateOptions t;
    t.name = name;
    t.provision = "{playbook: '" + playbook() + "', timeout_s: " + std::to_string(timeoutS) +
                  ", on_create: " + (onCreate ? "true" : "false") + ", extra_vars: {control_dir: '" + control + "'}}";
    return t;
}

DaemonOptions provisionOptions(uint16_t sshPort, const std::string& control, bool onCreate = false) {
    DaemonOptions options;
    options.max_body_bytes = 8192;
    options.tokens = {{"admin", kAdmin, "admin"},
                      {"operator", kOperator, "operator"},
                      {"watcher", kViewer, "viewer"},
                      {"alice", kAlice, "operator", "alice"},
                      {"bob", kBob, "operator", "bob"}};
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.network_mode = "user";
    site.ssh_user = SshdFixture::currentUser();
    // One forward port, the sshd's: one "VM" at a time.
    site.ssh_port_min = sshPort;
    site.ssh_port_max = sshPort;
    site.stop_timeout_s = 2;
    site.ready_timeout_s = 60;
    TemplateOptions bare;
    bare.name = "bare";
    site.templates = {provisioned("lab", control, 60, onCreate), provisioned("slow", control, 3), bare};
    return options;
}

void setMode(const TempDir& control, const std::string& mode) {
    std::ofstream(control.file("mode"), std::ios::trunc) << mode;
}

// Polls the operation until it ended; its last JSON.
rapidjson::Document waitEnded(const PaddockdFixture& d, const std::string& id, int timeoutS = 120) {
    rapidjson::Document last;
    REQUIRE(eventually(
        [&] {
            const auto reply = d.call("GET", "/api/v1/operations/" + id, std::nullopt, kAdmin);
            if (reply.status != 200) return false;
            last = reply.json();
            const std::string state = last["state"].GetString();
            return state != "queued" && state != "running";
        },
        std::chrono::seconds(timeoutS)));
    return last;
}

std::string provision(const PaddockdFixture& d, const std::string& vm) {
    const auto reply = d.call("POST", "/api/v1/vms/" + vm + "/provision", std::nullopt, kAdmin);
    INFO(reply.body);
    REQUIRE(reply.status == 202);
    const std::string id = reply.json()["operation"]["id"].GetString();
    CHECK(reply.header("Location") == "/api/v1/operations/" + id);
    return id;
}

std::string str(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : std::string("<not a string>"); }

// The port allocator refuses a port something listens on: the sshd stands for the VM only once
// the VM holds the port (a new sshd, so a new host key, as a new VM would have).
HttpReply createWithSshd(const PaddockdFixture& d, std::unique_ptr<SshdFixture>& sshd, uint16_t port,
                         const std::string& body) {
    sshd.reset();
    auto reply = d.call("POST", "/api/v1/vms", body, kAdmin);
    sshd = std::make_unique<SshdFixture>(port);
    sshd->authorize(d.stateDir() + "/ssh/id_ed25519.pub");
    return reply;
}

// Live processes running the test playbook (ansible-playbook and its workers).
int playbookProcesses() {
    int found = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        const std::string cmdline = readProcFile((it->path() / "cmdline").string());
        if (cmdline.find("ansible-playbook") != std::string::npos && cmdline.find(playbook()) != std::string::npos)
            ++found;
    }
    return found;
}

}  // namespace

TEST_CASE("provisioning over HTTP: runs, output, listing, password, cancel, timeout, refusals, restart",
          "[provision][http]") {
    TempDir control;
    setMode(control, "ok");
    const uint16_t sshPort = freeLoopbackPort();
    PaddockdFixture d(provisionOptions(sshPort, control.path()));
    std::unique_ptr<SshdFixture> sshd;
    REQUIRE(createWithSshd(d, sshd, sshPort, R"({"name":"prov","template":"lab","owner":"alice"})").status == 201);
    CHECK(d.call("GET", "/api/v1/vms/prov", std::nullopt, kAdmin).json()["vm"]["provisioning"].IsNull());

    // Who may ask.
    CHECK(d.call("POST", "/api/v1/vms/prov/provision", std::nullopt, "").status == 401);
    CHECK(d.call("POST", "/api/v1/vms/prov/provision", std::nullopt, kViewer).status == 403);
    CHECK(d.call("POST", "/api/v1/vms/prov/provision", std::nullopt, kAlice).status == 403);
    CHECK(d.call("POST", "/api/v1/vms/nope/provision", std::nullopt, kAdmin).status == 404);
    CHECK(d.call("POST", "/api/v1/vms/prov/provision", R"({"playbook":"/etc/shadow"})", kAdmin).status == 400);
    CHECK(d.call("POST", "/api/v1/vms/prov/provision", "[", kAdmin).status == 400);

    // A first run: queued or running, then succeeded, with the recipe's counts and output.
    const std::string first = provision(d, "prov");
    {
        const auto again = d.call("POST", "/api/v1/vms/prov/provision", std::nullopt, kOperator);
        CHECK(again.status == 409);  // one run per VM at a time
        CHECK(again.body.find(first) != std::string::npos);
    }
    auto done = waitEnded(d, first);
    INFO(d.call("GET", "/api/v1/operations/" + first + "/output?follow=false", std::nullopt, kAdmin).body);
    REQUIRE(str(done["state"]) == "succeeded");
    CHECK(str(done["kind"]) == "provision");
    CHECK(str(done["vm"]) == "prov");
    CHECK(str(done["site"]) == "local");
    CHECK(str(done["owner"]) == "alice");
    CHECK_FALSE(done["cancellable"].GetBool());
    CHECK(done["result"]["changed"].GetInt() >= 1);
    CHECK(done["result"]["failed"].GetInt() == 0);
    CHECK(str(done["result"]["playbook"]) == playbook());
    CHECK(str(done["output_tail"]).find("PLAY RECAP") != std::string::npos);
    CHECK(readFile(control.file("marker-prov")) == "provisioned prov\n");
    {
        const auto vm = d.call("GET", "/api/v1/vms/prov", std::nullopt, kAdmin).json();
        CHECK(str(vm["vm"]["provisioning"]["state"]) == "succeeded");
        CHECK(vm["vm"]["provisioning"]["error"].IsNull());
        CHECK(str(vm["vm"]["provisioning"]["operation"]) == first);
    }
    {
        const auto out = d.call("GET", "/api/v1/operations/" + first + "/output?follow=false", std::nullopt, kAdmin);
        REQUIRE(out.status == 200);
        CHECK(out.content_type.find("text/plain") == 0);
        CHECK(out.body.find("TASK [Mark the run]") != std::string::npos);
        CHECK(out.header("X-Output-Next") == std::to_string(out.body.size()));
        const auto later = d.call("GET", "/api/v1/operations/" + first + "/output?offset=10", std::nullopt, kAdmin);
        CHECK(later.body == out.body.substr(10));
        CHECK(d.call("GET", "/api/v1/operations/" + first + "/output?offset=-1", std::nullopt, kAdmin).status == 400);
        CHECK(d.call("GET", "/api/v1/operations/" + first + "/output?follow=maybe", std::nullopt, kAdmin).status ==
              400);
    }

    // Idempotent: a second run changes nothing. Followed while it runs, the output arrives whole.
    const std::string second = provision(d, "prov");
    const auto followed = d.call("GET", "/api/v1/operations/" + second + "/output", std::nullopt, kAdmin);
    CHECK(followed.status == 200);
    CHECK(followed.body.find("PLAY RECAP") != std::string::npos);
    auto secondDone = waitEnded(d, second);
    REQUIRE(str(secondDone["state"]) == "succeeded");
    CHECK(secondDone["result"]["changed"].GetInt() == 0);

    // The listing: newest first, filters, owners.
    {
        const auto all = d.call("GET", "/api/v1/operations?vm=prov", std::nullopt, kAdmin).json();
        REQUIRE(all["operations"].Size() == 2);
        CHECK(str(all["operations"][0]["id"]) == second);
        CHECK(d.call("GET", "/api/v1/operations?state=succeeded&kind=provision", std::nullopt, kViewer)
                  .json()["operations"]
                  .Size() == 2);
        CHECK(d.call("GET", "/api/v1/operations?state=running", std::nullopt, kAdmin).json()["operations"].Size() ==
              0);
        CHECK(d.call("GET", "/api/v1/operations?limit=1", std::nullopt, kAdmin).json()["operations"].Size() == 1);
        CHECK(d.call("GET", "/api/v1/operations", std::nullopt, kAlice).json()["operations"].Size() == 2);
        CHECK(d.call("GET", "/api/v1/operations", std::nullopt, kBob).json()["operations"].Size() == 0);
        CHECK(d.call("GET", "/api/v1/operations/" + first, std::nullopt, kBob).status == 404);
        CHECK(d.call("GET", "/api/v1/operations/" + first + "/output", std::nullopt, kBob).status == 404);
        CHECK(d.call("GET", "/api/v1/operations/" + first, std::nullopt, kAlice).status == 200);
        for (const std::string& bad : std::vector<std::string>{"state=bogus", "limit=0", "limit=1001", "limit=x",
                                                               "owner=alice", "vm=" + std::string(200, 'a')})
            CHECK(d.call("GET", "/api/v1/operations?" + bad, std::nullopt, kAdmin).status == 400);
        CHECK(d.call("GET", "/api/v1/operations", std::nullopt, "").status == 401);
        CHECK(d.call("DELETE", "/api/v1/operations/" + first, std::nullopt, kAdmin).status == 409);  // ended
        CHECK(d.call("DELETE", "/api/v1/operations/op-nope", std::nullopt, kAdmin).status == 404);
        CHECK(d.call("DELETE", "/api/v1/operations/" + first, std::nullopt, kViewer).status == 403);
    }

    // The become password: admins set it, nobody reads it, and it shows up nowhere.
    const std::string password = "Pdk-s3cr\xC3\xABt-" + std::to_string(::getpid()) + "-\"quoted\"";
    {
        std::string body = R"({"password":"Pdk-s3cr\u00ebt-)" + std::to_string(::getpid()) + R"(-\"quoted\""})";
        CHECK(d.call("POST", "/api/v1/provisioner/secret", body, kOperator).status == 403);
        CHECK(d.call("GET", "/api/v1/provisioner/secret", std::nullopt, kOperator).status == 403);
        for (const std::string& bad : std::vector<std::string>{"", "not json", "{}", R"({"password":1})", R"({"password":""})",
                                      R"({"password":"a","extra":1})", R"({"password":"a","password":"b"})",
                                      std::string(3000, '[') + std::string(3000, ']'), R"(["password"])",
                                      R"({"password":"line\nbreak"})"}) {
            const auto refused = d.call("POST", "/api/v1/provisioner/secret", bad, kAdmin);
            INFO(bad.substr(0, 80) << " -> " << refused.body);
            CHECK(refused.status == 400);
        }
        CHECK(d.call("POST", "/api/v1/provisioner/secret", std::string(9000, 'a'), kAdmin).status == 413);
        const auto set = d.call("POST", "/api/v1/provisioner/secret", body, kAdmin);
        INFO(set.body);
        REQUIRE(set.status == 200);
        CHECK(set.json()["set"].GetBool());
        const auto state = d.call("GET", "/api/v1/provisioner/secret", std::nullopt, kAdmin);
        CHECK(state.json()["set"].GetBool());
        CHECK(state.body.find("Pdk-s3cr") == std::string::npos);
        const auto status = d.call("GET", "/api/v1/provisioner", std::nullopt, kOperator).json();
        CHECK(str(status["plugin"]) == "org.paddock.ansible");
        CHECK(status["loaded"].GetBool());
        CHECK(status["secret_set"].GetBool());
        CHECK(str(status["version"]).find("ansible-playbook") != std::string::npos);
    }
    setMode(control, "secret");
    {
        ProcessScanner scan(password, playbook());
        const std::string id = provision(d, "prov");
        auto ended = waitEnded(d, id);
        scan.stop();
        const std::string output =
            d.call("GET", "/api/v1/operations/" + id + "/output?follow=false", std::nullopt, kAdmin).body;
        INFO(output);
        REQUIRE(str(ended["state"]) == "succeeded");
        CHECK(output.find("the password is ********") != std::string::npos);
        CHECK(output.find("Pdk-s3cr") == std::string::npos);
        CHECK(scan.hits().empty());
        CHECK(scan.watchedSeen() > 0);  // the scan did see ansible at work
    }
    // Nothing paddockd wrote holds it: state (operations.json, metadata is libvirt's), logs
    // (audit, paddockd's own), the test's control directory the playbook wrote to.
    CHECK(filesContaining(d.dir().path(), password).empty());
    CHECK(filesContaining(d.dir().path(), "Pdk-s3cr").empty());
    CHECK(filesContaining(control.path(), "Pdk-s3cr").empty());
    CHECK(d.log().find("Pdk-s3cr") == std::string::npos);
    CHECK(readFile(d.logDir() + "/audit.log").find("provisioner_secret_set") != std::string::npos);
    {
        const auto cleared = d.call("DELETE", "/api/v1/provisioner/secret", std::nullopt, kAdmin).json();
        CHECK_FALSE(cleared["set"].GetBool());
        CHECK(cleared["cleared"].GetBool());
        CHECK_FALSE(d.call("GET", "/api/v1/provisioner/secret", std::nullopt, kAdmin).json()["set"].GetBool());
    }

    // A failing task: failed, with the task's message, on the operation and the VM.
    setMode(control, "fail");
    {
        const std::string id = provision(d, "prov");
        auto ended = waitEnded(d, id);
        REQUIRE(str(ended["state"]) == "failed");
        CHECK(str(ended["error"]["message"]).find("lab setup failed on purpose for prov") != std::string::npos);
        const auto vm = d.call("GET", "/api/v1/vms/prov", std::nullopt, kAdmin).json();
        CHECK(str(vm["vm"]["provisioning"]["state"]) == "failed");
        CHECK(str(vm["vm"]["provisioning"]["error"]).find("on purpose") != std::string::npos);
    }

    // Cancelled while it runs: the run is killed with its children.
    setMode(control, "sleep");
    {
        const std::string id = provision(d, "prov");
        REQUIRE(eventually(
            [&] {
                const auto op = d.call("GET", "/api/v1/operations/" + id, std::nullopt, kAdmin).json();
                return str(op["state"]) == "running" && op["progress"].IsString() &&
                       str(op["progress"]).find("Stay a while") != std::string::npos;
            },
            std::chrono::seconds(120)));
        CHECK(d.call("GET", "/api/v1/operations/" + id, std::nullopt, kAdmin).json()["cancellable"].GetBool());
        CHECK(d.call("DELETE", "/api/v1/operations/" + id, std::nullopt, kAlice).status == 403);
        const auto asked = d.call("DELETE", "/api/v1/operations/" + id, std::nullopt, kOperator);
        CHECK(asked.status == 202);
        auto ended = waitEnded(d, id, 30);
        CHECK(str(ended["state"]) == "cancelled");
        CHECK(eventually([] { return playbookProcesses() == 0; }, std::chrono::seconds(15)));
        CHECK(str(d.call("GET", "/api/v1/vms/prov", std::nullopt, kAdmin).json()["vm"]["provisioning"]["state"]) ==
              "failed");
    }

    // A run past its template's timeout_s is killed: failed, code timeout.
    REQUIRE(d.call("DELETE", "/api/v1/vms/prov", std::nullopt, kAdmin).status == 200);
    REQUIRE(createWithSshd(d, sshd, sshPort, R"({"name":"slow1","template":"slow"})").status == 201);
    {
        const std::string id = provision(d, "slow1");
        auto ended = waitEnded(d, id);
        CHECK(str(ended["state"]) == "failed");
        CHECK(str(ended["error"]["code"]) == "timeout");
        CHECK(eventually([] { return playbookProcesses() == 0; }, std::chrono::seconds(15)));
    }
    REQUIRE(d.call("DELETE", "/api/v1/vms/slow1", std::nullopt, kAdmin).status == 200);

    // Nothing to provision with: refused before anything is made.
    {
        const auto refused =
            d.call("POST", "/api/v1/vms", R"({"name":"bare1","template":"bare","provision":true})", kAdmin);
        CHECK(refused.status == 409);
        CHECK(d.call("GET", "/api/v1/vms/bare1", std::nullopt, kAdmin).status == 404);
        CHECK(d.call("POST", "/api/v1/vms", R"({"name":"bare1","provision":"yes"})", kAdmin).status == 400);
        CHECK(d.call("POST", "/api/v1/vms", R"({"name":"bare1","provision":true,"start":false})", kAdmin).status ==
              400);
        REQUIRE(createWithSshd(d, sshd, sshPort, R"({"name":"bare1","template":"bare"})").status == 201);
        CHECK(d.call("POST", "/api/v1/vms/bare1/provision", std::nullopt, kAdmin).status == 409);
        REQUIRE(d.call("DELETE", "/api/v1/vms/bare1", std::nullopt, kAdmin).status == 200);
    }

    // Create with provisioning: 202, the VM and its operation.
    setMode(control, "ok");
    std::string created;
    {
        const auto reply =
            createWithSshd(d, sshd, sshPort, R"({"name":"made","template":"lab","provision":true})");
        INFO(reply.body);
        REQUIRE(reply.status == 202);
        const auto doc = reply.json();
        created = str(doc["operation"]["id"]);
        CHECK(reply.header("Location") == "/api/v1/operations/" + created);
        CHECK(str(doc["vm"]["name"]) == "made");
        const std::string state = str(doc["vm"]["provisioning"]["state"]);
        CHECK((state == "pending" || state == "running"));
        CHECK(str(waitEnded(d, created)["state"]) == "succeeded");
    }

    // A restart: finished operations answer as before; one cut short by the stop is not lost.
    setMode(control, "sleep");
    const std::string cut = provision(d, "made");
    REQUIRE(eventually(
        [&] {
            return str(d.call("GET", "/api/v1/operations/" + cut, std::nullopt, kAdmin).json()["state"]) == "running";
        },
        std::chrono::seconds(60)));
    d.restart();
    CHECK(eventually([] { return playbookProcesses() == 0; }, std::chrono::seconds(15)));
    CHECK(str(d.call("GET", "/api/v1/operations/" + created, std::nullopt, kAdmin).json()["state"]) == "succeeded");
    const auto afterCut = d.call("GET", "/api/v1/operations/" + cut, std::nullopt, kAdmin).json();
    const std::string cutState = str(afterCut["state"]);
    CHECK((cutState == "cancelled" || cutState == "failed"));
    CHECK(str(afterCut["error"]["message"]).find("paddockd") != std::string::npos);
    // (test:///default lives inside paddockd: its VMs did not survive the restart; the VM's own
    // record of a cut run is the e2e test's, on qemu:///system.)
}

TEST_CASE("provisioning over HTTP: the old tool's routes", "[provision][http][compat]") {
    TempDir control;
    setMode(control, "ok");
    const uint16_t sshPort = freeLoopbackPort();
    PaddockdFixture d(provisionOptions(sshPort, control.path(), true));
    // /vms/create answers only after provisioning: the sshd comes up once the VM holds the port.
    const auto createCompat = [&](const std::string& name) {
        HttpReply reply;
        std::thread request([&] { reply = d.call("POST", "/vms/create", R"({"name":")" + name + R"("})", kAdmin); });
        const bool exists = eventually(
            [&] { return d.call("GET", "/api/v1/vms/" + name, std::nullopt, kAdmin).status == 200; },
            std::chrono::seconds(30));
        std::unique_ptr<SshdFixture> sshd;
        if (exists) {
            sshd = std::make_unique<SshdFixture>(sshPort);
            sshd->authorize(d.stateDir() + "/ssh/id_ed25519.pub");
        }
        request.join();
        return reply;
    };

    // /ansible/auth and /ansible/clear in the old shape (admin tokens: they hold the password).
    CHECK(d.call("POST", "/ansible/auth", R"({"password":"compat-pass-123"})", kOperator).status == 403);
    const auto auth = d.call("POST", "/ansible/auth", R"({"password":"compat-pass-123"})", kAdmin);
    REQUIRE(auth.status == 200);
    CHECK(str(auth.json()["status"]) == "ok");
    CHECK(auth.json()["message"].IsString());
    CHECK(d.call("GET", "/api/v1/provisioner/secret", std::nullopt, kAdmin).json()["set"].GetBool());
    const auto bad = d.call("POST", "/ansible/auth", R"({"pass":"x"})", kAdmin);
    CHECK(bad.status == 422);
    CHECK(bad.json()["detail"].IsArray());
    const auto clear = d.call("POST", "/ansible/clear", std::nullopt, kAdmin);
    REQUIRE(clear.status == 200);
    CHECK(str(clear.json()["status"]) == "ok");
    CHECK_FALSE(d.call("GET", "/api/v1/provisioner/secret", std::nullopt, kAdmin).json()["set"].GetBool());

    // POST /vms/create provisions before it answers when the template says on_create; a failed
    // run keeps the VM and says why.
    {
        const auto made = createCompat("c-fail");
        INFO(made.body);
        REQUIRE(made.status == 201);
        CHECK(str(made.json()["status"]) == "created_with_ansible_error");
        CHECK(str(made.json()["ansible_error"]).find("lab setup failed on purpose") != std::string::npos);
        CHECK(str(made.json()["vm"]["name"]) == "c-fail");
        CHECK(d.call("GET", "/api/v1/vms/c-fail", std::nullopt, kAdmin).status == 200);
        REQUIRE(d.call("DELETE", "/vms/delete/c-fail", std::nullopt, kAdmin).status == 200);
    }
    {
        const auto made = createCompat("c-ok");
        INFO(made.body);
        REQUIRE(made.status == 201);
        CHECK(str(made.json()["status"]) == "created");
        CHECK_FALSE(made.json().HasMember("ansible_error"));
        CHECK(readFile(control.file("marker-c-ok")) == "provisioned c-ok\n");
        REQUIRE(d.call("DELETE", "/vms/delete/c-ok", std::nullopt, kAdmin).status == 200);
    }
}
