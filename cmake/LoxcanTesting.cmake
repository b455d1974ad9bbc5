# Helpers for the test folders. Each area (tests/<area>/) calls these from its own CMakeLists.

# Every unit test shares one precompiled header (GoogleTest, nlohmann/json, the common standard
# headers): parsing them once instead of in every test source saves a fifth of the test build.
# The header is built by loxcan_unit_test_pch with exactly the flags of a unit test; a test may
# add its own compile definitions, but none that change these headers.
option(LOXCAN_TEST_PCH "Unit tests share one precompiled header" ON)
set(LOXCAN_TEST_PCH_HEADERS <gtest/gtest.h> <nlohmann/json.hpp> <algorithm> <chrono> <cstdint>
  <cstdio> <cstdlib> <cstring> <filesystem> <fstream> <functional> <map> <memory> <optional> <set>
  <sstream> <string> <string_view> <thread> <vector>)

# loxcan_add_unit_test(NAME SOURCES... LIBS...): a GoogleTest binary, discovered per test case.
function(loxcan_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  _loxcan_unit_test_usage(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  if(LOXCAN_TEST_PCH)
    _loxcan_unit_test_pch()
    target_precompile_headers(${name} REUSE_FROM loxcan_unit_test_pch)
  endif()
  # NO_PRETTY_VALUES: table rows are named ("Rows/ErrorFrameTable.Decodes/empty"); without it
  # every ctest name would also carry a hex dump of the row ("# GetParam() = 72-byte object <...>").
  gtest_discover_tests(${name} NO_PRETTY_VALUES PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
endfunction()

# What every unit test and the shared precompiled header are compiled with.
function(_loxcan_unit_test_usage target)
  target_link_libraries(${target} PRIVATE GTest::gtest GTest::gmock GTest::gtest_main loxcan_options)
  target_compile_definitions(${target} PRIVATE TEST_DATA_DIR="${LOXCAN_TEST_DATA_DIR}")
endfunction()

# Creates loxcan_unit_test_pch (an object library that only builds the header) on first use.
function(_loxcan_unit_test_pch)
  if(TARGET loxcan_unit_test_pch)
    return()
  endif()
  set(src ${PROJECT_BINARY_DIR}/loxcan_unit_test_pch.cpp)
  file(CONFIGURE OUTPUT ${src} CONTENT "// the precompiled header of every unit test\n")
  add_library(loxcan_unit_test_pch OBJECT ${src})
  _loxcan_unit_test_usage(loxcan_unit_test_pch)
  target_precompile_headers(loxcan_unit_test_pch PRIVATE ${LOXCAN_TEST_PCH_HEADERS})
endfunction()

# loxcan_add_vcan_test(NAME SCRIPT script [TIMEOUT s] [LABELS ...]): a bash script run inside
# scripts/vcan-sandbox with real vcan0..vcan2. The script gets, in its environment:
#   LOXCAN      path of the `loxcan` binary       LOXCAN_GATEWAY  path of `loxcan-gateway`
#   TEST_DATA   tests/data                         TEST_LIB        tests/lib/common.sh
function(loxcan_add_vcan_test name)
  cmake_parse_arguments(ARG "" "SCRIPT;TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 240)
  endif()
  add_test(NAME ${name}
    COMMAND ${LOXCAN_SANDBOX} --timeout ${ARG_TIMEOUT} --
      env LOXCAN=$<TARGET_FILE:loxcan> LOXCAN_GATEWAY=$<TARGET_FILE_DIR:loxcan>/loxcan-gateway
          TEST_DATA=${LOXCAN_TEST_DATA_DIR} TEST_LIB=${PROJECT_SOURCE_DIR}/tests/lib/common.sh
          bash ${ARG_SCRIPT})
  set_tests_properties(${name} PROPERTIES LABELS "vcan;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# LOXCAN_CLI / LOXCAN_GATEWAY_CLI: how scripted tests start the two programs. Cross builds
# (scripts/package deb --arch arm64|armhf) run tests under CMAKE_CROSSCOMPILING_EMULATOR
# (qemu-user): ctest puts it before test binaries itself, but a script starting `loxcan` needs a
# wrapper that does the same.
if(CMAKE_CROSSCOMPILING_EMULATOR)
  foreach(prog loxcan loxcan-gateway)
    file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/emulated/${prog}
      CONTENT "#!/bin/sh\nexec ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${prog}> \"$@\"\n"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ)
  endforeach()
  set(LOXCAN_CLI ${PROJECT_BINARY_DIR}/emulated/loxcan)
  set(LOXCAN_GATEWAY_CLI ${PROJECT_BINARY_DIR}/emulated/loxcan-gateway)
else()
  set(LOXCAN_CLI $<TARGET_FILE:loxcan>)
  set(LOXCAN_GATEWAY_CLI $<TARGET_FILE:loxcan-gateway>)
endif()
