# The ipc helper's tests (included from tests/integration/CMakeLists.txt).
#   ipc.unit         parsers and helpers of ipc/ (C)
#   integration.ipc_*  slmd on a private dbus-daemon and a temporary socket, driven with
#                    dbus-send, busctl, curl, slm and Python's standard library
add_executable(ipc_unit_test ${CMAKE_CURRENT_LIST_DIR}/ipc_unit_test.c)
target_include_directories(ipc_unit_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
target_link_libraries(ipc_unit_test PRIVATE slmipc slmipc_client)
add_test(NAME ipc.unit COMMAND ipc_unit_test)

find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND OR NOT TARGET slmd)
  message(STATUS "ipc integration tests: python3 or slmd missing, not run")
  return()
endif()
file(GLOB IPC_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/ipc_*_test.py)
foreach(script ${IPC_PY_TESTS})
  get_filename_component(name ${script} NAME_WE)
  string(REGEX REPLACE "^ipc_(.*)_test$" "\\1" short ${name})
  add_test(NAME integration.ipc_${short}
           COMMAND ${Python3_EXECUTABLE} ${script} $<TARGET_FILE:slmd> $<TARGET_FILE:slm>
                   ${PROJECT_SOURCE_DIR})
  # Each runs its own slmd with two compute threads and times disconnects to the tenth of
  # a second: not next to the other heavy tests.
  set_tests_properties(integration.ipc_${short} PROPERTIES
                       ENVIRONMENT "SLM_SHARED=${SLM_SHARED};PYTHONDONTWRITEBYTECODE=1"
                       SKIP_REGULAR_EXPRESSION "SKIPPED:" TIMEOUT 900 RUN_SERIAL TRUE)
endforeach()
