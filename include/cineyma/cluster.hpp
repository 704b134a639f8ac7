// cineyma/cluster.hpp — umbrella header of the transport-independent cluster core:
// membership (with its failure-detector bookkeeping), the distributed registry state, the gossip
// message and its codec, and the per-node gossip state machine; and that core wired to the
// network: `ClusterNode` (node.hpp) and `ClusterClient` (client.hpp).
#pragma once

#include <cineyma/cluster/client.hpp>
#include <cineyma/cluster/codec.hpp>
#include <cineyma/cluster/gossip_engine.hpp>
#include <cineyma/cluster/gossip_message.hpp>
#include <cineyma/cluster/membership.hpp>
#include <cineyma/cluster/node.hpp>
#include <cineyma/cluster/registry_state.hpp>
