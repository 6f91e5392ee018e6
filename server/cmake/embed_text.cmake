# cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DFUNCTION=<qualified name> -P embed_text.cmake
# Optional -DHEADER=<path> is included first (the declaration).
# Writes a .cpp defining `std::string_view FUNCTION() noexcept` that returns INPUT's text,
# embedded as a raw string literal.
foreach(var INPUT OUTPUT FUNCTION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: ${var} is not set")
  endif()
endforeach()
file(READ "${INPUT}" content)
set(delimiter "paddock_embed")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
set(include_line "")
if(DEFINED HEADER)
  set(include_line "#include \"${HEADER}\"\n\n")
endif()
string(REGEX REPLACE "::[^:]*$" "" namespace "${FUNCTION}")
string(REGEX REPLACE "^.*::" "" name "${FUNCTION}")
file(WRITE "${OUTPUT}"
  "// Generated from ${INPUT} by embed_text.cmake. Do not edit.\n"
  "${include_line}"
  "#include <string_view>\n\n"
  "namespace ${namespace} {\n\n"
  "std::string_view ${name}() noexcept {\n"
  "    // An array, not a string_view literal: its length is known without a constexpr strlen\n"
  "    // (GCC bounds those loops at 262144 iterations).\n"
  "    static constexpr char kText[] = R\"${delimiter}(${content})${delimiter}\";\n"
  "    return std::string_view(kText, sizeof kText - 1);\n"
  "}\n\n"
  "}  // namespace ${namespace}\n")
