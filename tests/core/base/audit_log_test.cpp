#include "paddock/core/audit_log.hpp"

#include "test_support.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <sstream>
#include <thread>
#include <vector>

using paddock::AuditLog;
using paddock::test::TempDir;

TEST_CASE("audit records are JSON lines with every field", "[audit]") {
    TempDir dir;
    const std::string path = dir.file("logs/audit.log");
    {
        AuditLog log(path);
        log.write({"alice", "local", "vm-1", "create", "ok", "", "", ""});
        log.write({"bob", "local", "vm-2", "delete", "error", "VM 'vm-2' \"not\" found\n", "", ""});
        log.write({"carol", "local", "vm-1", "snapshot_create", "ok", "", "before-lab", ""});
    }
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::istringstream lines(paddock::test::readFile(path));
    std::string line;
    std::vector<rapidjson::Document> docs;
    while (std::getline(lines, line)) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        REQUIRE_FALSE(d.HasParseError());
        docs.push_back(std::move(d));
    }
    REQUIRE(docs.size() == 3);
    for (const char* key : {"time", "actor", "site", "vm", "action", "result", "error"}) CHECK(docs[0].HasMember(key));
    CHECK(docs[0]["error"].IsNull());
    CHECK(std::string(docs[1]["error"].GetString()) == "VM 'vm-2' \"not\" found\n");
    CHECK(std::string(docs[1]["actor"].GetString()) == "bob");
    // "target" only where the action concerned something within the VM.
    CHECK_FALSE(docs[0].HasMember("target"));
    CHECK(std::string(docs[2]["target"].GetString()) == "before-lab");
}

TEST_CASE("concurrent writers never interleave lines", "[audit]") {
    TempDir dir;
    const std::string path = dir.file("audit.log");
    {
        AuditLog log(path);
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&log, t] {
                for (int i = 0; i < 200; ++i) log.write({std::string("t").append(std::to_string(t)), "s", "vm", "start", "ok", "", "", ""});
            });
        }
        for (auto& th : threads) th.join();
    }
    std::istringstream lines(paddock::test::readFile(path));
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        REQUIRE_FALSE(d.HasParseError());
        ++count;
    }
    CHECK(count == 1600);
}
