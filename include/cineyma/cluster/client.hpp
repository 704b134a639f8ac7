// cineyma/cluster/client.hpp — calling actors by name anywhere in the cluster.
//
//   cineyma::cluster::ClusterClient client(node);
//   auto kv = client.remote_addr<KvProtocol>("kv-store");
//   Result<kv::GetResponse> r = kv.call(get).get();        // blocking, from a plain thread
//   Result<kv::GetResponse> r = co_await kv.call(get);     // from an async handler
//
// Each call resolves the name through the node's distributed registry *when the call is
// made*, so an address follows a name that moves to another node. Calls to one node share the
// node's pooled connection to it (one per peer, the same one gossip uses); concurrent calls are
// pipelined on it and matched to their answers by correlation id (the original mixed them up,
// SPEC-original §5.10). A failed connection is recreated by the pooled client (with backoff);
// a node that is Suspect or Down is not tried at all.
//
// A call completes exactly once: with the answer, or with
//   not_found        no live registration of the name is known;
//   disconnected     the name's node is Suspect, Down or Left (nothing was sent), or the
//                    connection broke before the request left;
//   actor_stopped    the local node was never started, or has shut down (after `leave()`
//                    calls still work: the node keeps its view until it shuts down);
//   and every outcome of a `remote::RemoteAddr` call (client.hpp in remote/: timeout,
//   maybe_delivered, handler_failed, unknown_message_type, type_mismatch, ...).
//
// Threading: clients, addresses and calls may be used from any thread; the same rules as for
// remote calls apply (lazy, single-shot; `co_await` inside an actor, `get()` outside one).
#pragma once

#include <cineyma/cluster/node.hpp>
#include <cineyma/remote/client.hpp>
#include <cineyma/result.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace cineyma::cluster {

namespace detail {
/// The pooled client for the node that holds `name`, or why there is none (see the file
/// comment). Any thread.
Result<remote::RemoteClient> resolve(NodeCore& core, std::string_view name);
Duration default_call_timeout(const NodeCore& core) noexcept;
}  // namespace detail

/// One cluster call answered by `R`: `co_await` it or `std::move(call).get()`. Either it failed
/// at resolution (ready at once) or it is a remote call in waiting.
template <typename R>
class ClusterCall {
 public:
  explicit ClusterCall(std::error_code failed) : failed_(failed) {}
  explicit ClusterCall(remote::RemoteCall<R> call) : call_(std::move(call)) {}

  bool await_ready() const noexcept { return !call_.has_value(); }
  void await_suspend(std::coroutine_handle<> h) noexcept { call_->await_suspend(h); }
  Result<R> await_resume() {
    if (!call_) return fail(failed_);
    return call_->await_resume();
  }

  /// Blocking form, for non-actor threads (under simulation it drives the simulation).
  Result<R> get() && {
    if (!call_) return fail(failed_);
    return std::move(*call_).get();
  }

 private:
  std::error_code failed_;
  std::optional<remote::RemoteCall<R>> call_;
};

template <typename P>
class ClusterRemoteAddr;

/// Calls actors by registered name. Cheap to copy; copies share the node's pool. The node must
/// outlive the client's calls (a call made after the node shut down fails `actor_stopped`).
class ClusterClient {
 public:
  explicit ClusterClient(const ClusterNode& node) : core_(detail::core_of(node)) {}

  /// A typed address of the actor registered as `name`, speaking protocol `P`. No lookup
  /// happens until a call.
  template <typename P>
  ClusterRemoteAddr<P> remote_addr(std::string name) const {
    return ClusterRemoteAddr<P>(core_, std::move(name));
  }

 private:
  std::shared_ptr<detail::NodeCore> core_;
};

/// A typed address of a registered actor: only the messages of protocol `P` compile.
template <typename P>
class ClusterRemoteAddr {
 public:
  ClusterRemoteAddr(std::shared_ptr<detail::NodeCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  /// Request-response with the node's default deadline (`ClusterNodeOptions::call_timeout`).
  template <typename M>
    requires remote::RequestOf<P, M>
  ClusterCall<remote::response_t<P, M>> call(const M& request) const {
    return call(request, detail::default_call_timeout(*core_));
  }
  /// Request-response with an explicit deadline.
  template <typename M>
    requires remote::RequestOf<P, M>
  ClusterCall<remote::response_t<P, M>> call(const M& request, Duration timeout) const {
    using R = remote::response_t<P, M>;
    Result<remote::RemoteClient> client = detail::resolve(*core_, name_);
    if (!client) return ClusterCall<R>(client.error());
    return ClusterCall<R>(client->template remote_addr<P>(name_).call(request, timeout));
  }
  /// Request whose answer is returned as the raw envelope.
  template <typename M>
    requires remote::RequestOf<P, M>
  ClusterCall<remote::Envelope> send(const M& request,
                                     std::optional<Duration> timeout = {}) const {
    Result<remote::RemoteClient> client = detail::resolve(*core_, name_);
    if (!client) return ClusterCall<remote::Envelope>(client.error());
    return ClusterCall<remote::Envelope>(client->template remote_addr<P>(name_).send(
        request, timeout.value_or(detail::default_call_timeout(*core_))));
  }
  /// One-way message: ok means queued on the connection to the name's node.
  template <typename M>
    requires remote::OneWayOf<P, M>
  Result<void> do_send(const M& message) const {
    Result<remote::RemoteClient> client = detail::resolve(*core_, name_);
    if (!client) return fail(client.error());
    return client->template remote_addr<P>(name_).do_send(message);
  }

  const std::string& name() const noexcept { return name_; }

 private:
  std::shared_ptr<detail::NodeCore> core_;
  std::string name_;
};

}  // namespace cineyma::cluster
