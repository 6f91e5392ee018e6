// server token_store: <state_dir>/tokens.json as paddockd reads it at start, from any bytes (a
// file cut short by a full disk, edited by hand, from another version). Checked: open() either
// refuses the file (InvalidArgument naming it) or yields only well-formed live tokens, none
// found by an empty secret; after a mint, the file the store wrote
// opens again and holds the new token, found by its secret alone.
#include "fuzz_support.hpp"

#include "paddock/core/names.hpp"
#include "paddock/server/token_store.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>
#include <unistd.h>

namespace {

using namespace paddock;
using namespace paddock::server;

// One directory per process (removed at exit), one file rewritten per input.
const std::string& tokenFile() {
    static const std::string path = [] {
        char dir[] = "/tmp/paddock-fuzz-tokens-XXXXXX";
        if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
        static const std::string kept = dir;
        std::atexit([] {
            ::unlink((kept + "/tokens.json").c_str());
            ::rmdir(kept.c_str());
        });
        return kept + "/tokens.json";
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = tokenFile();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto store = TokenStore::open(path);
    if (!store) {
        FUZZ_CHECK(store.error().code == ErrorCode::InvalidArgument || store.error().code == ErrorCode::Unavailable);
        return 0;
    }
    const auto now = std::chrono::system_clock::now();
    for (const auto& token : store.value()->list()) {
        FUZZ_CHECK(!token.id.empty() && !token.owner.empty());
        FUZZ_CHECK(token.expires_at > now);
    }
    FUZZ_CHECK(!store.value()->find(""));

    // What the store writes, it reads back.
    const size_t before = store.value()->list().size();
    auto minted = store.value()->mint("fuzz-owner", "", Role::Viewer, TokenStore::kMinTtl, "fuzz");
    if (!minted) return 0;  // e.g. the store is full
    auto reopened = TokenStore::open(path);
    FUZZ_CHECK(reopened.ok());
    FUZZ_CHECK(reopened.value()->list().size() == before + 1);
    const auto found = reopened.value()->find(minted->secret);
    FUZZ_CHECK(found && found->id == minted->token.id && found->owner == "fuzz-owner");
    return 0;
}
