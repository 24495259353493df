# The collector's receive path: no std::expected, so the fuzz build (fuzz/) compiles it with
# clang too. The rest of the collector is in src/collector/CMakeLists.txt.
set(TMIRROR_COLLECTOR_RECEIVE_SOURCES
    pcapng_format.cc collector_counters.cc admission.cc session_table.cc receive_path.cc)
