# `make package`: one Debian package, tmirror, made by CPack from these install rules: the
# binary, the systemd units, the default settings files (conffiles), a man page made from
# --help (help2man), the copyright and changelog files, and maintainer scripts that add the
# `tmirror` system user. Its Depends come from the binary's libraries (dpkg-shlibdeps).
set(TMIRROR_PACKAGING ${PROJECT_SOURCE_DIR}/packaging)
set(TMIRROR_PACKAGE_BUILD ${PROJECT_BINARY_DIR}/packaging)
set(TMIRROR_UNITS tmirror-server.service tmirror-agent.service tmirror-collector.service
    tmirror-up.service)
set(TMIRROR_CONFFILES server.conf agent.conf collector.conf up.conf)

install(TARGETS tmirror RUNTIME DESTINATION bin)
foreach(unit ${TMIRROR_UNITS})
  install(FILES ${TMIRROR_PACKAGING}/systemd/${unit} DESTINATION /lib/systemd/system)
endforeach()
set(conffiles "")
foreach(file ${TMIRROR_CONFFILES})
  install(FILES ${TMIRROR_PACKAGING}/etc/${file} DESTINATION /etc/tmirror)
  string(APPEND conffiles "/etc/tmirror/${file}\n")
endforeach()
file(WRITE ${TMIRROR_PACKAGE_BUILD}/conffiles "${conffiles}")

# Documentation: copyright and a compressed changelog (named as a native package's is), and
# tmirror(1) from the binary's own help.
configure_file(${TMIRROR_PACKAGING}/debian/copyright.in ${TMIRROR_PACKAGE_BUILD}/copyright @ONLY)
configure_file(${TMIRROR_PACKAGING}/debian/changelog.in ${TMIRROR_PACKAGE_BUILD}/changelog @ONLY)
find_program(GZIP gzip REQUIRED)
find_program(HELP2MAN help2man)
add_custom_command(
  OUTPUT ${TMIRROR_PACKAGE_BUILD}/changelog.gz
  COMMAND ${GZIP} -9n -c ${TMIRROR_PACKAGE_BUILD}/changelog > ${TMIRROR_PACKAGE_BUILD}/changelog.gz
  DEPENDS ${TMIRROR_PACKAGING}/debian/changelog.in
  VERBATIM)
set(package_docs ${TMIRROR_PACKAGE_BUILD}/changelog.gz)
if(HELP2MAN)
  add_custom_command(
    OUTPUT ${TMIRROR_PACKAGE_BUILD}/tmirror.1.gz
    COMMAND ${CMAKE_COMMAND} -E env bash ${TMIRROR_PACKAGING}/make-man.sh $<TARGET_FILE:tmirror>
            ${PROJECT_VERSION} ${TMIRROR_PACKAGE_BUILD}/tmirror.1.gz
    DEPENDS tmirror ${TMIRROR_PACKAGING}/make-man.sh
    VERBATIM)
  list(APPEND package_docs ${TMIRROR_PACKAGE_BUILD}/tmirror.1.gz)
  install(FILES ${TMIRROR_PACKAGE_BUILD}/tmirror.1.gz DESTINATION share/man/man1)
endif()
add_custom_target(package_docs ALL DEPENDS ${package_docs})
install(FILES ${TMIRROR_PACKAGE_BUILD}/copyright ${TMIRROR_PACKAGE_BUILD}/changelog.gz
        DESTINATION share/doc/tmirror)
# Prometheus: an example scrape configuration and the alerting rules (with their unit tests).
install(FILES ${TMIRROR_PACKAGING}/prometheus/prometheus.yml
              ${TMIRROR_PACKAGING}/prometheus/tmirror-rules.yml
              ${TMIRROR_PACKAGING}/prometheus/tmirror-rules.test.yml
        DESTINATION share/doc/tmirror/examples/prometheus)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tmirror)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_CONTACT "tmirror developers <tmirror@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "self-hosted traffic mirroring for Linux with the AWS Traffic Mirroring API")
# Lines of at most 80 characters: the package's extended description shows them as they are.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "tmirror copies the packets of Linux hosts' interfaces, as sessions and filters"
  "say, in VXLAN to a collector, as AWS VPC Traffic Mirroring does inside AWS. Its"
  "server speaks the EC2 Traffic Mirroring API (the aws CLI and boto3 work against"
  "it) and serves a web console; an agent on each host mirrors, and a collector"
  "writes per-session pcapng files."
  "."
  "This package holds the tmirror binary, systemd units for the server, the agent,"
  "the collector and the single-host mode, and their settings in /etc/tmirror.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")  # useradd, in the maintainer script
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${TMIRROR_PACKAGING}/debian/postinst ${TMIRROR_PACKAGING}/debian/postrm
    ${TMIRROR_PACKAGE_BUILD}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
