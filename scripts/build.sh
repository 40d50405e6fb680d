#!/bin/bash
# build.sh - configure (once) and build portgate in the source tree.
set -e
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" -s
