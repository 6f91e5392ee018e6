# Installs the "dev" component of a configured Paddock build (the core as a library) into a fresh
# prefix, checks that it holds the core's headers, archives and CMake package and nothing else,
# builds examples/embed against that prefix only (as an integrator would) and runs it on
# test:///default with the build tree's plugins: VMs created and listed, errors clear and non-zero.
# Run by ctest: core_embed_out_of_tree.
foreach(var PADDOCK_SOURCE_DIR PADDOCK_BINARY_DIR PLUGIN_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_out_of_tree.cmake: -D${var}=... is required")
  endif()
endforeach()

# run(<what> <expected exit code> <command>...): run_output / run_error hold what it printed.
function(run what expected)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL expected)
    message(FATAL_ERROR "${what}: exit ${rc}, expected ${expected}:\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
  set(run_error "${err}" PARENT_SCOPE)
endfunction()

function(expect_match what text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: no match for '${regex}' in:\n${text}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

run("installing the dev component" 0 ${CMAKE_COMMAND} --install ${PADDOCK_BINARY_DIR} --component dev --prefix ${prefix})

# Only the core as a library: its headers, the SDK's C ABI headers they include, one archive per
# concept and the PaddockCore package. No program, plugin, server header or C++ SDK helper.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(f IN LISTS installed)
  if(NOT f MATCHES "^(include/paddock/core/[a-z0-9_]+\\.hpp|include/paddock/pdk_[a-z0-9_]+\\.h|lib[^/]*/libpaddock-core-[a-z-]+\\.a|lib[^/]*/cmake/PaddockCore/PaddockCore[A-Za-z-]*\\.cmake)$")
    message(FATAL_ERROR "the dev component installed something that is not the core library: ${f}")
  endif()
endforeach()
# Every public header of every concept folder, and every archive the umbrella links.
file(GLOB core_headers RELATIVE ${PADDOCK_SOURCE_DIR}/core ${PADDOCK_SOURCE_DIR}/core/*/include/paddock/core/*.hpp)
foreach(h IN LISTS core_headers)
  string(REGEX REPLACE "^[^/]+/include/" "include/" h "${h}")
  if(NOT EXISTS ${prefix}/${h})
    message(FATAL_ERROR "the dev component lacks the header ${h}")
  endif()
endforeach()
foreach(concept base plugins ssh site vm pools backup backup-store provisioning watch recording terminal runtime)
  file(GLOB archive ${prefix}/lib*/libpaddock-core-${concept}.a)
  if(NOT archive)
    message(FATAL_ERROR "the dev component lacks libpaddock-core-${concept}.a")
  endif()
endforeach()
foreach(f PaddockCoreConfig.cmake PaddockCoreConfigVersion.cmake PaddockCoreTargets.cmake include/paddock/pdk_backend.h)
  file(GLOB_RECURSE found ${prefix}/*/${f})
  if(NOT found AND NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the dev component lacks ${f}")
  endif()
endforeach()

# CMAKE_FIND_USE_PACKAGE_REGISTRY/SYSTEM off: only the prefix above may satisfy find_package.
# No build type: the example compiles unoptimised, the fastest build.
run("configuring examples/embed" 0 ${CMAKE_COMMAND} -S ${PADDOCK_SOURCE_DIR}/examples/embed -B ${build} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  -DCMAKE_CXX_FLAGS=-Werror -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
run("building examples/embed" 0 ${CMAKE_COMMAND} --build ${build})
set(embed ${build}/paddock-embed)
if(NOT EXISTS ${embed})
  message(FATAL_ERROR "the example's build did not produce ${embed}")
endif()
# Compiled against the installed headers, not the source tree's.
file(READ ${build}/compile_commands.json commands)
string(FIND "${commands}" "${PADDOCK_SOURCE_DIR}/core" source_include)
if(NOT source_include EQUAL -1)
  message(FATAL_ERROR "examples/embed compiled with include paths into the Paddock source tree:\n${commands}")
endif()

set(config ${WORK_DIR}/paddock.yaml)
file(WRITE ${config} "paths:
  state_dir: ${WORK_DIR}/state
  log_dir: ${WORK_DIR}/logs
  plugin_dirs: [${PLUGIN_DIR}]
recording:
  enabled: false
sites:
  - name: lab
    uri: \"test:///default\"
    storage_pool: default-pool
    templates:
      - name: tiny
        memory_mb: 128
")

# test:///default keeps its domains only while the process lives: one run, several commands.
run("creating and listing VMs" 0 ${embed} --config ${config} --site lab
  create embed-one --template tiny
  create embed-two --template tiny --vcpus 2 --memory-mb 256 --owner alice --no-start
  ls)
message(STATUS "paddock-embed printed:\n${run_output}")
expect_match("create" "${run_output}" "created embed-one on site lab \\(running\\)\n")
expect_match("create --no-start" "${run_output}" "created embed-two on site lab \\(shut off\\)\n")
expect_match("ls header" "${run_output}" "\nNAME +STATE +VCPUS +MEMORY_MB +TEMPLATE +OWNER\n")
expect_match("ls embed-one" "${run_output}" "\nembed-one +running +1 +128 +tiny +-\n")
expect_match("ls embed-two" "${run_output}" "\nembed-two +shut off +2 +256 +tiny +alice\n")
# The test driver's own domain 'test' is not Paddock's: not listed.
if(run_output MATCHES "\ntest ")
  message(FATAL_ERROR "ls listed the foreign domain 'test':\n${run_output}")
endif()
file(READ ${WORK_DIR}/logs/audit.log audit)
expect_match("audit log" "${audit}" "\"actor\":\"paddock-embed\"[^\n]*\"action\":\"create\"|\"action\":\"create\"[^\n]*\"actor\":\"paddock-embed\"")

# Failures are the core's errors, printed with their code, and a non-zero exit.
run("an unknown site" 2 ${embed} --config ${config} --site nowhere ls)
expect_match("an unknown site" "${run_error}" "paddock-embed: not_found: unknown site 'nowhere' \\(known: lab\\)")
file(WRITE ${WORK_DIR}/bad.yaml "sites:\n  - name: lab\n    urx: \"test:///default\"\n")
run("a bad config" 2 ${embed} --config ${WORK_DIR}/bad.yaml ls)
expect_match("a bad config" "${run_error}" "paddock-embed: invalid_argument: unknown key 'sites\\[0\\]\\.urx'")
run("a missing config" 2 ${embed} --config ${WORK_DIR}/missing.yaml ls)
expect_match("a missing config" "${run_error}" "paddock-embed: invalid_argument: [^\n]*missing\\.yaml")
run("a taken name" 1 ${embed} --config ${config} create twin --template tiny create twin --template tiny)
expect_match("a taken name" "${run_error}" "paddock-embed: already_exists: VM 'twin' already exists")
run("an unknown template" 1 ${embed} --config ${config} create lonely --template nope)
expect_match("an unknown template" "${run_error}" "unknown template 'nope' on site lab")
run("a bad number" 2 ${embed} --config ${config} create odd --vcpus 2x)
expect_match("a bad number" "${run_error}" "--vcpus wants a positive number, not '2x'")
