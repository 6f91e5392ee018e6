// abi: the handshake a host performs before it uses a plugin.
#include "call_support.hpp"
#include "groups.hpp"

#include <cctype>
#include <cstring>
#include <set>

namespace paddock::conformance {

namespace {

constexpr size_t kMaxText = 256;

// A NUL-terminated, printable, non-empty string of at most kMaxText bytes.
bool saneText(const char* s) {
    if (s == nullptr) return false;
    const size_t n = strnlen(s, kMaxText + 1);
    if (n == 0 || n > kMaxText) return false;
    for (size_t i = 0; i < n; ++i) {
        if (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7f) return false;
    }
    return true;
}

// Reverse-DNS: lower-case labels of [a-z0-9-] separated by dots, at least two labels.
bool saneId(const char* s) {
    if (!saneText(s)) return false;
    int labels = 1;
    bool labelEmpty = true;
    for (const char* p = s; *p != '\0'; ++p) {
        if (*p == '.') {
            if (labelEmpty) return false;
            ++labels;
            labelEmpty = true;
        } else if (std::islower(static_cast<unsigned char>(*p)) || std::isdigit(static_cast<unsigned char>(*p)) ||
                   *p == '-') {
            labelEmpty = false;
        } else {
            return false;
        }
    }
    return labels >= 2 && !labelEmpty;
}

// "MAJOR.MINOR[.PATCH][suffix]" with a digit first.
bool saneVersion(const char* s) {
    if (!saneText(s) || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    const char* dot = std::strchr(s, '.');
    return dot != nullptr && std::isdigit(static_cast<unsigned char>(dot[1]));
}

// The vtable size a plugin of ABI 1.`minor` has at least.
size_t vtableSizeFor(unsigned minor) {
    if (minor >= 5) return PDK_BACKEND_VTABLE_SIZE_1_5;
    if (minor == 4) return PDK_BACKEND_VTABLE_SIZE_1_4;
    if (minor >= 2) return PDK_BACKEND_VTABLE_SIZE_1_2;
    return PDK_BACKEND_VTABLE_SIZE_1_0;
}

void checkCapabilities(Report& report, const pdk_plugin_descriptor& d) {
    if (d.capabilities == nullptr) {
        report.pass("abi/capabilities");  // no list: no capabilities
        return;
    }
    size_t n = 0;
    for (; n <= 256 && d.capabilities[n] != nullptr; ++n) {
        if (!saneText(d.capabilities[n])) {
            report.fail("abi/capabilities", "capability " + std::to_string(n) + " is empty or not printable");
            return;
        }
    }
    report.expect(n <= 256, "abi/capabilities", "the list is not NULL-terminated within 256 entries");
}

void checkVtable(Report& report, const pdk_plugin_descriptor& d) {
    if (!report.expect(d.vtable != nullptr, "abi/vtable", "the descriptor's vtable is NULL")) return;
    const auto* vt = static_cast<const pdk_backend_vtable*>(d.vtable);
    const size_t wanted = vtableSizeFor(d.abi_minor);
    report.expect(vt->struct_size >= wanted, "abi/vtable-size",
                  "vtable struct_size " + std::to_string(vt->struct_size) + " is smaller than the " +
                      std::to_string(wanted) + " bytes of ABI 1." + std::to_string(d.abi_minor));
    const bool covered = vt->struct_size >= PDK_FIELD_END(pdk_backend_vtable, close);
    report.expect(covered && vt->open != nullptr && vt->close != nullptr, "abi/mandatory-entries",
                  !covered ? "vtable struct_size does not cover open and close"
                           : std::string("the mandatory ") + (vt->open == nullptr ? "open" : "close") + " is NULL");
}

void checkChain(Report& report, const std::vector<DescriptorView>& chain, const std::string& problem) {
    std::string why = problem;
    std::set<std::string> ids;
    for (size_t i = 0; i < chain.size() && why.empty(); ++i) {
        const auto& d = chain[i].copy;
        const std::string where = "descriptor " + std::to_string(i + 1);
        if (d.struct_size < PDK_PLUGIN_DESCRIPTOR_SIZE_1_0)
            why = where + " is smaller than ABI 1.0's";
        else if (!saneId(d.id))
            why = where + " has no valid id";
        else if (!ids.insert(d.id).second)
            why = "id '" + std::string(d.id) + "' appears twice";
        else if (i > 0 && (d.init != nullptr || d.deinit != nullptr))
            why = where + " (" + d.id + ") sets init/deinit, which belong to the entry descriptor only";
    }
    report.expect(why.empty(), "abi/chain", why);
}

}  // namespace

bool usableBackend(const DescriptorView& view, std::string& why) {
    const auto& d = view.copy;
    if (d.struct_size < PDK_PLUGIN_DESCRIPTOR_SIZE_1_0)
        why = "descriptor smaller than ABI 1.0's";
    else if (d.abi_major != PDK_ABI_VERSION_MAJOR)
        why = "ABI major " + std::to_string(d.abi_major);
    else if (d.kind != PDK_PLUGIN_KIND_BACKEND)
        why = "not a backend";
    else if (d.vtable == nullptr)
        why = "NULL vtable";
    else {
        const auto* vt = static_cast<const pdk_backend_vtable*>(d.vtable);
        if (vt->struct_size < PDK_FIELD_END(pdk_backend_vtable, close) || vt->open == nullptr || vt->close == nullptr)
            why = "no open/close";
    }
    return why.empty();
}

void checkDescriptors(Report& report, const std::vector<DescriptorView>& chain, const std::string& chainProblem,
                      const DescriptorView* selected) {
    checkChain(report, chain, chainProblem);
    if (selected == nullptr) return;
    const auto& d = selected->copy;
    const std::string size = std::to_string(d.struct_size);
    const size_t wanted = d.abi_minor == 0 ? PDK_PLUGIN_DESCRIPTOR_SIZE_1_0 : PDK_PLUGIN_DESCRIPTOR_SIZE_1_1;
    report.expect(d.struct_size >= wanted, "abi/descriptor-size",
                  "struct_size " + size + " is smaller than the " + std::to_string(wanted) + " bytes of ABI 1." +
                      std::to_string(d.abi_minor));
    report.expect(d.abi_major == PDK_ABI_VERSION_MAJOR, "abi/abi-major",
                  "built for ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
                      "; this kit speaks " + std::to_string(PDK_ABI_VERSION_MAJOR) + "." +
                      std::to_string(PDK_ABI_VERSION_MINOR));
    report.expect(d.abi_minor <= PDK_ABI_VERSION_MINOR, "abi/abi-minor",
                  "built for ABI 1." + std::to_string(d.abi_minor) + ", newer than this kit's SDK 1." +
                      std::to_string(PDK_ABI_VERSION_MINOR) + " (use a newer kit)");
    report.expect(d.kind == PDK_PLUGIN_KIND_BACKEND, "abi/kind",
                  "kind " + std::to_string(static_cast<int>(d.kind)) + " is not PDK_PLUGIN_KIND_BACKEND");
    report.expect(saneId(d.id), "abi/id", "id must be reverse-DNS: lower-case [a-z0-9-] labels joined by dots");
    report.expect(saneText(d.name), "abi/name", "name is NULL, empty, too long or not printable");
    report.expect(saneVersion(d.version), "abi/version", "version must look like MAJOR.MINOR[.PATCH]");
    report.expect(d.description == nullptr || saneText(d.description), "abi/description",
                  "description is empty, too long or not printable");
    checkCapabilities(report, d);
    checkVtable(report, d);
}

void checkInitRules(Report& report, const DescriptorView& entry, const DescriptorView& backend,
                    const std::string& uri) {
    const auto& d = entry.copy;
    if (d.init == nullptr) {
        report.skip("abi/init-bad-flags", "init is NULL");
        report.skip("abi/init-nested", "init is NULL");
        return;
    }
    {
        HostLink second;
        ErrorRecord err;
        const pdk_status st = second.attach(d.init, kUnknownFlag, err.reset());
        expectStatus(report, "abi/init-bad-flags", st, err, {PDK_ERR_BAD_FLAGS});
        if (second.attached()) second.detach(d.deinit);
    }
    // Pairs may nest: a second host attaches and detaches while the first stays attached, and
    // the plugin keeps working for the first.
    HostLink nested;
    ErrorRecord err;
    const pdk_status st = nested.attach(d.init, 0, err.reset());
    if (st != PDK_OK) {
        report.fail("abi/init-nested", "a second init returned " + err.describe(st));
        return;
    }
    nested.detach(d.deinit);
    const auto vt = copyVtable(backend.copy.vtable);
    pdk_backend_connection* conn = nullptr;
    const pdk_status opened = vt.open(uri.c_str(), 0, &conn, err.reset());
    if (opened == PDK_OK && conn != nullptr) vt.close(conn);
    report.expect(opened == PDK_OK || opened == PDK_ERR_UNAVAILABLE, "abi/init-nested",
                  "after a nested init/deinit, open returned " + err.describe(opened));
}

}  // namespace paddock::conformance
