# Input: TILEC (the tilec binary just built) and INTO (the folder for the runtime PCH). Output:
# INTO/<toolchain digest>/tilec_pch.h and its .gch, or a warning: the build never fails over it.
execute_process(COMMAND ${TILEC} precompile-runtime --into ${INTO}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(WARNING "tilec: the runtime headers were not precompiled (${result}): ${err}"
                  "Kernels still compile, the first of each cache more slowly; "
                  "configure with -DTILEC_PRECOMPILE_RUNTIME=OFF to skip this step.")
endif()
