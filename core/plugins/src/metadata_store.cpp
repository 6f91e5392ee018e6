#include "paddock/core/metadata_store.hpp"

#include "paddock/core/atomic_file.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/core/utf8.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <boost/filesystem.hpp>

#include <memory>

namespace paddock {

namespace {

constexpr int kFormatVersion = 1;

Error notAStore(const std::string& path, const std::string& why) {
    return makeError(ErrorCode::InvalidArgument, "metadata store " + path + ": " + why);
}

}  // namespace

Result<std::shared_ptr<MetadataStore>> MetadataStore::open(const std::string& path) {
    std::shared_ptr<MetadataStore> store(new MetadataStore(path));
    auto content = readWholeFile(path);
    if (!content) {
        if (content.error().code != ErrorCode::NotFound) return std::move(content).error();
        boost::system::error_code ec;
        boost::filesystem::create_directories(boost::filesystem::path(path).parent_path(), ec);
        if (ec) return makeError(ErrorCode::Unavailable, "cannot create the directory of " + path + ": " + ec.message());
        return store;
    }
    rapidjson::Document doc;
    // Iterative: the file is ours, but a damaged one must not take the stack with it.
    // rapidjson takes a NUL byte for the end of the text, so whatever follows one would go unread;
    // JSON itself never holds one (a string escapes it as \u0000).
    if (content->find('\0') != std::string::npos) return notAStore(path, "a NUL byte in the file");
    doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(content->data(), content->size());
    if (doc.HasParseError()) return notAStore(path, rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject() || !doc.HasMember("version") || !doc["version"].IsInt() || !doc.HasMember("domains") ||
        !doc["domains"].IsObject())
        return notAStore(path, "not an object with \"version\" and \"domains\"");
    if (doc["version"].GetInt() != kFormatVersion)
        return notAStore(path, "format version " + std::to_string(doc["version"].GetInt()) + " is not " +
                                   std::to_string(kFormatVersion));
    // Strings by their length: a NUL byte in one (JSON allows \u0000) must not cut it short.
    // An escaped lone surrogate decodes to bytes that are no UTF-8: such a file is not ours.
    bool encoded = true;
    const auto text = [&encoded](const rapidjson::Value& v) {
        std::string s(v.GetString(), v.GetStringLength());
        encoded = encoded && isValidUtf8(s);
        return s;
    };
    for (const auto& domain : doc["domains"].GetObject()) {
        const std::string uuid = text(domain.name);
        if (!domain.value.IsObject()) return notAStore(path, "the entry of a domain is not an object");
        Metadata& kept = store->domains_[uuid];
        for (const auto& kv : domain.value.GetObject()) {
            if (!kv.value.IsString()) return notAStore(path, "a metadata value is not a string");
            kept[text(kv.name)] = text(kv.value);
        }
    }
    if (!encoded) return notAStore(path, "a string is not valid UTF-8");
    return store;
}

MetadataStore::Metadata MetadataStore::get(const std::string& uuid) const {
    std::lock_guard lock(mutex_);
    const auto it = domains_.find(uuid);
    return it == domains_.end() ? Metadata{} : it->second;
}

std::map<std::string, MetadataStore::Metadata> MetadataStore::snapshot() const {
    std::lock_guard lock(mutex_);
    return domains_;
}

Status MetadataStore::put(const std::string& uuid, const Metadata& metadata) {
    if (uuid.empty()) return makeError(ErrorCode::InvalidArgument, "metadata store: a domain without a UUID");
    if (!isValidUtf8(uuid)) return makeError(ErrorCode::InvalidArgument, "metadata store: a UUID that is not UTF-8");
    for (const auto& [k, v] : metadata)
        if (!isValidUtf8(k) || !isValidUtf8(v))
            return makeError(ErrorCode::InvalidArgument, "metadata store: key or value of " + uuid + " is not UTF-8");
    std::lock_guard lock(mutex_);
    const auto before = domains_;
    if (metadata.empty())
        domains_.erase(uuid);
    else
        domains_[uuid] = metadata;
    if (auto saved = saveLocked(); !saved) {
        domains_ = before;
        return saved;
    }
    return {};
}

Status MetadataStore::erase(const std::string& uuid) { return put(uuid, {}); }

Status MetadataStore::retainOnly(const std::set<std::string>& uuids) {
    std::lock_guard lock(mutex_);
    const auto before = domains_;
    for (auto it = domains_.begin(); it != domains_.end();) it = uuids.count(it->first) ? std::next(it) : domains_.erase(it);
    if (domains_.size() == before.size()) return {};
    if (auto saved = saveLocked(); !saved) {
        domains_ = before;
        return saved;
    }
    return {};
}

Status MetadataStore::saveLocked() const {
    JsonWriter json;
    json.beginObject().field("version", kFormatVersion).key("domains").beginObject();
    for (const auto& [uuid, metadata] : domains_) {
        json.key(uuid).beginObject();
        for (const auto& [k, v] : metadata) json.field(k, v);
        json.endObject();
    }
    json.endObject().endObject();
    return writeFileAtomically(path_, json.str() + "\n", 0600);
}

}  // namespace paddock
