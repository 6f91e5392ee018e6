// Header-only C++20 helper for writing Paddock backends in C++. Not part of the ABI: it
// compiles into the plugin and produces a plain pdk_backend_vtable.
//
// Write a class `Conn` with
//   static std::unique_ptr<Conn> open(const char* uri, uint32_t flags);
// and any of the member functions below; a member that does not exist becomes a NULL entry
// in the vtable ("unsupported"). Members report failure by throwing pdk::Error; any other
// exception becomes PDK_ERR_INTERNAL. No exception ever crosses the C boundary.
// The trampolines refuse NULL pointers, and apply the struct rules (cpp/structs.hpp): a member
// receives every host struct as a full-size copy of the plugin's own version (fields an older
// host does not know are zero; a struct smaller than its first version is refused) and fills full-size outputs, of which the host gets what its
// struct_size covers. Members never read struct_size.
//
//   bool isAlive();
//   void hostInfo(uint32_t flags, pdk_host_info& out);
//   void listDomains(uint32_t flags, pdk_domain_sink sink, void* user);
//   void getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user);
//   void defineDomain(const pdk_domain_spec& spec, uint32_t flags);
//   void startDomain(const char* name, uint32_t flags);           (likewise shutdownDomain,
//                                                                   destroyDomain, undefineDomain,
//                                                                   saveDomain)
//   void getMetadata(const char* name, uint32_t flags, pdk_kv_sink sink, void* user);
//   void setMetadata(const char* name, const pdk_kv* pairs, size_t count, uint32_t flags);
//   std::string createOverlay(const pdk_volume_spec& spec, uint32_t flags);
//   void deleteVolume(const char* path, uint32_t flags);
//   std::string volumePath(const char* pool, const char* name, uint32_t flags);   (1.2)
//   void snapshotCreate(const char* domain, const char* snapshot, uint32_t flags);
//   void snapshotList(const char* domain, uint32_t flags, pdk_name_sink sink, void* user);
//   void snapshotRevert(const char* domain, const char* snapshot, uint32_t flags);
//   void snapshotDelete(const char* domain, const char* snapshot, uint32_t flags);
//   void sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out);
//   void subscribeEvents(pdk_event_sink sink, void* user, uint32_t flags);
//   void snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user);   (1.4)
//   void snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags);     (1.4)
//   void backupCreate(const char* domain, const pdk_backup_spec& spec, uint32_t flags,
//                     pdk_backup_result& out);                                                       (1.4)
//   void checkpointDelete(const char* domain, const char* checkpoint, uint32_t flags);              (1.4)
//   std::string restoreVolume(const pdk_restore_spec& spec, uint32_t flags);                        (1.4)
//   void guestPing(const char* domain, uint32_t timeoutMs, uint32_t flags);                         (1.5)
//   void hostResources(uint32_t flags, pdk_host_resources& out);                                    (1.7)
//   void volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out);                        (1.7)
//   void suspendDomain(const char* name, uint32_t flags);                                           (1.8)
//
// Usage:  static const pdk_backend_vtable kVtable = pdk::makeBackendVtable<MyConn>();
#pragma once

#include <paddock/pdk_backend.h>
#include <paddock/cpp/error.hpp>
#include <paddock/cpp/structs.hpp>

#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pdk {

namespace detail {

template <class Conn>
Conn& self(pdk_backend_connection* c) {
    if (c == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "connection is NULL");
    return *reinterpret_cast<Conn*>(c);
}

// Writes `path` NUL-terminated into a caller's buffer, or PDK_ERR_BUFFER_TOO_SMALL.
inline void copyPath(const std::string& path, char* pathOut, size_t capacity) {
    if (path.size() + 1 > capacity) throw Error(PDK_ERR_BUFFER_TOO_SMALL, "path_out too small for " + path);
    std::memcpy(pathOut, path.c_str(), path.size() + 1);
}

template <class Conn>
struct Trampolines {
    static pdk_status open(const char* uri, uint32_t flags, pdk_backend_connection** out, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (out == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "out is NULL");
            std::unique_ptr<Conn> conn = Conn::open(uri == nullptr ? "" : uri, flags);
            *out = reinterpret_cast<pdk_backend_connection*>(conn.release());
        });
    }
    static void close(pdk_backend_connection* c) noexcept {
        try {
            delete reinterpret_cast<Conn*>(c);
        } catch (...) {}
    }
    static int isAlive(pdk_backend_connection* c) noexcept {
        try {
            return c != nullptr && self<Conn>(c).isAlive() ? 1 : 0;
        } catch (...) {
            return 0;
        }
    }
    static pdk_status hostInfo(pdk_backend_connection* c, uint32_t flags, pdk_host_info* out, pdk_error* err) noexcept {
        return guard(err, [&] {
            pdk_host_info info = outputFor(out, "out");
            self<Conn>(c).hostInfo(flags, info);
            copyOut(out, info);
        });
    }
    static pdk_status listDomains(pdk_backend_connection* c, uint32_t flags, pdk_domain_sink sink, void* user,
                                  pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            self<Conn>(c).listDomains(flags, sink, user);
        });
    }
    static pdk_status getDomain(pdk_backend_connection* c, const char* name, uint32_t flags, pdk_domain_sink sink,
                                void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            self<Conn>(c).getDomain(need(name, "name"), flags, sink, user);
        });
    }
    static pdk_status defineDomain(pdk_backend_connection* c, const pdk_domain_spec* spec, uint32_t flags,
                                   pdk_error* err) noexcept {
        return guard(err, [&] {
            const pdk_domain_spec ours = copyIn(spec, "spec");
            self<Conn>(c).defineDomain(ours, flags);
        });
    }
#define PDK_NAME_OP(Member)                                                                                          \
    static pdk_status Member(pdk_backend_connection* c, const char* name, uint32_t flags, pdk_error* err) noexcept { \
        return guard(err, [&] { self<Conn>(c).Member(need(name, "name"), flags); });                                 \
    }
    PDK_NAME_OP(startDomain)
    PDK_NAME_OP(shutdownDomain)
    PDK_NAME_OP(destroyDomain)
    PDK_NAME_OP(undefineDomain)
    PDK_NAME_OP(saveDomain)
    PDK_NAME_OP(suspendDomain)
#undef PDK_NAME_OP
    static pdk_status getMetadata(pdk_backend_connection* c, const char* name, uint32_t flags, pdk_kv_sink sink,
                                  void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            self<Conn>(c).getMetadata(need(name, "name"), flags, sink, user);
        });
    }
    static pdk_status setMetadata(pdk_backend_connection* c, const char* name, const pdk_kv* pairs, size_t count,
                                  uint32_t flags, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (pairs == nullptr && count != 0) throw Error(PDK_ERR_INVALID_ARGUMENT, "pairs is NULL");
            self<Conn>(c).setMetadata(need(name, "name"), pairs, count, flags);
        });
    }
    static pdk_status createOverlay(pdk_backend_connection* c, const pdk_volume_spec* spec, uint32_t flags,
                                    char* pathOut, size_t capacity, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (pathOut == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "path_out is NULL");
            const pdk_volume_spec ours = copyIn(spec, "spec");
            const std::string path = self<Conn>(c).createOverlay(ours, flags);
            copyPath(path, pathOut, capacity);
        });
    }
    static pdk_status deleteVolume(pdk_backend_connection* c, const char* path, uint32_t flags,
                                   pdk_error* err) noexcept {
        return guard(err, [&] { self<Conn>(c).deleteVolume(need(path, "path"), flags); });
    }
    static pdk_status volumePath(pdk_backend_connection* c, const char* pool, const char* name, uint32_t flags,
                                 char* pathOut, size_t capacity, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (pathOut == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "path_out is NULL");
            const std::string path = self<Conn>(c).volumePath(need(pool, "pool"), need(name, "name"), flags);
            copyPath(path, pathOut, capacity);
        });
    }
#define PDK_SNAP_OP(Member)                                                                                          \
    static pdk_status Member(pdk_backend_connection* c, const char* domain, const char* snapshot, uint32_t flags,    \
                             pdk_error* err) noexcept {                                                              \
        return guard(err, [&] { self<Conn>(c).Member(need(domain, "domain"), need(snapshot, "snapshot"), flags); }); \
    }
    PDK_SNAP_OP(snapshotCreate)
    PDK_SNAP_OP(snapshotRevert)
    PDK_SNAP_OP(snapshotDelete)
#undef PDK_SNAP_OP
    static pdk_status snapshotList(pdk_backend_connection* c, const char* domain, uint32_t flags, pdk_name_sink sink,
                                   void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            self<Conn>(c).snapshotList(need(domain, "domain"), flags, sink, user);
        });
    }
    static pdk_status sshTarget(pdk_backend_connection* c, const char* name, uint32_t flags, pdk_ssh_target* out,
                                pdk_error* err) noexcept {
        return guard(err, [&] {
            pdk_ssh_target target = outputFor(out, "out");
            self<Conn>(c).sshTarget(need(name, "name"), flags, target);
            copyOut(out, target);
        });
    }
    static pdk_status subscribeEvents(pdk_backend_connection* c, pdk_event_sink sink, void* user, uint32_t flags,
                                      pdk_error* err) noexcept {
        return guard(err, [&] { self<Conn>(c).subscribeEvents(sink, user, flags); });
    }
    static pdk_status snapshotListInfo(pdk_backend_connection* c, const char* domain, uint32_t flags,
                                       pdk_snapshot_sink sink, void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            self<Conn>(c).snapshotListInfo(need(domain, "domain"), flags, sink, user);
        });
    }
    static pdk_status snapshotCreateSpec(pdk_backend_connection* c, const char* domain, const pdk_snapshot_spec* spec,
                                         uint32_t flags, pdk_error* err) noexcept {
        return guard(err, [&] {
            const char* d = need(domain, "domain");
            const pdk_snapshot_spec ours = copyIn(spec, "spec");
            self<Conn>(c).snapshotCreateSpec(d, ours, flags);
        });
    }
    static pdk_status backupCreate(pdk_backend_connection* c, const char* domain, const pdk_backup_spec* spec,
                                   uint32_t flags, pdk_backup_result* out, pdk_error* err) noexcept {
        return guard(err, [&] {
            const char* d = need(domain, "domain");
            const pdk_backup_spec ours = copyIn(spec, "spec");
            pdk_backup_result result = outputFor(out, "out");
            self<Conn>(c).backupCreate(d, ours, flags, result);
            copyOut(out, result);
        });
    }
    static pdk_status checkpointDelete(pdk_backend_connection* c, const char* domain, const char* checkpoint,
                                       uint32_t flags, pdk_error* err) noexcept {
        return guard(err, [&] {
            self<Conn>(c).checkpointDelete(need(domain, "domain"), need(checkpoint, "checkpoint"), flags);
        });
    }
    static pdk_status restoreVolume(pdk_backend_connection* c, const pdk_restore_spec* spec, uint32_t flags,
                                    char* pathOut, size_t capacity, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (pathOut == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "path_out is NULL");
            const pdk_restore_spec ours = copyIn(spec, "spec");
            const std::string path = self<Conn>(c).restoreVolume(ours, flags);
            copyPath(path, pathOut, capacity);
        });
    }
    static pdk_status guestPing(pdk_backend_connection* c, const char* domain, uint32_t timeoutMs, uint32_t flags,
                                pdk_error* err) noexcept {
        return guard(err, [&] { self<Conn>(c).guestPing(need(domain, "domain"), timeoutMs, flags); });
    }
    static pdk_status hostResources(pdk_backend_connection* c, uint32_t flags, pdk_host_resources* out,
                                    pdk_error* err) noexcept {
        return guard(err, [&] {
            pdk_host_resources resources = outputFor(out, "out");
            self<Conn>(c).hostResources(flags, resources);
            copyOut(out, resources);
        });
    }
    static pdk_status volumeInfo(pdk_backend_connection* c, const char* path, uint32_t flags, pdk_volume_info* out,
                                 pdk_error* err) noexcept {
        return guard(err, [&] {
            const char* p = need(path, "path");
            pdk_volume_info info = outputFor(out, "out");
            self<Conn>(c).volumeInfo(p, flags, info);
            copyOut(out, info);
        });
    }
};

}  // namespace detail

// Builds the vtable for `Conn`; members `Conn` lacks stay NULL.
template <class Conn>
pdk_backend_vtable makeBackendVtable() {
    using T = detail::Trampolines<Conn>;
    pdk_backend_vtable v{};
    v.struct_size = sizeof(pdk_backend_vtable);
    v.open = &T::open;
    v.close = &T::close;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.isAlive(); })
        v.is_alive = &T::isAlive;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, pdk_host_info& o) { c.hostInfo(f, o); })
        v.host_info = &T::hostInfo;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.listDomains(f, ds, u); })
        v.list_domains = &T::listDomains;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.getDomain(s, f, ds, u); })
        v.get_domain = &T::getDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, const pdk_domain_spec& sp) { c.defineDomain(sp, f); })
        v.define_domain = &T::defineDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.startDomain(s, f); })
        v.start_domain = &T::startDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.shutdownDomain(s, f); })
        v.shutdown_domain = &T::shutdownDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.destroyDomain(s, f); })
        v.destroy_domain = &T::destroyDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.undefineDomain(s, f); })
        v.undefine_domain = &T::undefineDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.getMetadata(s, f, ks, u); })
        v.get_metadata = &T::getMetadata;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, const pdk_kv* p) { c.setMetadata(s, p, size_t{0}, f); })
        v.set_metadata = &T::setMetadata;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, const pdk_volume_spec& sp) {
                      { c.createOverlay(sp, f) } -> std::convertible_to<std::string>;
                  })
        v.create_overlay = &T::createOverlay;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.deleteVolume(s, f); })
        v.delete_volume = &T::deleteVolume;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.snapshotCreate(s, s, f); })
        v.snapshot_create = &T::snapshotCreate;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.snapshotList(s, f, ns, u); })
        v.snapshot_list = &T::snapshotList;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.snapshotRevert(s, s, f); })
        v.snapshot_revert = &T::snapshotRevert;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.snapshotDelete(s, s, f); })
        v.snapshot_delete = &T::snapshotDelete;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u) { c.saveDomain(s, f); })
        v.save_domain = &T::saveDomain;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, pdk_ssh_target& o) { c.sshTarget(s, f, o); })
        v.ssh_target = &T::sshTarget;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_domain_sink ds, pdk_kv_sink ks, pdk_name_sink ns,
                           void* u, pdk_event_sink es) { c.subscribeEvents(es, u, f); })
        v.subscribe_events = &T::subscribeEvents;
    if constexpr (requires(Conn & c, const char* s, uint32_t f) {
                      { c.volumePath(s, s, f) } -> std::convertible_to<std::string>;
                  })
        v.volume_path = &T::volumePath;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_snapshot_sink ss, void* u) {
                      c.snapshotListInfo(s, f, ss, u);
                  })
        v.snapshot_list_info = &T::snapshotListInfo;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, const pdk_snapshot_spec& sp) {
                      c.snapshotCreateSpec(s, sp, f);
                  })
        v.snapshot_create_spec = &T::snapshotCreateSpec;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, const pdk_backup_spec& sp, pdk_backup_result& o) {
                      c.backupCreate(s, sp, f, o);
                  })
        v.backup_create = &T::backupCreate;
    if constexpr (requires(Conn & c, const char* s, uint32_t f) { c.checkpointDelete(s, s, f); })
        v.checkpoint_delete = &T::checkpointDelete;
    if constexpr (requires(Conn & c, uint32_t f, const pdk_restore_spec& sp) {
                      { c.restoreVolume(sp, f) } -> std::convertible_to<std::string>;
                  })
        v.restore_volume = &T::restoreVolume;
    if constexpr (requires(Conn & c, const char* s, uint32_t t, uint32_t f) { c.guestPing(s, t, f); })
        v.guest_ping = &T::guestPing;
    if constexpr (requires(Conn & c, uint32_t f, pdk_host_resources& o) { c.hostResources(f, o); })
        v.host_resources = &T::hostResources;
    if constexpr (requires(Conn & c, const char* s, uint32_t f, pdk_volume_info& o) { c.volumeInfo(s, f, o); })
        v.volume_info = &T::volumeInfo;
    if constexpr (requires(Conn & c, const char* s, uint32_t f) { c.suspendDomain(s, f); })
        v.suspend_domain = &T::suspendDomain;
    return v;
}

}  // namespace pdk
