# Script mode (cmake -P), used by the "package: install" CTest case:
#   cmake -DBUILD_DIR=<build> -DPREFIX=<prefix> [-DCONSUMER_BUILD=<dir>] -P install_fresh.cmake
# Empties PREFIX (and the consumer's build directory) so no stale file from an earlier install
# can make the consumer pass, then installs BUILD_DIR into PREFIX.
foreach(var BUILD_DIR PREFIX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install_fresh.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
if(DEFINED CONSUMER_BUILD AND NOT "${CONSUMER_BUILD}" STREQUAL "")
  file(REMOVE_RECURSE "${CONSUMER_BUILD}")
endif()

execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${rc})")
endif()
