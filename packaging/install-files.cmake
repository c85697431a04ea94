# Install-time part of cmake/Install.cmake (run by `cmake --install` and by
# cpack, through install(CODE)). It runs at install time, not configure
# time, because only then is the final prefix known: `cmake --install
# --prefix X` and cpack (/usr) both change it after the build was configured,
# and the installed config and unit must name the installed files.
#
# In: KT_SOURCE_DIR, KT_BINARY_DIR, KT_CONFIG_DIR (absolute), KT_BINDIR,
# KT_DATADIR, KT_DOCDIR (relative to the prefix), and CMake's own
# CMAKE_INSTALL_PREFIX and $ENV{DESTDIR}.

set(_prefix "${CMAKE_INSTALL_PREFIX}")
set(_share "${_prefix}/${KT_DATADIR}/kiosk-ticker")
set(_bin "${_prefix}/${KT_BINDIR}/kiosk-ticker")
# systemd reads units and sysusers.d files from /usr/lib and /usr/local/lib
# (and /lib on Debian), whatever the distribution's libdir is.
set(_unitdir "${_prefix}/lib/systemd/system")
set(_sysusersdir "${_prefix}/lib/sysusers.d")

# Parallel installs from one build tree (ctest -j) must not share files.
string(RANDOM LENGTH 8 _rnd)
set(_tmp "${KT_BINARY_DIR}/kt-install-${_rnd}")
file(MAKE_DIRECTORY "${_tmp}")

# The kiosk config: the shipped sample with its demo feeds pointing at the
# installed demo files, full screen, strip at the bottom. Each replacement
# must happen: if the sample changes shape, installing fails here instead of
# quietly shipping a windowed or broken config.
file(READ "${KT_SOURCE_DIR}/config/ticker.conf" _conf)
foreach(_pair
        "../assets/demo/|${_share}/demo/"
        "\nmode = window\n|\nmode = fullscreen\n"
        "\nposition = fill\n|\nposition = bottom\n")
  string(REPLACE "|" ";" _pair "${_pair}")
  list(GET _pair 0 _from)
  list(GET _pair 1 _to)
  string(FIND "${_conf}" "${_from}" _at)
  if(_at EQUAL -1)
    string(STRIP "${_from}" _shown)
    message(FATAL_ERROR "config/ticker.conf no longer contains \"${_shown}\": "
                        "update packaging/install-files.cmake")
  endif()
  string(REPLACE "${_from}" "${_to}" _conf "${_conf}")
endforeach()
string(REPLACE "# The demo sources below are files shipped in assets/demo/"
               "# The demo sources below are files installed in ${_share}/demo/"
               _conf "${_conf}")
file(WRITE "${_tmp}/ticker.conf" "${_conf}")

# The same file for reference, always refreshed; the live one only when
# there is none: an existing /etc/kiosk-ticker/ticker.conf is the user's.
# (The .deb marks it as a conffile, so dpkg asks before replacing it.)
file(INSTALL "${_tmp}/ticker.conf" DESTINATION "${_share}")
if(EXISTS "$ENV{DESTDIR}${KT_CONFIG_DIR}/ticker.conf")
  message(STATUS "Keeping existing: $ENV{DESTDIR}${KT_CONFIG_DIR}/ticker.conf "
                 "(the new sample is ${_share}/ticker.conf)")
else()
  file(INSTALL "${_tmp}/ticker.conf" DESTINATION "${KT_CONFIG_DIR}")
endif()

# The unit, with this installation's paths.
file(READ "${KT_SOURCE_DIR}/packaging/kiosk-ticker.service" _unit)
foreach(_pair
        "/usr/bin/kiosk-ticker|${_bin}"
        "/etc/kiosk-ticker/ticker.conf|${KT_CONFIG_DIR}/ticker.conf"
        "/usr/share/doc/kiosk-ticker|${_prefix}/${KT_DOCDIR}")
  string(REPLACE "|" ";" _pair "${_pair}")
  list(GET _pair 0 _from)
  list(GET _pair 1 _to)
  string(FIND "${_unit}" "${_from}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "packaging/kiosk-ticker.service no longer contains \"${_from}\": "
                        "update packaging/install-files.cmake")
  endif()
  string(REPLACE "${_from}" "${_to}" _unit "${_unit}")
endforeach()
file(WRITE "${_tmp}/kiosk-ticker.service" "${_unit}")
file(INSTALL "${_tmp}/kiosk-ticker.service" DESTINATION "${_unitdir}")

configure_file("${KT_SOURCE_DIR}/packaging/kiosk-ticker.sysusers" "${_tmp}/kiosk-ticker.conf"
               COPYONLY)
file(INSTALL "${_tmp}/kiosk-ticker.conf" DESTINATION "${_sysusersdir}")
file(REMOVE_RECURSE "${_tmp}")

# A real install as root on a systemd machine (not a package build, which
# uses DESTDIR; the package's postinst does this): create the user now and
# make systemd see the unit, so `systemctl enable --now kiosk-ticker` is the
# only step left.
if("$ENV{DESTDIR}" STREQUAL "" AND EXISTS /run/systemd/system)
  execute_process(COMMAND id -u OUTPUT_VARIABLE _uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_program(_sysusers systemd-sysusers)
  if(_uid STREQUAL "0" AND _sysusers)
    message(STATUS "Creating the kiosk-ticker system user (systemd-sysusers)")
    execute_process(COMMAND ${_sysusers} "${_sysusersdir}/kiosk-ticker.conf")
    execute_process(COMMAND systemctl daemon-reload)
  endif()
endif()
