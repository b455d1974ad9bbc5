# loxcan_add_fuzzer(NAME SOURCES... LIBS...): a libFuzzer target; its seed corpus is
# fuzz/corpus/<NAME>/ (committed). scripts/test-all runs every target for a bounded time.
function(loxcan_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} loxcan_options)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY LOXCAN_FUZZERS ${name})
endfunction()
