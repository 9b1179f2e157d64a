# Every dependency comes from a Debian package; scripts/setup.sh installs
# them. When one is missing, stop here and name the package to install.
find_package(PkgConfig QUIET)

function(quy_missing what pkg)
  message(FATAL_ERROR "${what} not found. Install the Debian package '${pkg}' "
                      "(sudo apt-get install ${pkg}) or run scripts/setup.sh.")
endfunction()

find_program(RE2C_EXECUTABLE re2c)
if(NOT RE2C_EXECUTABLE)
  quy_missing("re2c" "re2c")
endif()
find_program(BISON_EXECUTABLE bison)
if(NOT BISON_EXECUTABLE)
  quy_missing("bison" "bison")
endif()
if(NOT PKG_CONFIG_FOUND)
  quy_missing("pkg-config" "pkg-config")
endif()

pkg_check_modules(LUA54 IMPORTED_TARGET lua5.4)
if(NOT LUA54_FOUND)
  quy_missing("Lua 5.4 headers and library" "liblua5.4-dev")
endif()
add_library(quy::lua ALIAS PkgConfig::LUA54)

pkg_check_modules(JANSSON IMPORTED_TARGET jansson)
if(NOT JANSSON_FOUND)
  quy_missing("jansson (JSON library)" "libjansson-dev")
endif()
add_library(quy::jansson ALIAS PkgConfig::JANSSON)

# libcsv ships no pkg-config file.
find_path(CSV_INCLUDE_DIR csv.h)
find_library(CSV_LIBRARY csv)
if(NOT CSV_INCLUDE_DIR OR NOT CSV_LIBRARY)
  quy_missing("libcsv (CSV library)" "libcsv-dev")
endif()
add_library(quy_csv INTERFACE)
target_include_directories(quy_csv INTERFACE ${CSV_INCLUDE_DIR})
target_link_libraries(quy_csv INTERFACE ${CSV_LIBRARY})
add_library(quy::csv ALIAS quy_csv)

pkg_check_modules(XXHASH IMPORTED_TARGET libxxhash)
if(NOT XXHASH_FOUND)
  quy_missing("xxHash (hashing library)" "libxxhash-dev")
endif()
add_library(quy::xxhash ALIAS PkgConfig::XXHASH)

pkg_check_modules(Z3 IMPORTED_TARGET z3)
if(NOT Z3_FOUND)
  quy_missing("Z3 (SMT solver, for quy prove)" "libz3-dev")
endif()
add_library(quy::z3 ALIAS PkgConfig::Z3)

# utf8proc: Unicode folding (the registry matches --locality ignoring case
# and diacritics) and NFC of every string of a record (runtime/record.c).
pkg_check_modules(UTF8PROC IMPORTED_TARGET libutf8proc)
if(NOT UTF8PROC_FOUND)
  quy_missing("utf8proc (Unicode library)" "libutf8proc-dev")
endif()
add_library(quy::utf8proc ALIAS PkgConfig::UTF8PROC)

if(QUY_TESTS)
  # jq: builds the corpus of the worked 124 → 366 diff (test doc.diff-124-366)
  find_program(QUY_JQ jq)
  if(NOT QUY_JQ)
    quy_missing("jq (JSON command-line processor, for test doc.diff-124-366)" "jq")
  endif()
  pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)
  if(NOT CMOCKA_FOUND)
    quy_missing("cmocka (unit test library)" "libcmocka-dev")
  endif()
endif()
