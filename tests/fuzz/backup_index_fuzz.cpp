// core/backup backup_store.cpp: <backups>/<vm>/index.json as paddockd reads it before every
// backup, listing and restore, from any bytes (cut short by a full disk, edited by hand, from
// another version, planted by someone with write access to the directory). Checked: list()
// either refuses the file (Unavailable, naming it, the file left as it was) or yields records
// whose file names stay inside the directory and whose kinds are known; the chain helpers
// (chainUpTo, planNextBackup, chainsToPrune) hold their promises on whatever was read; after an
// append the file reads back with the new record, every field the same.
#include "fuzz_support.hpp"

#include "paddock/core/backup_store.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>
#include <unistd.h>

namespace {

using namespace paddock;

// One directory per process (removed at exit), one index rewritten per input.
const std::string& root() {
    static const std::string path = [] {
        char dir[] = "/tmp/paddock-fuzz-backups-XXXXXX";
        if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
        static const std::string kept = dir;
        std::atexit([] { (void)std::system(("rm -rf '" + kept + "'").c_str()); });
        return kept;
    }();
    return path;
}

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    BackupStore store({root()});
    auto dir = store.directoryFor("vm-1", "");
    FUZZ_CHECK(dir.ok());
    const std::string index = dir.value() + "/index.json";
    const std::string input(reinterpret_cast<const char*>(data), size);
    {
        std::ofstream out(index, std::ios::binary | std::ios::trunc);
        out << input;
    }
    auto listed = store.list("vm-1");
    if (!listed) {
        FUZZ_CHECK(listed.error().code == ErrorCode::Unavailable);
        FUZZ_CHECK(listed.error().message.find("index.json") != std::string::npos);
        store.sweep("vm-1");
        FUZZ_CHECK(readAll(index) == input);
        return 0;
    }
    std::set<std::string> ids;
    for (const auto& r : listed.value()) {
        FUZZ_CHECK(!r.file.empty() && r.file.front() != '.' && r.file.find('/') == std::string::npos);
        FUZZ_CHECK(r.kind == kBackupFull || r.kind == kBackupIncremental);
        ids.insert(r.id);
        const auto chain = chainUpTo(listed.value(), r.id);
        if (!chain.empty()) FUZZ_CHECK(chain.back() == r.id && chain.size() <= listed->size());
    }
    for (uint32_t keep : {1u, 2u, 7u}) {
        const auto next = planNextBackup(listed.value(), "uuid", keep);
        FUZZ_CHECK((next.parent == nullptr) != next.reason.empty());
        size_t pruned = 0;
        for (const auto& chain : chainsToPrune(listed.value(), keep)) pruned += chain.size();
        FUZZ_CHECK(pruned < listed->size() || listed->empty());
    }

    BackupRecord added;
    added.id = "bk-fuzz";
    added.vm = "vm-1";
    added.kind = kBackupFull;
    added.chain = added.id;
    added.file = "bk-fuzz.qcow2";
    added.reason = input.substr(0, 64);
    added.created_at = std::chrono::system_clock::now();
    if (!store.append(added)) return 0;  // e.g. a reason that is not UTF-8 cannot be written as JSON
    auto again = store.list("vm-1");
    FUZZ_CHECK(again.ok() && again->size() == listed->size() + 1);
    bool found = false;
    for (const auto& r : again.value())
        if (r.id == "bk-fuzz" && !ids.count("bk-fuzz")) found = found || (r.file == added.file && r.chain == added.chain);
    FUZZ_CHECK(found || ids.count("bk-fuzz"));
    return 0;
}
