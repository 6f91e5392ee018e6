// deploy/grafana/paddock.json and deploy/prometheus/alerts.yml against the real paddockd: every
// metric their PromQL selects is in a live /metrics of a paddockd whose families all have
// samples (two sites, a hot pool with an allocation, a browser terminal open to a private sshd,
// a recorder, a watched VM with a heartbeat and a revert); the dashboard is importable as
// Grafana expects (inputs, variables, panels with a data source, queries, unique ids, grid
// positions); promtool checks the rules and runs their unit tests (alerts_test.yml).
#include "paddockd_fixture.hpp"
#include "promql_names.hpp"
#include "sshd_fixture.hpp"
#include "terminal_client.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

using namespace paddock::test;
using namespace std::chrono_literals;

namespace {

const std::string kAdmin = "dashboard-admin-token-0123456789";

std::string dashboardPath() { return sourceDir() + "/deploy/grafana/paddock.json"; }
std::string rulesPath() { return sourceDir() + "/deploy/prometheus/alerts.yml"; }
std::string rulesTestPath() { return sourceDir() + "/deploy/prometheus/alerts_test.yml"; }

// Series Prometheus makes itself for every scrape target: never in /metrics.
const std::set<std::string> kScrapeSeries = {"up"};

struct Query {
    std::string where;  // "panel 3 'Title' A", "variable site", "rule PaddockDown"
    std::string text;
    bool variable = false;
};

rapidjson::Document parseJsonFile(const std::string& path) {
    rapidjson::Document doc;
    doc.Parse(readFile(path).c_str());
    INFO(path << ": JSON error " << doc.GetParseError() << " at " << doc.GetErrorOffset());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

std::string str(const rapidjson::Value& v, const char* key) {
    return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : std::string();
}

// Every panel, rows' nested panels included.
std::vector<const rapidjson::Value*> allPanels(const rapidjson::Value& dashboard) {
    std::vector<const rapidjson::Value*> out;
    for (const auto& p : dashboard["panels"].GetArray()) {
        out.push_back(&p);
        if (p.HasMember("panels") && p["panels"].IsArray())
            for (const auto& inner : p["panels"].GetArray()) out.push_back(&inner);
    }
    return out;
}

std::vector<Query> dashboardQueries(const rapidjson::Value& dashboard) {
    std::vector<Query> out;
    for (const rapidjson::Value* p : allPanels(dashboard)) {
        if (str(*p, "type") == "row") continue;
        for (const auto& t : (*p)["targets"].GetArray())
            out.push_back({"panel " + std::to_string((*p)["id"].GetInt()) + " '" + str(*p, "title") + "' " +
                               str(t, "refId"),
                           str(t, "expr")});
    }
    for (const auto& v : dashboard["templating"]["list"].GetArray()) {
        if (str(v, "type") != "query") continue;
        const std::string q = v["query"].IsString() ? v["query"].GetString() : str(v["query"], "query");
        out.push_back({"variable " + str(v, "name"), q, true});
    }
    return out;
}

std::vector<Query> ruleQueries(const YAML::Node& rules) {
    std::vector<Query> out;
    for (const auto& group : rules["groups"])
        for (const auto& rule : group["rules"])
            out.push_back({"rule " + rule["alert"].as<std::string>(""), rule["expr"].as<std::string>("")});
    return out;
}

// Sample names of a Prometheus text exposition, and the type of each family.
struct Exposition {
    std::set<std::string> samples;
    std::map<std::string, std::string> types;
};

Exposition parseExposition(const std::string& text) {
    Exposition e;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string name, type;
            words >> name >> type;
            e.types[name] = type;
        } else if (!line.empty() && line[0] != '#') {
            e.samples.insert(line.substr(0, line.find_first_of("{ ")));
        }
    }
    return e;
}

// A queried name is exported when /metrics has samples of it; `x_bucket`, `x_sum` and `x_count`
// also through a histogram (or summary) family `x` that has samples.
bool exported(const Exposition& e, const std::string& name) {
    if (e.samples.count(name) != 0) return true;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string family = name.substr(0, name.size() - suffix.size());
        const auto type = e.types.find(family);
        if (type == e.types.end() || (type->second != "histogram" && type->second != "summary")) continue;
        if (suffix == "_bucket" && type->second != "histogram") continue;
        return e.samples.count(family + "_count") != 0;
    }
    return false;
}

// Runs `command` with its output in `dir`/<name>.out; the exit status and the output.
std::pair<int, std::string> run(const std::string& command, const TempDir& dir, const std::string& name) {
    const std::string out = dir.file(name + ".out");
    const int rc = std::system((command + " > '" + out + "' 2>&1").c_str());
    return {rc, readFile(out)};
}

// A dashboard query as Prometheus would get it from Grafana: its variables substituted.
std::string substituteVariables(std::string expr) {
    const std::vector<std::pair<std::string, std::string>> values = {
        {"$__rate_interval", "5m"}, {"$__interval", "1m"}, {"$__range", "6h"}, {"$site", ".*"}, {"$pool", ".*"}};
    for (const auto& [variable, value] : values)
        for (size_t at = expr.find(variable); at != std::string::npos; at = expr.find(variable, at + value.size()))
            expr.replace(at, variable.size(), value);
    return expr;
}

}  // namespace

TEST_CASE("the Grafana dashboard is importable: inputs, variables, panels with a data source and queries",
          "[dashboard]") {
    const auto doc = parseJsonFile(dashboardPath());
    REQUIRE(doc.IsObject());
    CHECK(doc["schemaVersion"].GetInt() >= 36);
    CHECK_FALSE(str(doc, "uid").empty());
    CHECK_FALSE(str(doc, "title").empty());

    REQUIRE(doc["__inputs"].IsArray());
    bool input = false;
    for (const auto& i : doc["__inputs"].GetArray())
        input |= str(i, "name") == "DS_PROMETHEUS" && str(i, "type") == "datasource" &&
                 str(i, "pluginId") == "prometheus";
    CHECK(input);

    std::map<std::string, const rapidjson::Value*> vars;
    for (const auto& v : doc["templating"]["list"].GetArray()) vars[str(v, "name")] = &v;
    REQUIRE(vars.count("datasource") == 1);
    CHECK(str(*vars["datasource"], "type") == "datasource");
    CHECK(str(*vars["datasource"], "query") == "prometheus");
    for (const char* name : {"site", "pool"}) {
        INFO("variable " << name);
        REQUIRE(vars.count(name) == 1);
        CHECK(str(*vars[name], "type") == "query");
        CHECK(str((*vars[name])["datasource"], "uid") == "${datasource}");
        CHECK_THAT(str((*vars[name])["query"], "query"), Catch::StartsWith("label_values("));
    }

    std::set<int> ids;
    size_t queried = 0;
    for (const rapidjson::Value* p : allPanels(doc)) {
        const auto& panel = *p;
        INFO("panel " << str(panel, "title"));
        REQUIRE(panel["id"].IsInt());
        CHECK(ids.insert(panel["id"].GetInt()).second);
        REQUIRE(panel.HasMember("gridPos"));
        const auto& grid = panel["gridPos"];
        for (const char* k : {"h", "w", "x", "y"}) REQUIRE((grid.HasMember(k) && grid[k].IsInt()));
        CHECK(grid["w"].GetInt() >= 1);
        CHECK(grid["h"].GetInt() >= 1);
        CHECK(grid["x"].GetInt() >= 0);
        CHECK(grid["x"].GetInt() + grid["w"].GetInt() <= 24);
        CHECK_FALSE(str(panel, "title").empty());
        if (str(panel, "type") == "row") continue;
        REQUIRE(panel.HasMember("datasource"));
        CHECK(str(panel["datasource"], "uid") == "${datasource}");
        REQUIRE(panel.HasMember("targets"));
        REQUIRE(panel["targets"].IsArray());
        CHECK(panel["targets"].Size() >= 1);
        std::set<std::string> refIds;
        for (const auto& t : panel["targets"].GetArray()) {
            CHECK_FALSE(str(t, "expr").empty());
            CHECK(refIds.insert(str(t, "refId")).second);
            if (t.HasMember("datasource")) CHECK(str(t["datasource"], "uid") == "${datasource}");
            ++queried;
        }
    }
    CHECK(queried >= 20);

    // Prometheus's own parser reads every query: as recording rules for promtool.
    YAML::Emitter rules;
    rules << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
          << YAML::Key << "name" << YAML::Value << "dashboard" << YAML::Key << "rules" << YAML::Value
          << YAML::BeginSeq;
    size_t n = 0;
    for (const auto& q : dashboardQueries(doc)) {
        if (q.variable) continue;
        rules << YAML::BeginMap << YAML::Key << "record" << YAML::Value << "dashboard:query_" + std::to_string(++n)
              << YAML::Key << "expr" << YAML::Value << YAML::DoubleQuoted << substituteVariables(q.text)
              << YAML::EndMap;
    }
    rules << YAML::EndSeq << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
    TempDir dir;
    writeFile(dir.file("dashboard_rules.yml"), rules.c_str());
    const auto [rc, out] = run("promtool check rules '" + dir.file("dashboard_rules.yml") + "'", dir, "check");
    INFO(rules.c_str());
    INFO(out);
    CHECK(rc == 0);
    CHECK_THAT(out, Catch::Contains("SUCCESS: " + std::to_string(n) + " rules found"));
}

TEST_CASE("promtool checks the alerting rules and passes their unit tests", "[dashboard][rules]") {
    const YAML::Node rules = YAML::LoadFile(rulesPath());
    std::set<std::string> alerts;
    for (const auto& group : rules["groups"])
        for (const auto& rule : group["rules"]) {
            const std::string name = rule["alert"].as<std::string>("");
            INFO("rule " << name);
            CHECK(alerts.insert(name).second);
            CHECK_FALSE(rule["expr"].as<std::string>("").empty());
            CHECK_FALSE(rule["for"].as<std::string>("").empty());
            const std::string severity = rule["labels"]["severity"].as<std::string>("");
            CHECK((severity == "critical" || severity == "warning"));
            CHECK_FALSE(rule["annotations"]["summary"].as<std::string>("").empty());
            CHECK_FALSE(rule["annotations"]["description"].as<std::string>("").empty());
        }
    for (const char* expected :
         {"PaddockDown", "PaddockSiteDown", "PaddockPoolEmpty", "PaddockAllocationLatencyHigh", "PaddockRecordingErrors"})
        CHECK(alerts.count(expected) == 1);

    // Every alert has a unit test.
    const std::string unitTests = readFile(rulesTestPath());
    for (const auto& name : alerts) CHECK_THAT(unitTests, Catch::Contains("alertname: " + name));

    TempDir dir;
    const auto [checkRc, checkOut] = run("promtool check rules '" + rulesPath() + "'", dir, "check");
    INFO(checkOut);
    CHECK(checkRc == 0);
    CHECK_THAT(checkOut, Catch::Contains("SUCCESS: " + std::to_string(alerts.size()) + " rules found"));
    // promtool resolves rule_files relative to the test file.
    const auto [testRc, testOut] = run("promtool test rules '" + rulesTestPath() + "'", dir, "test");
    INFO(testOut);
    CHECK(testRc == 0);
    CHECK_THAT(testOut, Catch::Contains("SUCCESS"));
}

TEST_CASE("every metric the dashboard and the alerts query is in a live /metrics", "[dashboard][live]") {
    // What is queried, read first: a malformed query fails here, before any daemon starts.
    const auto dashboard = parseJsonFile(dashboardPath());
    std::vector<Query> queries = dashboardQueries(dashboard);
    const auto ruleList = ruleQueries(YAML::LoadFile(rulesPath()));
    queries.insert(queries.end(), ruleList.begin(), ruleList.end());
    std::map<std::string, std::vector<std::string>> queriedBy;  // metric -> where
    for (const auto& q : queries) {
        INFO(q.where << ": " << q.text);
        const PromqlNames names = q.variable ? grafanaVariableMetricNames(q.text) : promqlMetricNames(q.text);
        CHECK(names.error.empty());
        if (!q.variable) CHECK_FALSE(names.metrics.empty());
        for (const auto& m : names.metrics) queriedBy[m].push_back(q.where);
    }
    REQUIRE(queriedBy.size() >= 20);

    // Site "local" (test:///default, user-mode networking): the VM "term", whose one SSH
    // forward port a private sshd listens on, for a browser terminal. Site "lab" (a test
    // hypervisor of its own, no network): a hot pool and a watched VM.
    const uint16_t sshPort = freeLoopbackPort();
    DaemonOptions options;
    options.threads = 8;
    options.server_yaml = "  websocket_idle_timeout_s: 3600\n";
    options.tokens = {{"ops", kAdmin, "admin"}};
    options.recording_enabled = true;
    SiteOptions local;
    local.name = "local";
    local.storage_pool = "default-pool";
    local.network_mode = "user";
    local.ssh_user = SshdFixture::currentUser();
    local.ssh_port_min = sshPort;
    local.ssh_port_max = sshPort;
    local.stop_timeout_s = 2;
    SiteOptions lab;
    lab.name = "lab";
    lab.uri = "test://" + sourceDir() + "/tests/server/data/site_b.xml";
    lab.storage_pool = "default-pool";
    lab.stop_timeout_s = 2;
    lab.templates = {{.name = "tiny"}};
    lab.pools = {{.name = "class", .template_name = "tiny", .mode = "running", .min_idle = 2, .max_total = 4}};
    options.sites = {local, lab};
    PaddockdFixture d(options);

    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"term","site":"local","start":true})", kAdmin).status == 201);
    SshdFixture sshd(sshPort);
    sshd.authorize(d.stateDir() + "/ssh/id_ed25519.pub");

    // The pool: filled, then one allocation (the allocation latency histogram).
    REQUIRE(eventually([&] { return d.getJson("/api/v1/pools/class")["idle"].GetUint() == 2; }, 120s));
    {
        const auto lease = d.call("POST", "/api/v1/pools/class/allocate", R"({"owner":"alice","ttl_s":600})", kAdmin);
        INFO(lease.body);
        REQUIRE(lease.status == 200);
    }

    // The watchdog: a watched VM, a heartbeat, and a revert (an idle reset asks for one).
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"art","site":"lab","template":"tiny"})", kAdmin).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms/art/snapshots", R"({"name":"ready"})", kAdmin).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms/art/watch", R"({"heartbeat_timeout_s":600})", kAdmin).status == 200);
    REQUIRE(d.call("POST", "/api/v1/vms/art/heartbeat", "{}", kAdmin).status == 200);
    REQUIRE(d.call("POST", "/api/v1/vms/art/idle-reset", R"({"idle_duration":60})", kAdmin).status == 202);
    REQUIRE(eventually([&] { return d.getJson("/api/v1/vms/art/watch")["reverts"].GetInt() == 1; }, 60s));

    // A browser terminal, open (and recorded) while /metrics is read.
    const auto console = d.call("POST", "/api/v1/vms/term/console", std::nullopt, kAdmin);
    REQUIRE(console.status == 201);
    TerminalClient term(
        d.openWebSocket("/api/v1/vms/term/terminal?ticket=" + jsonString(console.json()["ticket"])));
    term.type("echo dash-$((6*7))\n");
    REQUIRE(term.waitFor("dash-42", 60s));

    // Every family the queries name has samples by now; the VM counts come with the sites'
    // next listing (each second), hence the wait for them.
    REQUIRE(eventually([&] { return d.metric(R"(paddock_vms{site="lab",state="running"})") >= 1; }, 30s));
    const auto reply = d.call("GET", "/metrics", std::nullopt, "");
    REQUIRE(reply.status == 200);
    const Exposition live = parseExposition(reply.body);
    TempDir keep;
    writeFile(keep.file("metrics.txt"), reply.body);

    for (const auto& [metric, where] : queriedBy) {
        std::string users;
        for (const auto& w : where) users += "\n  " + w;
        INFO(metric << " queried by:" << users);
        if (kScrapeSeries.count(metric) != 0) {
            CHECK(live.samples.count(metric) == 0);  // made by Prometheus, not exported
            continue;
        }
        CHECK(exported(live, metric));
    }
    // The two new families carry what the alerts read.
    CHECK(d.metric(R"(paddock_site_connected{site="local"})") == 1);
    CHECK(d.metric(R"(paddock_site_connected{site="lab"})") == 1);
    CHECK(d.metric(R"(paddock_pool_min_idle_vms{pool="class",site="lab"})") == 2);
    CHECK(d.metric("paddock_terminal_sessions_active{owner=\"\",vm=\"term\"}") == 1);
    const auto [rc, out] = run("promtool check metrics < '" + keep.file("metrics.txt") + "'", keep, "lint");
    INFO(out);
    CHECK(rc == 0);
    term.type("exit\n");
    CHECK(term.waitClosed(60s));
}
