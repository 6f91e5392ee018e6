// Expected failures as values. One error type for all of core; the server maps ErrorCode to
// HTTP status in exactly one place (server/src/error_mapping.cpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace paddock {

enum class ErrorCode {
    InvalidArgument,  // 400
    Unauthorized,     // 401
    Forbidden,        // 403
    NotFound,         // 404
    AlreadyExists,    // 409
    Conflict,         // 409: wrong state for the operation
    PayloadTooLarge,  // 413
    Unsupported,      // 501: the backend cannot do this
    Unavailable,      // 503: hypervisor or resource unavailable
    Timeout,          // 504
    Internal          // 500
};

// Stable snake_case id used in the API's {"error": {"code": ...}}.
std::string_view errorCodeId(ErrorCode code) noexcept;

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// Either a T or an Error. Accessing the wrong alternative is a bug and throws std::bad_variant_access.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_{};
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace paddock
