#pragma once
// Result<T, E>: a value or an error, a small stand-in for C++23 std::expected (g++ 12 lacks it).
//
//   Result<Frame, ParseError> r = parse_compact("10606005#0000000000000000");
//   if (!r) report(r.error());
//   else use(*r);
//
// Construct the error side with `Err{e}`: `return Err{ParseError{...}};`.
// Accessing value() on an error (or error() on a value) is a programming error (asserted in debug
// builds through std::get's exception, never reached by correct callers).

#include <type_traits>
#include <utility>
#include <variant>

namespace loxcan::canproto {

/// Wrapper that marks a value as the error alternative of a Result.
template <class E>
struct Err {
  E error;
};
template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class Result {
 public:
  Result(const T& value) : v_(std::in_place_index<0>, value) {}        // NOLINT: implicit by design
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  template <class E2>
  Result(Err<E2> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return *std::get_if<0>(&v_); }
  const T& value() const& { return *std::get_if<0>(&v_); }
  /// On a temporary the value is moved out, so `for (auto& f : *encode(m))` does not dangle.
  T value() && { return std::move(*std::get_if<0>(&v_)); }
  E& error() { return *std::get_if<1>(&v_); }
  const E& error() const { return *std::get_if<1>(&v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The value, or `fallback` when this holds an error.
  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, E> v_;
};

/// A success marker for operations that return nothing but may fail: Result<Ok, E>.
struct Ok {
  friend bool operator==(Ok, Ok) { return true; }
};

}  // namespace loxcan::canproto
