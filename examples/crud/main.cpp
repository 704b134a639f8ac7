// examples/crud — an in-memory user store as one actor.
//
// The store's state (a map of users) belongs to a single actor, so it needs no locks: every
// request is a typed message handled one at a time. Clients talk to it through its Addr:
// `send(...)` for requests with a reply. Run it plain for the real runtime (worker threads),
// or with `--sim SEED` to run the very same code inside the deterministic simulator.
#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct User {
  std::uint64_t id = 0;
  std::string name;
  std::string email;
};

// --- the protocol: one message type per operation, each declaring its reply ---------------
struct CreateUser {
  std::string name, email;
  using reply = cineyma::Result<User>;  // invalid_argument | already_exists
};
struct GetUser {
  std::uint64_t id;
  using reply = std::optional<User>;
};
struct UpdateUser {
  std::uint64_t id;
  std::optional<std::string> name, email;
  using reply = cineyma::Result<User>;  // not_found | invalid_argument | already_exists
};
struct DeleteUser {
  std::uint64_t id;
  using reply = bool;  // false when there was no such user
};
struct ListUsers {
  using reply = std::vector<User>;  // ordered by id
};

class UserStore : public cineyma::Actor<UserStore> {
 public:
  void started(Context& ctx) { std::cout << "  [store] started as actor #" << ctx.id().value << "\n"; }
  void stopped(Context&) { std::cout << "  [store] stopped with " << users_.size() << " users\n"; }

  cineyma::Result<User> handle(const CreateUser& m, Context&) {
    if (auto bad = validate(m.name, m.email, 0)) return *bad;
    User u{next_id_++, m.name, m.email};
    users_.emplace(u.id, u);
    return u;
  }

  std::optional<User> handle(const GetUser& m, Context&) {
    auto it = users_.find(m.id);
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }

  cineyma::Result<User> handle(const UpdateUser& m, Context&) {
    auto it = users_.find(m.id);
    if (it == users_.end()) return cineyma::fail(cineyma::Errc::not_found);
    User updated = it->second;
    if (m.name) updated.name = *m.name;
    if (m.email) updated.email = *m.email;
    if (auto bad = validate(updated.name, updated.email, m.id)) return *bad;
    it->second = updated;
    return updated;
  }

  bool handle(const DeleteUser& m, Context&) { return users_.erase(m.id) > 0; }

  std::vector<User> handle(const ListUsers&, Context&) {
    std::vector<User> out;
    out.reserve(users_.size());
    for (const auto& [id, u] : users_) out.push_back(u);
    return out;
  }

 private:
  // Returns the failure for an invalid record; `self` is the id allowed to own the email.
  std::optional<cineyma::Failure> validate(const std::string& name, const std::string& email,
                                           std::uint64_t self) const {
    if (name.empty() || email.find('@') == std::string::npos) {
      return cineyma::fail(cineyma::Errc::invalid_argument);
    }
    for (const auto& [id, u] : users_) {
      if (id != self && u.email == email) return cineyma::fail(cineyma::Errc::already_exists);
    }
    return std::nullopt;
  }

  std::map<std::uint64_t, User> users_;  // ordered: listing is stable
  std::uint64_t next_id_ = 1;
};

void print(const User& u) {
  std::cout << "    #" << u.id << "  " << u.name << " <" << u.email << ">\n";
}

template <typename R>
void print_result(std::string_view what, const cineyma::Result<R>& r) {
  std::cout << "  " << what << ": ";
  if (!r) {
    std::cout << "request failed: " << r.error().message() << "\n";
    return;
  }
  const auto& reply = *r;  // the store's own reply, itself a Result<User>
  if (!reply) {
    std::cout << "rejected: " << reply.error().message() << "\n";
  } else {
    std::cout << "ok\n";
    print(*reply);
  }
}

/// The whole session, identical on both runtimes.
int run_session(cineyma::ActorSystem& system) {
  auto store = system.spawn(UserStore{});

  std::cout << "create three users\n";
  print_result("create alice", store.send(CreateUser{"Alice", "alice@example.com"}).get());
  print_result("create bob", store.send(CreateUser{"Bob", "bob@example.com"}).get());
  print_result("create carol", store.send(CreateUser{"Carol", "carol@example.com"}).get());

  std::cout << "invalid input is refused, nothing is lost\n";
  print_result("create (no email)", store.send(CreateUser{"Mallory", "nope"}).get());
  print_result("create (dup email)", store.send(CreateUser{"Bobby", "bob@example.com"}).get());

  std::cout << "read\n";
  if (auto u = store.send(GetUser{2}).get().value()) {
    std::cout << "  get #2: found\n";
    print(*u);
  }
  std::cout << "  get #99: " << (store.send(GetUser{99}).get().value() ? "found" : "not found")
            << "\n";

  std::cout << "update\n";
  print_result("rename #2", store.send(UpdateUser{2, "Robert", std::nullopt}).get());
  print_result("update #42", store.send(UpdateUser{42, "Ghost", std::nullopt}).get());

  std::cout << "delete\n";
  std::cout << "  delete #1: " << (store.send(DeleteUser{1}).get().value() ? "deleted" : "absent")
            << "\n";
  std::cout << "  delete #1 again: "
            << (store.send(DeleteUser{1}).get().value() ? "deleted" : "absent") << "\n";

  std::cout << "list\n";
  const std::vector<User> all = store.send(ListUsers{}).get().value();
  for (const User& u : all) print(u);

  std::cout << "shutdown\n";
  const auto r = system.shutdown();
  std::cout << "  after shutdown, get #2: "
            << store.send(GetUser{2}).get().error().message() << "\n";
  return r && all.size() == 2 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--sim") {
    const std::uint64_t seed = std::strtoull(argv[2], nullptr, 0);
    std::cout << "cineyma crud demo — deterministic simulator, seed " << seed << "\n";
    cineyma::sim::Simulation sim(seed);
    cineyma::ActorSystem system(sim.add_node("crud").environment());
    const int rc = run_session(system);
    std::cout << "simulation: " << sim.events() << " events, trace hash " << sim.trace_hash()
              << "\n";
    return rc;
  }
  if (argc != 1) {
    std::cerr << "usage: crud [--sim SEED]\n";
    return 2;
  }
  std::cout << "cineyma crud demo — real runtime (worker threads)\n";
  cineyma::ActorSystem system;
  return run_session(system);
}
