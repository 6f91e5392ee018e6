// structs: structs of the 1.0 size, older and newer than the plugin's, in and out.
#include "groups.hpp"
#include "guarded_memory.hpp"

#include <cstring>

namespace paddock::conformance {

namespace {

constexpr size_t kOutputCapacity = 1024;

// A failure the plugin must answer: a lookup of a missing domain by the first entry that has one.
pdk_status provokeFailure(Session& s, pdk_error* err) {
    const std::string missing = s.domainName("missing");
    if (s.vt.start_domain != nullptr) return s.vt.start_domain(s.conn, missing.c_str(), 0, err);
    if (s.vt.get_domain != nullptr) {
        auto& probe = s.probes.make<DomainProbe>();
        return inWindow(probe,
                        [&] { return s.vt.get_domain(s.conn, missing.c_str(), 0, &DomainProbe::sink, &probe, err); });
    }
    pdk_host_info* nothing = nullptr;
    return s.vt.host_info != nullptr ? s.vt.host_info(s.conn, 0, nothing, err) : PDK_OK;
}

void checkErrorSizes(Session& s) {
    // Room for the status only, for status + 15 message bytes, and for nothing at all.
    struct Case {
        const char* check;
        uint32_t size;
    };
    const Case cases[] = {{"structs/error.status-only", static_cast<uint32_t>(PDK_FIELD_END(pdk_error, status))},
                          {"structs/error.short-message", static_cast<uint32_t>(offsetof(pdk_error, message) + 16)},
                          {"structs/error.size-only", 4}};
    ErrorRecord full;
    if (provokeFailure(s, full.reset()) == PDK_OK) {
        s.report.skip("structs/error", "no entry to provoke a failure with");
        return;
    }
    // What fits in 15 bytes of message: the start of the full message.
    const std::string fits = full.message().substr(0, 15);
    for (const Case& c : cases) {
        GuardedOutput out(c.size, sizeof(pdk_error) + 64);
        const pdk_status st = provokeFailure(s, out.as<pdk_error>());
        std::string why;
        const pdk_error* e = out.as<pdk_error>();
        if (!out.guardIntact())
            why = "wrote past struct_size " + std::to_string(c.size);
        else if (out.structSize() != c.size)
            why = "changed struct_size";
        else if (c.size >= PDK_FIELD_END(pdk_error, status) && e->status != st)
            why = "status not written";
        else if (c.size > offsetof(pdk_error, message) && std::string(e->message, strnlen(e->message, 16)) != fits)
            why = "message not the first 15 bytes of the full one, NUL-terminated";
        s.report.expect(why.empty(), c.check, why);
    }
}

template <class T>
void checkOutput(Session& s, const std::string& check, uint32_t size,
                 const std::function<pdk_status(T*, pdk_error*)>& call, bool mustSucceed) {
    GuardedOutput out(size, kOutputCapacity);
    ErrorRecord err;
    const pdk_status st = call(out.as<T>(), err.reset());
    std::string why;
    if (!out.guardIntact())
        why = "wrote past struct_size " + std::to_string(size);
    else if (out.structSize() != size)
        why = "changed the caller's struct_size to " + std::to_string(out.structSize());
    else if (mustSucceed && st != PDK_OK)
        why = "returned " + err.describe(st);
    else if (!mustSucceed && st != PDK_ERR_INVALID_ARGUMENT)
        why = "a struct smaller than ABI 1.0's: returned " + err.describe(st) + ", expected PDK_ERR_INVALID_ARGUMENT";
    s.report.expect(why.empty(), check, why);
}

void checkHostInfo(Session& s) {
    if (s.vt.host_info == nullptr) {
        s.report.skip("structs/host_info", "host_info is NULL");
        return;
    }
    const auto call = [&](pdk_host_info* out, pdk_error* err) { return s.vt.host_info(s.conn, 0, out, err); };
    checkOutput<pdk_host_info>(s, "structs/host_info.size-1.0", PDK_HOST_INFO_SIZE_1_0, call, true);
    checkOutput<pdk_host_info>(s, "structs/host_info.newer-host", sizeof(pdk_host_info) + 64, call, true);
    checkOutput<pdk_host_info>(s, "structs/host_info.too-small", 8, call, false);
}

// ABI 1.7 outputs: written only as far as the caller's struct_size, refused below their 1.7 size.
void checkHostFacts(Session& s) {
    if (s.vt.host_resources == nullptr) {
        s.report.skip("structs/host_resources", "host_resources is NULL");
    } else {
        const auto call = [&](pdk_host_resources* out, pdk_error* err) {
            return s.vt.host_resources(s.conn, 0, out, err);
        };
        checkOutput<pdk_host_resources>(s, "structs/host_resources.size-1.7", PDK_HOST_RESOURCES_SIZE_1_7, call, true);
        checkOutput<pdk_host_resources>(s, "structs/host_resources.newer-host", sizeof(pdk_host_resources) + 64, call,
                                        true);
        checkOutput<pdk_host_resources>(s, "structs/host_resources.too-small", 8, call, false);
    }
    if (s.vt.volume_info == nullptr) {
        s.report.skip("structs/volume_info", "volume_info is NULL");
        return;
    }
    // The plugin's own library file: a path that exists on a local host (a remote one answers
    // NOT_FOUND, which is fine here: what counts is where the plugin wrote).
    const std::string path = "/proc/self/exe";
    const auto call = [&](pdk_volume_info* out, pdk_error* err) {
        const pdk_status st = s.vt.volume_info(s.conn, path.c_str(), 0, out, err);
        return st == PDK_ERR_NOT_FOUND ? PDK_OK : st;
    };
    checkOutput<pdk_volume_info>(s, "structs/volume_info.size-1.7", PDK_VOLUME_INFO_SIZE_1_7, call, true);
    checkOutput<pdk_volume_info>(s, "structs/volume_info.newer-host", sizeof(pdk_volume_info) + 64, call, true);
    const auto raw = [&](pdk_volume_info* out, pdk_error* err) {
        return s.vt.volume_info(s.conn, path.c_str(), 0, out, err);
    };
    checkOutput<pdk_volume_info>(s, "structs/volume_info.too-small", 8, raw, false);
}

void checkSshTarget(Session& s, const std::string& name) {
    if (s.vt.ssh_target == nullptr) {
        s.report.skip("structs/ssh_target", "ssh_target is NULL");
        return;
    }
    // Any answer for the domain is fine here; what counts is where the plugin wrote.
    const auto call = [&](pdk_ssh_target* out, pdk_error* err) {
        const pdk_status st = s.vt.ssh_target(s.conn, name.c_str(), 0, out, err);
        return st == PDK_ERR_NOT_FOUND || st == PDK_ERR_CONFLICT || st == PDK_ERR_UNSUPPORTED ? PDK_OK : st;
    };
    checkOutput<pdk_ssh_target>(s, "structs/ssh_target.size-1.0", PDK_SSH_TARGET_SIZE_1_0, call, true);
    checkOutput<pdk_ssh_target>(s, "structs/ssh_target.newer-host", sizeof(pdk_ssh_target) + 64, call, true);
    const auto raw = [&](pdk_ssh_target* out, pdk_error* err) {
        return s.vt.ssh_target(s.conn, name.c_str(), 0, out, err);
    };
    checkOutput<pdk_ssh_target>(s, "structs/ssh_target.too-small", 8, raw, false);
}

// An input at the end of a guarded page: reading past `size` faults.
template <class T>
void checkInput(Session& s, const std::string& check, const T& value, uint32_t size, bool mustSucceed,
                const std::function<pdk_status(const T*, pdk_error*)>& call) {
    GuardedPage page;
    auto* placed = static_cast<T*>(page.place(size));
    if (placed == nullptr) {
        s.report.skip(check, "cannot map a guard page");
        return;
    }
    std::memcpy(static_cast<void*>(placed), &value, size);
    std::memcpy(static_cast<void*>(placed), &size, sizeof size);
    ErrorRecord err;
    pdk_status st = PDK_OK;
    if (!guarded([&] { st = call(placed, err.reset()); })) {
        s.report.fail(check, "read past struct_size " + std::to_string(size) + " (touched the guard page)");
        return;
    }
    if (mustSucceed) {
        expectStatus(s.report, check, st, err, {PDK_OK});
    } else {
        expectStatus(s.report, check, st, err, {PDK_ERR_INVALID_ARGUMENT});
    }
}

void checkDomainSpec(Session& s) {
    if (s.vt.define_domain == nullptr) {
        s.report.skip("structs/domain_spec", "define_domain is NULL");
        return;
    }
    const std::string name = s.domainName("spec-1-0");
    s.janitor.trackDomain(name);
    const pdk_domain_spec spec = minimalSpec(name.c_str());
    const auto call = [&](const pdk_domain_spec* in, pdk_error* err) { return s.vt.define_domain(s.conn, in, 0, err); };
    checkInput<pdk_domain_spec>(s, "structs/domain_spec.size-1.0", spec, PDK_DOMAIN_SPEC_SIZE_1_0, true, call);
    checkInput<pdk_domain_spec>(s, "structs/domain_spec.too-small", spec, 8, false, call);
}

void checkVolumeSpec(Session& s) {
    if (s.vt.create_overlay == nullptr) {
        s.report.skip("structs/volume_spec", "create_overlay is NULL");
        return;
    }
    const std::string volume = s.domainName("spec-1-0") + ".qcow2";
    pdk_volume_spec spec{};
    spec.struct_size = sizeof spec;
    spec.pool = s.options.pool.c_str();
    spec.name = volume.c_str();
    spec.backing_path = s.options.baseImage.c_str();
    spec.backing_format = "qcow2";
    char path[4096] = {};
    const auto call = [&](const pdk_volume_spec* in, pdk_error* err) {
        return s.vt.create_overlay(s.conn, in, 0, path, sizeof path, err);
    };
    if (s.hasOverlays()) {
        checkInput<pdk_volume_spec>(s, "structs/volume_spec.size-1.0", spec, PDK_VOLUME_SPEC_SIZE_1_0, true, call);
        if (path[0] != '\0') s.janitor.trackVolume(path);
    } else {
        s.report.skip("structs/volume_spec.size-1.0", "needs --base-image and --pool");
    }
    checkInput<pdk_volume_spec>(s, "structs/volume_spec.too-small", spec, 8, false, call);
}

}  // namespace

void runStructsGroup(Session& s) {
    checkErrorSizes(s);
    checkHostInfo(s);
    checkHostFacts(s);
    checkDomainSpec(s);
    checkVolumeSpec(s);
    if (s.vt.define_domain == nullptr) return;
    const auto name = defineFixture(s, "structs", "structs/fixture", {{"ssh_port", "2222"}});
    if (name) checkSshTarget(s, *name);
    if (name && s.vt.get_domain != nullptr) {
        // Every domain info a sink received so far was checked by its probe (struct_size >= 1.0).
        std::string problem;
        for (const SinkProbe* p : s.probes.all()) {
            if (problem.empty()) problem = p->problem();
        }
        s.report.expect(problem.empty(), "structs/sink-structs", problem);
    }
}

}  // namespace paddock::conformance
