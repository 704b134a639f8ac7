// sim/src/network.cpp — the simulated network (see network.hpp for the model).
#include "network.hpp"

#include "environment.hpp"
#include "world.hpp"

#include <cineyma/assert.hpp>

#include <algorithm>
#include <system_error>

namespace cineyma::sim::internal {
namespace {

// Linux's default ephemeral range starts here; the exact numbers only need to be stable.
constexpr std::uint16_t kFirstEphemeralPort = 49152;
constexpr std::uint16_t kLastEphemeralPort = 65535;
// Compact a receive buffer once this much of it has been read (amortised O(1) per byte).
constexpr std::size_t kCompactThresholdBytes = 4096;

Failure fail_errc(std::errc e) { return fail(std::make_error_code(e)); }

// Local close or cancellation: what Asio reports as operation_aborted (ECANCELED).
Failure aborted() { return fail_errc(std::errc::operation_canceled); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Connection

Connection::Connection(Network& net, std::uint64_t id, NodeIndex client_node,
                       Endpoint client_endpoint, NodeIndex server_node,
                       Endpoint server_endpoint)
    : net_(net), id_(id) {
  sides_[0].node = client_node;
  sides_[0].local = std::move(client_endpoint);
  sides_[1].node = server_node;
  sides_[1].local = std::move(server_endpoint);
}

Connection::~Connection() {
  // Nothing can be outstanding: a pending read holds its stream open, and the stream's
  // destructor closes it, which completes the read.
  CINEYMA_ASSERT(!sides_[0].read_done);
  CINEYMA_ASSERT(!sides_[1].read_done);
  net_.forget_connection(id_, sides_[0].node, sides_[0].local.port);
}

void Connection::read_some(int side, std::span<std::byte> into, ReadHandler done) {
  CINEYMA_ASSERT(static_cast<bool>(done));
  Side& s = sides_[side];
  CINEYMA_ASSERT_MSG(!s.read_done, "at most one read may be outstanding on a stream");
  if (s.closed) {
    net_.post(s.node, [done = std::move(done)] { done(aborted()); });
    return;
  }
  if (s.reset) {
    net_.post(s.node, [done = std::move(done)] { done(fail(Errc::disconnected)); });
    return;
  }
  s.read_into = into;
  s.read_done = std::move(done);
  if (into.empty()) {
    finish_read(side, std::size_t{0});  // as Asio: an empty buffer completes at once with 0
    return;
  }
  try_finish_read(side);
}

void Connection::write(int side, std::span<const std::byte> bytes, WriteHandler done) {
  CINEYMA_ASSERT(static_cast<bool>(done));
  Side& s = sides_[side];
  if (s.closed) {
    net_.post(s.node, [done = std::move(done)] { done(aborted()); });
    return;
  }
  if (s.reset) {
    net_.post(s.node, [done = std::move(done)] { done(fail(Errc::disconnected)); });
    return;
  }
  if (s.peer_finished) {
    // The peer closed both directions; what we send would be refused (a real stack answers
    // with RST). Before its FIN arrives, writes succeed and the bytes are lost: that is the
    // window where a request may or may not have been delivered.
    net_.post(s.node, [done = std::move(done)] { done(fail(Errc::disconnected)); });
    return;
  }
  if (!bytes.empty()) {
    // BUGGIFY: the kernel may put one write on the wire as two segments, each with its own
    // latency draw (a stall can fall between them); the peer must cope with any split.
    const std::size_t cut = bytes.size() > 1 && CINEYMA_BUGGIFY_WITH(net_.faults_of(s.node))
                                ? bytes.size() / 2
                                : bytes.size();
    send(side, std::vector<std::byte>(bytes.begin(), bytes.begin() + cut), false);
    if (cut < bytes.size()) {
      send(side, std::vector<std::byte>(bytes.begin() + cut, bytes.end()), false);
    }
  }
  // The bytes are copied "into the kernel": the write is complete.
  net_.post(s.node, [done = std::move(done)] { done(ok()); });
}

void Connection::close(int side) noexcept {
  Side& s = sides_[side];
  if (s.closed) return;
  s.closed = true;
  if (s.read_done) finish_read(side, aborted());
  s.received.clear();
  s.received_offset = 0;
  // After an RST there is no connection left to finish.
  if (!s.reset) send(side, {}, true);
}

void Connection::send(int from, std::vector<std::byte> bytes, bool fin) {
  // Faults strike live connections carrying data; a dead end has nothing left to break.
  const bool draw = !fin && !sides_[from].blackholed && !sides_[from].reset;
  send_one(from, std::move(bytes), fin);
  if (draw) draw_faults(from);
}

void Connection::send_one(int from, std::vector<std::byte> bytes, bool fin) {
  Side& tx = sides_[from];
  const Side& rx = sides_[peer_of(from)];
  if (tx.blackholed) return;  // half-open: nobody is there to receive it
  TimePoint arrive_at = net_.arrival_time(tx.node, rx.node);
  const SimulationOptions& o = net_.options();
  if (net_.chance(o.stall_ratio)) {
    arrive_at += net_.up_to_us(o.stall_us);
    CINEYMA_CODE_PROBE_WITH(net_.faults_of(tx.node), "sim: stream stalled");
  }
  // TCP is a FIFO: a segment never overtakes the one sent before it, whatever the link does.
  if (!tx.outbound.empty()) arrive_at = std::max(arrive_at, tx.outbound.back().arrive_at);
  tx.outbound.push_back(Segment{arrive_at, std::move(bytes), fin});
  if (!tx.delivery_scheduled && !tx.held) schedule_delivery(from);
}

void Connection::draw_faults(int from) noexcept {
  const SimulationOptions& o = net_.options();
  if (net_.chance(o.reset_ratio)) {
    CINEYMA_CODE_PROBE_WITH(net_.faults_of(sides_[from].node), "sim: connection reset");
    reset();
  } else if (net_.chance(o.half_open_ratio)) {
    CINEYMA_CODE_PROBE_WITH(net_.faults_of(sides_[from].node), "sim: connection half-open");
    make_half_open(net_.chance(Ratio{1, 2}) ? from : peer_of(from));
  }
}

void Connection::reset() noexcept {
  for (int side = 0; side < 2; ++side) {
    const Side& s = sides_[side];
    const Duration latency = net_.base_latency(sides_[peer_of(side)].node, s.node);
    net_.deliver_at(s.node, net_.world().now() + latency,
                    [self = shared_from_this(), side] { self->observe_reset(side); });
  }
}

void Connection::observe_reset(int side) noexcept {
  Side& s = sides_[side];
  if (s.reset) return;
  s.reset = true;
  // An RST discards what was not read yet, and whatever was still on its way to us.
  s.received.clear();
  s.received_offset = 0;
  sides_[peer_of(side)].outbound.clear();
  if (s.read_done) finish_read(side, fail(Errc::disconnected));
}

void Connection::make_half_open(int survivor) noexcept {
  const int victim = peer_of(survivor);
  Side& s = sides_[survivor];
  // The survivor's segments go nowhere from now on, and the victim sends nothing more.
  s.blackholed = true;
  s.outbound.clear();
  sides_[victim].outbound.clear();
  net_.post(sides_[victim].node, [self = shared_from_this(), victim] {
    self->observe_reset(victim);
    self->sides_[victim].blackholed = true;  // its own later sends vanish too
  });
}

void Connection::release_held() noexcept {
  for (int from = 0; from < 2; ++from) {
    Side& tx = sides_[from];
    if (!tx.held) continue;
    if (net_.blocked(tx.node, sides_[peer_of(from)].node)) continue;
    tx.held = false;
    // TCP retransmits what the partition swallowed: nothing arrives before one more latency.
    const TimePoint earliest =
        net_.world().now() + net_.base_latency(tx.node, sides_[peer_of(from)].node);
    for (Segment& segment : tx.outbound) segment.arrive_at = std::max(segment.arrive_at, earliest);
    if (!tx.outbound.empty() && !tx.delivery_scheduled) schedule_delivery(from);
  }
}

void Connection::break_locally() noexcept {
  CINEYMA_CODE_PROBE_WITH(net_.faults_of(sides_[0].node), "sim: partition broke a connection");
  // Each end's TCP gives up on its own: nothing crosses the partition to tell it.
  for (int side = 0; side < 2; ++side) {
    net_.post(sides_[side].node, [self = shared_from_this(), side] { self->observe_reset(side); });
  }
}

bool Connection::partitioned() const noexcept {
  return net_.blocked(sides_[0].node, sides_[1].node) ||
         net_.blocked(sides_[1].node, sides_[0].node);
}

void Connection::schedule_delivery(int from) {
  Side& tx = sides_[from];
  CINEYMA_ASSERT(!tx.outbound.empty());
  CINEYMA_ASSERT(!tx.delivery_scheduled);
  tx.delivery_scheduled = true;
  // One delivery timer per direction at a time, draining the FIFO in order: two timers due
  // at the same instant would otherwise be ordered by the PRNG and reorder the bytes.
  net_.deliver_at(sides_[peer_of(from)].node, tx.outbound.front().arrive_at,
                  [self = shared_from_this(), from] { self->deliver(from); });
}

void Connection::deliver(int from) {
  Side& tx = sides_[from];
  Side& rx = sides_[peer_of(from)];
  tx.delivery_scheduled = false;
  if (net_.blocked(tx.node, rx.node)) {
    // Partitioned: the segments stay where they are until heal() calls release_held().
    tx.held = true;
    CINEYMA_CODE_PROBE_WITH(net_.faults_of(rx.node), "sim: bytes held by a partition");
    return;
  }
  const TimePoint now = net_.world().now();
  while (!tx.outbound.empty() && tx.outbound.front().arrive_at <= now) {
    Segment segment = std::move(tx.outbound.front());
    tx.outbound.pop_front();
    if (rx.closed || rx.reset || rx.blackholed) continue;  // nobody reads what arrives
    if (segment.fin) {
      rx.peer_finished = true;
    } else {
      rx.received.insert(rx.received.end(), segment.bytes.begin(), segment.bytes.end());
    }
  }
  try_finish_read(peer_of(from));
  if (!tx.outbound.empty()) schedule_delivery(from);
}

void Connection::try_finish_read(int side) {
  Side& s = sides_[side];
  if (!s.read_done) return;
  const std::size_t available = s.received.size() - s.received_offset;
  if (available > 0) {
    std::size_t n = std::min(available, s.read_into.size());
    // BUGGIFY: a read returns fewer bytes than are buffered, as a real socket may.
    if (n > 1 && CINEYMA_BUGGIFY_WITH(net_.faults_of(s.node))) {
      n = 1 + static_cast<std::size_t>(net_.world().network_random().below(n - 1));
    }
    const auto first = s.received.begin() + static_cast<std::ptrdiff_t>(s.received_offset);
    std::copy(first, first + static_cast<std::ptrdiff_t>(n), s.read_into.begin());
    s.received_offset += n;
    if (s.received_offset == s.received.size()) {
      s.received.clear();
      s.received_offset = 0;
    } else if (s.received_offset >= kCompactThresholdBytes &&
               s.received_offset * 2 >= s.received.size()) {
      s.received.erase(s.received.begin(),
                       s.received.begin() + static_cast<std::ptrdiff_t>(s.received_offset));
      s.received_offset = 0;
    }
    finish_read(side, n);
  } else if (s.peer_finished) {
    finish_read(side, fail(Errc::disconnected));
  }
}

void Connection::finish_read(int side, Result<std::size_t> result) {
  Side& s = sides_[side];
  CINEYMA_ASSERT(static_cast<bool>(s.read_done));
  ReadHandler done = std::move(s.read_done);
  s.read_done = nullptr;
  s.read_into = {};
  net_.post(s.node, [done = std::move(done), result] { done(result); });
}

// ---------------------------------------------------------------------------------------
// SimStream

SimStream::~SimStream() { close(); }

void SimStream::async_read_some(std::span<std::byte> into,
                                std::function<void(Result<std::size_t>)> done) {
  connection_->read_some(side_, into, std::move(done));
}

void SimStream::async_write(std::span<const std::byte> bytes,
                            std::function<void(Result<void>)> done) {
  connection_->write(side_, bytes, std::move(done));
}

void SimStream::close() noexcept { connection_->close(side_); }

Endpoint SimStream::remote_endpoint() const { return connection_->local_endpoint(1 - side_); }

// ---------------------------------------------------------------------------------------
// SimListener

SimListener::~SimListener() { close(); }

void SimListener::async_accept(AcceptHandler done) {
  CINEYMA_ASSERT(static_cast<bool>(done));
  CINEYMA_ASSERT_MSG(!accept_done_, "at most one accept may be outstanding on a listener");
  if (closed_) {
    net_.post(node_, [done = std::move(done)] { done(aborted()); });
    return;
  }
  if (!backlog_.empty()) {
    std::unique_ptr<ByteStream> stream = std::move(backlog_.front());
    backlog_.pop_front();
    net_.post(node_, [done = std::move(done), s = std::move(stream)]() mutable {
      done(std::move(s));
    });
    return;
  }
  accept_done_ = std::move(done);
}

void SimListener::close() noexcept {
  if (closed_) return;
  closed_ = true;
  net_.unbind_listener(node_, local_.port);
  if (accept_done_) {
    AcceptHandler done = std::move(accept_done_);
    accept_done_ = nullptr;
    net_.post(node_, [done = std::move(done)] { done(aborted()); });
  }
  // Connections nobody accepted are reset: destroying them sends their FIN.
  backlog_.clear();
}

void SimListener::offer(std::unique_ptr<ByteStream> stream) {
  CINEYMA_ASSERT(!closed_);
  if (accept_done_) {
    AcceptHandler done = std::move(accept_done_);
    accept_done_ = nullptr;
    net_.post(node_, [done = std::move(done), s = std::move(stream)]() mutable {
      done(std::move(s));
    });
    return;
  }
  backlog_.push_back(std::move(stream));
}

// ---------------------------------------------------------------------------------------
// Network

void Network::add_node() {
  ports_.push_back(NodePorts{{}, kFirstEphemeralPort});
}

LinkState& Network::link(NodeIndex from, NodeIndex to) {
  CINEYMA_ASSERT(from < ports_.size());
  CINEYMA_ASSERT(to < ports_.size());
  const auto [it, inserted] = links_.try_emplace({from, to});
  if (inserted) it->second.latency = std::chrono::microseconds(options_.latency_us);
  return it->second;
}

TimePoint Network::arrival_time(NodeIndex from, NodeIndex to) {
  TimePoint at = world_.now() + link(from, to).latency;
  if (options_.latency_jitter_us > 0) at += up_to_us(options_.latency_jitter_us);
  if (options_.latency_tail_us > 0 && chance(options_.latency_tail_ratio)) {
    at += up_to_us(options_.latency_tail_us);
  }
  return at;
}

FaultInjector* Network::faults_of(NodeIndex node) noexcept {
  return world_.node_ref(node).faults();
}

bool Network::chance(const Ratio& r) noexcept {
  if (r.numerator == 0) return false;  // no draw: an unused knob never shifts the stream
  return world_.network_random().chance(r.numerator, r.denominator);
}

Duration Network::up_to_us(std::int64_t max_us) noexcept {
  if (max_us <= 0) return Duration::zero();
  const std::uint64_t us =
      world_.network_random().below(static_cast<std::uint64_t>(max_us) + 1);
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

void Network::block(NodeIndex from, NodeIndex to) {
  link(from, to).blocked = true;
}

void Network::heal() {
  for (auto& [key, state] : links_) state.blocked = false;
  // Ordered by connection id, so the deliveries rescheduled here are deterministic.
  std::vector<std::shared_ptr<Connection>> live;
  for (const auto& [id, connection] : connections_) live.push_back(connection->shared_from_this());
  for (const auto& connection : live) connection->release_held();
}

void Network::arm_partition_breaks() {
  if (options_.partition_break_ratio.numerator == 0) return;
  const Duration timeout = std::chrono::microseconds(options_.tcp_timeout_us);
  for (const auto& [id, connection] : connections_) {
    const NodeIndex a = connection->node_of(0);
    if (!connection->partitioned()) continue;
    if (!connection->claim_break_check()) continue;  // one check at a time
    if (!chance(options_.partition_break_ratio)) {
      connection->end_break_check();
      continue;
    }
    // TCP gives up only if the partition outlasts its retries: check again then.
    deliver_at(a, world_.now() + timeout, [weak = connection->weak_from_this()] {
      const std::shared_ptr<Connection> c = weak.lock();
      if (!c) return;
      c->end_break_check();
      if (!c->partitioned()) return;
      c->break_locally();
    });
  }
}

void Network::cut(NodeIndex node) {
  ports_[node].cut = true;
  std::vector<std::pair<std::shared_ptr<Connection>, int>> ends;
  for (const auto& [id, connection] : connections_) {
    for (int side = 0; side < 2; ++side) {
      if (connection->node_of(side) == node) ends.emplace_back(connection->shared_from_this(), side);
    }
  }
  for (const auto& [connection, side] : ends) connection->close(side);
  std::vector<SimListener*> listening;
  for (const auto& [key, listener] : listeners_) {
    if (key.first == node) listening.push_back(listener);
  }
  for (SimListener* listener : listening) listener->close();
}

Result<std::unique_ptr<Listener>> Network::listen(NodeIndex node, const Endpoint& at) {
  CINEYMA_ASSERT(node < ports_.size());
  if (ports_[node].cut) return fail_errc(std::errc::network_down);
  const std::string& own_name = world_.node_name(node);
  // A node can only bind its own address (or "any").
  if (!at.host.empty() && at.host != own_name) {
    return fail_errc(std::errc::address_not_available);
  }
  std::uint16_t port = at.port;
  if (port == 0) {
    port = allocate_ephemeral(node);
    if (port == 0) return fail_errc(std::errc::address_in_use);
  } else if (!ports_[node].bound.insert(port).second) {
    return fail_errc(std::errc::address_in_use);
  }
  auto listener = std::make_unique<SimListener>(*this, node, Endpoint{own_name, port});
  listeners_.emplace(std::make_pair(node, port), listener.get());
  return std::unique_ptr<Listener>(std::move(listener));
}

void Network::connect(NodeIndex from, const Endpoint& to, AcceptHandler done) {
  CINEYMA_ASSERT(static_cast<bool>(done));
  CINEYMA_ASSERT(from < ports_.size());
  if (ports_[from].cut) {
    post(from, [done = std::move(done)] { done(fail_errc(std::errc::network_down)); });
    return;
  }
  const std::optional<NodeIndex> server = world_.find_node_index(to.host);
  if (!server) {
    post(from, [done = std::move(done)] { done(fail_errc(std::errc::host_unreachable)); });
    return;
  }
  const std::uint16_t client_port = allocate_ephemeral(from);
  if (client_port == 0) {
    post(from, [done = std::move(done)] { done(fail_errc(std::errc::address_not_available)); });
    return;
  }
  if (blocked(from, *server) || blocked(*server, from)) {
    // The SYN (or its answer) is lost; TCP retries until it gives up.
    CINEYMA_CODE_PROBE_WITH(faults_of(from), "sim: connect across a partition");
    deliver_at(from, world_.now() + std::chrono::microseconds(options_.tcp_timeout_us),
               [this, from, client_port, done = std::move(done)] {
                 ports_[from].bound.erase(client_port);
                 done(fail_errc(std::errc::timed_out));
               });
    return;
  }
  // The SYN travels to the server. What happens when it arrives is the server *kernel's*
  // business (it answers even while the server process is paused or down), so the event is
  // carried by the client node, whose connect is waiting for it anyway.
  deliver_at(from, arrival_time(from, *server),
             [this, from, client_port, server = *server, server_port = to.port,
              done = std::move(done)]() mutable {
               syn_arrived(from, client_port, server, server_port, std::move(done));
             });
}

void Network::syn_arrived(NodeIndex client, std::uint16_t client_port, NodeIndex server,
                          std::uint16_t server_port, AcceptHandler done) {
  const auto it = listeners_.find({server, server_port});
  const bool refused = it == listeners_.end() || chance(options_.connect_refused_ratio);
  if (refused && it != listeners_.end()) {
    CINEYMA_CODE_PROBE_WITH(faults_of(server), "sim: connect refused by a full backlog");
  }
  if (refused) {
    ports_[client].bound.erase(client_port);
    deliver_at(client, arrival_time(server, client), [done = std::move(done)] {
      done(fail_errc(std::errc::connection_refused));
    });
    return;
  }
  const std::uint64_t id = next_connection_id_++;
  auto connection = std::make_shared<Connection>(
      *this, id, client, Endpoint{world_.node_name(client), client_port}, server,
      Endpoint{world_.node_name(server), server_port});
  connections_.emplace(id, connection.get());
  std::unique_ptr<ByteStream> client_end = std::make_unique<SimStream>(connection, 0);
  it->second->offer(std::make_unique<SimStream>(std::move(connection), 1));
  // The SYN-ACK travels back; the client's stream exists (and buffers) from now on.
  deliver_at(client, arrival_time(server, client),
             [done = std::move(done), s = std::move(client_end)]() mutable {
               done(std::move(s));
             });
}

void Network::post(NodeIndex node, ::cineyma::detail::UniqueFunction fn) {
  world_.post(node, std::move(fn));
}

void Network::deliver_at(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn) {
  static_cast<void>(world_.schedule_at(node, when, std::move(fn)));
}

void Network::unbind_listener(NodeIndex node, std::uint16_t port) noexcept {
  const auto erased = listeners_.erase({node, port});
  CINEYMA_ASSERT(erased == 1);
  ports_[node].bound.erase(port);
}

void Network::forget_connection(std::uint64_t id, NodeIndex client_node,
                                std::uint16_t client_port) noexcept {
  const auto erased = connections_.erase(id);
  CINEYMA_ASSERT(erased == 1);
  ports_[client_node].bound.erase(client_port);
}

std::uint16_t Network::allocate_ephemeral(NodeIndex node) {
  NodePorts& ports = ports_[node];
  constexpr int kRangeSize = kLastEphemeralPort - kFirstEphemeralPort + 1;
  for (int tries = 0; tries < kRangeSize; ++tries) {
    const std::uint16_t port = ports.next_ephemeral;
    ports.next_ephemeral = port == kLastEphemeralPort
                               ? kFirstEphemeralPort
                               : static_cast<std::uint16_t>(port + 1);
    if (ports.bound.insert(port).second) return port;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// SimTransport

Result<std::unique_ptr<Listener>> SimTransport::listen(const Endpoint& at) {
  return net_.listen(node_, at);
}

void SimTransport::async_connect(const Endpoint& to, AcceptHandler done) {
  net_.connect(node_, to, std::move(done));
}

}  // namespace cineyma::sim::internal
