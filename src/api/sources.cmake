# The API's request decoding and SigV4: no std::expected, so the fuzz build (fuzz/) compiles
# them with clang too. The rest of the API is in src/api/CMakeLists.txt.
set(TMIRROR_API_DECODE_SOURCES form_encoding.cc sigv4.cc)
