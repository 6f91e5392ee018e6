// Loads a built backend .so through its one exported symbol, as the host does, and wraps a
// connection for the tests; helpers for fake virsh scripts. Libraries stay loaded for the run.
#pragma once

#include <test_support.hpp>

#include <paddock/pdk_backend.h>

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace virshtest {

inline const pdk_plugin_descriptor& descriptorOf(const std::string& file) {
    static std::map<std::string, const pdk_plugin_descriptor*> loaded;
    if (auto it = loaded.find(file); it != loaded.end()) return *it->second;
    const std::string path = paddock::test::pluginDir() + "/" + file;
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto entry = reinterpret_cast<pdk_plugin_entry_fn>(dlsym(h, PDK_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("pdk_plugin_entry missing in " + path);
    return *(loaded[file] = entry());
}

inline const pdk_plugin_descriptor& descriptor() { return descriptorOf("paddock_virsh.so"); }
inline const pdk_backend_vtable& vt() { return *static_cast<const pdk_backend_vtable*>(descriptor().vtable); }

// A pdk_error ready to pass.
struct Err : pdk_error {
    Err() : pdk_error{} { struct_size = sizeof(pdk_error); }
    std::string text() const { return message; }
};

// Runs `expr`, which may use the fresh `err` it declares, and requires PDK_OK, naming the call
// and the error it wrote.
#define OK_CALL(expr)                        \
    do {                                     \
        ::virshtest::Err err;                \
        const pdk_status st_ = (expr);       \
        INFO(#expr << ": " << err.text());   \
        REQUIRE(st_ == PDK_OK);              \
    } while (0)

struct DomainView {
    std::string name, uuid;
    int32_t id = 0;
    int state = 0;
    uint64_t maxMemoryKib = 0, memoryKib = 0, cpuTimeNs = 0;
    uint32_t vcpus = 0;
    bool managedSave = false;
    std::map<std::string, std::string> metadata;
};

inline void collectDomain(void* user, const pdk_domain_info* info) {
    DomainView v;
    v.name = info->name;
    v.uuid = info->uuid;
    v.id = info->id;
    v.state = info->state;
    v.maxMemoryKib = info->max_memory_kib;
    v.memoryKib = info->memory_kib;
    v.cpuTimeNs = info->cpu_time_ns;
    v.vcpus = info->vcpus;
    v.managedSave = info->has_managed_save != 0;
    for (size_t i = 0; i < info->metadata_count; ++i) v.metadata[info->metadata[i].key] = info->metadata[i].value;
    static_cast<std::vector<DomainView>*>(user)->push_back(v);
}

inline void collectName(void* user, const char* name) { static_cast<std::vector<std::string>*>(user)->push_back(name); }

inline void collectKv(void* user, const char* k, const char* v) {
    (*static_cast<std::map<std::string, std::string>*>(user))[k] = v;
}

// A connection of the backend in `file` (default: the virsh backend).
class Conn {
public:
    explicit Conn(const char* uri, const std::string& file = "paddock_virsh.so")
        : vt_(*static_cast<const pdk_backend_vtable*>(descriptorOf(file).vtable)) {
        Err err;
        const pdk_status st = vt_.open(uri, 0, &conn_, &err);
        if (st != PDK_OK) throw std::runtime_error("open " + std::string(uri) + ": " + err.text());
    }
    ~Conn() { vt_.close(conn_); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    pdk_backend_connection* get() const { return conn_; }
    const pdk_backend_vtable& vt() const { return vt_; }

    std::vector<DomainView> list(uint32_t flags = 0) {
        std::vector<DomainView> out;
        Err err;
        const pdk_status st = vt_.list_domains(conn_, flags, &collectDomain, &out, &err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return out;
    }
    pdk_status get(const char* name, DomainView& out, Err& err) {
        std::vector<DomainView> v;
        const pdk_status st = vt_.get_domain(conn_, name, 0, &collectDomain, &v, &err);
        if (st == PDK_OK) {
            REQUIRE(v.size() == 1);
            out = v.front();
        }
        return st;
    }
    DomainView get(const char* name) {
        DomainView v;
        Err err;
        const pdk_status st = get(name, v, err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return v;
    }
    std::map<std::string, std::string> metadata(const char* name) {
        std::map<std::string, std::string> kv;
        Err err;
        const pdk_status st = vt_.get_metadata(conn_, name, 0, &collectKv, &kv, &err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return kv;
    }

private:
    const pdk_backend_vtable& vt_;
    pdk_backend_connection* conn_ = nullptr;
};

inline pdk_domain_spec diskless(const char* name) {
    pdk_domain_spec s{};
    s.struct_size = sizeof s;
    s.name = name;
    s.vcpus = 1;
    s.memory_mib = 128;
    return s;
}

// Sets an environment variable for a scope (the backend reads its settings at open).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_.empty())
            ::unsetenv(name_);
        else
            ::setenv(name_, old_.c_str(), 1);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::string old_;
};

// Writes an executable /bin/sh script `body` as `path`.
inline void writeScript(const std::string& path, const std::string& body) {
    paddock::test::writeFile(path, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
}

// What `virsh version` prints, for fake virsh scripts.
inline const char* kFakeVersion =
    "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\n"
    "Running hypervisor: QEMU 7.2.0\n";

}  // namespace virshtest
