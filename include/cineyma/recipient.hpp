// cineyma/recipient.hpp — `Recipient<M>`: any actor that handles `M`, type-erased.
//
// For pub/sub and callbacks: a list of `Recipient<Event>` can hold actors of different
// types. Same threading and semantics as `Addr<A>` for the one message type.
#pragma once

#include <cineyma/addr.hpp>

namespace cineyma {

template <typename M>
class Recipient {
 public:
  Recipient() noexcept = default;

  ActorId id() const noexcept { return cell_ ? cell_->id() : ActorId{}; }
  bool is_alive() const noexcept { return cell_ && cell_->is_alive(); }
  explicit operator bool() const noexcept { return static_cast<bool>(cell_); }

  /// See `Addr::try_send`.
  Result<void> try_send(M msg) const {
    if (!cell_) return fail(Errc::actor_stopped);
    detail::Envelope* e = ops_->one_way(std::move(msg));
    Result<void> r = cell_->try_push(e);
    if (!r) e->reject(Errc::actor_stopped);
    return r;
  }
  /// See `Addr::do_send`.
  SendOp do_send(M msg) const {
    return SendOp(cell_, cell_ ? ops_->one_way(std::move(msg)) : nullptr);
  }
  /// See `Addr::send`.
  Request<reply_t<M>> send(M msg) const { return request(std::move(msg), std::nullopt); }
  Request<reply_t<M>> send(M msg, Duration timeout) const {
    return request(std::move(msg), timeout);
  }

  friend bool operator==(const Recipient& a, const Recipient& b) noexcept {
    return a.cell_ == b.cell_;
  }

 private:
  template <typename A>
  friend class Addr;

  struct Ops {
    detail::Envelope* (*one_way)(M&&);
    detail::Envelope* (*request)(M&&, detail::Completion<reply_t<M>>**);
  };
  template <typename A>
  static constexpr Ops ops_for{
      [](M&& m) -> detail::Envelope* { return new detail::OneWayEnvelope<A, M>(std::move(m)); },
      [](M&& m, detail::Completion<reply_t<M>>** c) -> detail::Envelope* {
        auto* e = new detail::RequestEnvelope<A, M>(std::move(m));
        *c = e;
        return e;
      }};

  Recipient(detail::RefPtr<detail::CellBase> cell, const Ops* ops) noexcept
      : cell_(std::move(cell)), ops_(ops) {}

  Request<reply_t<M>> request(M&& msg, std::optional<Duration> timeout) const {
    CINEYMA_ASSERT_MSG(ops_, "send on an empty Recipient");
    detail::Completion<reply_t<M>>* c = nullptr;
    detail::Envelope* e = ops_->request(std::move(msg), &c);
    return Request<reply_t<M>>(cell_, e, c, timeout);
  }

  detail::RefPtr<detail::CellBase> cell_;
  const Ops* ops_ = nullptr;
};

template <typename A>
template <typename M>
  requires Handles<A, M>
Recipient<M> Addr<A>::recipient() const {
  return Recipient<M>(cell_, &Recipient<M>::template ops_for<A>);
}

}  // namespace cineyma
