// tests/support/property.hpp — running a RapidCheck property for a set number of cases.
#pragma once

#include <catch2/catch.hpp>
#include <rapidcheck.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <utility>

namespace cineyma::test {

/// Runs `property` for at least `cases` cases (more if RC_PARAMS asks for more) inside the
/// current Catch2 test. Prints the distribution on success; on failure prints RapidCheck's
/// shrunk counterexample and the command that replays the whole search (shrinking included).
template <typename F>
void check_cases(const char* description, int cases, F&& property) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(params.maxSuccess, cases);
  rc::detail::TestMetadata metadata;
  metadata.id = description;
  metadata.description = description;
  const auto result = rc::detail::checkProperty(
      rc::detail::toProperty(std::forward<F>(property)), metadata, params);
  std::ostringstream os;
  rc::detail::printResultMessage(result, os);
  if (result.template is<rc::detail::SuccessResult>()) {
    std::cout << description << ": "
              << result.template get<rc::detail::SuccessResult>().numSuccess
              << " cases passed\n" << os.str() << "\n";
    SUCCEED();
  } else {
    os << "\nreplay: RC_PARAMS=\"seed=" << params.seed << "\" cineyma_property_tests \""
       << Catch::getResultCapture().getCurrentTestName() << "\"\n";
    std::cout << os.str() << std::endl;
    FAIL(os.str());
  }
}

}  // namespace cineyma::test
