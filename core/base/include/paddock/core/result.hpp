// Expected failures as values. One error type for all of core; the server maps ErrorCode to
// HTTP status in exactly one place (server/src/error_mapping.cpp).
//
// Asking a Result for the alternative it does not hold is a bug: value() of a failure and
// error() of a success throw (std::bad_variant_access, std::logic_error), they never invent a
// default. map()/and_then() chain steps without the `if (!r) return std::move(r).error();` ladder.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace paddock {

enum class ErrorCode {
    InvalidArgument,       // 400
    Unauthorized,          // 401
    Forbidden,             // 403
    NotFound,              // 404
    AlreadyExists,         // 409
    Conflict,              // 409: wrong state for the operation
    PayloadTooLarge,       // 413
    UnsupportedMediaType,  // 415: a body that is not JSON
    TooManyRequests,       // 429: a per-client limit is reached
    Unsupported,           // 501: the backend cannot do this
    Unavailable,           // 503: hypervisor or resource unavailable
    Timeout,               // 504
    Internal               // 500
};

// Stable snake_case id used in the API's {"error": {"code": ...}}.
std::string_view errorCodeId(ErrorCode code) noexcept;
// The code with that id (as errorCodeId spells it); nullopt for anything else.
std::optional<ErrorCode> errorCodeFromId(std::string_view id) noexcept;

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class Result;

namespace detail {
template <class R>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace detail

// Either a T or an Error.
template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

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

    // Result<U> holding f(value), or this error. f returns a plain U (not a Result).
    template <class F>
    auto map(F&& f) && -> Result<std::invoke_result_t<F, T&&>> {
        if (!ok()) return std::move(*this).error();
        if constexpr (std::is_void_v<std::invoke_result_t<F, T&&>>) {
            std::invoke(std::forward<F>(f), std::move(*this).value());
            return {};
        } else {
            return std::invoke(std::forward<F>(f), std::move(*this).value());
        }
    }

    // f(value), which returns a Result itself, or this error.
    template <class F>
    auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
        using Next = std::invoke_result_t<F, T&&>;
        static_assert(detail::IsResult<Next>::value, "and_then needs a function returning a Result");
        if (!ok()) return std::move(*this).error();
        return std::invoke(std::forward<F>(f), std::move(*this).value());
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;

    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& {
        requireFailure();
        return error_;
    }
    Error&& error() && {
        requireFailure();
        return std::move(error_);
    }

    template <class F>
    auto map(F&& f) && -> Result<std::invoke_result_t<F>> {
        if (!ok()) return std::move(*this).error();
        if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
            std::invoke(std::forward<F>(f));
            return {};
        } else {
            return std::invoke(std::forward<F>(f));
        }
    }

    template <class F>
    auto and_then(F&& f) && -> std::invoke_result_t<F> {
        static_assert(detail::IsResult<std::invoke_result_t<F>>::value, "and_then needs a function returning a Result");
        if (!ok()) return std::move(*this).error();
        return std::invoke(std::forward<F>(f));
    }

private:
    void requireFailure() const {
        if (ok_) throw std::logic_error("Result<void>::error() called on a success");
    }

    Error error_{};
    bool ok_ = true;
};

using Status = Result<void>;

// The error of `result`, or nullptr on success: for code that reports an optional failure.
template <class T>
const Error* errorOrNull(const Result<T>& result) noexcept {
    return result.ok() ? nullptr : &result.error();
}

}  // namespace paddock
