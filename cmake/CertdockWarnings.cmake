# certdock_set_warnings(<target>): the warning set every certdock target builds with.
function(certdock_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast
                                           -Wcast-align -Woverloaded-virtual)
  if(CERTDOCK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
