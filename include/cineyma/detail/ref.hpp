// cineyma/detail/ref.hpp — an intrusive reference-counted pointer.
//
// `T` provides `add_ref()` and `release()` (thread-safe). Used for actor cells, timer state
// and request completions, where one allocation must be shared between threads without the
// control block of std::shared_ptr.
#pragma once

#include <cstddef>
#include <utility>

namespace cineyma::detail {

template <typename T>
class RefPtr {
 public:
  RefPtr() noexcept = default;
  RefPtr(std::nullptr_t) noexcept {}  // NOLINT
  /// Adopts one reference already owned by the caller.
  static RefPtr adopt(T* p) noexcept {
    RefPtr r;
    r.p_ = p;
    return r;
  }
  /// Takes a new reference.
  explicit RefPtr(T* p) noexcept : p_(p) {
    if (p_) p_->add_ref();
  }
  RefPtr(const RefPtr& o) noexcept : p_(o.p_) {
    if (p_) p_->add_ref();
  }
  RefPtr(RefPtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <typename U>
  RefPtr(RefPtr<U>&& o) noexcept : p_(o.detach()) {}  // NOLINT
  template <typename U>
  RefPtr(const RefPtr<U>& o) noexcept : RefPtr(o.get()) {}  // NOLINT
  RefPtr& operator=(RefPtr o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~RefPtr() {
    if (p_) p_->release();
  }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Gives up ownership of the reference without releasing it.
  T* detach() noexcept { return std::exchange(p_, nullptr); }
  void reset() noexcept { RefPtr().swap(*this); }
  void swap(RefPtr& o) noexcept { std::swap(p_, o.p_); }

  friend bool operator==(const RefPtr& a, const RefPtr& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

}  // namespace cineyma::detail
