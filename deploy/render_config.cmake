# Install-time script (install(CODE) in deploy/CMakeLists.txt): writes config/paddock.yaml with
# the installed paths to $DESTDIR/etc/paddock/paddock.yaml. It runs at install time because only
# then is the prefix known (cpack installs with /usr whatever the build tree was configured with).
# Every substitution must match exactly once, so a change of config/paddock.yaml that moves one
# of these keys stops the install instead of leaving a development path in /etc.
#   in: PADDOCK_CONFIG_SOURCE, PADDOCK_CONFIG_OUTPUT (absolute), CMAKE_INSTALL_PREFIX,
#       PADDOCK_DATADIR (relative to the prefix), PADDOCK_STATE_DIR, PADDOCK_LOG_DIR (absolute)
file(READ "${PADDOCK_CONFIG_SOURCE}" text)
set(share "${CMAKE_INSTALL_PREFIX}/${PADDOCK_DATADIR}/paddock")

function(substitute pattern replacement)
  string(REGEX MATCHALL "${pattern}" found "${text}")
  list(LENGTH found count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "render_config: '${pattern}' matches ${count} times in ${PADDOCK_CONFIG_SOURCE}, not once")
  endif()
  string(REGEX REPLACE "${pattern}" "${replacement}" text "${text}")
  set(text "${text}" PARENT_SCOPE)
endfunction()

substitute("# Paddock configuration used by scripts/run.sh.\n"
           "# Paddock configuration (installed from config/paddock.yaml with the installed paths).\n")
substitute("\n  state_dir: state( *)#" "\n  state_dir: ${PADDOCK_STATE_DIR} #")
substitute("\n  log_dir: logs( *)#" "\n  log_dir: ${PADDOCK_LOG_DIR} #")
substitute("\n  plugin_dirs: \\[build/plugins\\]( *)#" "\n  plugin_dirs: [${CMAKE_INSTALL_PREFIX}/lib/paddock/plugins] #")
substitute("\n  web_dir: server/web( *)#" "\n  web_dir: ${share}/web #")
substitute("playbook: ansible/playbooks/configure_vm.yml( *)#" "playbook: ${share}/ansible/playbooks/configure_vm.yml #")

get_filename_component(dir "$ENV{DESTDIR}${PADDOCK_CONFIG_OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
message(STATUS "Installing: $ENV{DESTDIR}${PADDOCK_CONFIG_OUTPUT} (from ${PADDOCK_CONFIG_SOURCE})")
file(WRITE "$ENV{DESTDIR}${PADDOCK_CONFIG_OUTPUT}" "${text}")
# World-readable as shipped (it holds no secret yet); the package's postinst makes it 0640
# root:paddock, since tokens may be added to it.
file(CHMOD "$ENV{DESTDIR}${PADDOCK_CONFIG_OUTPUT}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
