#!/bin/sh
# Set up and test, on a bare Debian 12 as root (or a user with sudo): installs make and what
# testing needs (scripts/install-deps.sh test), builds with ASan+UBSan, runs every test and
# fuzzes briefly. CI runs this (.ci/run).
set -e
cd "$(dirname "$0")"
bash scripts/install-deps.sh test
exec make test
