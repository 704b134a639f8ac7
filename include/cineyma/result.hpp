// cineyma/result.hpp — `Result<T>`: a value or an error code (expected-like, C++20).
//
// Threading: a Result is a plain value type; it is as thread-safe as `T`.
#pragma once

#include <cineyma/assert.hpp>
#include <cineyma/error.hpp>

#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace cineyma {

/// Tag type carrying an error, used to construct a failed `Result`.
struct Failure {
  std::error_code code;
};

/// Builds a failed result from an `Errc` or any `std::error_code`.
inline Failure fail(Errc e) noexcept { return Failure{make_error_code(e)}; }
inline Failure fail(std::error_code ec) noexcept { return Failure{ec}; }

/// A value of type `T` or a `std::error_code`.
///
/// `value()` throws `cineyma::Error` if the result holds an error; `error()` returns the
/// code (a default, "success" code when the result holds a value).
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T v) : state_(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
  Result(Failure f) : state_(std::in_place_index<1>, f.code) {     // NOLINT
    CINEYMA_ASSERT(f.code);
  }
  Result(Errc e) : Result(fail(e)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The error code; `std::error_code{}` when the result holds a value.
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(state_);
  }
  /// True when the result holds exactly this error.
  bool is(Errc e) const noexcept { return !has_value() && error() == make_error_code(e); }

  T& value() & { check(); return std::get<0>(state_); }
  const T& value() const& { check(); return std::get<0>(state_); }
  T&& value() && { check(); return std::get<0>(std::move(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) throw Error(std::get<1>(state_));
  }
  std::variant<T, std::error_code> state_;
};

/// `Result<void>`: success or an error code.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() noexcept = default;
  Result(Failure f) : ec_(f.code) { CINEYMA_ASSERT(f.code); }  // NOLINT
  Result(Errc e) : Result(fail(e)) {}                          // NOLINT

  bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  std::error_code error() const noexcept { return ec_; }
  bool is(Errc e) const noexcept { return ec_ == make_error_code(e); }
  void value() const {
    if (ec_) throw Error(ec_);
  }

 private:
  std::error_code ec_;
};

/// A successful `Result<void>`.
inline Result<void> ok() noexcept { return {}; }

}  // namespace cineyma
