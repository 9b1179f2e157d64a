include(CheckCCompilerFlag)

option(QUY_WERROR "Warnings are errors (off for the clang ThreadSanitizer build, whose warnings differ)" ON)
# -Wno-missing-braces: a q_val's first word is an anonymous union (runtime/value.h),
# and a number is still written (q_val){n, d} (C11 brace elision, well defined).
set(QUY_WARNING_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wno-missing-field-initializers -Wno-missing-braces)
if(QUY_FUZZ) # clang's warnings differ from gcc's: a fuzz build reports them without stopping
  list(REMOVE_ITEM QUY_WARNING_FLAGS -Werror)
endif()
set(QUY_FLAGS_OK "")
if(QUY_WERROR)
  list(APPEND QUY_WARNING_FLAGS -Werror)
endif()
foreach(flag ${QUY_WARNING_FLAGS})
  string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND QUY_FLAGS_OK ${flag})
  endif()
endforeach()

# A call to an undeclared function is a bug in every build, the fuzz and
# TSan builds included (an int-returning guess at a pointer is a crash).
add_compile_options(-Werror=implicit-function-declaration)

set(QUY_SAN_FLAGS "")
if(QUY_ASAN)
  list(APPEND QUY_SAN_FLAGS -fsanitize=address -fno-omit-frame-pointer)
endif()
if(QUY_UBSAN)
  list(APPEND QUY_SAN_FLAGS -fsanitize=undefined -fno-sanitize-recover=undefined)
endif()
if(QUY_TSAN)
  list(APPEND QUY_SAN_FLAGS -fsanitize=thread)
endif()
if(QUY_SAN_FLAGS)
  add_compile_options(${QUY_SAN_FLAGS})
  add_link_options(${QUY_SAN_FLAGS})
endif()

function(quy_warnings target)
  target_compile_options(${target} PRIVATE ${QUY_FLAGS_OK})
  if(QUY_FUZZ) # clang (tests/fuzz) warns where gcc, the build of record, does not
    target_compile_options(${target} PRIVATE -Wno-error)
  endif()
endfunction()
