# The packet layer's sources, for src/packet and for the fuzz build (fuzz/), which compiles them
# again with clang and the sanitizers.
set(TMIRROR_PACKET_SOURCES
    ip_address.cc frame_parser.cc vxlan.cc flow_hash.cc encapsulation.cc checksum.cc
    segmenter.cc packet_direction.cc)
