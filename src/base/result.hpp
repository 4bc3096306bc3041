#pragma once

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/error.hpp"

namespace certdock {

// Wraps an error so that `return Unexpected(err)` reads like std::unexpected.
struct Unexpected {
    Error error;
    explicit Unexpected(Error e) : error(std::move(e)) {}
};

inline Unexpected fail(ErrorCategory category, std::string message) {
    return Unexpected(Error(category, std::move(message)));
}

namespace detail {
[[noreturn]] inline void bad_result_access(const char* what) {
    std::fprintf(stderr, "certdock: broken invariant: %s\n", what);
    std::abort();
}
}  // namespace detail

// A value or an Error, shaped like C++23 std::expected. Accessing the wrong side aborts:
// that is a bug in the caller, never a condition to recover from.
template <typename T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
    Result(Unexpected unexpected)                                          // NOLINT
        : state_(std::in_place_index<1>, std::move(unexpected.error)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return checked_value(); }
    const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
    T&& value() && { return std::move(checked_value()); }
    T& operator*() & { return checked_value(); }
    const T& operator*() const& { return const_cast<Result*>(this)->checked_value(); }
    T* operator->() { return &checked_value(); }
    const T* operator->() const { return &const_cast<Result*>(this)->checked_value(); }

    const Error& error() const& {
        if (has_value()) detail::bad_result_access("error() on a Result holding a value");
        return std::get<1>(state_);
    }
    Error&& error() && {
        if (has_value()) detail::bad_result_access("error() on a Result holding a value");
        return std::get<1>(std::move(state_));
    }

    template <typename U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
    }

    // f: T -> Result<U>
    template <typename F>
    auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
        if (!has_value()) return Unexpected(std::get<1>(std::move(state_)));
        return std::forward<F>(f)(std::get<0>(std::move(state_)));
    }

    template <typename F>
    auto and_then(F&& f) const& -> std::invoke_result_t<F, const T&> {
        if (!has_value()) return Unexpected(std::get<1>(state_));
        return std::forward<F>(f)(std::get<0>(state_));
    }

private:
    T& checked_value() {
        if (!has_value()) detail::bad_result_access(std::get<1>(state_).describe().c_str());
        return std::get<0>(state_);
    }

    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Unexpected unexpected) : error_(std::move(unexpected.error)) {}  // NOLINT
    Result(Error error) : error_(std::move(error)) {}                       // NOLINT

    bool has_value() const { return !error_.has_value(); }
    explicit operator bool() const { return has_value(); }
    void value() const {
        if (!has_value()) detail::bad_result_access(error_->describe().c_str());
    }
    const Error& error() const& {
        if (has_value()) detail::bad_result_access("error() on a successful Result");
        return *error_;
    }
    Error&& error() && {
        if (has_value()) detail::bad_result_access("error() on a successful Result");
        return std::move(*error_);
    }

private:
    std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace certdock

// Evaluates a Result expression; on error returns it from the enclosing function, otherwise
// binds the value. Keeps call sites flat instead of nesting if/else on every step.
#define CERTDOCK_CONCAT_INNER(a, b) a##b
#define CERTDOCK_CONCAT(a, b) CERTDOCK_CONCAT_INNER(a, b)
#define CERTDOCK_TRY_IMPL(tmp, decl, expr)                                       \
    auto tmp = (expr);                                                           \
    if (!tmp.has_value()) return ::certdock::Unexpected(std::move(tmp).error()); \
    decl = std::move(tmp).value()
#define CERTDOCK_TRY(decl, expr) \
    CERTDOCK_TRY_IMPL(CERTDOCK_CONCAT(certdock_try_, __LINE__), decl, expr)
#define CERTDOCK_TRY_STATUS(expr)                                               \
    do {                                                                        \
        auto certdock_status_ = (expr);                                         \
        if (!certdock_status_.has_value())                                      \
            return ::certdock::Unexpected(std::move(certdock_status_).error()); \
    } while (0)
