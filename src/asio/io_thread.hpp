// src/asio/io_thread.hpp — the one thread that runs Asio: timers and sockets.
//
// Timers and networking share one `asio::io_context` run by one dedicated thread. One thread
// is enough (their handlers are short: they hand work to the executor), and it buys a simple
// rule for the rest of src/asio: every Asio I/O object is touched only on this thread, so none
// of them needs a strand or a lock. Other threads reach it with `asio::post`, which is
// thread-safe and — unlike calling an object directly — never runs anything inline.
#pragma once

#include "asio_headers.hpp"

#include <optional>
#include <string>
#include <thread>

namespace cineyma::real {

class IoThread {
 public:
  /// Creates the context; the thread starts with `start()`, so that the objects built on the
  /// context can be constructed before anything runs.
  explicit IoThread(std::string name);
  /// Calls `stop()`.
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& context() noexcept { return context_; }

  void start();

  /// Stops the loop and joins the thread. Handlers still queued are not run: they are
  /// destroyed with the context. Idempotent; must not be called from the io thread.
  void stop() noexcept;

  /// True on the io thread.
  bool in_io_thread() const noexcept;

 private:
  void main_loop() noexcept;

  const std::string name_;
  // Concurrency hint 1: exactly one thread runs the context (posting from others stays safe).
  asio::io_context context_{1};
  // Keeps run() from returning while no operation is pending (idle timers, no sockets).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace cineyma::real
