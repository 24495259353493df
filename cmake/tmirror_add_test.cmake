# tmirror_add_test(NAME name SOURCES a.cc b.cc DEPS lib... LABELS unit|integration|privileged)
# Registers one GoogleTest executable with CTest; each test case becomes a CTest test.
include(GoogleTest)

function(tmirror_add_test)
  cmake_parse_arguments(ARG "POSTGRES" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_compile_options(${ARG_NAME} PRIVATE ${TMIRROR_WARNINGS})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 at -O2 warns falsely inside std::sort/std::set of std::vector<std::byte> (a memcmp
    # bound it cannot prove), which tests use to compare frames; the ASan build (-O1) does not.
    target_compile_options(${ARG_NAME} PRIVATE -Wno-stringop-overread)
  endif()
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(environment "TMIRROR_SOURCE_DIR=${PROJECT_SOURCE_DIR};TMIRROR_BINARY_DIR=${PROJECT_BINARY_DIR}")
  set(fixtures "")
  if(ARG_POSTGRES)
    # The run's PostgreSQL server (tests/CMakeLists.txt): each test makes its own database.
    target_link_libraries(${ARG_NAME} PRIVATE tmirror_postgres_server)
    set(environment "${environment};TMIRROR_TEST_POSTGRES_DIR=${TMIRROR_TEST_POSTGRES_DIR}")
    set(fixtures postgres)
  endif()
  gtest_discover_tests(${ARG_NAME}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "${environment}"
    FIXTURES_REQUIRED "${fixtures}"
    DISCOVERY_TIMEOUT 60)
endfunction()
