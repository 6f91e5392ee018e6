#include "sink_probe.hpp"

#include <paddock/pdk_struct.h>

#include <cstring>

namespace paddock::conformance {

namespace {

constexpr size_t kMaxString = 64 * 1024;

// A string a sink received, copied; false when NULL or not terminated within kMaxString.
bool copyString(const char* s, std::string& out) {
    if (s == nullptr) return false;
    const size_t n = strnlen(s, kMaxString);
    if (n == kMaxString) return false;
    out.assign(s, n);
    return true;
}

}  // namespace

void SinkProbe::openWindow() {
    caller_ = std::this_thread::get_id();
    open_ = true;
}

void SinkProbe::closeWindow() { open_ = false; }

std::string SinkProbe::problem() const {
    std::lock_guard lock(mutex_);
    return problem_;
}

bool SinkProbe::enter() {
    ++calls_;
    if (!open_) {
        ++late_;
        return false;
    }
    if (std::this_thread::get_id() != caller_) ++foreign_;
    return true;
}

void SinkProbe::invalid(const std::string& why) {
    std::lock_guard lock(mutex_);
    if (problem_.empty()) problem_ = why;
}

void DomainProbe::sink(void* user, const pdk_domain_info* theirs) {
    auto* self = static_cast<DomainProbe*>(user);
    if (!self->enter()) return;
    if (theirs == nullptr) return self->invalid("a pdk_domain_info pointer was NULL");
    pdk_domain_info info;
    if (!pdk_copy_in(&info, sizeof info, theirs, PDK_DOMAIN_INFO_SIZE_1_0)) {
        return self->invalid("pdk_domain_info struct_size " + std::to_string(pdk_struct_size_of(theirs)) +
                             " is smaller than ABI 1.0's " + std::to_string(PDK_DOMAIN_INFO_SIZE_1_0));
    }
    SeenDomain d;
    if (!copyString(info.name, d.name) || d.name.empty()) return self->invalid("a domain had a NULL or empty name");
    if (!copyString(info.uuid, d.uuid) || d.uuid.size() != 36) {
        return self->invalid("domain '" + d.name + "' has no 36-character uuid");
    }
    if (info.state < PDK_DOMAIN_NOSTATE || info.state > PDK_DOMAIN_PMSUSPENDED) {
        return self->invalid("domain '" + d.name + "' has state " + std::to_string(info.state));
    }
    if (info.metadata_count > 0 && info.metadata == nullptr) {
        return self->invalid("domain '" + d.name + "' has metadata_count > 0 and metadata NULL");
    }
    for (size_t i = 0; i < info.metadata_count; ++i) {
        std::string key;
        std::string value;
        if (!copyString(info.metadata[i].key, key)) return self->invalid("a metadata key of '" + d.name + "' is NULL");
        if (info.metadata[i].value != nullptr && !copyString(info.metadata[i].value, value)) {
            return self->invalid("a metadata value of '" + d.name + "' is not terminated");
        }
        d.metadata[key] = value;
    }
    d.id = info.id;
    d.state = info.state;
    d.vcpus = info.vcpus;
    d.maxMemoryKib = info.max_memory_kib;
    self->domains.push_back(std::move(d));
}

const SeenDomain* DomainProbe::find(const std::string& name) const {
    for (const auto& d : domains) {
        if (d.name == name) return &d;
    }
    return nullptr;
}

void KvProbe::sink(void* user, const char* key, const char* value) {
    auto* self = static_cast<KvProbe*>(user);
    if (!self->enter()) return;
    std::string k;
    std::string v;
    if (!copyString(key, k)) return self->invalid("a metadata key was NULL");
    if (value != nullptr && !copyString(value, v))
        return self->invalid("metadata value of '" + k + "' is not terminated");
    self->pairs[k] = v;
}

void NameProbe::sink(void* user, const char* name) {
    auto* self = static_cast<NameProbe*>(user);
    if (!self->enter()) return;
    std::string n;
    if (!copyString(name, n)) return self->invalid("a name was NULL");
    self->names.push_back(std::move(n));
}

void SnapshotProbe::sink(void* user, const pdk_snapshot_info* theirs) {
    auto* self = static_cast<SnapshotProbe*>(user);
    if (!self->enter()) return;
    pdk_snapshot_info info;
    if (!pdk_copy_in(&info, sizeof info, theirs, PDK_SNAPSHOT_INFO_SIZE_1_4)) {
        return self->invalid("a pdk_snapshot_info was NULL or smaller than ABI 1.4's");
    }
    SeenSnapshot s;
    if (!copyString(info.name, s.name)) return self->invalid("a snapshot name was NULL");
    if (info.description != nullptr) copyString(info.description, s.description);
    s.isCurrent = info.is_current != 0;
    self->snapshots.push_back(std::move(s));
}

std::vector<const SinkProbe*> ProbeArena::all() const {
    std::lock_guard lock(mutex_);
    std::vector<const SinkProbe*> out;
    for (const auto& p : probes_) out.push_back(p.get());
    return out;
}

}  // namespace paddock::conformance
