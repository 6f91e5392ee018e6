# Installs the SDK component of a configured Paddock build into a fresh prefix, builds the C
# sample backend against that prefix only (as a plugin author would), loads the result with
# paddock_plugin_probe and runs the installed conformance kit (bin/paddock-conformance) on it.
# Run by ctest: sdk_example_out_of_tree.
foreach(var PADDOCK_BINARY_DIR EXAMPLE_SOURCE_DIR WORK_DIR PROBE GENERATOR C_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "out_of_tree.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

run("installing the SDK" ${CMAKE_COMMAND} --install ${PADDOCK_BINARY_DIR} --component sdk --prefix ${prefix})
foreach(f include/paddock/pdk_backend.h include/paddock/pdk_struct.h include/paddock/cpp/plugin.hpp
    bin/paddock-conformance)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the SDK install has no ${f}")
  endif()
endforeach()
file(GLOB_RECURSE plugin_cmake ${prefix}/*/PaddockPlugin.cmake)
if(NOT plugin_cmake)
  message(FATAL_ERROR "the SDK install has no PaddockPlugin.cmake (paddock_add_plugin)")
endif()
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(f IN LISTS installed)
  if(NOT f MATCHES "^(include/paddock/|lib[^/]*/cmake/PaddockSDK/|bin/paddock-conformance$)")
    message(FATAL_ERROR "the sdk component installed something that is not the SDK: ${f}")
  endif()
endforeach()

# CMAKE_FIND_USE_PACKAGE_REGISTRY/SYSTEM off: only the prefix above may satisfy find_package.
run("configuring the sample" ${CMAKE_COMMAND} -S ${EXAMPLE_SOURCE_DIR} -B ${build} -G ${GENERATOR}
  -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  -DCMAKE_C_FLAGS=-Werror)
run("building the sample" ${CMAKE_COMMAND} --build ${build})

set(plugin ${build}/paddock_c_sample_backend.so)
if(NOT EXISTS ${plugin})
  message(FATAL_ERROR "the sample build did not produce ${plugin}")
endif()

# paddock_add_plugin's version script: the entry point must be the only exported symbol. Not
# optional: without nm this check would pass by doing nothing.
find_program(NM nm)
if(NOT NM)
  message(FATAL_ERROR "nm (binutils) is needed to check the plugin's exported symbols")
endif()
run("listing exported symbols" ${NM} -D --defined-only ${plugin})
string(REGEX MATCHALL "[^ \n]+\n" symbols "${run_output}")
list(TRANSFORM symbols STRIP)
list(REMOVE_ITEM symbols _init _fini)
if(NOT symbols STREQUAL "pdk_plugin_entry")
  message(FATAL_ERROR "the plugin should export only pdk_plugin_entry, it exports: ${symbols}")
endif()

run("probing the plugin" ${PROBE} ${plugin} sample:///default)
message(STATUS "${run_output}")
foreach(expected "id: org.paddock.example.c-sample" "kind: backend" "abi: 1.8" "define_domain" "smoke ok"
    "log: info org.paddock.example.c-sample: sample backend ready (host speaks ABI 1.8)")
  string(FIND "${run_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "probe output lacks '${expected}':\n${run_output}")
  endif()
endforeach()

# The conformance kit as installed with the SDK passes the out-of-tree sample, every group.
run("running the installed paddock-conformance" ${prefix}/bin/paddock-conformance --plugin ${plugin}
  --uri sample:///default)
if(NOT run_output MATCHES "\nsummary: [0-9]+ passed, 0 failed" OR NOT run_output MATCHES "PASS lifecycle/start")
  message(FATAL_ERROR "the installed kit did not pass the sample:\n${run_output}")
endif()
string(REGEX MATCH "summary: [^\n]*" summary "${run_output}")
message(STATUS "installed paddock-conformance on the sample: ${summary}")
