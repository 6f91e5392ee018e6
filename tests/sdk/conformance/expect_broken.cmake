# Runs the conformance kit against the deliberately broken fixture backends (broken_backend.c, one
# library with three plugins) and asserts that it fails for the right reasons: exit status 1, the
# FAIL line of each violation, and no other FAIL. Run by ctest: conformance_broken.
foreach(var KIT PLUGIN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_broken.cmake: -D${var}=... is required")
  endif()
endforeach()

# expect_failures(<plugin id> <kit args> EXPECT <FAIL line regex>...)
function(expect_failures id)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "ARGS;EXPECT")
  execute_process(COMMAND ${KIT} --plugin ${PLUGIN} --uri broken:/// --id ${id} ${arg_ARGS}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${id}:\n${out}")
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "the kit should exit 1 for ${id}, it exited ${rc}:\n${err}")
  endif()
  string(REGEX MATCHALL "FAIL [^\n]+" fails "${out}")
  foreach(expected IN LISTS arg_EXPECT)
    if(NOT out MATCHES "${expected}")
      message(FATAL_ERROR "the kit's output for ${id} lacks '${expected}'")
    endif()
    list(FILTER fails EXCLUDE REGEX "${expected}")
  endforeach()
  if(fails)
    message(FATAL_ERROR "unexpected failures for ${id}: ${fails}")
  endif()
endfunction()

# Ignores unknown flags; calls a sink after its call returned.
expect_failures(org.paddock.test.broken
  EXPECT "FAIL args/list_domains.bad-flags: returned PDK_OK, expected PDK_ERR_BAD_FLAGS"
         "FAIL sinks/list_domains: 1 sink call\\(s\\) after the call returned"
         "FAIL sinks/whole-run: [0-9]+ late")
# Writes and reads past struct_size (the second plugin of the chain).
expect_failures(org.paddock.test.broken-structs ARGS --only abi,structs
  EXPECT "FAIL structs/host_info.size-1.0: wrote past struct_size"
         "FAIL structs/domain_spec.size-1.0: read past struct_size [0-9]+ \\(touched the guard page\\)"
         "FAIL structs/domain_spec.too-small: read past struct_size 8")
# Keeps calling the event sink after subscribe_events(NULL) returned.
expect_failures(org.paddock.test.broken-events ARGS --only events
  EXPECT "FAIL events/silent-after-unsubscribe: [0-9]+ sink call\\(s\\) after subscribe_events\\(NULL\\) returned")
