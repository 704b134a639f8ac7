// src/asio/io_thread.cpp — the thread that runs timers and sockets (see io_thread.hpp).
#include "io_thread.hpp"

#include <cineyma/assert.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace cineyma::real {

IoThread::IoThread(std::string name) : name_(std::move(name)) {
  work_.emplace(asio::make_work_guard(context_));
}

IoThread::~IoThread() { stop(); }

void IoThread::start() {
  CINEYMA_ASSERT(!thread_.joinable());
  thread_ = std::thread([this] { main_loop(); });
}

void IoThread::stop() noexcept {
  if (!thread_.joinable()) return;
  CINEYMA_ASSERT_MSG(!in_io_thread(), "the io thread cannot stop (join) itself");
  work_.reset();
  // stop() rather than letting run() drain: a timer task or a read loop re-arms forever, so
  // "run until idle" might never end. What is still queued is destroyed with the context.
  context_.stop();
  thread_.join();
}

bool IoThread::in_io_thread() const noexcept {
  return thread_.get_id() == std::this_thread::get_id();
}

void IoThread::main_loop() noexcept {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "cineyma-io");
#endif
  // Handlers (timer tasks, transport completions) belong to the framework, which contains
  // user exceptions itself; one that still escapes must not end timers and networking for
  // the whole process, so log it and resume the loop (Asio allows run() to be called again
  // after a handler threw).
  for (;;) {
    try {
      context_.run();
      return;  // stopped
    } catch (const std::exception& e) {
      spdlog::error("cineyma[{}]: an io/timer handler threw (contained, io thread continues): {}",
                    name_, e.what());
    } catch (...) {
      spdlog::error("cineyma[{}]: an io/timer handler threw a non-std exception (contained)",
                    name_);
    }
  }
}

}  // namespace cineyma::real
