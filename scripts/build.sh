#!/bin/bash
# build.sh [DIR [CONFIGURE-ARGS...]] - configure (once) and build portgate out
# of tree in DIR (default: build/). The test suite uses build/ for the normal
# build and build-asan/ for the sanitizer build.
set -e
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
if [ -f config.status ]; then
	echo "build.sh: the source tree is configured in place; run 'make distclean' first" >&2
	exit 1
fi
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || ../configure -q "$@"
make -j"$(nproc)" -s
