// Header-only C++20 helper for writing Paddock provisioners in C++ (ABI 1.6). Not part of the
// ABI: it compiles into the plugin and produces a plain pdk_provisioner_vtable.
//
// Write a class `P` with
//   static void run(const pdk_provision_request& request, uint32_t flags, pdk_provision_result& result);
// and optionally
//   static std::string check(const pdk_kv* settings, size_t count, const char* recipe, uint32_t flags);
//       (absent: the vtable's check is NULL, "no check offered"); returns the one-line version
//   static constexpr uint32_t kRunFlags = ...;    flag bits `run` accepts (absent: none)
//   static constexpr uint32_t kCheckFlags = ...;  flag bits `check` accepts (absent: none)
// Members report failure by throwing pdk::Error; any other exception becomes PDK_ERR_INTERNAL.
// No exception crosses the C boundary.
//
// What the trampolines do before the class sees anything, in this order:
//  - unknown flag bits: PDK_ERR_BAD_FLAGS;
//  - `request` is copied in by the struct rules (cpp/structs.hpp): NULL or a struct_size below
//    PDK_PROVISION_REQUEST_SIZE_1_6 is refused, fields a newer host appended are dropped, so
//    `run` gets a full-size copy and never reads struct_size. The strings it points to stay
//    borrowed from the host for the call;
//  - a NULL mandatory field (site, vm, host, user, private_key_path, known_hosts_line, recipe,
//    output), a zero timeout_ms, settings or become_secret NULL with a nonzero count, or a
//    settings pair with a NULL key or value: PDK_ERR_INVALID_ARGUMENT. Empty strings and every
//    other value check are the class's;
//  - `result`, when not NULL, must hold at least PDK_PROVISION_RESULT_SIZE_1_6 bytes
//    (otherwise PDK_ERR_INVALID_ARGUMENT). `run` fills a full-size local that starts as "did not
//    run" (exit_code -1, counts -1, duration 0); whatever it holds when `run` returns or throws
//    is copied to the host's struct as far as its struct_size goes (pdk_copy_out).
//  - check: an empty `recipe` reaches the class as NULL ("skip"); the version it returns is cut
//    at its first line break and written NUL-terminated into the host's buffer, truncated to
//    fit on a UTF-8 character boundary (nothing is written when the buffer is NULL or 0 bytes,
//    or when `check` throws).
//
// Threading: the trampolines keep no state; `run` and `check` are called on the host's thread,
// as concurrently as the host calls them (pdk_provisioner.h).
//
// Usage:  static const pdk_provisioner_vtable kVtable = pdk::makeProvisionerVtable<MyProvisioner>();
#pragma once

#include <paddock/pdk_provisioner.h>
#include <paddock/cpp/error.hpp>
#include <paddock/cpp/structs.hpp>

#include <concepts>
#include <cstring>
#include <string>

namespace pdk {

// The struct rules for the provisioner structs (cpp/structs.hpp): both appeared in ABI 1.6.
template <>
struct StructRule<pdk_provision_request> {
    static constexpr const char* name = "pdk_provision_request";
    static constexpr size_t minSize = PDK_PROVISION_REQUEST_SIZE_1_6;
    static constexpr const char* since = "1.6";
};
template <>
struct StructRule<pdk_provision_result> {
    static constexpr const char* name = "pdk_provision_result";
    static constexpr size_t minSize = PDK_PROVISION_RESULT_SIZE_1_6;
    static constexpr const char* since = "1.6";
};

namespace detail {

template <class P>
constexpr uint32_t provisionRunFlags() {
    if constexpr (requires { P::kRunFlags; })
        return P::kRunFlags;
    else
        return 0;
}

template <class P>
constexpr uint32_t provisionCheckFlags() {
    if constexpr (requires { P::kCheckFlags; })
        return P::kCheckFlags;
    else
        return 0;
}

inline void requireSettings(const pdk_kv* settings, size_t count, const char* what) {
    if (settings == nullptr && count != 0) {
        throw Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL but its count is " + std::to_string(count));
    }
    for (size_t i = 0; i < count; ++i) {
        if (settings[i].key == nullptr || settings[i].value == nullptr) {
            throw Error(PDK_ERR_INVALID_ARGUMENT,
                        std::string(what) + "[" + std::to_string(i) + "] has a NULL key or value");
        }
    }
}

inline void requireRequest(const pdk_provision_request& r) {
    need(r.site, "request.site");
    need(r.vm, "request.vm");
    need(r.host, "request.host");
    need(r.user, "request.user");
    need(r.private_key_path, "request.private_key_path");
    need(r.known_hosts_line, "request.known_hosts_line");
    need(r.recipe, "request.recipe");
    if (r.output == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "request.output is NULL");
    if (r.timeout_ms == 0) throw Error(PDK_ERR_INVALID_ARGUMENT, "request.timeout_ms is 0");
    requireSettings(r.settings, r.setting_count, "request.settings");
    if (r.become_secret == nullptr && r.become_secret_len != 0) {
        throw Error(PDK_ERR_INVALID_ARGUMENT, "request.become_secret is NULL but become_secret_len is " +
                                                  std::to_string(r.become_secret_len));
    }
}

// What `result` says before the recipe ran.
inline pdk_provision_result notRun() {
    pdk_provision_result r{};
    r.struct_size = sizeof r;
    r.exit_code = -1;
    r.ok = r.changed = r.failed = r.unreachable = r.skipped = -1;
    r.duration_seconds = 0;
    return r;
}

// The first line of `text`, NUL-terminated into `out` (`size` bytes), cut on a UTF-8 boundary.
inline void writeVersion(const std::string& text, char* out, size_t size) noexcept {
    if (out == nullptr || size == 0) return;
    size_t n = text.find_first_of("\r\n");
    if (n == std::string::npos) n = text.size();
    if (n > size - 1) {
        n = size - 1;
        // Back off over continuation bytes so no character is cut in half.
        while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    }
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

template <class P>
struct ProvisionerTrampolines {
    static pdk_status run(const pdk_provision_request* request, uint32_t flags, pdk_provision_result* result,
                          pdk_error* err) noexcept {
        return guard(err, [&] {
            checkFlags(flags, provisionRunFlags<P>());
            const pdk_provision_request ours = copyIn(request, "request");
            requireRequest(ours);
            if (result != nullptr) (void)outputFor(result, "result");
            pdk_provision_result out = notRun();
            try {
                P::run(ours, flags, out);
            } catch (...) {
                if (result != nullptr) copyOut(result, out);
                throw;
            }
            if (result != nullptr) copyOut(result, out);
        });
    }
    static pdk_status check(const pdk_kv* settings, size_t count, const char* recipe, uint32_t flags, char* version,
                            size_t versionSize, pdk_error* err) noexcept {
        return guard(err, [&] {
            checkFlags(flags, provisionCheckFlags<P>());
            requireSettings(settings, count, "settings");
            const char* r = recipe != nullptr && *recipe != '\0' ? recipe : nullptr;
            const std::string text = P::check(settings, count, r, flags);
            writeVersion(text, version, versionSize);
        });
    }
};

}  // namespace detail

// Builds the vtable for `P`; check stays NULL when `P` has no check.
template <class P>
pdk_provisioner_vtable makeProvisionerVtable() {
    using T = detail::ProvisionerTrampolines<P>;
    pdk_provisioner_vtable v{};
    v.struct_size = sizeof(pdk_provisioner_vtable);
    v.run = &T::run;
    if constexpr (requires(const pdk_kv* kv, size_t n, const char* s, uint32_t f) {
                      { P::check(kv, n, s, f) } -> std::convertible_to<std::string>;
                  })
        v.check = &T::check;
    return v;
}

}  // namespace pdk
