// paddock_plugin_probe PLUGIN.so [URI]
// Loads one plugin library with core's PluginHost and prints what the host sees of each of its
// plugins; exits non-zero when the host refuses it. With a URI (the entry plugin must be a
// backend) it also drives a short define/start/list/destroy/undefine cycle through the raw
// vtable, so an out-of-tree build is checked end to end.
#include "paddock/core/backend.hpp"
#include "paddock/core/plugin_host.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Names {
    std::vector<std::string> list;
    static void sink(void* user, const pdk_domain_info* info) {
        static_cast<Names*>(user)->list.push_back(std::string(info->name) + ":" + std::to_string(info->state));
    }
};

bool step(const char* what, pdk_status status, const pdk_error& err, pdk_status expected = PDK_OK) {
    std::cout << "  " << what << ": status " << status;
    if (status != PDK_OK) std::cout << " (" << err.message << ")";
    std::cout << "\n";
    return status == expected;
}

int smoke(const paddock::BackendPlugin& backend, const std::string& uri) {
    const pdk_backend_vtable& vt = backend.vtable();
    pdk_error err{};
    err.struct_size = sizeof err;
    pdk_backend_connection* conn = nullptr;
    std::cout << "smoke " << uri << "\n";
    if (!step("open", vt.open(uri.c_str(), 0, &conn, &err), err)) return 1;

    bool ok = true;
    pdk_domain_spec spec{};
    spec.struct_size = sizeof spec;
    spec.name = "probe-vm";
    spec.vcpus = 2;
    spec.memory_mib = 256;
    const pdk_kv meta[] = {{"owner", "probe"}};
    spec.metadata = meta;
    spec.metadata_count = 1;
    auto call = [&](const char* what, auto fn, pdk_status expected, auto... args) {
        if (fn == nullptr) {
            std::cout << "  " << what << ": not provided\n";
            ok = false;
            return;
        }
        ok = step(what, fn(conn, args..., &err), err, expected) && ok;
    };
    call("define_domain", vt.define_domain, PDK_OK, &spec, 0u);
    call("define_domain again", vt.define_domain, PDK_ERR_ALREADY_EXISTS, &spec, 0u);
    call("define_domain bad flags", vt.define_domain, PDK_ERR_BAD_FLAGS, &spec, 0x80u);
    call("start_domain", vt.start_domain, PDK_OK, "probe-vm", 0u);
    call("start_domain running", vt.start_domain, PDK_ERR_CONFLICT, "probe-vm", 0u);
    Names names;
    call("list_domains", vt.list_domains, PDK_OK, 0u, &Names::sink, static_cast<void*>(&names));
    for (const auto& n : names.list) std::cout << "  domain " << n << "\n";
    call("destroy_domain", vt.destroy_domain, PDK_OK, "probe-vm", 0u);
    call("undefine_domain", vt.undefine_domain, PDK_OK, "probe-vm", 0u);
    call("get_domain gone", vt.get_domain, PDK_ERR_NOT_FOUND, "probe-vm", 0u, &Names::sink, static_cast<void*>(&names));
    vt.close(conn);
    std::cout << (ok ? "smoke ok\n" : "smoke FAILED\n");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: " << argv[0] << " PLUGIN.so [URI]\n";
        return 2;
    }
    paddock::PluginHost host;
    host.setLogSink([](pdk_log_level level, const std::string& id, const std::string& message) {
        std::cout << "log: " << paddock::logLevelName(level) << " " << id << ": " << message << std::endl;
    });
    auto info = host.loadFile(argv[1]);
    if (!info) {
        std::cerr << info.error().message << "\n";
        return 1;
    }
    // Every plugin of the library (a descriptor chain may hold several), entry first.
    for (const auto& plugin : host.plugins()) {
        const paddock::PluginInfo& p = plugin->info();
        std::cout << "id: " << p.id << "\n"
                  << "name: " << p.name << "\n"
                  << "version: " << p.version << "\n"
                  << "kind: " << paddock::pluginKindName(p.kind) << "\n"
                  << "abi: " << p.abi_major << "." << p.abi_minor << "\n"
                  << "description: " << p.description << "\n";
        std::cout << "capabilities:";
        for (const auto& c : p.capabilities) std::cout << " " << c;
        std::cout << "\noperations:";
        for (const auto& o : p.operations) std::cout << " " << o;
        std::cout << "\n";
    }
    if (argc == 3) {
        auto backend = host.backend(info->id);
        if (!backend) {
            std::cerr << backend.error().message << "\n";
            return 1;
        }
        return smoke(*backend.value(), argv[2]);
    }
    return 0;
}
