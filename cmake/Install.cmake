# What `cmake --install` ships (docs/integration-guide.md, "Installing"):
#   bin/quy
#   LIBDIR/libquy.so.MAJOR.MINOR.PATCH (soname libquy.so.MAJOR), libquy.so, libquy.a
#   include/quy.h
#   LIBDIR/pkgconfig/quy.pc                      pkg-config --cflags --libs quy
#   LIBDIR/cmake/quy/quyConfig.cmake (+Version)  find_package(quy): quy::quy, quy::quy_static
#   share/quy/rulesets/                          found by the installed binary and library
# Every path is relative to the prefix, so an installed tree can be moved.
include(CMakePackageConfigHelpers)

# Plain library names for what links the static library (the shared one
# records its own dependencies).
set(QUY_STATIC_LIBS lua5.4 jansson csv xxhash utf8proc z3 m pthread ${CMAKE_DL_LIBS})

foreach(t quy_shared quy_static)
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
                             $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
endforeach()
target_link_libraries(quy_static INTERFACE $<BUILD_INTERFACE:${QUY_DEPS}> $<INSTALL_INTERFACE:${QUY_STATIC_LIBS}>)
set_target_properties(quy_shared PROPERTIES EXPORT_NAME quy)
set_target_properties(quy_static PROPERTIES EXPORT_NAME quy_static)

install(TARGETS quy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS quy_shared quy_static EXPORT quyTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include/quy.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/rulesets/ DESTINATION ${CMAKE_INSTALL_DATADIR}/quy/rulesets)

# pkg-config: the prefix is found from the .pc file's own place.
set(CMAKE_DL_LIBS_FLAG "")
if(CMAKE_DL_LIBS)
  set(CMAKE_DL_LIBS_FLAG -l${CMAKE_DL_LIBS})
endif()
file(RELATIVE_PATH QUY_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/quy.pc.in ${CMAKE_CURRENT_BINARY_DIR}/quy.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/quy.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package
set(QUY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/quy)
install(EXPORT quyTargets NAMESPACE quy:: DESTINATION ${QUY_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/quyConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/quyConfig.cmake INSTALL_DESTINATION ${QUY_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/quyConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/quyConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/quyConfigVersion.cmake
        DESTINATION ${QUY_CMAKE_DIR})
