# Helpers for the test folders. Each area (tests/<area>/) calls these from its own CMakeLists.

# loxcan_add_unit_test(NAME SOURCES... LIBS...): a GoogleTest binary, discovered per test case.
function(loxcan_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main loxcan_options)
  target_compile_definitions(${name} PRIVATE TEST_DATA_DIR="${LOXCAN_TEST_DATA_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
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
