// Header-only C++20 helper for a library's init/deinit and for logging through the host (ABI
// 1.1). Not part of the ABI: it compiles into the plugin.
//
// Write a class `Lib` with
//   static void init(const pdk_host& host);   may throw pdk::Error: the host refuses the library
//   static void deinit() noexcept;            stop threads, release process-wide resources
// and put the trampolines in the entry descriptor:
//   .init = &pdk::libraryInit<Lib>, .deinit = &pdk::libraryDeinit<Lib>
//
// Hosts attached through init are counted (several hosts in one process share one mapping of
// the library, see pdk_plugin.h): Lib::init runs when the first host attaches, Lib::deinit when
// the last one detaches (before it is detached, so it can still log); the calls are serialised.
// A deinit with a pointer that is not attached is ignored. `host` reaches Lib::init as a full-size copy
// (cpp/structs.hpp rules; a struct_size below the 1.1 size is refused).
//
// pdk::log() sends a line to the most recently attached host that is still attached; with no
// host attached (a 1.0 host never calls init, or after the last deinit) the line is dropped.
// It may be called from any thread, including the plugin's own, and never throws.
#pragma once

#include <paddock/pdk_plugin.h>
#include <paddock/pdk_struct.h>
#include <paddock/cpp/error.hpp>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pdk {

namespace detail {

// The hosts attached to this library, newest last. One per plugin library: hidden visibility
// keeps this inline function's static local private to the library it is compiled into.
struct AttachedHosts {
    std::mutex lifecycle;                                     // serialises init/deinit, held across Lib::init/deinit
    std::shared_mutex logging;                                // log calls share it; attach/detach take it alone
    std::vector<std::pair<const pdk_host*, pdk_host>> hosts;  // the host's pointer and our copy
};

inline AttachedHosts& attachedHosts() {
    static AttachedHosts hosts;
    return hosts;
}

}  // namespace detail

// True while at least one host is attached through init (never under a 1.0 host).
inline bool hostAttached() noexcept {
    auto& a = detail::attachedHosts();
    std::shared_lock lock(a.logging);
    return !a.hosts.empty();
}

// Logs one line through the newest attached host; dropped when none is attached.
inline void log(pdk_log_level level, std::string_view message) noexcept {
    try {
        auto& a = detail::attachedHosts();
        // Held during the host's call, so deinit cannot return (and the host free its side)
        // while a line is on its way.
        std::shared_lock lock(a.logging);
        if (a.hosts.empty()) return;
        const pdk_host& host = a.hosts.back().second;
        if (host.log == nullptr) return;
        const std::string line(message);
        host.log(host.host_data, level, line.c_str());
    } catch (...) {
        // Logging must never fail its caller.
    }
}

template <class Lib>
pdk_status libraryInit(const pdk_host* host, uint32_t flags, pdk_error* err) noexcept {
    return guard(err, [&] {
        checkFlags(flags, 0);
        if (host == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "host is NULL");
        pdk_host ours;
        if (!pdk_copy_in(&ours, sizeof ours, host, PDK_HOST_SIZE_1_1)) {
            throw Error(PDK_ERR_INVALID_ARGUMENT, "pdk_host struct_size " + std::to_string(pdk_struct_size_of(host)) +
                                                      " is smaller than its " + std::to_string(PDK_HOST_SIZE_1_1) +
                                                      " bytes in ABI 1.1");
        }
        auto& a = detail::attachedHosts();
        std::lock_guard lifecycle(a.lifecycle);
        bool first = false;
        {
            std::unique_lock lock(a.logging);
            first = a.hosts.empty();
            a.hosts.emplace_back(host, ours);  // attached first, so Lib::init may log through it
        }
        if (!first) return;
        try {
            Lib::init(ours);
        } catch (...) {
            std::unique_lock lock(a.logging);
            a.hosts.pop_back();
            throw;
        }
    });
}

template <class Lib>
void libraryDeinit(const pdk_host* host) noexcept {
    auto& a = detail::attachedHosts();
    std::lock_guard lifecycle(a.lifecycle);
    const auto find = [&] {
        auto it = a.hosts.begin();
        while (it != a.hosts.end() && it->first != host) ++it;
        return it;
    };
    bool last = false;
    {
        std::shared_lock lock(a.logging);
        if (find() == a.hosts.end()) return;  // not attached (or detached already): nothing to do
        last = a.hosts.size() == 1;
    }
    // Still attached, so Lib::deinit can log its last lines; the logging lock is not held, as
    // Lib::deinit may join threads that are logging right now.
    if (last) Lib::deinit();
    std::unique_lock lock(a.logging);
    a.hosts.erase(find());
}

}  // namespace pdk
