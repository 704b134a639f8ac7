// src/cluster/node.cpp — the gossip engine wired to a remote server, a connection pool and the
// environment's clock (see include/cineyma/cluster/node.hpp).
//
// Locking. One mutex guards the engine, the pool and the registrations. Nothing that can run
// user code or re-enter this node is called with it held, except the membership callbacks
// and subscriptions, which are delivered under it on purpose: events then reach subscribers
// in exactly the order the engine produced them, whichever thread produced them. (The
// documented contract forbids a callback to call back into the node.) Network sends — pushes
// and replies — are started after the lock is released.
#include <cineyma/cluster/client.hpp>
#include <cineyma/cluster/codec.hpp>
#include <cineyma/cluster/node.hpp>
#include <cineyma/system.hpp>

#include "../core/log.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <utility>

namespace cineyma::cluster {

namespace {

/// Wire type of a gossip message inside an envelope (the payload is codec.hpp's encoding).
constexpr const char* kGossipType = "cineyma.cluster.Gossip";
/// The reserved actor name the cluster's own traffic is addressed to.
constexpr const char* kClusterActor = "$cluster";

/// What a locked step asks to do once the lock is released.
struct Pending {
  std::vector<std::pair<remote::RemoteClient, std::shared_ptr<const GossipMessage>>> pushes;
  std::vector<remote::RemoteClient> to_close;
};

}  // namespace

namespace detail {

/// Watches registered actors for their death (a cell can only be watched by a cell).
class Registrar : public Actor<Registrar> {
 public:
  struct Watch {
    cineyma::detail::RefPtr<cineyma::detail::CellBase> cell;
  };

  explicit Registrar(std::weak_ptr<NodeCore> core) : core_(std::move(core)) {}

  void handle(const Watch& w, Context& ctx) {
    if (w.cell) w.cell->add_watcher(*ctx.address().cell());
  }
  void handle(const Terminated& t, Context& ctx);

 private:
  std::weak_ptr<NodeCore> core_;
};

struct NodeCore : std::enable_shared_from_this<NodeCore> {
  enum class State { created, running, left, stopped };

  struct Registration {
    ActorId id;
  };

  NodeCore(ActorSystem& sys, ClusterNodeOptions opts)
      : system(sys), env(sys.environment()), options(std::move(opts)) {}

  ActorSystem& system;
  Environment& env;
  ClusterNodeOptions options;

  mutable std::mutex mutex;
  State state = State::created;
  std::optional<GossipEngine> engine;
  std::unique_ptr<remote::RemoteServer> server;
  std::map<std::string, remote::RemoteClient, std::less<>> pool;  // by endpoint "host:port"
  std::map<std::string, Registration, std::less<>> registered;
  std::vector<Recipient<MemberEvent>> subscribers;
  std::vector<std::function<void(const MemberEvent&)>> event_fns;
  std::vector<std::function<void(const RegistrationLost&)>> lost_fns;
  Addr<Registrar> registrar;
  TimerId tick_timer = 0;
  ClusterNodeStats counters;

  // ---- helpers called with the mutex held ----

  remote::RemoteClient& client_for(const std::string& endpoint) {
    auto it = pool.find(endpoint);
    if (it != pool.end()) return it->second;
    Result<cineyma::Endpoint> at = parse_endpoint(endpoint);
    // Endpoints come from validated gossip (or the node's own seeds, validated at start), but
    // a peer may advertise garbage: it then gets a client that can never connect.
    remote::ClientOptions co;
    co.server = at ? *at : cineyma::Endpoint{endpoint, 0};
    co.handshake.node_id = options.gossip.node_id;
    co.handshake.cluster_name = options.cluster_name;
    co.handshake.secret = options.secret;
    co.max_frame_bytes = options.max_frame_bytes;
    co.connect_timeout = options.connect_timeout;
    co.call_timeout = options.call_timeout;
    // Reconnect quickly at first: gossip retries every interval anyway.
    co.reconnect_delay_min = std::chrono::milliseconds(20);
    co.reconnect_delay_max = options.gossip.gossip_interval;
    return pool.emplace(endpoint, remote::RemoteClient(env, std::move(co))).first->second;
  }

  /// Runs a user callback; an exception from it is contained (logged, counted) so that it
  /// cannot unwind through the gossip machinery.
  template <typename F, typename E>
  void call_user(const F& fn, const E& event) noexcept {
    try {
      fn(event);
    } catch (const std::exception& ex) {
      ++counters.callback_failures;
      cineyma::detail::log(env, spdlog::level::err, "cluster: a membership callback threw: {}",
                           ex.what());
    } catch (...) {
      ++counters.callback_failures;
      cineyma::detail::log(env, spdlog::level::err, "cluster: a membership callback threw");
    }
  }

  /// Applies the effects of one engine call: events and losses now, sends into `out`.
  void absorb(Effects& fx, Pending& out) {
    for (Outgoing& o : fx.send) {
      if (o.to_endpoint.empty()) continue;  // nobody to send to (a reply handled by the caller)
      out.pushes.emplace_back(client_for(o.to_endpoint), std::move(o.message));
    }
    for (const MemberEvent& e : fx.events) {
      if (is_terminal(e.status)) {
        // The node's life is over: drop its connection (a new life reconnects afresh).
        auto it = pool.find(e.endpoint);
        if (it != pool.end()) {
          out.to_close.push_back(it->second);
          pool.erase(it);
        }
      }
      for (const auto& fn : event_fns) call_user(fn, e);
      for (auto r = subscribers.begin(); r != subscribers.end();) {
        if (!r->is_alive()) {
          r = subscribers.erase(r);  // a stopped subscriber is forgotten, not counted
          continue;
        }
        if (!r->try_send(e)) ++counters.events_dropped;
        ++r;
      }
    }
    for (const RegistrationLost& lost : fx.lost) {
      cineyma::detail::log(env, spdlog::level::warn,
                           "cluster: registration of '{}' lost to node '{}'", lost.name,
                           lost.winner.node);
      registered.erase(lost.name);
      if (server) static_cast<void>(server->node().withdraw(lost.name));
      for (const auto& fn : lost_fns) call_user(fn, lost);
    }
  }

  void schedule_tick(Duration delay) {
    std::weak_ptr<NodeCore> weak = weak_from_this();
    tick_timer = env.clock().schedule_after(delay, [weak] {
      if (auto self = weak.lock()) self->tick();
    });
  }

  // ---- unlocked entry points ----

  void tick() {
    Pending out;
    {
      std::lock_guard<std::mutex> lock(mutex);
      tick_timer = 0;
      if (state != State::running) return;
      Effects fx = engine->tick(env.clock().now(), env.random());
      absorb(fx, out);
      schedule_tick(options.gossip.gossip_interval);
    }
    flush(std::move(out));
  }

  /// Starts the network side of `out`: one exchange per push, and closes.
  void flush(Pending out);

  void on_answer(Result<remote::Envelope> answer) noexcept {
    if (!answer || answer->kind != remote::EnvelopeKind::response) {
      std::lock_guard<std::mutex> lock(mutex);
      ++counters.exchanges_failed;
      return;
    }
    if (answer->message_type.empty()) return;  // the peer had nothing we lacked
    Result<GossipMessage> reply = decode(*answer);
    if (!reply) return;
    Pending out;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (state == State::created || state == State::stopped) return;
      Result<Effects> fx = engine->on_message(*reply, env.clock().now());
      if (!fx) return;
      absorb(*fx, out);
    }
    flush(std::move(out));
  }

  /// Decodes a gossip payload, checking that it speaks for the authenticated sender.
  Result<GossipMessage> decode(const remote::Envelope& e) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(e.payload.data());
    Result<GossipMessage> m = decode_gossip(std::span<const std::uint8_t>(data, e.payload.size()));
    if (!m || (!e.sender_node.empty() && m->from != e.sender_node)) {
      std::lock_guard<std::mutex> lock(mutex);
      ++counters.messages_undecodable;
      cineyma::detail::log(env, spdlog::level::warn,
                           "cluster: dropping gossip from node '{}': {}", e.sender_node,
                           m ? "it speaks for another node" : "it does not decode");
      return fail(Errc::decode_error);
    }
    return m;
  }

  /// A push (or a stray reply) from a peer, arriving on this node's server.
  void on_gossip(remote::Envelope request, remote::Reply reply) {
    Result<GossipMessage> message = decode(request);
    if (!message) {
      reply.fail(Errc::decode_error, "not a gossip message of this node's cluster");
      return;
    }
    Pending out;
    std::shared_ptr<const GossipMessage> answer;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (state == State::created || state == State::stopped) {
        reply.fail(Errc::actor_stopped, "the node is not running");
        return;
      }
      Result<Effects> fx = engine->on_message(*message, env.clock().now());
      if (!fx) {
        reply.fail(remote::to_errc(fx.error()), "the gossip was refused");
        return;
      }
      // The reply delta goes back as the answer to this request, on the connection the push
      // came on (the pusher may be a newcomer whose endpoint nobody can reach yet).
      for (Outgoing& o : fx->send) {
        if (!answer && o.message->kind == GossipKind::reply && o.to_node == message->from) {
          answer = std::move(o.message);
          o.to_endpoint.clear();
        }
      }
      absorb(*fx, out);
    }
    if (answer) {
      std::vector<std::uint8_t> bytes = encode_gossip(*answer);
      reply.respond(kGossipType, std::string(bytes.begin(), bytes.end()));
    } else {
      reply.respond(std::string(), std::string());
    }
    flush(std::move(out));
  }

  /// Withdraws this node's registration `it` (mutex held): a tombstone spreads with the next
  /// gossip and the port stops serving the name.
  void withdraw_locked(std::map<std::string, Registration, std::less<>>::iterator it) {
    if (engine) static_cast<void>(engine->unregister_actor(it->first));
    if (server) static_cast<void>(server->node().withdraw(it->first));
    registered.erase(it);
  }

  void actor_died(ActorId id) {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = registered.begin(); it != registered.end(); ++it) {
      if (it->second.id == id) return withdraw_locked(it);
    }
  }

  void shutdown() noexcept {
    std::map<std::string, remote::RemoteClient, std::less<>> clients;
    std::unique_ptr<remote::RemoteServer> srv;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (state == State::stopped) return;
      state = State::stopped;
      if (tick_timer != 0) env.clock().cancel(tick_timer);
      tick_timer = 0;
      clients.swap(pool);
      srv = std::move(server);
      subscribers.clear();
      event_fns.clear();
      lost_fns.clear();
    }
    for (auto& [endpoint, client] : clients) client.close();
    if (srv) srv->shutdown();
  }
};

/// One push–pull round trip in flight: completed (once) by the peer's answer — its reply
/// delta, or empty — or by the client's error. A plain completion object rather than a
/// coroutine: this runs on transport threads for every push, and needs no frame.
class Exchange final : public remote::detail::PendingCall {
 public:
  explicit Exchange(std::shared_ptr<NodeCore> core) noexcept : core_(std::move(core)) {}
  void acquire() noexcept override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void drop() noexcept override {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void deliver(remote::Envelope answer) noexcept override {
    if (!done_.exchange(true, std::memory_order_acq_rel)) core_->on_answer(std::move(answer));
  }
  void fail(Errc why, bool /*from_deadline*/) noexcept override {
    if (!done_.exchange(true, std::memory_order_acq_rel)) core_->on_answer(cineyma::fail(why));
  }

 private:
  ~Exchange() override = default;
  std::shared_ptr<NodeCore> core_;
  std::atomic<int> refs_{1};
  std::atomic<bool> done_{false};
};

void NodeCore::flush(Pending out) {
  for (auto& c : out.to_close) c.close();
  for (auto& [client, message] : out.pushes) {
    remote::Envelope push;
    push.message_type = kGossipType;
    push.target_actor = kClusterActor;
    std::vector<std::uint8_t> bytes = encode_gossip(*message);
    push.payload.assign(bytes.begin(), bytes.end());
    // The deadline is one interval: a peer that does not answer by the next round is late
    // for it anyway, and an unanswered push must hold nothing (SPEC-original §5.4).
    auto* exchange = new Exchange(shared_from_this());
    remote::detail::start_call(*remote::detail::core_of(client), std::move(push), *exchange,
                               options.gossip.gossip_interval);
    exchange->drop();  // the client holds its own reference while the call is pending
  }
}

void Registrar::handle(const Terminated& t, Context&) {
  if (auto core = core_.lock()) core->actor_died(t.id);
}

Result<void> register_with_cell(NodeCore& core, std::string name,
                                cineyma::detail::RefPtr<cineyma::detail::CellBase> cell,
                                remote::MessageRouter router, std::string actor_type) {
  if (name.empty() || name.front() == '$') return fail(Errc::invalid_argument);
  if (!cell || !cell->is_alive()) return fail(Errc::actor_stopped);
  const ActorId id = cell->id();
  {
    std::lock_guard<std::mutex> lock(core.mutex);
    if (core.state != NodeCore::State::running) return fail(Errc::actor_stopped);
    if (core.registered.count(name) != 0) return fail(Errc::already_exists);
    Result<void> r = core.engine->register_actor(name, actor_type);
    if (!r) return r;
    Result<void> exposed = core.server->expose(name, std::move(router));
    if (!exposed) {
      static_cast<void>(core.engine->unregister_actor(name));
      return exposed;
    }
    core.registered.emplace(name, NodeCore::Registration{id});
  }
  // Watching happens on the registrar; an actor that died meanwhile is reported at once.
  if (!core.registrar.try_send(Registrar::Watch{std::move(cell)})) {
    std::lock_guard<std::mutex> lock(core.mutex);
    auto it = core.registered.find(name);
    if (it != core.registered.end() && it->second.id == id) core.withdraw_locked(it);
    return fail(Errc::mailbox_full);
  }
  return ok();
}

std::shared_ptr<NodeCore> core_of(const ClusterNode& node) noexcept { return node.core_; }

Result<remote::RemoteClient> resolve(NodeCore& core, std::string_view name) {
  std::lock_guard<std::mutex> lock(core.mutex);
  if (core.state == NodeCore::State::created || core.state == NodeCore::State::stopped) {
    return fail(Errc::actor_stopped);
  }
  Result<ActorLocation> at = core.engine->lookup_actor(name);
  if (!at) return fail(at.error());
  if (at->node != core.engine->self().node) {
    const MemberEntry* owner = core.engine->membership().find(at->node);
    if (owner == nullptr || owner->status != MemberStatus::up) return fail(Errc::disconnected);
  }
  return core.client_for(at->endpoint);
}

Duration default_call_timeout(const NodeCore& core) noexcept { return core.options.call_timeout; }

}  // namespace detail

// ---- free functions -----------------------------------------------------------------------------

Result<cineyma::Endpoint> parse_endpoint(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) {
    return fail(Errc::invalid_argument);
  }
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port == 0 || port > 65535) {
    return fail(Errc::invalid_argument);
  }
  return cineyma::Endpoint{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

std::string to_string(const cineyma::Endpoint& endpoint) {
  std::string out = endpoint.host;
  out += ':';
  out += std::to_string(endpoint.port);
  return out;
}

Result<void> validate(const ClusterNodeOptions& options) {
  // Simulated transports listen on "" (the node's own name): allowed only with an advertised
  // endpoint, which is then the only way peers can name this node.
  if (options.bind.host.empty() && options.gossip.endpoint.empty()) {
    return fail(Errc::invalid_argument);
  }
  GossipConfig probe = options.gossip;
  if (probe.endpoint.empty()) probe.endpoint = "placeholder:1";
  if (Result<void> r = cluster::validate(probe); !r) return r;
  for (const std::string& seed : options.gossip.seeds) {
    if (!parse_endpoint(seed)) return fail(Errc::invalid_argument);
  }
  if (!options.gossip.endpoint.empty() && !parse_endpoint(options.gossip.endpoint)) {
    return fail(Errc::invalid_argument);
  }
  if (options.call_timeout <= Duration::zero() || options.connect_timeout <= Duration::zero()) {
    return fail(Errc::invalid_argument);
  }
  return ok();
}

// ---- ClusterNode ----------------------------------------------------------------------------------

ClusterNode::ClusterNode(ActorSystem& system, ClusterNodeOptions options)
    : core_(std::make_shared<detail::NodeCore>(system, std::move(options))) {}

ClusterNode::~ClusterNode() {
  core_->shutdown();
  core_->registrar.stop();
}

Result<cineyma::Endpoint> ClusterNode::start() {
  detail::NodeCore& c = *core_;
  if (Result<void> r = validate(c.options); !r) return fail(r.error());
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.state != detail::NodeCore::State::created) return fail(Errc::invalid_argument);

  Result<Addr<detail::Registrar>> registrar =
      c.system.try_spawn(detail::Registrar(core_), 4096);
  if (!registrar) return fail(registrar.error());  // the actor system is shut down
  // Library code, not a user handler: a simulated injected fault must not kill the watches.
  if (registrar->cell()) registrar->cell()->exempt_from_fault_injection();
  c.registrar = *registrar;

  remote::ServerOptions so;
  so.listen_at = c.options.bind;
  so.handshake.node_id = c.options.gossip.node_id;
  so.handshake.cluster_name = c.options.cluster_name;
  so.handshake.secret = c.options.secret;
  so.max_frame_bytes = c.options.max_frame_bytes;
  auto server = std::make_unique<remote::RemoteServer>(c.env, so);
  std::weak_ptr<detail::NodeCore> weak = core_;
  remote::MessageRouter cluster_router;
  cluster_router.route_type(kGossipType, [weak](remote::Envelope e, remote::Reply reply) {
    if (auto self = weak.lock()) {
      self->on_gossip(std::move(e), std::move(reply));
    } else {
      reply.fail(Errc::actor_stopped, "the node is gone");
    }
  });
  if (Result<void> r = server->expose(kClusterActor, std::move(cluster_router)); !r) {
    return fail(r.error());
  }
  Result<cineyma::Endpoint> bound = server->start();
  if (!bound) return bound;

  GossipConfig config = c.options.gossip;
  if (config.endpoint.empty()) config.endpoint = to_string(*bound);
  c.options.gossip.endpoint = config.endpoint;
  c.engine.emplace(std::move(config), c.env.clock().now());
  c.server = std::move(server);
  c.state = detail::NodeCore::State::running;
  // First tick at a random point of the first interval: nodes started together spread out.
  const auto interval = c.options.gossip.gossip_interval.count();
  c.schedule_tick(Duration(static_cast<Duration::rep>(
      c.env.random().below(static_cast<std::uint64_t>(interval)) + 1)));
  cineyma::detail::log(c.env, spdlog::level::info, "cluster: node '{}' listening on {}",
                       c.options.gossip.node_id, c.options.gossip.endpoint);
  return bound;
}

const std::string& ClusterNode::node_id() const noexcept { return core_->options.gossip.node_id; }

std::string ClusterNode::endpoint() const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  return core_->options.gossip.endpoint;
}

Result<void> ClusterNode::unregister_actor(std::string_view name) {
  std::lock_guard<std::mutex> lock(core_->mutex);
  auto it = core_->registered.find(name);
  if (it == core_->registered.end()) return fail(Errc::not_found);
  core_->withdraw_locked(it);
  return ok();
}

Result<ActorLocation> ClusterNode::lookup_actor(std::string_view name) const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  if (!core_->engine) return fail(Errc::not_found);
  return core_->engine->lookup_actor(name);
}

std::map<std::string, ActorLocation, std::less<>> ClusterNode::actors() const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  std::map<std::string, ActorLocation, std::less<>> out;
  if (!core_->engine) return out;
  for (const auto& [name, record] : core_->engine->registry().map()) {
    Result<ActorLocation> at = core_->engine->lookup_actor(name);
    if (at) out.emplace(name, std::move(*at));
  }
  return out;
}

std::vector<Member> ClusterNode::members() const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  std::vector<Member> out;
  if (!core_->engine) return out;
  const MemberEntry& self = core_->engine->self();
  bool self_listed = false;
  for (const MemberEntry& e : core_->engine->membership().entries()) {
    const bool is_self = e.node == self.node;
    const MemberEntry& shown = is_self ? self : e;
    out.push_back(Member{shown.node, shown.endpoint, shown.status, shown.incarnation, is_self});
    self_listed = self_listed || is_self;
  }
  if (!self_listed) {
    out.push_back(Member{self.node, self.endpoint, self.status, self.incarnation, true});
    std::sort(out.begin(), out.end(),
              [](const Member& a, const Member& b) { return a.node < b.node; });
  }
  return out;
}

Result<MemberStatus> ClusterNode::status_of(std::string_view node) const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  if (!core_->engine) return fail(Errc::not_found);
  if (node == core_->engine->self().node) return core_->engine->self().status;
  const MemberEntry* e = core_->engine->membership().find(node);
  if (e == nullptr) return fail(Errc::not_found);
  return e->status;
}

void ClusterNode::subscribe(Recipient<MemberEvent> recipient) {
  std::lock_guard<std::mutex> lock(core_->mutex);
  if (core_->state != detail::NodeCore::State::stopped) {
    core_->subscribers.push_back(std::move(recipient));
  }
}

void ClusterNode::on_member_event(std::function<void(const MemberEvent&)> fn) {
  std::lock_guard<std::mutex> lock(core_->mutex);
  if (core_->state != detail::NodeCore::State::stopped) core_->event_fns.push_back(std::move(fn));
}

void ClusterNode::on_registration_lost(std::function<void(const RegistrationLost&)> fn) {
  std::lock_guard<std::mutex> lock(core_->mutex);
  if (core_->state != detail::NodeCore::State::stopped) core_->lost_fns.push_back(std::move(fn));
}

void ClusterNode::leave() {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->state != detail::NodeCore::State::running) return;
    core_->state = detail::NodeCore::State::left;
    if (core_->tick_timer != 0) core_->env.clock().cancel(core_->tick_timer);
    core_->tick_timer = 0;
    Effects fx = core_->engine->leave(core_->env.clock().now(), core_->env.random());
    core_->absorb(fx, out);
  }
  core_->flush(std::move(out));
}

void ClusterNode::shutdown() noexcept { core_->shutdown(); }

ClusterNodeStats ClusterNode::stats() const {
  std::lock_guard<std::mutex> lock(core_->mutex);
  ClusterNodeStats s = core_->counters;
  if (core_->engine) s.gossip = core_->engine->stats();
  return s;
}

}  // namespace cineyma::cluster
