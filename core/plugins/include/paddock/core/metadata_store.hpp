// Paddock's metadata for the domains of a backend that cannot keep it (no get_metadata /
// set_metadata: libvirt-hyperv, or a third party's backend): one JSON file per site, keyed by
// domain UUID, so a renamed domain keeps it and a new domain with an old name does not inherit it.
// Every change is written through before it returns (atomic_file: a crash leaves the previous
// file or the new one). The file is Paddock's own (0600 in the state directory).
// Thread-safe.
#pragma once

#include "paddock/core/result.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace paddock {

class MetadataStore {
public:
    using Metadata = std::map<std::string, std::string>;

    // Reads `path` when it exists. InvalidArgument naming the file when it is not a store
    // (not JSON, wrong shape); Unavailable when it cannot be read.
    static Result<std::shared_ptr<MetadataStore>> open(const std::string& path);

    const std::string& path() const noexcept { return path_; }
    // The domain's metadata; empty when none is kept.
    Metadata get(const std::string& uuid) const;
    // Replaces the domain's metadata (an empty map removes the entry). InvalidArgument for an
    // empty UUID or text that is not UTF-8 (the file is JSON); Unavailable when it cannot be written.
    Status put(const std::string& uuid, const Metadata& metadata);
    Status erase(const std::string& uuid);
    // Drops the entries of every domain not in `uuids` (domains removed behind Paddock's back).
    Status retainOnly(const std::set<std::string>& uuids);
    // Every entry, by UUID.
    std::map<std::string, Metadata> snapshot() const;

private:
    explicit MetadataStore(std::string path) : path_(std::move(path)) {}
    Status saveLocked() const;

    std::string path_;
    mutable std::mutex mutex_;
    std::map<std::string, Metadata> domains_;
};

}  // namespace paddock
