#pragma once

#include <cassert>
#include <chrono>
#include <string>
#include <utility>
#include <variant>

namespace hubsync::model {

/// What the caller should do about a failure (STYLE.md, "who retries what").
enum class ErrorKind {
  transient,       ///< retry the same call with backoff
  rate_limited,    ///< wait Error::retry_after, then retry
  conflict,        ///< re-read the other side and reconcile again
  invalid_record,  ///< this record can never succeed as is: dead-letter it, continue
  auth,            ///< credentials refused: stop this direction and alert
  fatal,           ///< the operation cannot go on: exit non-zero
};

const char* to_string(ErrorKind kind);

/// An expected failure. `message` must never hold a secret.
struct Error {
  ErrorKind kind = ErrorKind::fatal;
  std::string message;
  std::chrono::milliseconds retry_after{0};
  int http_status = 0;       ///< 0 when no HTTP exchange was involved
  std::string category;      ///< e.g. HubSpot's VALIDATION_ERROR
  std::string code;          ///< e.g. INVALID_EMAIL, or a SQLSTATE

  bool retryable() const {
    return kind == ErrorKind::transient || kind == ErrorKind::rate_limited;
  }
};

/// Error::category of a transient error whose cause is the PostgreSQL
/// connection (lost, refused, the server shutting down): what a run's
/// summary names as "PostgreSQL unreachable".
inline constexpr const char* kPostgresUnreachable = "POSTGRES_UNREACHABLE";

/// What of `e` may be logged, or told a caller, at any level: an error of an
/// HTTP exchange (http_status set) as "HTTP <status> <category> (<code>)",
/// never its message, which can quote values the other side echoed (dead
/// letters and the state store keep it); any other error (transport,
/// Postgres, local) as its message, which is hubsync's own.
std::string describe(const Error& e);

inline Error make_error(ErrorKind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

/// Either a value or an Error; shaped like std::expected (C++23).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that yields nothing on success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hubsync::model
