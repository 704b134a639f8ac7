// sim/runner/main.cpp — `main` of a scenario runner: link it (cineyma::sim_runner) with
// scenario files (CINEYMA_SIM_SCENARIO) to get a `cineyma-sim` for them.
#include <cineyma/sim/scenario.hpp>

int main(int argc, char** argv) { return cineyma::sim::runner_main(argc, argv); }
