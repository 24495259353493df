# Common helpers free of std::expected, so the fuzz build (fuzz/) compiles them with clang too.
set(TMIRROR_COMMON_TEXT_SOURCES ascii.cc)
