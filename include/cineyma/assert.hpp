// cineyma/assert.hpp — assertions that stay on in every build type.
//
// A failed assertion is a programmer error: it prints the condition and location to stderr
// and aborts. Never used for operational errors (those are `Result` values).
#pragma once

namespace cineyma::detail {
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line,
                                   const char* msg) noexcept;
}  // namespace cineyma::detail

/// Checks `cond` in every build (NDEBUG does not remove it).
#define CINEYMA_ASSERT(cond)                                                     \
  ((cond) ? static_cast<void>(0)                                                 \
          : ::cineyma::detail::assertion_failed(#cond, __FILE__, __LINE__, nullptr))

/// Like CINEYMA_ASSERT with an explanation printed on failure.
#define CINEYMA_ASSERT_MSG(cond, msg)                                            \
  ((cond) ? static_cast<void>(0)                                                 \
          : ::cineyma::detail::assertion_failed(#cond, __FILE__, __LINE__, (msg)))
