# Password block list (AUTH-2, DESIGN §7): generated at build time from
# public common-password lists that Debian ships, embedded into the binary.
#
# Usage, from the top-level CMakeLists.txt:
#   include(cmake/password_blocklist.cmake)
#   add_library(portcullis_core STATIC ... ${PORTCULLIS_BLOCKLIST_SOURCE})
#
# Sets PORTCULLIS_BLOCKLIST_SOURCE to the generated .cpp in the build tree
# (never in git). The .cpp holds the RAW entries, de-duplicated; the only
# normalisation is normalise_for_blocklist() in app/auth/passwords.cpp, run
# once on first use, so there is one implementation of it.
#
# Sources (Debian 12 packages; nothing is downloaded, nothing is copied into
# the repository):
#   john-data       /usr/share/john/password.lst (Openwall, public domain,
#                   3 546 entries; 2 977 distinct once normalised, below the
#                   3 000 that AUTH-2 asks for on its own)
#   python3-zxcvbn  zxcvbn/frequency_lists.py, its "passwords" list (30 000
#                   most common passwords, MIT). On by default; turn off with
#                   -DPORTCULLIS_BLOCKLIST_ZXCVBN=OFF (the list then falls
#                   below 3 000 and the AUTH-2 size test fails).
include_guard(GLOBAL)

option(PORTCULLIS_BLOCKLIST_ZXCVBN
       "Add python3-zxcvbn's 30 000 common passwords to the block list (AUTH-2)" ON)

set(_portcullis_blocklist_generator "${CMAKE_CURRENT_LIST_DIR}/gen_password_blocklist.sh")

find_program(PORTCULLIS_BASH bash REQUIRED)

find_file(PORTCULLIS_JOHN_PASSWORD_LIST password.lst
          PATHS /usr/share/john
          NO_DEFAULT_PATH
          DOC "john-data's common-password list (AUTH-2 block list)")
if(NOT PORTCULLIS_JOHN_PASSWORD_LIST)
  message(FATAL_ERROR
    "Password block list: /usr/share/john/password.lst not found. "
    "Install the Debian package john-data (apt-get install john-data).")
endif()
set(_portcullis_blocklist_inputs "lines:${PORTCULLIS_JOHN_PASSWORD_LIST}")
set(_portcullis_blocklist_files "${PORTCULLIS_JOHN_PASSWORD_LIST}")

if(PORTCULLIS_BLOCKLIST_ZXCVBN)
  find_file(PORTCULLIS_ZXCVBN_FREQUENCY_LISTS zxcvbn/frequency_lists.py
            PATHS /usr/lib/python3/dist-packages
            NO_DEFAULT_PATH
            DOC "python3-zxcvbn's frequency lists (AUTH-2 block list)")
  if(NOT PORTCULLIS_ZXCVBN_FREQUENCY_LISTS)
    message(FATAL_ERROR
      "Password block list: zxcvbn/frequency_lists.py not found. "
      "Install the Debian package python3-zxcvbn (apt-get install python3-zxcvbn), "
      "or configure with -DPORTCULLIS_BLOCKLIST_ZXCVBN=OFF (john-data alone gives < 3000).")
  endif()
  list(APPEND _portcullis_blocklist_inputs "zxcvbn:${PORTCULLIS_ZXCVBN_FREQUENCY_LISTS}")
  list(APPEND _portcullis_blocklist_files "${PORTCULLIS_ZXCVBN_FREQUENCY_LISTS}")
endif()

set(PORTCULLIS_BLOCKLIST_SOURCE "${CMAKE_BINARY_DIR}/generated/password_blocklist.cpp")

add_custom_command(
  OUTPUT "${PORTCULLIS_BLOCKLIST_SOURCE}"
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${CMAKE_BINARY_DIR}/generated"
  COMMAND "${PORTCULLIS_BASH}" "${_portcullis_blocklist_generator}"
          "${PORTCULLIS_BLOCKLIST_SOURCE}" ${_portcullis_blocklist_inputs}
  DEPENDS "${_portcullis_blocklist_generator}" ${_portcullis_blocklist_files}
  COMMENT "Generating the password block list (AUTH-2)"
  VERBATIM)
set_source_files_properties("${PORTCULLIS_BLOCKLIST_SOURCE}" PROPERTIES GENERATED TRUE)

message(STATUS "Password block list sources: ${_portcullis_blocklist_files}")
