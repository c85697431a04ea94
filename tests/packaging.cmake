# Not in sanitizer builds: a sanitized binary is never packaged or benchmarked.
if(NOT KT_SANITIZE)
# Install rules, systemd unit and .deb package (cmake/Install.cmake,
# packaging/). Both tests install from this build tree, so they take turns.
#
# package_install: `cmake --install` into a DESTDIR, checks the layout, the
#   kiosk config (runs it with the installed binary, under qemu in a cross
#   build), the never-overwrite rule, and `systemd-analyze verify` and
#   `systemd-analyze security` on the installed unit.
# package_deb: runs cpack, then inspects the .deb with dpkg-deb: the
#   architecture (field and the binary's ELF machine), Depends from
#   dpkg-shlibdeps, the conffile, the unit, the maintainer scripts.
# presets: CMakePresets.json parses and has the documented presets.
set(_kt_pkg_args --build ${CMAKE_BINARY_DIR} --source ${CMAKE_SOURCE_DIR}
                 --cmake ${CMAKE_COMMAND} --cpack ${CMAKE_CPACK_COMMAND})
if(KT_DEB_ARCH)
  list(APPEND _kt_pkg_args --arch ${KT_DEB_ARCH})
endif()
if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
  string(REPLACE ";" " " _kt_emu "${CMAKE_CROSSCOMPILING_EMULATOR}")
  list(APPEND _kt_pkg_args "--emulator=${_kt_emu}")
endif()

add_test(NAME package_install
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_package.py install ${_kt_pkg_args})
add_test(NAME package_deb
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_package.py deb ${_kt_pkg_args})
set_tests_properties(package_install package_deb PROPERTIES
                     RESOURCE_LOCK kt_install TIMEOUT 300 LABELS slow)

add_test(NAME presets
         COMMAND ${KT_PYTHON} ${KT_TEST_DIR}/test_package.py presets ${_kt_pkg_args})
endif()
