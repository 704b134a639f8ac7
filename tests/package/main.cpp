// Consumer of an installed cineyma (see CMakeLists.txt next to this file).
#include <cineyma/real_environment.hpp>
#include <cineyma/result.hpp>

int main() {
  cineyma::RealEnvironment env;
  return cineyma::Result<int>(42).value() == 42 ? 0 : 1;
}
