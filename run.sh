#!/bin/sh
# Set up and run, on a bare Debian 12 as root (or a user with sudo): installs make and what
# building and running need (scripts/install-deps.sh run), builds, and starts `tmirror up`
# (server with SQLite in tmirror-data/, this host's agent, a collector, the console).
set -e
cd "$(dirname "$0")"
bash scripts/install-deps.sh run
exec make run
