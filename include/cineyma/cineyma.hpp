// cineyma/cineyma.hpp — umbrella header: everything a user of local actors needs.
#pragma once

#include <cineyma/actor.hpp>
#include <cineyma/actor_id.hpp>
#include <cineyma/addr.hpp>
#include <cineyma/channel.hpp>
#include <cineyma/context.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/error.hpp>
#include <cineyma/generator.hpp>
#include <cineyma/message.hpp>
#include <cineyma/real_environment.hpp>
#include <cineyma/recipient.hpp>
#include <cineyma/registry.hpp>
#include <cineyma/result.hpp>
#include <cineyma/stream.hpp>
#include <cineyma/supervision.hpp>
#include <cineyma/system.hpp>
#include <cineyma/task.hpp>
#include <cineyma/timer.hpp>
