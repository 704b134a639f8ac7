// Consumer of an installed cineyma (see CMakeLists.txt next to this file): spawns an actor on
// the real runtime and makes a request, using only the installed headers and library.
#include <cineyma/cineyma.hpp>

#include <cstdio>

namespace {
struct Add {
  int a, b;
  using reply = int;
};
class Calculator : public cineyma::Actor<Calculator> {
 public:
  int handle(const Add& m, Context&) { return m.a + m.b; }
};
}  // namespace

int main() {
  cineyma::ActorSystem system;
  auto calc = system.spawn(Calculator{});
  const cineyma::Result<int> sum = calc.send(Add{40, 2}).get();
  std::printf("package consumer: 40 + 2 = %d\n", sum.value_or(-1));
  return sum && *sum == 42 && system.shutdown() ? 0 : 1;
}
