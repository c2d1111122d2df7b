# Helper functions shared by every ferry target.

# Compile options for ferry's own code only (never PUBLIC, so nothing leaks to users).
function(ferry_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
                                           -Werror=unused-result -Werror=return-type)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # ABSL_GUARDED_BY and friends are checked only by clang; CI's clang build
    # (the fuzz targets and the libraries they link) makes them errors.
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(FERRY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(FERRY_SANITIZE)
    string(REPLACE ";" "," _san "${FERRY_SANITIZE}")
    target_compile_options(${target} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${_san})
  endif()
endfunction()

# ferry_cc_test(NAME name SRCS ... DEPS ... [LABELS ...] [TIMEOUT seconds])
# One executable per test file; every discovered test gets a ctest timeout.
function(ferry_cc_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gmock_main)
  ferry_target_options(${T_NAME})
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 TEST_LIST ${T_NAME}_TESTS
                       PROPERTIES TIMEOUT ${T_TIMEOUT})
  # Labels are set by a second ctest include file, after discovery: a list of
  # several labels passed through gtest_discover_tests(PROPERTIES) comes out
  # split into separate arguments (CMake 3.25).
  set(_labels_file ${CMAKE_CURRENT_BINARY_DIR}/${T_NAME}_labels.cmake)
  # A test program that was not built shows up as the placeholder test
  # <name>_NOT_BUILT; it gets the labels too, so that `ctest -L <label>` fails
  # on it instead of silently running nothing.
  file(WRITE ${_labels_file}
       "if(NOT \"\${${T_NAME}_TESTS}\" STREQUAL \"\")\n"
       "  set_tests_properties(\${${T_NAME}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\n"
       "else()\n"
       "  set_tests_properties(${T_NAME}_NOT_BUILT PROPERTIES LABELS \"${T_LABELS}\")\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_labels_file})
endfunction()

# Properties every ferry library gets, set here so that core/ and backends/
# only list their sources and dependencies.
#  * C++20 is a usage requirement: it reaches add_subdirectory() users and the
#    installed package even when the parent project picks another standard.
#  * A shared ferry library exports only symbols of namespaces ferry and
#    ferry_testing: FERRY_EXPORT declarations (everything else is compiled with
#    hidden visibility), and nothing of the static libraries linked into it
#    (--exclude-libs) or of std:: template instantiations (cmake/ferry.map).
set(FERRY_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/ferry.map)
function(ferry_library_properties)
  foreach(target IN LISTS ARGN)
    target_compile_features(${target} PUBLIC cxx_std_20)
    set_target_properties(${target} PROPERTIES
      VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
    get_target_property(_type ${target} TYPE)
    if(_type STREQUAL "SHARED_LIBRARY")
      target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL"
                                            "LINKER:--version-script=${FERRY_VERSION_SCRIPT}")
      set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${FERRY_VERSION_SCRIPT})
    endif()
  endforeach()
endfunction()
