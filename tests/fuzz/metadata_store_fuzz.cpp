// core/plugins metadata_store: <state_dir>/metadata/<site>.json as paddockd reads it at start,
// from any bytes (a file cut short by a full disk, edited by hand, from another version).
// Checked: open() either refuses the file (InvalidArgument naming it; the parser is iterative,
// so depth cannot exhaust the stack) or loads it; what the store then writes it reads back
// exactly, the entries it did not touch included; an erased entry stays gone.
#include "fuzz_support.hpp"

#include "paddock/core/metadata_store.hpp"
#include "paddock/core/utf8.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>
#include <unistd.h>

namespace {

using namespace paddock;

const std::string& storeFile() {
    static const std::string path = [] {
        char dir[] = "/tmp/paddock-fuzz-metadata-XXXXXX";
        if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
        static const std::string kept = dir;
        std::atexit([] {
            ::unlink((kept + "/site.json").c_str());
            ::rmdir(kept.c_str());
        });
        return kept + "/site.json";
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = storeFile();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto store = MetadataStore::open(path);
    if (!store) {
        FUZZ_CHECK(store.error().code == ErrorCode::InvalidArgument || store.error().code == ErrorCode::Unavailable);
        FUZZ_CHECK(store.error().message.find(path) != std::string::npos);
        return 0;
    }
    const auto before = store.value()->snapshot();

    const std::string owner(paddock::fuzz::asText(data, size).substr(0, 64));
    const MetadataStore::Metadata written{{"owner", owner}, {"created_at", "1"}};
    const Status put = store.value()->put("fuzz-uuid", written);
    if (!isValidUtf8(owner)) {
        FUZZ_CHECK(!put.ok() && put.error().code == ErrorCode::InvalidArgument);
        FUZZ_CHECK(store.value()->snapshot() == before);
        return 0;
    }
    FUZZ_CHECK(put.ok());
    auto reopened = MetadataStore::open(path);
    FUZZ_CHECK(reopened.ok());
    auto expected = before;
    expected["fuzz-uuid"] = written;
    // What was read is what gets written: every entry survives the round trip.
    FUZZ_CHECK(reopened.value()->snapshot() == expected);

    FUZZ_CHECK(reopened.value()->erase("fuzz-uuid").ok());
    auto again = MetadataStore::open(path);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.value()->get("fuzz-uuid").empty());
    return 0;
}
