# Install rules: libraries, public headers, the CMake package (ferryConfig.cmake,
# ferryConfigVersion.cmake, ferryTargets.cmake) and a pkg-config file.
#
# Consumers:
#   find_package(ferry CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE ferry::core ferry::memory)
# or
#   pkg-config --cflags --libs ferry

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FERRY_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ferry CACHE STRING
    "Where ferryConfig.cmake is installed, relative to the prefix")
mark_as_advanced(FERRY_INSTALL_CMAKEDIR)

# ferry_install(<library targets>...)
function(ferry_install)
  set(_libs ${ARGN})

  # Wrappers of system packages that a static library names in its exported
  # link interface.
  set(_wrappers ferry_concurrentqueue)
  if(TARGET ferry_gateway)
    list(APPEND _wrappers ferry_nghttp2)
  endif()
  install(TARGETS ${_libs} ${_wrappers}
    EXPORT ferryTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

  # Public headers: core/include/ferry/** and backends/<b>/include/ferry/**.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
  foreach(_backend memory rocksdb)
    if(TARGET ferry_${_backend})
      install(DIRECTORY ${PROJECT_SOURCE_DIR}/backends/${_backend}/include/
              DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
    endif()
  endforeach()
  if(TARGET ferry_gateway)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/gateway/include/
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
  endif()

  install(EXPORT ferryTargets NAMESPACE ferry:: DESTINATION ${FERRY_INSTALL_CMAKEDIR})

  # A static library exports its private dependencies as $<LINK_ONLY:...>, so
  # the package config must find them; a shared one needs only the public ones.
  get_target_property(_type ferry_core TYPE)
  if(_type STREQUAL "STATIC_LIBRARY")
    set(FERRY_STATIC_LIBS ON)
  else()
    set(FERRY_STATIC_LIBS OFF)
  endif()
  if(TARGET ferry_rocksdb)
    set(FERRY_HAS_ROCKSDB ON)
  else()
    set(FERRY_HAS_ROCKSDB OFF)
  endif()
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/ferryConfig.cmake.in
    ${PROJECT_BINARY_DIR}/ferryConfig.cmake
    INSTALL_DESTINATION ${FERRY_INSTALL_CMAKEDIR})
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/ferryConfig.cmake
                ${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
          DESTINATION ${FERRY_INSTALL_CMAKEDIR})

  # pkg-config. The prefix is computed from the .pc file's own location, so
  # `cmake --install --prefix <anywhere>` gives a working file.
  set(_pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  file(RELATIVE_PATH FERRY_PC_PREFIX_FROM_PCDIR
       ${CMAKE_INSTALL_PREFIX}/${_pcdir} ${CMAKE_INSTALL_PREFIX})
  string(REGEX REPLACE "/$" "" FERRY_PC_PREFIX_FROM_PCDIR "${FERRY_PC_PREFIX_FROM_PCDIR}")
  # Abseil modules of ferry's public link interface, and the private ones a
  # static ferry needs at link time.
  set(_absl_public absl_status absl_statusor absl_time absl_strings absl_str_format
                   absl_any_invocable absl_function_ref absl_core_headers)
  set(_absl_private absl_flat_hash_map absl_flat_hash_set absl_btree absl_hash)
  set(FERRY_PC_LIBS "-lferry_core")
  if(TARGET ferry_memory)
    set(FERRY_PC_LIBS "-lferry_memory ${FERRY_PC_LIBS}")
  endif()
  if(TARGET ferry_rocksdb)
    set(FERRY_PC_LIBS "-lferry_rocksdb ${FERRY_PC_LIBS}")
  endif()
  if(TARGET ferry_gateway)
    set(FERRY_PC_LIBS "-lferry_gateway ${FERRY_PC_LIBS}")
  endif()
  if(FERRY_STATIC_LIBS)
    # Everything a static link needs goes in Requires/Libs, so that a plain
    # `pkg-config --libs ferry` (without --static) links.
    list(JOIN _absl_public ", " _pub)
    list(JOIN _absl_private ", " _priv)
    set(FERRY_PC_REQUIRES "${_pub}, ${_priv}, libcrypto")
    if(TARGET ferry_gateway)
      string(APPEND FERRY_PC_REQUIRES ", libssl, libnghttp2")
    endif()
    set(FERRY_PC_REQUIRES_PRIVATE "")
    set(FERRY_PC_LIBS_EXTRA "-pthread")
    if(TARGET ferry_rocksdb)
      set(FERRY_PC_LIBS_EXTRA "-lrocksdb ${FERRY_PC_LIBS_EXTRA}")
    endif()
    set(FERRY_PC_LIBS_PRIVATE "")
  else()
    list(JOIN _absl_public ", " FERRY_PC_REQUIRES)
    list(JOIN _absl_private ", " _priv)
    set(FERRY_PC_REQUIRES_PRIVATE "${_priv}, libcrypto")
    if(TARGET ferry_gateway)
      string(APPEND FERRY_PC_REQUIRES_PRIVATE ", libssl, libnghttp2")
    endif()
    set(FERRY_PC_LIBS_EXTRA "-pthread")
    set(FERRY_PC_LIBS_PRIVATE "")
    if(TARGET ferry_rocksdb)
      set(FERRY_PC_LIBS_PRIVATE "-lrocksdb")
    endif()
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/ferry.pc.in ${PROJECT_BINARY_DIR}/ferry.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/ferry.pc DESTINATION ${_pcdir})
endfunction()
