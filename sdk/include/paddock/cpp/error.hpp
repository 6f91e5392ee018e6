// Header-only C++ helpers shared by every plugin kind's helper (cpp/backend.hpp,
// cpp/recorder.hpp): the exception type plugins throw and the barrier that turns it into a
// pdk_status plus message. Not part of the ABI: it compiles into the plugin.
#pragma once

#include <paddock/pdk_plugin.h>
#include <paddock/pdk_struct.h>

#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pdk {

// The one way a C++ plugin reports an expected failure.
class Error : public std::runtime_error {
public:
    Error(pdk_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    pdk_status status() const noexcept { return status_; }

private:
    pdk_status status_;
};

// Writes `status` and `message` into a caller-provided error record (when there is one) as far
// as its struct_size goes, truncating the message to the room there is; returns `status`.
inline pdk_status setError(pdk_error* err, pdk_status status, std::string_view message) noexcept {
    return pdk_write_error(err, status, message.data(), message.size());
}

// Throws PDK_ERR_BAD_FLAGS when `flags` has bits outside `allowed`.
inline void checkFlags(uint32_t flags, uint32_t allowed) {
    if ((flags & ~allowed) != 0) {
        throw Error(
            PDK_ERR_BAD_FLAGS, "unsupported flag bits 0x" + [](uint32_t v) {
                static const char* hex = "0123456789abcdef";
                std::string s;
                do {
                    s.insert(s.begin(), hex[v & 0xF]);
                    v >>= 4;
                } while (v != 0);
                return s;
            }(flags & ~allowed));
    }
}

namespace detail {

// `s`, or PDK_ERR_INVALID_ARGUMENT "<what> is NULL".
inline const char* need(const char* s, const char* what) {
    if (s == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
    return s;
}

}  // namespace detail

// Runs `body` and turns every exception into a status plus message: the exception barrier.
template <class Body>
pdk_status guard(pdk_error* err, Body&& body) noexcept {
    try {
        body();
        return PDK_OK;
    } catch (const Error& e) {
        return setError(err, e.status(), e.what());
    } catch (const std::bad_alloc&) {
        return setError(err, PDK_ERR_INTERNAL, "out of memory");
    } catch (const std::exception& e) {
        return setError(err, PDK_ERR_INTERNAL, e.what());
    } catch (...) {
        return setError(err, PDK_ERR_INTERNAL, "unknown exception in plugin");
    }
}

}  // namespace pdk
