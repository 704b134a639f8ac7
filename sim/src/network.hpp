// sim/src/network.hpp — the simulated network: listeners, connections and links between the
// nodes of one simulation. Twin of src/asio/transport.cpp.
//
// It gives TCP's contract: bytes arrive in order, after the link's latency, while the
// connection lasts; closing one side reaches the other after the latency (its reads then fail
// with `Errc::disconnected`). Every packet-like event (SYN, data, FIN, refusal) is a timer on
// the receiving node, and every completion runs as a task of the node that owns the object
// — never inline in the initiating call.
//
// Faults (knobs in SimulationOptions, draws from the world's network stream):
//  - latency: base + jitter + a long tail, drawn per segment; a stall adds to one segment and,
//    TCP being a FIFO, delays everything behind it;
//  - reset: both ends observe an RST (reads and writes fail with `Errc::disconnected`, unread
//    bytes are discarded);
//  - half-open: one end observes an RST, the other stays "connected" into the void: its
//    writes succeed and vanish, its reads wait forever;
//  - partition (`LinkState::blocked`, one direction): segments are held where they are and
//    move again on heal; a connection still partitioned after `tcp_timeout_us` may break;
//    a connect across a partition times out;
//  - refused connect, and crash (`Network::cut`: the node's streams close, its listeners go).
//
// Where state lives, so each concern has one place:
//  - `LinkState` (per directed node pair, in `Network::links_`): latency and partition.
//    Every arrival time is computed by `Network::arrival_time`.
//  - `Connection`: the two ends of one stream (buffers, bytes in flight, FIN/RST flags). Every
//    live connection is registered in `Network::connections_` so faults can find and break it.
//  - `Network::listeners_` and `ports_`: who listens where, which ports are taken.
#pragma once

#include "executor.hpp"

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/clock.hpp>
#include <cineyma/env/transport.hpp>
#include <cineyma/sim/simulation.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cineyma::sim::internal {

class World;
class Network;

using AcceptHandler = std::function<void(Result<std::unique_ptr<ByteStream>>)>;
using ReadHandler = std::function<void(Result<std::size_t>)>;
using WriteHandler = std::function<void(Result<void>)>;

/// The directed path from one node to another: all per-link knobs live here.
struct LinkState {
  Duration latency{};
  bool blocked = false;  ///< partitioned: nothing gets through in this direction
};

/// One simulated TCP connection. Side 0 is the connecting (client) end, side 1 the accepted
/// (server) end. Shared by the two `SimStream`s and by the timers carrying its bytes, so it
/// lives until both ends are gone and nothing is in flight.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Network& net, std::uint64_t id, NodeIndex client_node, Endpoint client_endpoint,
             NodeIndex server_node, Endpoint server_endpoint);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void read_some(int side, std::span<std::byte> into, ReadHandler done);
  void write(int side, std::span<const std::byte> bytes, WriteHandler done);
  void close(int side) noexcept;
  const Endpoint& local_endpoint(int side) const noexcept { return sides_[side].local; }
  std::uint64_t id() const noexcept { return id_; }
  NodeIndex node_of(int side) const noexcept { return sides_[side].node; }

  // -- faults (called by the network) --
  /// Both ends observe an RST, each after one latency from the other.
  void reset() noexcept;
  /// `side` observes an RST now (a task of its node).
  void observe_reset(int side) noexcept;
  /// One end (chosen by the caller) observes an RST; the other is left half-open.
  void make_half_open(int survivor) noexcept;
  /// The partition outlasted TCP's retries: each end observes the break on its own.
  void break_locally() noexcept;
  /// A partition healed: held segments move again.
  void release_held() noexcept;
  /// True when some direction of this connection crosses a blocked link.
  bool partitioned() const noexcept;
  /// Claims the connection's one pending partition-break check; false if already claimed.
  bool claim_break_check() noexcept { return !std::exchange(break_check_pending_, true); }
  void end_break_check() noexcept { break_check_pending_ = false; }

 private:
  /// What one side put on the wire: bytes, or its FIN (`fin`, always last).
  struct Segment {
    TimePoint arrive_at;
    std::vector<std::byte> bytes;
    bool fin = false;
  };
  struct Side {
    NodeIndex node = 0;
    Endpoint local;
    bool closed = false;         ///< this side called close(): it neither sends nor receives
    bool peer_finished = false;  ///< the peer's FIN arrived: reads fail once drained
    bool reset = false;          ///< an RST arrived: reads and writes fail
    bool blackholed = false;     ///< half-open survivor: sends vanish, nothing arrives
    bool held = false;           ///< `outbound` waits for a partition to heal
    std::vector<std::byte> received;
    std::size_t received_offset = 0;  ///< bytes of `received` already read
    std::span<std::byte> read_into;
    ReadHandler read_done;            ///< the outstanding read, if any
    std::deque<Segment> outbound;     ///< sent by this side, still on the wire to the peer
    bool delivery_scheduled = false;  ///< a timer will deliver `outbound.front()`
  };

  static int peer_of(int side) noexcept { return 1 - side; }
  void send(int from, std::vector<std::byte> bytes, bool fin);
  void send_one(int from, std::vector<std::byte> bytes, bool fin);
  /// After a segment went out: maybe reset the connection or make it half-open.
  void draw_faults(int from) noexcept;
  void schedule_delivery(int from);
  void deliver(int from);
  void try_finish_read(int side);
  void finish_read(int side, Result<std::size_t> result);

  Network& net_;
  std::uint64_t id_;
  Side sides_[2];
  bool break_check_pending_ = false;
};

/// One end of a `Connection`, as user code sees it. Destroying it closes it.
class SimStream final : public ByteStream {
 public:
  SimStream(std::shared_ptr<Connection> connection, int side) noexcept
      : connection_(std::move(connection)), side_(side) {}
  ~SimStream() override;

  void async_read_some(std::span<std::byte> into,
                       std::function<void(Result<std::size_t>)> done) override;
  void async_write(std::span<const std::byte> bytes,
                   std::function<void(Result<void>)> done) override;
  void close() noexcept override;
  Endpoint remote_endpoint() const override;

 private:
  std::shared_ptr<Connection> connection_;
  int side_;
};

/// A bound port on a node; arriving connections wait in its backlog until accepted.
class SimListener final : public Listener {
 public:
  SimListener(Network& net, NodeIndex node, Endpoint local) noexcept
      : net_(net), node_(node), local_(std::move(local)) {}
  ~SimListener() override;

  void async_accept(AcceptHandler done) override;
  Endpoint local_endpoint() const override { return local_; }
  void close() noexcept override;

  /// A connection arrived (called by the network on this listener's node).
  void offer(std::unique_ptr<ByteStream> stream);

 private:
  Network& net_;
  NodeIndex node_;
  Endpoint local_;
  bool closed_ = false;
  AcceptHandler accept_done_;
  std::deque<std::unique_ptr<ByteStream>> backlog_;
};

/// The network of one simulation.
class Network {
 public:
  Network(World& world, const SimulationOptions& options) noexcept
      : world_(world), options_(options) {}
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  /// Grows the per-node tables; called once per new node, in creation order.
  void add_node();

  /// The link from `from` to `to` (created with the defaults on first use).
  LinkState& link(NodeIndex from, NodeIndex to);
  /// When something sent now from `from` reaches `to`: latency, jitter and tail, drawn.
  TimePoint arrival_time(NodeIndex from, NodeIndex to);
  /// The base latency of the link (no draw).
  Duration base_latency(NodeIndex from, NodeIndex to) { return link(from, to).latency; }
  bool blocked(NodeIndex from, NodeIndex to) { return link(from, to).blocked; }
  const SimulationOptions& options() const noexcept { return options_; }
  /// The fault points of `node` (for BUGGIFY sites and probes in the transport).
  FaultInjector* faults_of(NodeIndex node) noexcept;
  /// True with probability `r`, drawn from the network's stream (never drawn when r is 0).
  bool chance(const Ratio& r) noexcept;
  /// Uniform in [0, max_us] microseconds, drawn from the network's stream.
  Duration up_to_us(std::int64_t max_us) noexcept;

  // -- faults --
  void block(NodeIndex from, NodeIndex to);
  /// After a partition: each connection across it draws, once, whether it breaks should the
  /// partition outlast `tcp_timeout_us`.
  void arm_partition_breaks();
  void heal();
  /// The node's process dies: every stream end it has closes, every listener closes, and
  /// until `uncut` it can neither listen nor connect.
  void cut(NodeIndex node);
  void uncut(NodeIndex node) noexcept { ports_[node].cut = false; }

  Result<std::unique_ptr<Listener>> listen(NodeIndex node, const Endpoint& at);
  void connect(NodeIndex from, const Endpoint& to, AcceptHandler done);

  World& world() noexcept { return world_; }
  /// Queues `fn` as a task of `node`.
  void post(NodeIndex node, ::cineyma::detail::UniqueFunction fn);
  /// Runs `fn` as a task of `node` at `when`.
  void deliver_at(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn);

  /// Bookkeeping, called by listeners and connections as they go away.
  void unbind_listener(NodeIndex node, std::uint16_t port) noexcept;
  void forget_connection(std::uint64_t id, NodeIndex client_node,
                         std::uint16_t client_port) noexcept;

 private:
  struct NodePorts {
    std::set<std::uint16_t> bound;  ///< listening ports and client ends of live connections
    std::uint16_t next_ephemeral = 0;
    bool cut = false;  ///< crashing or down
  };
  /// A free port from the node's ephemeral range (deterministic: a rolling counter), or 0.
  std::uint16_t allocate_ephemeral(NodeIndex node);
  void syn_arrived(NodeIndex client, std::uint16_t client_port, NodeIndex server,
                   std::uint16_t server_port, AcceptHandler done);

  World& world_;
  const SimulationOptions& options_;
  std::map<std::pair<NodeIndex, NodeIndex>, LinkState> links_;
  std::vector<NodePorts> ports_;
  std::map<std::pair<NodeIndex, std::uint16_t>, SimListener*> listeners_;
  std::map<std::uint64_t, Connection*> connections_;  ///< live connections, by id
  std::uint64_t next_connection_id_ = 1;
};

/// A node's transport: the network, seen from that node.
///
/// Threading: the simulation thread only.
class SimTransport final : public Transport {
 public:
  SimTransport(Network& net, NodeIndex node) noexcept : net_(net), node_(node) {}

  /// `at.host` must be empty or the node's own name; port 0 picks an ephemeral port.
  Result<std::unique_ptr<Listener>> listen(const Endpoint& at) override;
  /// `to.host` is a node name. Completes after a round trip: with a stream, or with
  /// `std::errc::connection_refused` (nobody listens) / `host_unreachable` (no such node).
  void async_connect(const Endpoint& to, AcceptHandler done) override;

 private:
  Network& net_;
  NodeIndex node_;
};

}  // namespace cineyma::sim::internal
