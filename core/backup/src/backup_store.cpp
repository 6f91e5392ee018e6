#include "paddock/core/backup_store.hpp"

#include "paddock/core/atomic_file.hpp"
#include "paddock/core/json_fields.hpp"
#include "paddock/core/json_writer.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <boost/filesystem.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace paddock {

namespace {

constexpr int kIndexVersion = 1;
constexpr const char* kIndexFile = "index.json";

using json_fields::member;
using json_fields::text;
using Malformed = json_fields::JsonFieldError;

// A file name of ours: no path, nothing hidden. Index entries are read back from disk, so a
// hand-edited index must not name a file outside the directory.
bool plainFileName(const std::string& name) {
    return !name.empty() && name.front() != '.' && name.find('/') == std::string::npos && name.size() <= 255;
}

BackupRecord readRecord(const rapidjson::Value& v) {
    BackupRecord r;
    r.id = text(v, "id");
    r.vm = text(v, "vm");
    r.vm_uuid = text(v, "vm_uuid");
    r.site = text(v, "site");
    r.owner = text(v, "owner");
    r.template_name = text(v, "template");
    r.vcpus = static_cast<uint32_t>(json_fields::unsignedNumber(v, "vcpus"));
    r.memory_mb = json_fields::unsignedNumber(v, "memory_mb");
    r.kind = text(v, "kind");
    if (r.kind != kBackupFull && r.kind != kBackupIncremental) throw Malformed{"unknown kind '" + r.kind + "'"};
    r.parent = text(v, "parent");
    r.chain = text(v, "chain");
    r.checkpoint = text(v, "checkpoint");
    r.file = text(v, "file");
    if (!plainFileName(r.file)) throw Malformed{"'file' of backup " + r.id + " is not a plain file name"};
    r.size_bytes = json_fields::unsignedNumber(v, "size_bytes");
    r.sha256 = text(v, "sha256");
    r.created_at = json_fields::time(v, "created_at");
    r.duration_s = json_fields::number(v, "duration_s");
    r.offline = json_fields::boolean(v, "offline");
    r.reason = text(v, "reason");
    return r;
}

void writeRecord(JsonWriter& json, const BackupRecord& r) {
    json.beginObject()
        .field("id", r.id)
        .field("vm", r.vm)
        .field("vm_uuid", r.vm_uuid)
        .field("site", r.site)
        .field("owner", r.owner)
        .field("template", r.template_name)
        .field("vcpus", r.vcpus)
        .field("memory_mb", r.memory_mb)
        .field("kind", r.kind)
        .field("parent", r.parent)
        .field("chain", r.chain)
        .field("checkpoint", r.checkpoint)
        .field("file", r.file)
        .field("size_bytes", r.size_bytes)
        .field("sha256", r.sha256)
        .field("created_at", isoTime(r.created_at))
        .field("duration_s", r.duration_s)
        .field("offline", r.offline)
        .field("reason", r.reason)
        .endObject();
}

Error unavailable(const std::string& what, const std::string& path, int err) {
    return makeError(ErrorCode::Unavailable, what + " " + path + ": " + std::strerror(err));
}

// mkdir -p with 0700 for what it makes; an existing directory gets 0700 too.
Status makePrivateDirectory(const std::string& path) {
    boost::system::error_code ec;
    boost::filesystem::create_directories(path, ec);
    if (ec) return makeError(ErrorCode::Unavailable, "cannot create directory " + path + ": " + ec.message());
    if (::chmod(path.c_str(), 0700) != 0) return unavailable("cannot make private", path, errno);
    return {};
}

}  // namespace

BackupStore::BackupStore(std::vector<std::string> roots) : roots_(std::move(roots)) {
    if (roots_.empty()) roots_.emplace_back("backups");
}

std::string BackupStore::existingDirectory(const std::string& vm) const {
    for (const auto& root : roots_) {
        const std::string dir = root + "/" + vm;
        struct stat st{};
        if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    }
    return {};
}

Result<std::vector<BackupRecord>> BackupStore::readIndex(const std::string& directory) const {
    const std::string path = directory + "/" + kIndexFile;
    auto content = readWholeFile(path);
    if (!content) {
        if (content.error().code == ErrorCode::NotFound) return std::vector<BackupRecord>{};
        return std::move(content).error();
    }
    rapidjson::Document doc;
    // Strings that are not UTF-8 are refused on reading: written back they would be repaired
    // (JsonWriter), and a repaired file name is another file (found by fuzzing: backup_index).
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(content->data(), content->size());
    if (doc.HasParseError())
        return makeError(ErrorCode::Unavailable, path + " is not JSON in UTF-8; it was left as it is");
    std::vector<BackupRecord> records;
    try {
        const auto& version = member(doc, "version");
        if (!version.IsInt() || version.GetInt() != kIndexVersion)
            throw Malformed{"unknown version (this paddockd reads " + std::to_string(kIndexVersion) + ")"};
        const auto& list = member(doc, "backups");
        if (!list.IsArray()) throw Malformed{"'backups' is not a list"};
        for (const auto& item : list.GetArray()) records.push_back(readRecord(item));
    } catch (const Malformed& m) {
        return makeError(ErrorCode::Unavailable, path + ": " + m.what + "; it was left as it is");
    }
    std::stable_sort(records.begin(), records.end(),
                     [](const BackupRecord& a, const BackupRecord& b) { return a.created_at < b.created_at; });
    return records;
}

Status BackupStore::writeIndex(const std::string& directory, const std::vector<BackupRecord>& records) const {
    JsonWriter json;
    json.beginObject().field("version", kIndexVersion).key("backups").beginArray();
    for (const auto& r : records) writeRecord(json, r);
    json.endArray().endObject();
    return writeFileAtomically(directory + "/" + kIndexFile, json.str(), 0600);
}

Result<std::vector<BackupRecord>> BackupStore::list(const std::string& vm) const {
    std::lock_guard lock(mutex_);
    const std::string dir = existingDirectory(vm);
    if (dir.empty()) return std::vector<BackupRecord>{};
    return readIndex(dir);
}

Result<std::string> BackupStore::directoryFor(const std::string& vm, const std::string& root) const {
    std::lock_guard lock(mutex_);
    std::string dir = existingDirectory(vm);
    if (dir.empty()) dir = (root.empty() ? roots_.front() : root) + "/" + vm;
    if (auto made = makePrivateDirectory(dir); !made) return std::move(made).error();
    return dir;
}

Result<std::string> BackupStore::pathOf(const BackupRecord& record) const {
    std::lock_guard lock(mutex_);
    const std::string dir = existingDirectory(record.vm);
    if (dir.empty()) return makeError(ErrorCode::NotFound, "no backup directory of VM '" + record.vm + "'");
    return dir + "/" + record.file;
}

Status BackupStore::append(const BackupRecord& record) {
    std::lock_guard lock(mutex_);
    const std::string dir = existingDirectory(record.vm);
    if (dir.empty()) return makeError(ErrorCode::NotFound, "no backup directory of VM '" + record.vm + "'");
    auto records = readIndex(dir);
    if (!records) return std::move(records).error();
    records->push_back(record);
    return writeIndex(dir, records.value());
}

Status BackupStore::erase(const std::string& vm, const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex_);
    const std::string dir = existingDirectory(vm);
    if (dir.empty()) return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no backups");
    auto records = readIndex(dir);
    if (!records) return std::move(records).error();
    const std::set<std::string> gone(ids.begin(), ids.end());
    std::vector<BackupRecord> kept;
    for (const auto& r : records.value()) {
        if (!gone.count(r.id)) {
            kept.push_back(r);
            continue;
        }
        const std::string path = dir + "/" + r.file;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) return unavailable("cannot delete", path, errno);
    }
    return writeIndex(dir, kept);
}

void BackupStore::sweep(const std::string& vm) const {
    std::lock_guard lock(mutex_);
    const std::string dir = existingDirectory(vm);
    if (dir.empty()) return;
    auto records = readIndex(dir);
    if (!records) return;  // an index we cannot read: touch nothing
    std::set<std::string> named{kIndexFile};
    for (const auto& r : records.value()) named.insert(r.file);
    boost::system::error_code ec;
    for (boost::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        // The atomic writer's temporary files are its own business.
        if (named.count(name) || name.rfind(kIndexFile, 0) == 0 || !boost::filesystem::is_regular_file(it->path()))
            continue;
        ::unlink(it->path().c_str());
    }
}

Result<std::string> BackupStore::sha256File(const std::string& path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) return unavailable("cannot read", path, errno);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        return makeError(ErrorCode::Internal, "cannot start a SHA-256 digest");
    std::vector<unsigned char> buffer(1 << 20);
    size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), n);
    if (std::ferror(file.get())) return unavailable("cannot read", path, errno);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xF];
    }
    return hex;
}

std::vector<std::string> chainUpTo(const std::vector<BackupRecord>& records, const std::string& id) {
    std::map<std::string, const BackupRecord*> byId;
    for (const auto& r : records) byId[r.id] = &r;
    std::vector<std::string> chain;
    std::string at = id;
    while (!at.empty()) {
        const auto it = byId.find(at);
        if (it == byId.end() || chain.size() > records.size()) return {};  // missing link or a cycle
        chain.push_back(at);
        if (it->second->kind == kBackupFull) {
            std::reverse(chain.begin(), chain.end());
            return chain;
        }
        at = it->second->parent;
    }
    return {};
}

NextBackup planNextBackup(const std::vector<BackupRecord>& records, const std::string& uuid, uint32_t keep) {
    const BackupRecord* newest = nullptr;
    for (const auto& r : records)
        if (r.vm_uuid == uuid) newest = &r;
    if (newest == nullptr)
        return {nullptr, records.empty() ? "first backup of the VM"
                                         : "first backup of this VM (the others are of an earlier VM of the same name)"};
    size_t chainLength = 0;
    for (const auto& r : records) chainLength += r.chain == newest->chain ? 1 : 0;
    if (chainLength >= keep)
        return {nullptr, "the chain holds backups.keep (" + std::to_string(keep) + ") backups"};
    return {newest, {}};
}

std::vector<std::vector<std::string>> chainsToPrune(const std::vector<BackupRecord>& records, uint32_t keep) {
    std::vector<std::vector<std::string>> chains;  // oldest first, each oldest first
    std::map<std::string, size_t> index;
    for (const auto& r : records) {
        auto [it, added] = index.emplace(r.chain, chains.size());
        if (added) chains.emplace_back();
        chains[it->second].push_back(r.id);
    }
    std::vector<std::vector<std::string>> prune;
    size_t total = records.size();
    for (size_t i = 0; i + 1 < chains.size() && total - chains[i].size() >= keep; ++i) {
        total -= chains[i].size();
        prune.push_back(std::move(chains[i]));
    }
    return prune;
}

}  // namespace paddock
