// cineyma/remote.hpp — umbrella header of remote actors (DESIGN §5): framing, handshake,
// envelope codec, router and server, client and typed remote addresses.
#pragma once

#include <cineyma/remote/client.hpp>
#include <cineyma/remote/envelope.hpp>
#include <cineyma/remote/framing.hpp>
#include <cineyma/remote/handshake.hpp>
#include <cineyma/remote/message.hpp>
#include <cineyma/remote/router.hpp>
#include <cineyma/remote/server.hpp>
